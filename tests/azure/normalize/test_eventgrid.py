"""Event Grid / CloudEvents resource events -> CreationEvent or Skipped (with the reason)."""

from __future__ import annotations

import pytest

from tagwarden.azure.normalize import READER
from tagwarden.cli.normalize import normalize
from tagwarden.model import ActorKind, CreationEvent, Provider, Skipped, TagChange
from tagwarden.normalize import MalformedEvent, route

import builders as b

VM = b.resource_id("rg-agent-customer-support", "Microsoft.Compute/virtualMachines", "vm-agent-1")


def one(raw: object) -> CreationEvent | Skipped:
    (result,) = normalize(raw)
    return result


def test_write_by_service_principal() -> None:
    ev = one(b.eventgrid_write(VM, b.app_claims("11111111-2222-3333-4444-555555555555")))
    assert isinstance(ev, CreationEvent)
    assert ev.provider is Provider.AZURE
    assert ev.account == b.SUBSCRIPTION
    assert ev.event_name == "Microsoft.Compute/virtualMachines/write"
    assert ev.actor.kind is ActorKind.APP
    assert ev.actor.app_id == "11111111-2222-3333-4444-555555555555"
    (r,) = ev.resources
    assert (r.id, r.type, r.name, r.resource_group) == (
        VM,
        "Microsoft.Compute/virtualMachines",
        "vm-agent-1",
        "rg-agent-customer-support",
    )
    assert r.request_tags is None  # Event Grid does not carry tags
    # an ARM write is an upsert with no idempotency token: never a renewal of a known record
    # until its delete event frees the id (tagwarden.ledger.state.renews)
    assert not ev.creates_only and ev.idempotency_token is None


def test_write_by_user() -> None:
    ev = one(b.eventgrid_write(VM, b.user_claims("alice@contoso.com"), principal_type="User"))
    assert isinstance(ev, CreationEvent)
    assert ev.actor.kind is ActorKind.USER
    assert ev.actor.upn == "alice@contoso.com"
    assert ev.actor.object_id == b.USER_OBJECT_ID


def test_managed_identity() -> None:
    claims = {
        **b.app_claims("a-b-c"),
        "xms_mirid": "/subscriptions/x/resourcegroups/rg/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/agent",
    }
    ev = one(b.eventgrid_write(VM, claims))
    assert isinstance(ev, CreationEvent) and ev.actor.kind is ActorKind.MANAGED_IDENTITY


def test_cloudevents_schema_gives_the_same_event() -> None:
    eg = b.eventgrid_write(VM)
    a, c = one(eg), one(b.as_cloudevent(eg))
    assert isinstance(a, CreationEvent) and isinstance(c, CreationEvent)
    assert (a.event_id, a.resources, a.actor, a.event_name) == (
        c.event_id,
        c.resources,
        c.actor,
        c.event_name,
    )


def test_delivery_batch() -> None:
    batch = [b.eventgrid_write(VM), b.eventgrid_write(VM.replace("vm-agent-1", "vm-agent-2"))]
    assert [r.resources[0].name for r in normalize(batch)] == ["vm-agent-1", "vm-agent-2"]  # type: ignore[union-attr]


def test_a_tag_write_is_routed_as_a_tag_change_not_a_create() -> None:
    (change,) = route(b.eventgrid_write(VM, operation="Microsoft.Resources/tags/write"), READER)
    assert isinstance(change, TagChange)
    assert change.resource_ids == (VM,) and change.provider is Provider.AZURE
    failed = b.eventgrid_write(VM, operation="Microsoft.Resources/tags/write", status="Failed")
    assert isinstance(one(failed), Skipped)
    # The reader's own normalizer still skips it as a create (the Bicep filter names it too).
    from tagwarden.azure.normalize.eventgrid import normalize_eventgrid

    skipped = normalize_eventgrid(b.eventgrid_write(VM, operation="Microsoft.Resources/tags/write"))
    assert isinstance(skipped, Skipped) and "tag write" in skipped.reason


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"operation": "Microsoft.Resources/deployments/write"}, "deployment"),
        ({"status": "Failed"}, "status Failed"),
        # the deployed reader closes the record (test_delete_events.py); for the CLI, not a create
        ({"event_type": "Microsoft.Resources.ResourceDeleteSuccess"}, "/delete: not a create"),
        ({"event_type": "Microsoft.Resources.ResourceActionSuccess"}, "action (POST)"),
        ({"event_type": "Microsoft.Resources.ResourceWriteFailure"}, "failed write"),
    ],
)
def test_skips_with_reason(kwargs: dict, reason: str) -> None:  # type: ignore[type-arg]
    result = one(b.eventgrid_write(VM, **kwargs))
    assert isinstance(result, Skipped)
    assert reason in result.reason
    assert result.provider is Provider.AZURE


def test_tags_resource_uri_is_a_tag_write() -> None:
    raw = b.eventgrid_write(
        VM + "/providers/Microsoft.Resources/tags/default", operation="Microsoft.Compute/x/write"
    )
    result = one(raw)
    assert isinstance(result, Skipped) and "tag write" in result.reason


def test_malformed() -> None:
    raw = b.eventgrid_write(VM)
    raw["data"] = "nope"
    with pytest.raises(MalformedEvent, match="has no 'data' object"):
        normalize(raw)
