from __future__ import annotations

import pytest

from tagwarden.ledger.model import UsageKind, UsageRecord
from tagwarden.showback.split import policy
from tagwarden.vector.split import BlendPolicy

H = 3600.0
T0 = 1_700_000_000.0


def snap(tenant: str | None, at: float, vectors: float, bytes_: float | None = None) -> UsageRecord:
    return UsageRecord(
        usage_id=f"s-{tenant}-{at}",
        kind=UsageKind.VECTOR_STORAGE,
        time=at,
        platform="pgvector",
        resource="db/docs",
        attribution={"tenant_id": tenant} if tenant else {},
        quantities={"vectors": vectors, "bytes": bytes_ if bytes_ is not None else vectors * 10},
    )


def queries(tenant: str, at: float, n: float, agent: str | None = None, read_units: float = 0) -> UsageRecord:
    attribution = {"tenant_id": tenant} | ({"Agent-ID": agent} if agent else {})
    return UsageRecord(
        usage_id=f"q-{tenant}-{agent}-{at}",
        kind=UsageKind.VECTOR_QUERY,
        time=at,
        platform="pgvector",
        resource="db/docs",
        attribution=attribution,
        quantities={"queries": n, "read_units": read_units},
    )


def key(tenant: str) -> tuple[tuple[str, str], ...]:
    return (("tenant_id", tenant),)


def test_registered_under_vector_blend() -> None:
    assert isinstance(policy("vector-blend"), BlendPolicy)


def test_storage_share_is_the_time_weighted_average_of_snapshots() -> None:
    # Period of 4 h. acme holds 100 vectors all along; globex 300 for the first hour only, then
    # deletes them (absent from the later runs). Averages: acme 100, globex 75.
    usage = [snap("acme", T0 + h * H, 100) for h in range(4)] + [snap("globex", T0, 300)]
    got = BlendPolicy().weights(
        usage, {"storage": 1, "queries": 0, "period_start": T0, "period_end": T0 + 4 * H}
    )
    assert got == pytest.approx({key("acme"): 100 / 175, key("globex"): 75 / 175})


def test_uneven_snapshot_spacing_weighs_by_time_not_by_count() -> None:
    # Three runs in the first 10 minutes (acme 100) and one at 1 h holding to the 4 h end (acme 0,
    # globex 100): acme held 100 for 1 h of 4, globex 100 for 3 h of 4.
    usage = [
        snap("acme", T0, 100),
        snap("acme", T0 + 300, 100),
        snap("acme", T0 + 600, 100),
        snap("globex", T0 + H, 100),
    ]
    got = BlendPolicy().weights(
        usage, {"storage": 1, "queries": 0, "period_start": T0, "period_end": T0 + 4 * H}
    )
    assert got == pytest.approx({key("acme"): 0.25, key("globex"): 0.75})


def test_blend_of_storage_and_query_shares_with_defaults() -> None:
    # Storage: acme 1/4, globex 3/4. Queries: acme 90, globex 10. Default blend 0.5 / 0.5.
    usage = [
        snap("acme", T0, 100),
        snap("globex", T0, 300),
        queries("acme", T0 + 10, 90),
        queries("globex", T0 + 20, 10),
    ]
    got = BlendPolicy().weights(usage, {})
    assert got == pytest.approx({key("acme"): 0.5 * 0.25 + 0.5 * 0.9, key("globex"): 0.5 * 0.75 + 0.5 * 0.1})
    assert sum(got.values()) == pytest.approx(1.0)


def test_weights_are_configurable_and_read_units_can_replace_queries() -> None:
    usage = [
        snap("acme", T0, 100),
        snap("globex", T0, 100),
        queries("acme", T0, 1, read_units=30),
        queries("globex", T0, 9, read_units=10),
    ]
    got = BlendPolicy().weights(usage, {"storage": 0.2, "queries": 0.8, "query_quantity": "read_units"})
    assert got == pytest.approx({key("acme"): 0.2 * 0.5 + 0.8 * 0.75, key("globex"): 0.2 * 0.5 + 0.8 * 0.25})


def test_tenants_with_no_usage_get_nothing() -> None:
    usage = [snap("acme", T0, 100), snap("idle", T0, 0), queries("acme", T0, 5)]
    got = BlendPolicy().weights(usage, {})
    assert got == {key("acme"): pytest.approx(1.0)}


def test_a_part_with_nothing_measured_hands_its_weight_over() -> None:
    only_storage = BlendPolicy().weights([snap("acme", T0, 100), snap("globex", T0, 300)], {})
    assert only_storage == pytest.approx({key("acme"): 0.25, key("globex"): 0.75})
    only_queries = BlendPolicy().weights([queries("acme", T0, 1), queries("globex", T0, 3)], {})
    assert only_queries == pytest.approx({key("acme"): 0.25, key("globex"): 0.75})
    assert BlendPolicy().weights([], {}) == {}


def test_untenanted_vectors_keep_their_share_under_the_empty_attribution() -> None:
    got = BlendPolicy().weights([snap("acme", T0, 100), snap(None, T0, 100)], {"queries": 0})
    assert got == pytest.approx({key("acme"): 0.5, (): 0.5})


def test_period_bounds_filter_usage_and_accept_iso_text() -> None:
    usage = [queries("acme", T0 - 10, 100), queries("acme", T0 + 10, 1), queries("globex", T0 + 20, 3)]
    got = BlendPolicy().weights(usage, {"period_start": "2023-11-14T22:13:20Z", "period_end": T0 + H})
    assert got == pytest.approx({key("acme"): 0.25, key("globex"): 0.75})


def test_group_by_agent_too() -> None:
    usage = [queries("acme", T0, 1, agent="a1"), queries("acme", T0, 3, agent="a2")]
    got = BlendPolicy().weights(usage, {"by": ["tenant_id", "Agent-ID"]})
    assert got == pytest.approx(
        {(("Agent-ID", "a1"), ("tenant_id", "acme")): 0.25, (("Agent-ID", "a2"), ("tenant_id", "acme")): 0.75}
    )
    # grouped by tenant (the default), the agents' queries add up under the tenant
    assert BlendPolicy().weights(usage, {}) == pytest.approx({key("acme"): 1.0})


@pytest.mark.parametrize("params", [{"storage": -1}, {"queries": "nan"}, {"storage": 0, "queries": 0}])
def test_bad_params_are_refused(params: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="vector-blend"):
        BlendPolicy().weights([snap("acme", T0, 1)], params)


def test_iso_times_without_an_offset_are_utc() -> None:
    usage = [queries("acme", T0 + 10, 1)]
    assert BlendPolicy().weights(usage, {"period_start": "2023-11-14T22:13:20", "period_end": T0 + 20}) == {
        key("acme"): pytest.approx(1.0)
    }
    assert (
        BlendPolicy().weights(usage, {"period_start": "2023-11-14T22:13:20+01:00", "period_end": T0 - 1})
        == {}
    )
