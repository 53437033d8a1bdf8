from __future__ import annotations

from types import SimpleNamespace

import pytest

from tagwarden.vector import stamp as stamp_module
from tagwarden.vector.stamp import (
    MissingTenant,
    SharedStore,
    StampError,
    Vector,
    resolve,
    scoped_id,
    stamped,
    unscoped_id,
)

SHARED = SharedStore("qdrant:docs", "qdrant", "qdrant://local/docs", shared=True)
PRIVATE = SharedStore("qdrant:mine", "qdrant", "qdrant://local/mine", shared=False)


@pytest.fixture
def context(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Replace the attribution context reader with one returning what the test sets."""
    holder: dict[str, object] = {"value": None}
    monkeypatch.setattr(stamp_module, "_context_current", [lambda: holder["value"]])
    return holder


def test_explicit_tenant_and_attribution_become_store_fields(context) -> None:  # type: ignore[no-untyped-def]
    got = resolve(
        SHARED, "upsert", tenant="acme", attribution={"Agent-ID": "a-1", "Outcome-ID": "o-9", "x": "y"}
    )
    assert dict(got.attribution) == {"tenant_id": "acme", "Agent-ID": "a-1", "Outcome-ID": "o-9"}
    assert dict(got.fields) == {"tenant_id": "acme", "agent_id": "a-1", "outcome_id": "o-9"}
    assert got.tenant == "acme"


def test_shared_store_without_tenant_is_refused_naming_store_and_field(context) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MissingTenant) as caught:
        resolve(SHARED, "upsert", attribution={"Agent-ID": "a-1"})
    message = str(caught.value)
    assert "qdrant:docs" in message
    assert "'tenant_id'" in message
    assert "nothing was written" in message
    with pytest.raises(MissingTenant, match="nothing was sent"):
        resolve(SHARED, "query")
    with pytest.raises(MissingTenant):
        resolve(SHARED, "upsert", tenant="")  # an empty tenant is no tenant


def test_private_store_needs_no_tenant(context) -> None:  # type: ignore[no-untyped-def]
    got = resolve(PRIVATE, "upsert")
    assert got.tenant is None
    assert dict(got.fields) == {}


def test_context_attribution_object_with_tags(context) -> None:  # type: ignore[no-untyped-def]
    # The shape tagwarden.llm.context.current() returns: an object whose tags() gives the tag keys.
    context["value"] = SimpleNamespace(
        tags=lambda: {"Agent-ID": "42", "Outcome-ID": "t-7", "tenant_id": "globex"}
    )
    got = resolve(SHARED, "upsert")
    assert dict(got.fields) == {"tenant_id": "globex", "agent_id": "42", "outcome_id": "t-7"}
    # An explicit tenant wins over the context's; an explicit mapping over the context too.
    got = resolve(SHARED, "upsert", tenant="acme", attribution={"Agent-ID": "43"})
    assert dict(got.attribution) == {"tenant_id": "acme", "Agent-ID": "43", "Outcome-ID": "t-7"}


def test_context_mapping_is_accepted(context) -> None:  # type: ignore[no-untyped-def]
    context["value"] = {"tenant_id": "initech"}
    assert resolve(SHARED, "query").tenant == "initech"


def test_real_context_module_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stamp_module, "_context_current", [])
    llm = pytest.importorskip(
        "tagwarden.llm.context", reason="the llm branch's attribution context is not merged"
    )
    with llm.attributed(agent_id="42", task_id="t-7", tenant_id="acme"):
        got = resolve(SHARED, "upsert")
    assert dict(got.fields) == {"tenant_id": "acme", "agent_id": "42", "outcome_id": "t-7"}


@pytest.mark.parametrize("bad", ["a=b", "../etc", " acme", "x" * 129, "-lead"])
def test_tenant_ids_that_are_not_plain_are_refused(context, bad: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StampError, match="is not a tenant id"):
        resolve(SHARED, "upsert", tenant=bad)


def test_stamped_adds_fields_without_touching_the_callers_metadata(context) -> None:  # type: ignore[no-untyped-def]
    s = resolve(SHARED, "upsert", tenant="acme", attribution={"Agent-ID": "a-1"})
    original = {"title": "doc"}
    out = stamped(SHARED, s, [Vector("1", [0.1], original), Vector("2", [0.2])])
    assert out == [
        {"title": "doc", "tenant_id": "acme", "agent_id": "a-1"},
        {"tenant_id": "acme", "agent_id": "a-1"},
    ]
    assert original == {"title": "doc"}


def test_preset_tenant_of_another_value_is_refused_not_overwritten(context) -> None:  # type: ignore[no-untyped-def]
    s = resolve(SHARED, "upsert", tenant="acme")
    same = stamped(SHARED, s, [Vector("1", [0.1], {"tenant_id": "acme"})])
    assert same == [{"tenant_id": "acme"}]
    with pytest.raises(StampError, match=r"vector '2' has 'tenant_id' = 'globex' but the call is for 'acme'"):
        stamped(SHARED, s, [Vector("1", [0.1]), Vector("2", [0.1], {"tenant_id": "globex"})])


def test_scoped_ids_differ_per_tenant_and_round_trip() -> None:
    assert scoped_id("acme", "7") != scoped_id("globex", "7")
    assert unscoped_id("acme", scoped_id("acme", "a=b")) == "a=b"
    assert scoped_id(None, "7") == "7"
