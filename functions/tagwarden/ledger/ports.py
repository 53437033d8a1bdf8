"""The ledger store port. Stores: SQLite (local default), DynamoDB (AWS), Azure Table Storage."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Protocol

from tagwarden.ledger.model import LifecycleState, ResourceRecord, UsageRecord


class Conflict(Exception):
    """The record exists already (create) or changed since it was read (update): re-read, decide again."""


class Ledger(Protocol):
    def create(self, record: ResourceRecord) -> bool:
        """Write a new record; False (nothing written) when one exists for the key already.

        This conditional write is also the de-duplication claim: a redelivered event finds its
        resources recorded and does nothing twice.
        """

    def create_many(self, records: Sequence[ResourceRecord]) -> list[bool]:
        """`create` for each record (distinct keys), in as few store calls as the store allows:
        the enforcer's one write per event (DynamoDB: one transaction of up to 100 records)."""

    def get(self, provider: str, resource_id: str) -> ResourceRecord | None: ...

    def update(self, record: ResourceRecord) -> None:
        """Replace the stored record whose version is `record.version - 1`; Conflict otherwise."""

    def in_state(self, *states: LifecycleState) -> Iterator[ResourceRecord]:
        """Records in these states (the sweeper's work list: no listing of the cloud)."""

    def scan(self) -> Iterator[ResourceRecord]: ...

    def add_usage(self, records: Iterable[UsageRecord]) -> int:
        """Write usage records, ignoring ids already present; returns how many were new."""

    def usage(self, since: float | None = None, until: float | None = None) -> Iterator[UsageRecord]: ...


class LedgerReader(Protocol):
    """The read side every store offers (`tagwarden ledger show/export`, from wherever it lives).

    Both iterators stream: a cloud store reads page by page (DynamoDB Scan, Azure Table query
    continuation) and keeps nothing it has yielded, so an export runs in constant memory.
    """

    def get(self, provider: str, resource_id: str) -> ResourceRecord | None: ...

    def scan(self) -> Iterator[ResourceRecord]:
        """Every resource record."""

    def records(self) -> Iterator[ResourceRecord | UsageRecord]:
        """Every record of both kinds, in the store's order: what the JSON-lines export writes."""
