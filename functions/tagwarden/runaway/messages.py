"""The runaway alert and the brake-released notice, as lifecycle `Notification`s so that every
existing channel (SNS, Chatbot, Teams, Storage Queue) carries them unchanged. Pure."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from tagwarden.lifecycle.ports import Notification
from tagwarden.runaway.model import Limit, Measure
from tagwarden.runaway.ports import BrakeRecord, Member

LISTED = 20  # resources named in an alert; the rest are counted


def release_command(scope: str) -> str:
    return f"tagwarden brake release {shlex.quote(scope)}"


def duration(seconds: int) -> str:
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def amount(value: float, limit: Limit) -> str:
    if limit.measure is Measure.SPEND:
        return f"${value:,.2f}/h"
    return f"{value:,.0f} {limit.unit}"


@dataclass(frozen=True, slots=True)
class Crossing:
    limit: Limit
    scope: str
    value: float
    level: int
    provider: str
    account: str
    region: str | None
    creator: str | None
    principal: str | None


def alert(
    c: Crossing,
    window: Sequence[Member],
    brake: BrakeRecord | None,
    brake_note: str,
    actions: Sequence[str],
    dry_run: bool,
) -> Notification:
    limit = c.limit
    created = [rid for m in window for rid in m.resources]
    hourly = sum(m.hourly for m in window)
    lines = [
        f"Agent {c.scope} reached {amount(c.value, limit)} in the last {duration(limit.window)}; "
        f"the limit {limit.id} allows {amount(limit.threshold, limit)} (level {c.level}).",
        f"Created in the window: {len(created)} resource(s), estimated ${hourly:,.2f}/h.",
    ]
    lines += [f"  {rid}" for rid in created[:LISTED]]
    if len(created) > LISTED:
        lines.append(f"  ... and {len(created) - LISTED} more")
    if brake_note:
        lines.append(brake_note)
    if brake is not None:
        lines.append(f"Lift the brake: {release_command(c.scope)}")
    return Notification(
        kind="runaway",
        provider=c.provider,
        resource_id=c.principal or c.scope,
        resource_type="agent",
        account=c.account,
        region=c.region,
        creator=c.creator,
        creator_address=None,
        rule=f"limit:{limit.id}",
        action=",".join(actions),
        dry_run=dry_run,
        detail="\n".join(lines),
        extra={
            "agent": c.scope,
            "limit": limit.id,
            "measure": limit.measure.value,
            "value": round(c.value, 4),
            "threshold": limit.threshold,
            "window_seconds": limit.window,
            "level": c.level,
            "resources_in_window": len(created),
            "resources": created[:LISTED],
            "estimated_usd_per_hour": round(hourly, 4),
            "brake": None if brake is None else {"state": brake.state.value, "principal": brake.principal},
            "release": release_command(c.scope) if brake is not None else "",
        },
    )


def released(record: BrakeRecord, account: str = "") -> Notification:
    return Notification(
        kind="brake-released",
        provider=record.provider,
        resource_id=record.principal,
        resource_type="agent",
        account=account,
        region=None,
        creator=None,
        creator_address=None,
        rule=f"limit:{record.limit}",
        action="release",
        detail=f"The brake on agent {record.scope} ({record.principal}) was lifted by {record.released_by}.",
        extra={"agent": record.scope, "released_by": record.released_by, "principal": record.principal},
    )
