"""PineconeTenants through the real pinecone SDK against the loopback stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tagwarden.ledger.model import UsageKind
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.vector.pinecone import PineconeTenants
from tagwarden.vector.stamp import MissingTenant, SharedStore, Vector
from tagwarden_testing.vector_fakes import PineconeFake, serve

pinecone = pytest.importorskip("pinecone", reason="pinecone is in the dev extra")


@pytest.fixture
def fake() -> Iterator[PineconeFake]:
    with serve(PineconeFake(dimension=4, read_unit_bytes=40)) as running:
        yield running


def make(fake: PineconeFake, shared: bool = True) -> PineconeTenants:
    index: Any = pinecone.Pinecone(api_key="test-key").Index(host=fake.endpoint)
    return PineconeTenants(
        index, SharedStore("pinecone:docs", "pinecone", "docs-index", shared=shared), clock=lambda: 9.0
    )


def vec(i: int) -> Vector:
    return Vector(str(i), [float(i), 1.0, 0.0, 0.5], {"n": i})


def test_each_tenant_is_a_namespace_and_metadata_carries_the_tenant(fake: PineconeFake) -> None:
    tenants = make(fake)
    tenants.upsert([vec(1), vec(2)], tenant="acme", attribution={"Agent-ID": "a-1"})
    tenants.upsert([vec(1)], tenant="globex")
    assert sorted(fake.namespaces) == ["acme", "globex"]
    assert fake.namespaces["acme"]["1"]["metadata"] == {"n": 1, "tenant_id": "acme", "agent_id": "a-1"}
    assert len(fake.namespaces["globex"]) == 1  # same id, other namespace: nothing overwritten


def test_shared_upsert_without_tenant_sends_nothing(fake: PineconeFake) -> None:
    with pytest.raises(MissingTenant, match="pinecone:docs: upsert refused"):
        make(fake).upsert([vec(1)])
    assert fake.requests == []


def test_query_reads_the_tenants_namespace_and_meters_read_units(fake: PineconeFake) -> None:
    tenants = make(fake)
    tenants.upsert([vec(i) for i in range(6)], tenant="acme")
    tenants.upsert([vec(1)], tenant="globex")
    hits = tenants.query([1.0, 1.0, 0.0, 0.5], top_k=3, tenant="globex")
    assert [h.id for h in hits] == ["1"]
    tenants.query([1.0, 1.0, 0.0, 0.5], top_k=3, tenant="acme")
    got = {r.attribution["tenant_id"]: r.quantities for r in tenants.meter.drain(1.0)}
    # The stand-in charges 1 read unit per started 40 bytes of namespace (6 vectors of acme > 1 of globex).
    assert got["globex"]["queries"] == 1.0
    assert got["acme"]["read_units"] > got["globex"]["read_units"] >= 1.0


def test_collect_from_describe_index_stats(fake: PineconeFake) -> None:
    tenants = make(fake)
    tenants.upsert([vec(i) for i in range(3)], tenant="acme")
    tenants.upsert([vec(i) for i in range(2)], tenant="globex")
    private = make(fake, shared=False)
    private.upsert([vec(9)])  # default namespace: untenanted
    ledger = SqliteLedger()
    tenants.collect(ledger)
    storage = {
        r.attribution.get("tenant_id"): r.quantities["vectors"]
        for r in ledger.usage()
        if r.kind is UsageKind.VECTOR_STORAGE
    }
    assert storage == {"acme": 3.0, "globex": 2.0, None: 1.0}
    assert ("POST", "/describe_index_stats") in fake.requests
