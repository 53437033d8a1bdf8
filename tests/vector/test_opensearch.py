"""OpenSearchTenants through the real opensearch-py client against the loopback stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tagwarden.ledger.model import UsageKind
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.vector.opensearch import OpenSearchTenants
from tagwarden.vector.stamp import MissingTenant, SharedStore, Vector
from tagwarden_testing.vector_fakes import OpenSearchFake, serve

opensearchpy = pytest.importorskip("opensearchpy", reason="opensearch-py is in the dev extra")


@pytest.fixture
def fake() -> Iterator[OpenSearchFake]:
    with serve(OpenSearchFake()) as running:
        yield running


def make(fake: OpenSearchFake) -> OpenSearchTenants:
    host, port = fake.endpoint.removeprefix("http://").split(":")
    client: Any = opensearchpy.OpenSearch(hosts=[{"host": host, "port": int(port)}], use_ssl=False)
    store = SharedStore("opensearch:docs", "opensearch", "arn:aws:aoss:eu-west-1:123456789012:collection/abc")
    tenants = OpenSearchTenants(client, "docs", store, refresh=True, clock=lambda: 5.0)
    tenants.ensure_index(4)
    return tenants


def vec(i: int) -> Vector:
    return Vector(str(i), [float(i), 1.0, 0.0, 0.5])


def test_the_tenant_is_a_keyword_field_and_ids_are_scoped(fake: OpenSearchFake) -> None:
    tenants = make(fake)
    assert fake.indices["docs"]["mappings"]["properties"]["tenant_id"] == {"type": "keyword"}
    tenants.upsert([vec(1)], tenant="acme")
    tenants.upsert([vec(1)], tenant="globex")
    docs = fake.indices["docs"]["docs"]
    assert sorted(docs) == ["acme=1", "globex=1"]
    assert docs["acme=1"]["tenant_id"] == "acme"


def test_shared_upsert_without_tenant_writes_nothing(fake: OpenSearchFake) -> None:
    tenants = make(fake)
    with pytest.raises(MissingTenant, match="opensearch:docs: upsert refused"):
        tenants.upsert([vec(1)])
    assert fake.indices["docs"]["docs"] == {}


def test_knn_query_is_filtered_to_the_tenant(fake: OpenSearchFake) -> None:
    tenants = make(fake)
    tenants.upsert([vec(1), vec(2)], tenant="acme")
    tenants.upsert([vec(3)], tenant="globex")
    hits = tenants.query([3.0, 1.0, 0.0, 0.5], top_k=5, tenant="acme")
    assert sorted(h.id for h in hits) == ["1", "2"]
    assert "embedding" not in hits[0].metadata


def test_usage_from_a_terms_aggregation(fake: OpenSearchFake) -> None:
    tenants = make(fake)
    tenants.upsert([vec(i) for i in range(4)], tenant="acme")
    tenants.upsert([vec(i) for i in range(1)], tenant="globex")
    fake.indices["docs"]["docs"]["stray"] = {"embedding": [1.0, 0.0, 0.0, 0.0]}  # written around the helper
    tenants.query([1.0, 1.0, 0.0, 0.5], tenant="globex")
    ledger = SqliteLedger()
    tenants.collect(ledger)
    storage = {
        r.attribution.get("tenant_id"): r.quantities
        for r in ledger.usage()
        if r.kind is UsageKind.VECTOR_STORAGE
    }
    assert storage == {
        "acme": {"vectors": 4.0, "bytes": 64.0},
        "globex": {"vectors": 1.0, "bytes": 16.0},
        None: {"vectors": 1.0, "bytes": 16.0},
    }
    assert [r.attribution for r in ledger.usage() if r.kind is UsageKind.VECTOR_QUERY] == [
        {"tenant_id": "globex"}
    ]
