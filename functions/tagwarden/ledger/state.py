"""The lifecycle state machine: which state may follow which, checked on every ledger update.

Together with the store's versioned conditional update this makes a replay impossible: a released,
deleted or vanished record never goes back to a quarantine (only a new create event, for a
resource id that was deleted or vanished, starts a new lifecycle, see `renew`), and two writers
that read the same version cannot both move it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from tagwarden.ledger.model import LifecycleState, ResourceRecord

S = LifecycleState

NEXT: Mapping[LifecycleState, frozenset[LifecycleState]] = {
    S.ACTIVE: frozenset({S.GONE}),
    S.SKIPPED: frozenset({S.GONE}),
    # the action is recorded as intended before it is taken, with its undo token
    S.QUARANTINE_INTENT: frozenset({S.QUARANTINED, S.QUARANTINE_PENDING, S.RELEASED, S.GONE}),
    S.QUARANTINED: frozenset({S.RELEASED, S.DELETED, S.GONE, S.SKIPPED}),
    S.QUARANTINE_PENDING: frozenset({S.QUARANTINED, S.RELEASED, S.DELETED, S.GONE, S.SKIPPED}),
    S.DELETE_PENDING: frozenset({S.RELEASED, S.DELETED, S.GONE, S.SKIPPED}),
    # DELETED -> back to where it was only when the delete call failed (the sweeper's undo of
    # its own intent, same version chain): see `revert`.
    S.DELETED: frozenset({S.GONE}),
    S.RELEASED: frozenset(),
    S.GONE: frozenset(),
}

# States a new create event may start over from: the resource id was freed and created again.
RENEWABLE = frozenset({S.DELETED, S.GONE})


class IllegalTransition(ValueError):
    """A state change the lifecycle does not allow (e.g. released -> quarantined: a replay)."""


def advance(record: ResourceRecord, to: LifecycleState, **changes: Any) -> ResourceRecord:
    """The next version of `record` in state `to`; IllegalTransition when `to` may not follow."""
    if to is not record.state and to not in NEXT[record.state]:
        raise IllegalTransition(f"{record.resource_id}: {record.state.value} -> {to.value} is not allowed")
    return record.evolve(state=to, **changes)


def revert(record: ResourceRecord, to: LifecycleState, **changes: Any) -> ResourceRecord:
    """Undo the sweeper's own intent (DELETED or RELEASED written before a call that then failed)."""
    if record.state not in (S.DELETED, S.RELEASED) or to not in (
        S.QUARANTINE_INTENT,
        S.QUARANTINED,
        S.QUARANTINE_PENDING,
        S.DELETE_PENDING,
    ):
        raise IllegalTransition(f"{record.resource_id}: cannot revert {record.state.value} to {to.value}")
    return record.evolve(state=to, **changes)


def renew(old: ResourceRecord, new: ResourceRecord) -> ResourceRecord:
    """A new lifecycle for a resource id created again after it was deleted or vanished."""
    if old.state not in RENEWABLE:
        raise IllegalTransition(f"{old.resource_id}: {old.state.value} cannot start a new lifecycle")
    return replace(new, version=old.version + 1)
