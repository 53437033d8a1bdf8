"""The sweeper's judgement, pure: for each ledger record in a lifecycle, release, delete, retry,
record as gone, or leave it.

What decides a deletion, all of it, each checked at the sweep:
- the ledger holds a live quarantine (or delete-pending) record that tagwarden's own event
  processing created for exactly this resource id: the work list is `Ledger.in_state`, never a
  listing of the cloud by tag, so a marker copied onto another resource is never even seen;
- the record's deadline (set from the cloud's event time and the enforcer's clock, never a tag) has
  passed on the sweeper's clock;
- the *current* rules still choose quarantine or delete for the resource as recorded (its creator
  as the event named it): a rule changed to notify, or removed, releases it instead;
- its current tags still miss a required tag of that rule;
- it is not protected or exempt now (the protect tag, the exemption tag, an exempt principal or
  type; a protect or exemption tag still carrying the value the creator pre-set in the create
  request does not count);
- the record was not released: the state machine and versioned updates refuse a replay.
Then only for real when delete dry-run is off, and never past the per-sweep cap.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tagwarden.attribution.limits import LIMITS, tag_value
from tagwarden.ledger.model import LifecycleState, ResourceRecord
from tagwarden.lifecycle.trust import probe_event, trusted_now
from tagwarden.model import Action, CreationEvent, Provider, Resource
from tagwarden.rules.model import Mode, Rule, RuleSet

STALE_INTENT_SECONDS = 900.0  # an intent older than this was abandoned by a crash: resumed here


class Verdict(StrEnum):
    RELEASE = "release"
    DELETE = "delete"
    RETRY = "retry"  # quarantine again: it failed (or crashed) at creation
    GONE = "gone"  # the resource no longer exists
    LEAVE = "leave"


@dataclass(frozen=True, slots=True)
class Found:
    """A ledger record in a lifecycle, the resource it names, and its tags now (None: gone)."""

    record: ResourceRecord
    resource: Resource
    tags: Mapping[str, str] | None

    @property
    def provider(self) -> Provider:
        return Provider(self.record.provider)


@dataclass(frozen=True, slots=True)
class Judgement:
    found: Found
    verdict: Verdict
    reason: str
    dry_run: bool = False  # a DELETE that is only planned (lifecycle.delete_dry_run / dry_run)
    problems: tuple[str, ...] = ()  # required tags still missing or invalid
    exempt: bool = False  # protected or exempt now: never quarantined again, never deleted
    rule: str | None = None  # the current rule's id


def unsettled(rules: RuleSet, rule: Rule, tags: Mapping[str, str], provider: Provider) -> list[str]:
    """The required tags of the rule that are still missing, invalid or marked unallocated."""
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


def exempt_now(
    resource: Resource, tags: Mapping[str, str], rules: RuleSet, event: CreationEvent
) -> str | None:
    ex = rules.exemptions
    limits = LIMITS[event.provider]
    if tag_value(tags, rules.lifecycle.protect_tag, limits) is not None:
        return f"protected by the tag {rules.lifecycle.protect_tag}"
    if ex.resource_types is not None and ex.resource_types.match(resource.type):
        return f"resource type {resource.type} is exempt"
    if ex.marker_key is not None:
        value = tag_value(tags, ex.marker_key, limits)
        if value is not None and (ex.marker_value is None or value == ex.marker_value):
            return f"carries the exemption tag {ex.marker_key}"
    if ex.principals is not None and ex.principals(event, resource):
        return f"created by exempt principal {event.actor.identity}"
    return None


def judge(found: Found, rules: RuleSet, now: float) -> Judgement:
    record = found.record
    if found.tags is None:
        return Judgement(found, Verdict.GONE, "the resource no longer exists")
    tags = trusted_now(found.tags, record)
    event = probe_event(record, found.resource)
    rule = rules.rule_for(event, found.resource)
    problems = tuple(unsettled(rules, rule, tags, found.provider))
    if not problems:
        return Judgement(found, Verdict.RELEASE, "the required tags are now present", rule=rule.id)
    if rule.on_missing not in (Action.QUARANTINE, Action.DELETE):
        why = f"the rules now say {rule.on_missing.value} for it (rule {rule.id}): released"
        return Judgement(found, Verdict.RELEASE, why, problems=problems, rule=rule.id)
    exempt = exempt_now(found.resource, tags, rules, event)
    if exempt is not None:
        return Judgement(found, Verdict.LEAVE, f"not deleted: {exempt}", problems=problems, exempt=True)
    overdue = record.deadline is not None and now >= record.deadline
    stuck = record.state is LifecycleState.QUARANTINE_PENDING or (
        record.state is LifecycleState.QUARANTINE_INTENT and now - record.recorded_at >= STALE_INTENT_SECONDS
    )
    if stuck and not overdue:
        return Judgement(found, Verdict.RETRY, "the quarantine did not complete", problems=problems)
    if record.state is LifecycleState.QUARANTINE_INTENT and not stuck:
        return Judgement(found, Verdict.LEAVE, "being quarantined by the enforcer", problems=problems)
    if not overdue:
        return Judgement(found, Verdict.LEAVE, "within the grace period", problems=problems, rule=rule.id)
    dry = rules.lifecycle.dry_run or rules.lifecycle.delete_dry_run or rules.mode is Mode.AUDIT
    what = "deadline passed, still unattributed" + (" (delete dry-run)" if dry else "")
    return Judgement(found, Verdict.DELETE, what, dry_run=dry, problems=problems, rule=rule.id)


def sweep(found: Sequence[Found], rules: RuleSet, now: float) -> list[Judgement]:
    """Judgements for every record; deletions beyond the cap are left for the next sweep, the most
    overdue first. Only real deletions count against the cap: planned ones change nothing."""
    judged = [judge(f, rules, now) for f in found]
    deletes = sorted(
        (j for j in judged if j.verdict is Verdict.DELETE and not j.dry_run),
        key=lambda j: j.found.record.deadline or 0.0,
    )
    cap = rules.lifecycle.max_deletions_per_sweep
    allowed = {id(j) for j in deletes[:cap]}
    out = []
    for j in judged:
        if j.verdict is Verdict.DELETE and not j.dry_run and id(j) not in allowed:
            why = f"deletion cap of {cap} per sweep reached"
            out.append(Judgement(j.found, Verdict.LEAVE, why, problems=j.problems))
        else:
            out.append(j)
    return out


def acting_dry(rules: RuleSet) -> bool:
    """Whether the sweeper's actions are only planned: global dry-run, or audit mode."""
    return rules.lifecycle.dry_run or rules.mode is Mode.AUDIT
