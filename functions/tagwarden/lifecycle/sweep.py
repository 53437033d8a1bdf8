"""The sweeper's judgement, pure: for each marked resource, release, delete or leave it.

A resource is released when its tags now satisfy the rule that quarantined it; deleted when its
deadline has passed and it is still unattributed (never when exempt or protected, never past the
per-sweep cap, and only for real when the rules switch delete dry-run off); otherwise left.
Only resources carrying our marker are ever considered: we never act on what we did not see created.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tagwarden.attribution.limits import LIMITS, tag_value
from tagwarden.lifecycle.marker import Keys, Marker, State, read_marker, verify
from tagwarden.model import Actor, ActorKind, CreationEvent, Provider, Resource
from tagwarden.rules.model import Mode, RuleSet


class Verdict(StrEnum):
    RELEASE = "release"
    DELETE = "delete"
    LEAVE = "leave"


@dataclass(frozen=True, slots=True)
class Found:
    """A resource the sweeper found carrying a marker, with all its current tags."""

    resource: Resource
    tags: Mapping[str, str]
    provider: Provider


@dataclass(frozen=True, slots=True)
class Judgement:
    found: Found
    verdict: Verdict
    marker: Marker
    reason: str
    dry_run: bool = False  # a DELETE that is only planned (lifecycle.delete_dry_run / dry_run)
    problems: tuple[str, ...] = ()  # required tags still missing or invalid
    sealed: bool = False  # the marker verifies: tagwarden wrote it (deletions and undos need this)
    exempt: bool = False  # protected or exempt now: never quarantined again, never deleted


def unsettled(rules: RuleSet, rule_id: str | None, tags: Mapping[str, str], provider: Provider) -> list[str]:
    """The required tags of the rule that are still missing, invalid or marked unallocated."""
    rule = next((r for r in rules.rules if r.id == rule_id), rules.default_rule)
    keys = rule.require if rule.require is not None else [k for k, t in rules.tags.items() if t.required]
    limits = LIMITS[provider]
    out = []
    for key in keys:
        value = tag_value(tags, key, limits)
        if value is None or value == rules.unallocated_value:
            out.append(f"{key} missing")
        elif (bad := rules.tags[key].problem(value)) is not None:
            out.append(f"{key} invalid: {bad}")
    return out


def _exempt(found: Found, rules: RuleSet, creator: str | None) -> str | None:
    ex = rules.exemptions
    limits = LIMITS[found.provider]
    if tag_value(found.tags, rules.lifecycle.protect_tag, limits) is not None:
        return f"protected by the tag {rules.lifecycle.protect_tag}"
    if ex.resource_types is not None and ex.resource_types.match(found.resource.type):
        return f"resource type {found.resource.type} is exempt"
    if ex.marker_key is not None:
        value = tag_value(found.tags, ex.marker_key, limits)
        if value is not None and (ex.marker_value is None or value == ex.marker_value):
            return f"carries the exemption tag {ex.marker_key}"
    if ex.principals is not None and creator:
        role = _role_of_session(creator)  # exemptions often name the role, the stamp has the session
        actor = Actor(ActorKind.UNKNOWN, arn=creator, upn=creator, role_arn=role)
        probe = CreationEvent(found.provider, "", "", "", "", "", None, actor, ())
        if ex.principals(probe, found.resource):
            return f"created by exempt principal {creator}"
    return None


def _role_of_session(arn: str) -> str | None:
    """arn:aws:sts::1:assumed-role/Role/session -> arn:aws:iam::1:role/Role (the role's path is not
    in the session ARN; exemption globs like `role/BreakGlass*` still match)."""
    head, sep, rest = arn.partition(":assumed-role/")
    if not sep or ":sts::" not in head:
        return None
    return f"{head.replace(':sts::', ':iam::')}:role/{rest.split('/', 1)[0]}"


def judge(found: Found, rules: RuleSet, now: datetime) -> Judgement | None:
    """None when the resource carries no marker of ours."""
    prefix = rules.stamp.prefix if rules.stamp is not None else "tagwarden:"
    keys = Keys.with_prefix(prefix)
    marker = read_marker(found.tags, keys)
    if marker is None:
        return None
    sealed = verify(rules.lifecycle.seal_key, found.resource.id, marker)
    problems = unsettled(rules, marker.rule, found.tags, found.provider)
    if not problems:
        return Judgement(found, Verdict.RELEASE, marker, "the required tags are now present", sealed=sealed)
    creator = tag_value(found.tags, prefix + "creator", LIMITS[found.provider])
    exempt = _exempt(found, rules, creator)
    if exempt is not None:
        return Judgement(
            found,
            Verdict.LEAVE,
            marker,
            f"not deleted: {exempt}",
            problems=tuple(problems),
            sealed=sealed,
            exempt=True,
        )
    if not marker.expired(now):
        return Judgement(
            found, Verdict.LEAVE, marker, "within the grace period", problems=tuple(problems), sealed=sealed
        )
    if not sealed:
        why = "no marker key configured" if not rules.lifecycle.seal_key else "its seal does not verify"
        reason = f"not deleted: {why} (TAGWARDEN_MARKER_KEY)"
        return Judgement(found, Verdict.LEAVE, marker, reason, problems=tuple(problems))
    dry = rules.lifecycle.dry_run or rules.lifecycle.delete_dry_run or rules.mode is Mode.AUDIT
    what = "deadline passed, still unattributed" + (" (delete dry-run)" if dry else "")
    return Judgement(found, Verdict.DELETE, marker, what, dry_run=dry, problems=tuple(problems), sealed=True)


def sweep(found: Sequence[Found], rules: RuleSet, now: datetime) -> list[Judgement]:
    """Judgements for every marked resource; deletions beyond the cap are left for the next sweep,
    the most overdue first."""
    judged = [j for j in (judge(f, rules, now) for f in found) if j is not None]
    # Only real deletions count against the cap: planned (dry-run) ones change nothing.
    deletes = sorted(
        (j for j in judged if j.verdict is Verdict.DELETE and not j.dry_run), key=lambda j: j.marker.deadline
    )
    allowed = {id(j) for j in deletes[: rules.lifecycle.max_deletions_per_sweep]}
    out = []
    for j in judged:
        if j.verdict is Verdict.DELETE and not j.dry_run and id(j) not in allowed:
            cap = rules.lifecycle.max_deletions_per_sweep
            out.append(
                Judgement(
                    j.found,
                    Verdict.LEAVE,
                    j.marker,
                    f"deletion cap of {cap} per sweep reached",
                    problems=j.problems,
                )
            )
        else:
            out.append(j)
    return out


def acting_dry(rules: RuleSet) -> bool:
    """Whether the sweeper's actions are only planned: global dry-run, or audit mode."""
    return rules.lifecycle.dry_run or rules.mode is Mode.AUDIT


def needs_undo(j: Judgement) -> bool:
    """A release calls the quarantiner only for a quarantine it can undo, under a marker tagwarden
    sealed; a delete-pending marker, an empty undo token or an unsealed marker just loses its marker."""
    return j.sealed and j.marker.state is State.QUARANTINED and bool(j.marker.undo)
