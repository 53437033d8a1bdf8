"""A decision becomes a ledger record: the one place that maps the core's model to the ledger's.

`new_record` is what the enforcer writes for each decision (its one conditional create per event
and resource); `record_for` is a replay's record of history (`tagwarden replay --ledger`): the
decision and its attribution, nothing acted on, so never a lifecycle state a sweeper would act on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from types import MappingProxyType

from tagwarden.ledger.model import LifecycleState, ResourceRecord
from tagwarden.model import Action, CreationEvent, Decision


def rules_hash(text: str) -> str:
    """Which rules decided: the SHA-256 of the rules file's text (hex)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def initial_state(d: Decision, lifecycle_on: bool, protected: bool) -> LifecycleState:
    if d.action is Action.SKIP:
        return LifecycleState.SKIPPED
    if not lifecycle_on or protected or d.grace_seconds is None:
        return LifecycleState.ACTIVE
    if d.action is Action.QUARANTINE:
        return LifecycleState.QUARANTINE_INTENT
    if d.action is Action.DELETE:
        return LifecycleState.DELETE_PENDING
    return LifecycleState.ACTIVE


def new_record(
    event: CreationEvent,
    d: Decision,
    *,
    state: LifecycleState,
    now: float,
    rules_digest: str,
    deadline: float | None = None,
    undo: str = "",
    ignored: Mapping[str, str] | None = None,
    detail: str = "",
    tagged: bool = False,
) -> ResourceRecord:
    return ResourceRecord(
        provider=event.provider.value,
        resource_id=d.resource.id,
        account=event.account,
        region=event.region,
        type=d.resource.type,
        name=d.resource.name,
        event_id=event.event_id,
        event_name=event.event_name,
        event_time=event.time,
        event_source=event.event_source,
        correlation_id=event.correlation_id,
        actor=MappingProxyType({k: str(v) for k, v in event.actor.to_json().items()}),
        # the attribution: what the create request carried (trusted keys only) and what was derived
        tags=MappingProxyType({**(d.resource.request_tags or {}), **d.tags}),
        sources=MappingProxyType(dict(d.sources)),
        rule=d.rule,
        rules_hash=rules_digest or None,
        action=d.action.value,
        state=state,
        deadline=deadline,
        undo=undo,
        recorded_at=now,
        tagged_at=now if tagged else None,
        ignored=MappingProxyType(dict(ignored or {})),
        detail=detail,
        idempotency_token=event.idempotency_token,
    )


def record_for(
    event: CreationEvent, decision: Decision, *, rules_digest: str | None, now: float
) -> ResourceRecord:
    """A replayed decision: the tags the resource was created with and the ones the rules derive;
    `action` says what the rules chose, `state` stays active or skipped (nothing was done)."""
    state = LifecycleState.SKIPPED if decision.action is Action.SKIP else LifecycleState.ACTIVE
    return new_record(event, decision, state=state, now=now, rules_digest=rules_digest or "")
