"""The lifecycle state machine: which state may follow which, checked on every ledger update.

Together with the store's versioned conditional update this makes a replay impossible: a released,
deleted or vanished record never goes back to a quarantine by the event that made it, nor by any
event the cloud stamped no later than it (`renews`: only a new create starts a new lifecycle),
and two writers that read the same version cannot both move it.

Why a record starts over (`renews`). The ledger keys records by resource id, and many ids are
names (Lambda functions, buckets, roles, queues, every Azure id): an agent deletes a resource and
creates it again under the same name, and the new one must get its own judgement, quarantine and
grace, never the old record's (a released record would leave it unjudged; a live one would hand
the sweeper the old deadline and undo token). An event for a known id starts over when
- it is another event than the record's (a redelivery or retry is never a new lifecycle), and
- the cloud stamped it strictly later than the record's event (both times are the cloud's, never
  the enforcer's clock: a replayed or late old event, or one of the same instant, never restarts
  anything), and
- the id was freed (the record is deleted or gone: tagwarden deleted it, a delete event said so,
  or it vanished), or the event is a create that fails when the id exists (`creates_only`, set
  by the adapter's reader: an upsert such as PutRule or an Azure write may be an update of the
  very resource the record is about, so it never restarts a live or released lifecycle) and is
  not a retry of the record's own create (`retried`: the same idempotency token, within an hour).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from msgspec.structs import replace

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
    # a released resource deleted afterwards (a delete event): gone, so the id may start over
    S.RELEASED: frozenset({S.GONE}),
    S.GONE: frozenset(),
}

# States in which the resource id is free: any later event of it is a new resource (`renews`).
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


def cloud_time(text: str) -> datetime | None:
    """An event's ISO 8601 time as the cloud stamped it (naive: UTC), None when unreadable."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError, TypeError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def later(event_time: str, record_time: str) -> bool:
    """The event strictly after the record's event, by the cloud's clocks; unreadable: never."""
    new, old = cloud_time(event_time), cloud_time(record_time)
    return new is not None and old is not None and new > old


# How long after the record's create a create with its token is taken for a retry of it. Shorter
# than the idempotency window of every AWS create found in its API reference (8 h for most, 24 h,
# 36 h for Cloud Control): inside it the service still knows the token, so it answered with the
# first call's resource; an SDK resends within seconds or minutes.
RETRY_WINDOW = timedelta(hours=1)


def retried(old: ResourceRecord, new: ResourceRecord) -> bool:
    """Whether `new` is a retry of the create that opened `old`: both carry the same idempotency
    token (an SDK resending its call after a timeout, a new event id stamped later), and the cloud
    stamped `new` within RETRY_WINDOW of the record's event.

    Why the same token may be trusted, even though the creator writes it (it is no authority: a
    token only ever keeps a record, it never starts or ends a lifecycle). The service answers a
    create with a token it has seen with the resource its first call made, and only for the very
    same parameters (other parameters: IdempotentParameterMismatch, a failed call that is skipped).
    So a successful same-token create naming the record's id is that first call's resource: an
    agent that copies the original token onto its re-creation gets the old resource back, not a
    new one, and judging it again would re-quarantine what was released. Why the window: a service
    forgets a token (hours to days later) and then creates anew, so a resource deleted without
    its delete event reaching us and created again under its name with the old token copied would
    keep the old record, unjudged. Past the window the create is judged as new: at worst a very
    late re-run that the service answered with the old resource is judged again (and released
    again by the sweeper when its tags are right), never a new resource left unjudged. A create
    without a token, or with another (SDKs draw a new one per call), is a new request: it renews.
    Records older than the field have no token: a create with one renews them."""
    if new.idempotency_token is None or new.idempotency_token != old.idempotency_token:
        return False
    first, again = cloud_time(old.event_time), cloud_time(new.event_time)
    return first is not None and again is not None and again - first <= RETRY_WINDOW


def renews(old: ResourceRecord, new: ResourceRecord, creates_only: bool) -> bool:
    """Whether `new` (drafted from another event for the same id) starts a new lifecycle over
    `old` (see the module's docstring); `creates_only`: that event fails when the id exists."""
    return (
        new.event_id != old.event_id
        and later(new.event_time, old.event_time)
        and (old.state in RENEWABLE or (creates_only and not retried(old, new)))
    )


def renew(old: ResourceRecord, new: ResourceRecord, creates_only: bool = False) -> ResourceRecord:
    """A new lifecycle for a resource id created again: `new` in place of `old`, nothing carried
    over (not the undo token, nor the deadline); IllegalTransition unless `renews`."""
    if not renews(old, new, creates_only):
        raise IllegalTransition(
            f"{old.resource_id}: {old.state.value} record of {old.event_time} cannot start over with "
            f"event {new.event_id} of {new.event_time}" + _why_not(old, new, creates_only)
        )
    return replace(new, version=old.version + 1)


def _why_not(old: ResourceRecord, new: ResourceRecord, creates_only: bool) -> str:
    if old.state in RENEWABLE:
        return ""
    if not creates_only:
        return " (an update or upsert, not a creation)"
    return " (a retry: the idempotency token of the record's create)" if retried(old, new) else ""


def close(record: ResourceRecord, deleted_at: str, **changes: Any) -> ResourceRecord | None:
    """The record closed by a delete event of its resource (GONE), or None when there is nothing
    to close: already gone, or the delete is older than the record's event (it deleted an earlier
    resource of the same id, and the record is the later one's). A delete the cloud stamped at the
    record's own second, or that cannot be ordered, closes it: gone only ever stops tagwarden."""
    if record.state is S.GONE or later(record.event_time, deleted_at):
        return None
    return advance(record, S.GONE, **changes)
