"""Qdrant: the tenant is a payload field with a keyword index marked `is_tenant`.

`is_tenant=True` tells Qdrant (1.11+) to lay a collection's storage out by tenant, so a filtered
search reads only that tenant's segment: Qdrant's own recommendation for many tenants in one
collection (a collection per tenant costs memory per collection). Point ids are global to a
collection, so in a shared store each point's id is derived from (tenant, id) and the caller's id
is kept in the payload: one tenant cannot overwrite another's point. `client` is a QdrantClient
(server or local mode); qdrant_client is imported when an adapter is made.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from tagwarden.vector.index import Hit, TenantIndex
from tagwarden.vector.stamp import TENANT, SharedStore, Stamp, Vector, scoped_id
from tagwarden.vector.usage import TenantCount

ID_FIELD = "vector_id"  # the caller's id, in the payload
MAX_TENANTS = 100_000  # facet limit: tenants listed per collection run


def point_id(tenant: str | None, vector_id: str) -> str:
    """A UUID-shaped id Qdrant accepts, the same for the same (tenant, id) on every upsert."""
    h = hashlib.blake2b(scoped_id(tenant, vector_id).encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class QdrantTenants(TenantIndex):
    source = "qdrant-count"

    def __init__(
        self, client: Any, collection: str, store: SharedStore, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(store, clock)
        from qdrant_client import models

        self.client = client
        self.collection = collection
        self._m = models

    def ensure_collection(self, dimension: int) -> None:
        m = self._m
        if not self.client.collection_exists(self.collection):
            self.client.create_collection(
                self.collection, vectors_config=m.VectorParams(size=dimension, distance=m.Distance.COSINE)
            )
        self.client.create_payload_index(
            self.collection,
            field_name=TENANT,
            field_schema=m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, is_tenant=True),
        )

    def _tenant_filter(self, tenant: str) -> Any:
        m = self._m
        return m.Filter(must=[m.FieldCondition(key=TENANT, match=m.MatchValue(value=tenant))])

    def _write(self, vectors: Sequence[Vector], payloads: list[dict[str, Any]], stamp: Stamp) -> None:
        struct = self._m.PointStruct
        tenant = stamp.tenant
        points = []
        for vector, payload in zip(vectors, payloads, strict=True):
            payload[ID_FIELD] = vector.id
            points.append(struct(id=point_id(tenant, vector.id), vector=list(vector.values), payload=payload))
        self.client.upsert(self.collection, points=points, wait=True)

    def _search(self, values: Sequence[float], top_k: int, stamp: Stamp) -> tuple[list[Hit], float | None]:
        flt = self._tenant_filter(stamp.tenant) if stamp.tenant else None
        found = self.client.query_points(
            self.collection, query=list(values), limit=top_k, query_filter=flt, with_payload=True
        )
        hits = []
        for p in found.points:
            payload = p.payload or {}
            hits.append(Hit(str(payload.get(ID_FIELD, p.id)), float(p.score), payload))
        return hits, None

    def _counts(self) -> list[TenantCount]:
        info = self.client.get_collection(self.collection)
        size = getattr(info.config.params.vectors, "size", 0) or 0
        # The facet lists the tenants (it needs the keyword index); the exact filtered count is the
        # figure recorded for each.
        listed = self.client.facet(self.collection, key=TENANT, limit=MAX_TENANTS, exact=True)
        out: list[TenantCount] = []
        tenanted = 0
        for hit in listed.hits:
            only = self._tenant_filter(str(hit.value))
            n = self.client.count(self.collection, count_filter=only, exact=True).count
            tenanted += n
            out.append(TenantCount(str(hit.value), n, float(n * size * 4)))
        rest = self.client.count(self.collection, exact=True).count - tenanted
        if rest > 0:
            out.append(TenantCount(None, rest, float(rest * size * 4)))
        return out
