"""QdrantTenants against Qdrant's local mode (the real engine, in process)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from tagwarden.ledger.model import UsageKind
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.vector.qdrant import QdrantTenants, point_id
from tagwarden.vector.stamp import MissingTenant, SharedStore, Vector

qdrant_client = pytest.importorskip("qdrant_client", reason="qdrant-client is in the dev extra")
DIM = 4


@pytest.fixture
def index() -> QdrantTenants:
    client: Any = qdrant_client.QdrantClient(":memory:")
    store = SharedStore("qdrant:docs", "qdrant", "qdrant://local/docs", shared=True)
    made = QdrantTenants(client, "docs", store, clock=lambda: 2_000.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # local mode: "payload indexes have no effect"
        made.ensure_collection(DIM)
    return made


def vec(i: int, **metadata: Any) -> Vector:
    return Vector(str(i), [float(i), 1.0, 0.0, 0.5], metadata)


def points(index: QdrantTenants) -> list[dict[str, Any]]:
    got, _ = index.client.scroll(index.collection, limit=100, with_payload=True)
    return sorted((dict(p.payload) for p in got), key=lambda p: (p.get("tenant_id", ""), p["vector_id"]))


def test_upsert_stamps_the_payload(index: QdrantTenants) -> None:
    index.upsert([vec(1, title="a")], tenant="acme", attribution={"Agent-ID": "ag-1"})
    assert points(index) == [{"title": "a", "tenant_id": "acme", "agent_id": "ag-1", "vector_id": "1"}]


def test_shared_upsert_without_tenant_is_refused_and_writes_nothing(index: QdrantTenants) -> None:
    with pytest.raises(MissingTenant, match=r"qdrant:docs: upsert refused.*'tenant_id'"):
        index.upsert([vec(1)])
    assert index.client.count(index.collection).count == 0


def test_same_id_in_two_tenants_are_two_points(index: QdrantTenants) -> None:
    index.upsert([vec(7)], tenant="acme")
    index.upsert([vec(7, v=2)], tenant="globex")
    assert [(p["tenant_id"], p["vector_id"], p.get("v")) for p in points(index)] == [
        ("acme", "7", None),
        ("globex", "7", 2),
    ]
    assert point_id("acme", "7") != point_id("globex", "7")


def test_query_is_filtered_to_the_tenant_and_metered(index: QdrantTenants) -> None:
    index.upsert([vec(1), vec(2)], tenant="acme")
    index.upsert([vec(3)], tenant="globex")
    hits = index.query([3.0, 1.0, 0.0, 0.5], top_k=5, tenant="acme")
    assert sorted(h.id for h in hits) == ["1", "2"]
    index.query([3.0, 1.0, 0.0, 0.5], tenant="acme")
    got = {r.attribution["tenant_id"]: r.quantities for r in index.meter.drain(1.0)}
    assert got == {"acme": {"queries": 2.0}}


def test_counts_per_tenant_and_untenanted_from_the_engine(index: QdrantTenants) -> None:
    index.upsert([vec(i) for i in range(5)], tenant="acme")
    index.upsert([vec(i) for i in range(3)], tenant="globex")
    # A point written around the helper, with no tenant: counted, and reported as untenanted.
    index.client.upsert(
        index.collection, points=[qdrant_client.models.PointStruct(id=99, vector=[1.0, 0, 0, 0], payload={})]
    )
    counts = {c.tenant: (c.vectors, c.bytes) for c in index.tenant_counts()}
    assert counts == {"acme": (5, 5 * DIM * 4.0), "globex": (3, 3 * DIM * 4.0), None: (1, DIM * 4.0)}


def test_collect_to_the_ledger(index: QdrantTenants) -> None:
    index.upsert([vec(i) for i in range(4)], tenant="acme")
    index.query([1.0, 1.0, 0.0, 0.5], tenant="acme")
    ledger = SqliteLedger()
    assert index.collect(ledger) == 2
    by_kind = {r.kind: r for r in ledger.usage()}
    assert by_kind[UsageKind.VECTOR_STORAGE].quantities == {"vectors": 4.0, "bytes": 64.0}
    assert by_kind[UsageKind.VECTOR_STORAGE].source == "qdrant-count;bytes-estimated"
    assert by_kind[UsageKind.VECTOR_QUERY].quantities == {"queries": 1.0}
