"""AzureSearchTenants through the real azure-search-documents client against the loopback stand-in."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from tagwarden.ledger.model import UsageKind
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.vector.azure_search import AzureSearchTenants, document_key, index_fields
from tagwarden.vector.stamp import MissingTenant, SharedStore, Vector
from tagwarden_testing.vector_fakes import AzureSearchFake, serve

documents = pytest.importorskip("azure.search.documents", reason="azure-search-documents is in the dev extra")
RESOURCE = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Search/searchServices/search1"


@pytest.fixture
def fake() -> Iterator[AzureSearchFake]:
    with serve(AzureSearchFake()) as running:
        running.indexes["docs"] = {
            "spec": {"name": "docs", "fields": [*index_fields(4), {"name": "n", "type": "Edm.Int32"}]},
            "docs": {},
        }
        yield running


def make(fake: AzureSearchFake) -> AzureSearchTenants:
    from azure.core.credentials import AzureKeyCredential

    client: Any = documents.SearchClient(fake.endpoint, "docs", AzureKeyCredential("test-key"))
    return AzureSearchTenants(
        client, SharedStore("azure-search:docs", "azure-search", RESOURCE), 4, clock=lambda: 7.0
    )


def vec(i: int) -> Vector:
    return Vector(str(i), [float(i), 1.0, 0.0, 0.5], {"n": i})


def test_documents_carry_the_tenant_and_scoped_keys(fake: AzureSearchFake) -> None:
    tenants = make(fake)
    tenants.upsert([vec(1)], tenant="acme", attribution={"Outcome-ID": "o-1"})
    tenants.upsert([vec(1)], tenant="a.b@c")  # a tenant id with characters keys do not allow
    docs = fake.indexes["docs"]["docs"]
    assert sorted(docs) == sorted([document_key("acme", "1"), document_key("a.b@c", "1")])
    assert base64.urlsafe_b64decode(document_key("a.b@c", "1")) == b"a.b@c=1"
    assert docs[document_key("acme", "1")]["outcome_id"] == "o-1"


def test_shared_upsert_without_tenant_sends_nothing(fake: AzureSearchFake) -> None:
    with pytest.raises(MissingTenant, match=r"azure-search:docs: upsert refused.*'tenant_id'"):
        make(fake).upsert([vec(1)])
    assert fake.requests == []


def test_a_rejected_document_is_an_error(fake: AzureSearchFake) -> None:
    with pytest.raises(RuntimeError, match="does not exist on type"):
        make(fake).upsert([Vector("1", [1.0, 0, 0, 0], {"undeclared": 1})], tenant="acme")


def test_search_is_filtered_to_the_tenant(fake: AzureSearchFake) -> None:
    tenants = make(fake)
    tenants.upsert([vec(1), vec(2)], tenant="acme")
    tenants.upsert([vec(3)], tenant="globex")
    hits = tenants.query([3.0, 1.0, 0.0, 0.5], top_k=5, tenant="acme")
    assert sorted(h.id for h in hits) == ["1", "2"]
    assert {h.metadata["tenant_id"] for h in hits} == {"acme"}


def test_usage_from_facets_and_filtered_counts(fake: AzureSearchFake) -> None:
    tenants = make(fake)
    tenants.upsert([vec(i) for i in range(3)], tenant="acme")
    tenants.upsert([vec(i) for i in range(2)], tenant="globex")
    fake.indexes["docs"]["docs"]["stray"] = {"key": "stray", "embedding": [1.0, 0, 0, 0]}
    ledger = SqliteLedger()
    tenants.collect(ledger)
    storage = {
        r.attribution.get("tenant_id"): r.quantities["vectors"]
        for r in ledger.usage()
        if r.kind is UsageKind.VECTOR_STORAGE
    }
    assert storage == {"acme": 3.0, "globex": 2.0, None: 1.0}
