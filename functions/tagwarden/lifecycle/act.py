"""The enforcer's lifecycle step for one event: quarantine or mark what the rules say, and the
notifications that go out. Acts through the Quarantiner port; the tags it returns (markers, undo
tokens) are written with the event's other tags.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tagwarden.attribution.limits import LIMITS, tag_value
from tagwarden.lifecycle.marker import Keys, Marker, State, deadline_after, iso, marker_tags, read_marker
from tagwarden.lifecycle.ports import ActionResult, CloudText, Notification, Quarantiner, Status
from tagwarden.model import Action, CreationEvent, Decision, Resource
from tagwarden.rules.model import RuleSet

_EMAIL = re.compile(r"^[^@\s/]+@[^@\s/]+\.[^@\s/]+$")

# Decision action -> the notification kind it sends (data, not branches).
NOTIFY_KIND: Mapping[Action, str] = {
    Action.TAG_UNALLOCATED: "tagged-as-unallocated",
    Action.NOTIFY: "notify",
    Action.QUARANTINE: "quarantined",
    Action.DELETE: "delete-scheduled",
}

# Types whose lifecycle is their parent's: an instance's network interfaces are stopped, released
# and deleted with it, so they get tags but no marker of their own (it would outlive a release).
FOLLOWS_PARENT = frozenset({"AWS::EC2::NetworkInterface"})

@dataclass
class Outcome:
    tags: dict[str, dict[str, str]] = field(default_factory=dict)  # resource id -> marker tags to write
    results: list[ActionResult] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)


def creator_address(event: CreationEvent) -> str | None:
    """An address to send the creator a copy: a UPN, or an email used as a session name (SSO)."""
    for value in (event.actor.upn, event.actor.session_name, event.actor.source_identity):
        if value and _EMAIL.match(value):
            return value
    return None


def apply(
    event: CreationEvent,
    decisions: Sequence[Decision],
    rules: RuleSet,
    quarantiner: Quarantiner | None,
    now: datetime,
    text: CloudText,
    current_tags: Callable[[Resource], Mapping[str, str] | None] = lambda r: r.request_tags,
) -> Outcome:
    """`current_tags` reads what the resource carries now (a retried event or an Azure update may
    find our marker already there: then nothing is quarantined again, the deadline and the undo
    token stay, and nobody is notified twice)."""
    out = Outcome()
    dry_run = rules.lifecycle.dry_run
    seal_key = rules.lifecycle.seal_key
    keys = Keys.with_prefix(rules.stamp.prefix if rules.stamp is not None else "tagwarden:")
    limits = LIMITS[event.provider]
    for d in decisions:
        kind = NOTIFY_KIND.get(d.action)
        if kind is None or d.resource.type in FOLLOWS_PARENT:
            continue
        deadline: datetime | None = None
        detail = ""
        tags_now = current_tags(d.resource) if d.action in (Action.QUARANTINE, Action.DELETE) else None
        if tags_now is not None and read_marker(tags_now, keys) is not None:
            continue  # already marked by an earlier delivery: the sweeper owns it from here
        protected = (
            tag_value(tags_now or d.resource.request_tags, rules.lifecycle.protect_tag, limits) is not None
        )
        if d.action in (Action.QUARANTINE, Action.DELETE) and d.grace_seconds is not None:
            deadline = deadline_after(now, d.grace_seconds)
            if protected:
                detail = f"protected by the tag {rules.lifecycle.protect_tag}: not quarantined, not scheduled"
                deadline = None
            elif d.action is Action.QUARANTINE:
                result = _quarantine(quarantiner, d, dry_run)
                out.results.append(result)
                detail = result.detail
                if result.status is Status.FAILED:
                    kind = "failed"
                state = State.QUARANTINE_PENDING if result.status is Status.FAILED else State.QUARANTINED
                undo = result.undo if result.status is Status.DONE else ""
                marker = Marker(state, deadline, _reason(d), undo, d.rule)
                out.tags[d.resource.id] = marker_tags(marker, event.provider, keys, seal_key, d.resource.id)
            else:
                marker = Marker(State.DELETE_PENDING, deadline, _reason(d), "", d.rule)
                out.tags[d.resource.id] = marker_tags(marker, event.provider, keys, seal_key, d.resource.id)
                detail = "deleted at the deadline unless its tags are fixed"
        missing = tuple(p.key for p in d.missing)
        invalid = tuple(p.key for p in d.invalid)
        out.notifications.append(
            Notification(
                kind=kind,
                provider=event.provider.value,
                resource_id=d.resource.id,
                resource_type=d.resource.type,
                account=event.account,
                region=event.region,
                creator=event.actor.identity,
                creator_address=creator_address(event),
                rule=d.rule,
                missing=missing,
                invalid=invalid,
                action=d.action.value,
                deadline=iso(deadline) if deadline else None,
                dry_run=dry_run,
                detail=detail,
                fix=text.fix_command(d.resource.id, d.resource.type, missing + invalid),
                account_label=text.account_label,
                region_label=text.region_label,
            )
        )
    return out


def _reason(d: Decision) -> str:
    parts = []
    if d.missing:
        parts.append("missing " + " ".join(p.key for p in d.missing))
    if d.invalid:
        parts.append("invalid " + " ".join(p.key for p in d.invalid))
    return " ".join(parts) or "unattributed"


def _quarantine(quarantiner: Quarantiner | None, d: Decision, dry_run: bool) -> ActionResult:
    if quarantiner is None:
        return ActionResult(
            d.resource, "quarantine", Status.MARKED_ONLY, detail="no quarantiner configured: marked only"
        )
    return quarantiner.quarantine(d.resource, dry_run=dry_run)
