"""From decisions to the changes an adapter will make, given the rules' mode.

Kept apart from `decide` so that audit mode is a property of one small function: in audit mode the
plan holds reports only, never a change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from tagwarden.model import Action, Decision, Resource
from tagwarden.rules.model import Mode


class EffectKind(StrEnum):
    WRITE_TAGS = "write-tags"
    NOTIFY = "notify"
    QUARANTINE = "quarantine"
    SCHEDULE_DELETE = "schedule-delete"
    REPORT = "report"  # audit mode: what would have happened


MUTATING = frozenset({EffectKind.WRITE_TAGS, EffectKind.QUARANTINE, EffectKind.SCHEDULE_DELETE})

# Per action, the effects it causes besides writing tags. Data, not branches.
_ACTION_EFFECTS: Mapping[Action, tuple[EffectKind, ...]] = {
    Action.NONE: (),
    Action.TAG: (),
    Action.TAG_UNALLOCATED: (EffectKind.NOTIFY,),  # "tagged-as-unallocated" (lifecycle.act.NOTIFY_KIND)
    Action.NOTIFY: (EffectKind.NOTIFY,),
    Action.QUARANTINE: (EffectKind.QUARANTINE, EffectKind.NOTIFY),
    Action.DELETE: (EffectKind.SCHEDULE_DELETE, EffectKind.NOTIFY),
    Action.SKIP: (),
}


@dataclass(frozen=True, slots=True)
class Effect:
    kind: EffectKind
    resource: Resource
    action: Action
    tags: Mapping[str, str] = field(default_factory=dict)
    grace_seconds: int | None = None
    detail: str = ""

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "kind": self.kind.value,
            "resource": self.resource.id,
            "action": self.action.value,
        }
        if self.tags:
            out["tags"] = dict(self.tags)
        if self.grace_seconds is not None:
            out["grace_seconds"] = self.grace_seconds
        if self.detail:
            out["detail"] = self.detail
        return out


def plan(decisions: Iterable[Decision], mode: Mode) -> tuple[Effect, ...]:
    effects: list[Effect] = []
    for d in decisions:
        if mode is Mode.AUDIT:
            if d.action not in (Action.NONE, Action.SKIP):
                what = f"would {d.action.value}" + (f" and write {len(d.tags)} tag(s)" if d.tags else "")
                effects.append(Effect(EffectKind.REPORT, d.resource, d.action, d.tags, d.grace_seconds, what))
            continue
        if d.tags:
            effects.append(Effect(EffectKind.WRITE_TAGS, d.resource, d.action, d.tags))
        effects.extend(
            Effect(kind, d.resource, d.action, grace_seconds=d.grace_seconds)
            for kind in _ACTION_EFFECTS[d.action]
        )
    return tuple(effects)
