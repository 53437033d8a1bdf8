"""Pinecone: one namespace per tenant, Pinecone's own multi-tenancy mechanism.

A namespace isolates a tenant's vectors physically (a query reads only its namespace, so
serverless read units scale with that tenant's data, not the index's) and `describe_index_stats`
counts every namespace in one call. The tenant is also stamped into the metadata, so exported
vectors still say whose they are. Untenanted vectors of a private index go to the default
namespace (`__default__` in stats). `index` is the SDK's data-plane client (`pc.Index(host=...)`);
the pinecone package is never imported here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from tagwarden.vector.index import Hit, TenantIndex
from tagwarden.vector.stamp import SharedStore, Stamp, Vector
from tagwarden.vector.usage import TenantCount

DEFAULT_NAMESPACES = ("", "__default__")


class PineconeTenants(TenantIndex):
    source = "pinecone-describe-index-stats"

    def __init__(self, index: Any, store: SharedStore, clock: Callable[[], float] = time.time) -> None:
        super().__init__(store, clock)
        self.index = index

    def _write(self, vectors: Sequence[Vector], payloads: list[dict[str, Any]], stamp: Stamp) -> None:
        items = [
            {"id": str(v.id), "values": list(v.values), "metadata": p}
            for v, p in zip(vectors, payloads, strict=True)
        ]
        self.index.upsert(vectors=items, namespace=stamp.tenant or "")

    def _search(self, values: Sequence[float], top_k: int, stamp: Stamp) -> tuple[list[Hit], float | None]:
        found = self.index.query(
            vector=list(values), top_k=top_k, namespace=stamp.tenant or "", include_metadata=True
        )
        hits = [Hit(str(m.id), float(m.score), dict(m.metadata or {})) for m in found.matches]
        usage = getattr(found, "usage", None)
        units = getattr(usage, "read_units", None) if usage is not None else None
        return hits, None if units is None else float(units)

    def _counts(self) -> list[TenantCount]:
        stats = self.index.describe_index_stats()
        dimension = int(getattr(stats, "dimension", None) or 0)
        out = []
        for name, summary in (stats.namespaces or {}).items():
            n = int(summary.vector_count)
            out.append(
                TenantCount(None if name in DEFAULT_NAMESPACES else str(name), n, float(n * dimension * 4))
            )
        return out
