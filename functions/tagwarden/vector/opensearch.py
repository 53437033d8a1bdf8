"""OpenSearch: the tenant is a `keyword` field (filterable, aggregatable) on every document.

Search is filtered by a `term` on it inside the k-NN query (efficient filtering: the filter is
applied during the graph search, so a tenant never gets another tenant's hits), and usage is one
`terms` aggregation over it plus a `missing` aggregation for untenanted documents. Document ids
are scoped per tenant (`tenant=id`), since `_id` is global to the index. `client` is an
opensearch-py client; the package is never imported here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from tagwarden.vector.index import Hit, TenantIndex
from tagwarden.vector.stamp import TENANT, SharedStore, Stamp, Vector, scoped_id, unscoped_id
from tagwarden.vector.usage import TenantCount

log = logging.getLogger("tagwarden.vector")
MAX_TENANTS = 10_000  # terms buckets per collection (OpenSearch's default search.max_buckets is 65,535)
ID_FIELD = "vector_id"


class OpenSearchTenants(TenantIndex):
    source = "opensearch-terms"

    def __init__(
        self,
        client: Any,
        index: str,
        store: SharedStore,
        vector_field: str = "embedding",
        refresh: bool | str = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(store, clock)
        self.client = client
        self.index = index
        self.vector_field = vector_field
        self.refresh = refresh  # True / "wait_for" makes writes searchable at once (tests, demos)
        self.dimension = 0

    def ensure_index(self, dimension: int) -> None:
        self.dimension = dimension
        if self.client.indices.exists(index=self.index):
            return
        keyword = {"type": "keyword"}
        self.client.indices.create(
            index=self.index,
            body={
                "settings": {"index": {"knn": True}},
                "mappings": {
                    "properties": {
                        TENANT: keyword,
                        "agent_id": keyword,
                        "outcome_id": keyword,
                        ID_FIELD: keyword,
                        self.vector_field: {"type": "knn_vector", "dimension": dimension},
                    }
                },
            },
        )

    def _write(self, vectors: Sequence[Vector], payloads: list[dict[str, Any]], stamp: Stamp) -> None:
        tenant = stamp.tenant
        body: list[dict[str, Any]] = []
        for vector, payload in zip(vectors, payloads, strict=True):
            payload[ID_FIELD] = vector.id
            payload[self.vector_field] = list(vector.values)
            body.append({"index": {"_index": self.index, "_id": scoped_id(tenant, vector.id)}})
            body.append(payload)
        answer = self.client.bulk(body=body, refresh=self.refresh)
        if answer.get("errors"):
            failed = [i for i in answer.get("items", []) if next(iter(i.values())).get("status", 500) >= 300]
            raise RuntimeError(
                f"{self.store.name}: {len(failed)} of {len(vectors)} documents failed: {failed[:1]}"
            )

    def _search(self, values: Sequence[float], top_k: int, stamp: Stamp) -> tuple[list[Hit], float | None]:
        knn: dict[str, Any] = {"vector": list(values), "k": top_k}
        if stamp.tenant:
            knn["filter"] = {"term": {TENANT: stamp.tenant}}
        answer = self.client.search(
            index=self.index, body={"size": top_k, "query": {"knn": {self.vector_field: knn}}}
        )
        hits = []
        for hit in answer["hits"]["hits"]:
            source = {k: v for k, v in hit["_source"].items() if k != self.vector_field}
            vector_id = source.get(ID_FIELD) or unscoped_id(stamp.tenant, hit["_id"])
            hits.append(Hit(str(vector_id), float(hit["_score"]), source))
        return hits, None

    def _counts(self) -> list[TenantCount]:
        answer = self.client.search(
            index=self.index,
            body={
                "size": 0,
                "track_total_hits": True,
                "aggs": {
                    "tenants": {"terms": {"field": TENANT, "size": MAX_TENANTS}},
                    "untenanted": {"missing": {"field": TENANT}},
                },
            },
        )
        aggs = answer["aggregations"]
        if aggs["tenants"].get("sum_other_doc_count"):
            log.warning(
                "vector usage: more tenants than terms buckets",
                extra={"store": self.store.name, "uncounted": aggs["tenants"]["sum_other_doc_count"]},
            )
        per = self.dimension * 4
        out = [
            TenantCount(str(b["key"]), int(b["doc_count"]), float(b["doc_count"] * per))
            for b in aggs["tenants"]["buckets"]
        ]
        rest = int(aggs["untenanted"]["doc_count"])
        if rest:
            out.append(TenantCount(None, rest, float(rest * per)))
        return out
