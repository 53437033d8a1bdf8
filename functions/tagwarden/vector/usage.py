"""Usage per tenant as ledger records: storage snapshots (VECTOR_STORAGE) and query counts (VECTOR_QUERY).

Storage is a level, measured by a collection run: every tenant found in one run gets a record with
the run's time, and a tenant absent from a run held nothing then. Queries are a flow, counted by the
query helper as they happen and written by the next collection. Record ids are deterministic, so a
retried write (or a re-run collection at the same time) writes once.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from tagwarden.ledger.model import UsageKind, UsageRecord
from tagwarden.vector.stamp import TENANT, SharedStore

Key = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class TenantCount:
    """What one tenant stores in an index at a moment. `tenant` None: vectors stamped with none."""

    tenant: str | None
    vectors: int
    bytes: float  # measured where the store tells it (pgvector), else vectors x dimension x 4
    bytes_measured: bool = False


def _usage_id(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]


def storage_records(
    store: SharedStore, counts: Iterable[TenantCount], at: float, source: str
) -> list[UsageRecord]:
    """One VECTOR_STORAGE snapshot per tenant holding vectors at `at` (epoch seconds)."""
    out = []
    for count in counts:
        if count.vectors <= 0:
            continue
        attribution = {TENANT: count.tenant} if count.tenant else {}
        quantities = {"vectors": float(count.vectors), "bytes": float(count.bytes)}
        out.append(
            UsageRecord(
                usage_id=_usage_id("vector-storage", store.resource, count.tenant or "", repr(at)),
                kind=UsageKind.VECTOR_STORAGE,
                time=at,
                platform=store.platform,
                resource=store.resource,
                attribution=MappingProxyType(attribution),
                quantities=quantities,
                source=source if count.bytes_measured else f"{source};bytes-estimated",
            )
        )
    return out


class QueryMeter:
    """Counts queries (and read units, where the store reports them) per attribution, thread-safe.

    `drain` hands the counts over as records and forgets them; `restore` takes them back when the
    ledger write failed, so the next collection writes them (same ids: written once).
    """

    def __init__(self, store: SharedStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._counts: dict[Key, list[float]] = {}
        self._pending: list[UsageRecord] = []

    def record(self, attribution: Mapping[str, str], read_units: float | None = None) -> None:
        key = tuple(sorted(attribution.items()))
        with self._lock:
            got = self._counts.get(key)
            if got is None:
                got = self._counts[key] = [0.0, 0.0]
            got[0] += 1
            if read_units:
                got[1] += read_units

    def drain(self, at: float) -> list[UsageRecord]:
        with self._lock:
            counts, self._counts = self._counts, {}
            pending, self._pending = self._pending, []
        run = uuid.uuid4().hex  # query counts are a flow: every drain is a new interval
        out = list(pending)
        for key, (queries, read_units) in counts.items():
            quantities = {"queries": queries}
            if read_units:
                quantities["read_units"] = read_units
            out.append(
                UsageRecord(
                    usage_id=_usage_id("vector-query", self.store.resource, run, key),
                    kind=UsageKind.VECTOR_QUERY,
                    time=at,
                    platform=self.store.platform,
                    resource=self.store.resource,
                    attribution=MappingProxyType(dict(key)),
                    quantities=quantities,
                    source="query-helper",
                )
            )
        return out

    def restore(self, records: Iterable[UsageRecord]) -> None:
        with self._lock:
            self._pending.extend(r for r in records if r.kind is UsageKind.VECTOR_QUERY)
