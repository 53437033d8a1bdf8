"""A resource was deleted (a Removal, read by the adapter from a delete event): its ledger record
is closed as gone. Gone is the one state a delete may lead to from any other: it stops the sweeper
(nothing left to release or delete) and frees the id, so the next event that writes it starts a new
lifecycle (tagwarden.ledger.state.renews) instead of being taken for an update of what was deleted.
Harmless for tagwarden's own deletes (deleted -> gone) and for redeliveries (already gone).
"""

from __future__ import annotations

from msgspec import Struct

from tagwarden.ledger.model import LifecycleState, ResourceRecord
from tagwarden.ledger.ports import Conflict, Ledger
from tagwarden.ledger.state import close
from tagwarden.model import Removal

ATTEMPTS = 3  # reads and conditional writes, when another writer moves the record meanwhile


class Closed(Struct, frozen=True):
    """What a delete did to the ledger: the closed record (None: nothing to close) and why."""

    record: ResourceRecord | None
    previous: LifecycleState | None  # the state it was in; None: no record
    reason: str


def close_removed(ledger: Ledger, removal: Removal, now: float) -> Closed:
    """Close the record of the deleted resource; Conflict when it kept changing (retried later)."""
    who = removal.actor.identity or "unknown"
    detail = f"deleted: {removal.event_name} by {who} at {removal.time}"
    for _ in range(ATTEMPTS):
        old = ledger.get(removal.provider.value, removal.resource_id)
        if old is None:
            return Closed(None, None, "not in the ledger: nothing to close")
        closed = close(old, removal.time, gone_at=now, detail=detail)
        if closed is None:
            why = (
                "already gone"
                if old.state is LifecycleState.GONE
                else (f"older than the record's event of {old.event_time}: an earlier resource of that id")
            )
            return Closed(None, old.state, why)
        try:
            ledger.update(closed)
        except Conflict:
            continue  # the sweeper or another delivery moved it: read again
        return Closed(closed, old.state, f"closed: {old.state.value} -> gone")
    raise Conflict(f"{removal.resource_id}: changed {ATTEMPTS} times while its delete was recorded")
