"""A decision becomes a ledger record: the one place that maps the core's model to the ledger's."""

from __future__ import annotations

import hashlib

from tagwarden.ledger.model import LifecycleState, ResourceRecord
from tagwarden.model import Action, CreationEvent, Decision

# The state a fresh record starts in, by the action the rules chose.
INITIAL_STATE: dict[Action, LifecycleState] = {
    Action.SKIP: LifecycleState.SKIPPED,
    Action.QUARANTINE: LifecycleState.QUARANTINE_INTENT,
    Action.DELETE: LifecycleState.DELETE_PENDING,
}


def rules_hash(text: str) -> str:
    """Which rules decided: the first 16 hex digits of the rules file's SHA-256."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def record_for(
    event: CreationEvent, decision: Decision, *, rules_digest: str | None, now: float
) -> ResourceRecord:
    resource = decision.resource
    tags = dict(resource.request_tags or {})
    tags.update(decision.tags)
    return ResourceRecord(
        provider=event.provider.value,
        resource_id=resource.id,
        account=event.account,
        region=event.region,
        type=resource.type,
        name=resource.name,
        event_id=event.event_id,
        event_name=event.event_name,
        event_time=event.time,
        actor={k: str(v) for k, v in event.actor.to_json().items()},
        tags=tags,
        sources=dict(decision.sources),
        rule=decision.rule,
        rules_hash=rules_digest,
        action=decision.action.value,
        state=INITIAL_STATE.get(decision.action, LifecycleState.ACTIVE),
        deadline=now + decision.grace_seconds if decision.grace_seconds is not None else None,
        recorded_at=now,
    )
