"""The part every store adapter shares: stamp, write, query with the tenant filter, meter, collect.

An adapter supplies four store calls (`_write`, `_search`, `_counts`, and its `source` name); the
refusals, the metering and the ledger write are here, once.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tagwarden.ledger.model import UsageRecord
from tagwarden.ledger.ports import Ledger
from tagwarden.vector.stamp import SharedStore, Stamp, Vector, resolve, stamped
from tagwarden.vector.usage import QueryMeter, TenantCount, storage_records

log = logging.getLogger("tagwarden.vector")


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    score: float
    metadata: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


class TenantIndex(ABC):
    source: str = ""  # how usage records name the measurement, e.g. "pgvector-group-by"

    def __init__(self, store: SharedStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.meter = QueryMeter(store)
        self.clock = clock

    def upsert(
        self,
        vectors: Sequence[Vector],
        tenant: str | None = None,
        attribution: Mapping[str, str] | None = None,
    ) -> int:
        """Write `vectors` stamped with the tenant (and Agent-ID / Outcome-ID where known).
        Refuses, before any write, a shared store's upsert without a tenant. Returns the count."""
        stamp = resolve(self.store, "upsert", tenant, attribution)
        payloads = stamped(self.store, stamp, vectors)
        if vectors:
            self._write(vectors, payloads, stamp)
        return len(vectors)

    def query(
        self,
        values: Sequence[float],
        top_k: int = 10,
        tenant: str | None = None,
        attribution: Mapping[str, str] | None = None,
    ) -> list[Hit]:
        """Nearest vectors of the tenant only (a shared store is never searched across tenants),
        counted for that tenant's query share."""
        stamp = resolve(self.store, "query", tenant, attribution)
        hits, read_units = self._search(values, top_k, stamp)
        self.meter.record(stamp.attribution, read_units)
        return hits

    def tenant_counts(self) -> list[TenantCount]:
        return self._counts()

    def usage_records(self, at: float | None = None) -> list[UsageRecord]:
        """A storage snapshot of every tenant plus the queries counted since the last collection."""
        now = self.clock() if at is None else at
        return storage_records(self.store, self._counts(), now, self.source) + self.meter.drain(now)

    def collect(self, ledger: Ledger, at: float | None = None) -> int:
        """Write this index's usage to the ledger; returns how many records were new."""
        records = self.usage_records(at)
        try:
            written = ledger.add_usage(records)
        except Exception:
            self.meter.restore(records)  # the query counts are not lost: the next collection writes them
            raise
        log.info(
            "vector usage collected",
            extra={"store": self.store.name, "records": len(records), "written": written},
        )
        return written

    @abstractmethod
    def _write(self, vectors: Sequence[Vector], payloads: list[dict[str, Any]], stamp: Stamp) -> None: ...

    @abstractmethod
    def _search(self, values: Sequence[float], top_k: int, stamp: Stamp) -> tuple[list[Hit], float | None]:
        """Hits and the read units the store reported for the query (None where it reports none)."""

    @abstractmethod
    def _counts(self) -> list[TenantCount]: ...
