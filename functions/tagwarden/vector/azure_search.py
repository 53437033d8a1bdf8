"""Azure AI Search: the tenant is a filterable, facetable string field on every document.

Azure AI Search has no per-tenant partition inside an index (Microsoft's multitenancy guidance:
an index per tenant, or a shared index filtered on a tenant field; the shared index is what this
is). Search adds `tenant_id eq '...'` to every query (applied before the vector ranking,
`vectorFilterMode` preFilter), usage lists tenants with a facet and records each one's filtered
`$count` (facet counts may be approximate across shards; a filtered count is what the service
counts exactly). Document keys are scoped per tenant and base64url-encoded (keys allow only
letters, digits, `_`, `-`, `=`). `client` is an azure-search-documents SearchClient.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Sequence
from typing import Any

from tagwarden.vector.index import Hit, TenantIndex
from tagwarden.vector.stamp import TENANT, SharedStore, Stamp, Vector, scoped_id
from tagwarden.vector.usage import TenantCount

MAX_TENANTS = 10_000
KEY_FIELD, ID_FIELD = "key", "vector_id"


def document_key(tenant: str | None, vector_id: str) -> str:
    return base64.urlsafe_b64encode(scoped_id(tenant, vector_id).encode()).decode()


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"  # OData string literal


def index_fields(dimension: int, vector_field: str = "embedding") -> list[dict[str, Any]]:
    """The fields a shared index needs (REST JSON form; add your own metadata fields to it)."""
    text = {"type": "Edm.String", "filterable": True, "retrievable": True}
    return [
        {"name": KEY_FIELD, "type": "Edm.String", "key": True, "filterable": True},
        {"name": ID_FIELD, **text},
        {"name": TENANT, **text, "facetable": True},
        {"name": "agent_id", **text, "facetable": True},
        {"name": "outcome_id", **text},
        {
            "name": vector_field,
            "type": "Collection(Edm.Single)",
            "searchable": True,
            "dimensions": dimension,
            "vectorSearchProfile": "default",
        },
    ]


class AzureSearchTenants(TenantIndex):
    source = "azure-search-count"

    def __init__(
        self,
        client: Any,
        store: SharedStore,
        dimension: int,
        vector_field: str = "embedding",
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(store, clock)
        self.client = client
        self.dimension = dimension
        self.vector_field = vector_field

    def _write(self, vectors: Sequence[Vector], payloads: list[dict[str, Any]], stamp: Stamp) -> None:
        tenant = stamp.tenant
        documents = []
        for vector, payload in zip(vectors, payloads, strict=True):
            payload[KEY_FIELD] = document_key(tenant, vector.id)
            payload[ID_FIELD] = vector.id
            payload[self.vector_field] = list(vector.values)
            documents.append(payload)
        results = self.client.merge_or_upload_documents(documents=documents)
        failed = [r for r in results or [] if not r.succeeded]
        if failed:
            first = failed[0].error_message
            raise RuntimeError(f"{self.store.name}: {len(failed)} of {len(vectors)} refused: {first}")

    def _search(self, values: Sequence[float], top_k: int, stamp: Stamp) -> tuple[list[Hit], float | None]:
        from azure.search.documents.models import VectorizedQuery

        query = VectorizedQuery(vector=list(values), k_nearest_neighbors=top_k, fields=self.vector_field)
        found = self.client.search(
            search_text=None,
            vector_queries=[query],
            filter=f"{TENANT} eq {_quoted(stamp.tenant)}" if stamp.tenant else None,
            vector_filter_mode="preFilter",
            top=top_k,
        )
        hits = []
        for doc in found:
            score = float(doc.get("@search.score", 0.0))
            metadata = {k: v for k, v in doc.items() if not k.startswith("@") and k != self.vector_field}
            hits.append(Hit(str(metadata.get(ID_FIELD, "")), score, metadata))
        return hits, None

    def _count(self, filter_text: str | None) -> int:
        found = self.client.search(search_text="*", filter=filter_text, include_total_count=True, top=0)
        return int(found.get_count() or 0)

    def _counts(self) -> list[TenantCount]:
        listed = self.client.search(
            search_text="*", facets=[f"{TENANT},count:{MAX_TENANTS}"], top=0, include_total_count=True
        )
        facets = (listed.get_facets() or {}).get(TENANT, [])
        per = self.dimension * 4
        out = []
        for facet in facets:
            tenant = str(facet["value"])
            n = self._count(f"{TENANT} eq {_quoted(tenant)}")
            out.append(TenantCount(tenant, n, float(n * per)))
        rest = self._count(f"{TENANT} eq null")
        if rest:
            out.append(TenantCount(None, rest, float(rest * per)))
        return out
