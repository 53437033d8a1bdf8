"""One rule as IAM conditions: the callers it names, minus those taken out, and the create events
its `resource_type` / `event` / `event_source` matchers let through; or why it cannot be written.

Exempt principals and earlier rules' principals become `ArnNotLike aws:PrincipalArn`; the
exemption marker tag, when given in the request, lifts the deny."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from tagwarden.guardrails.aws.preventable import Coverage, EventCoverage
from tagwarden.guardrails.aws.principals import (
    Unwritable,
    earlier_exclusions,
    exclusions,
    principal_conditions,
)
from tagwarden.guardrails.common import applies_on, required_tags
from tagwarden.model import Action, Provider
from tagwarden.rules.model import Rule, RuleSet

Condition = dict[str, dict[str, tuple[str, ...]]]  # operator -> key -> values


@dataclass(frozen=True, slots=True)
class RuleScope:
    """One rule, as IAM conditions: the callers it names and the create events it covers."""

    rule_id: str
    on_missing: Action
    tags: tuple[str, ...]
    conditions: Condition
    events: tuple[EventCoverage, ...]
    exempt_events: tuple[EventCoverage, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SkippedRule:
    rule_id: str
    reason: str


def uniq(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


def scope_rule(
    rule: Rule,
    rules: RuleSet,
    cov: Coverage,
    earlier: Sequence[Rule],
    partition: str = "aws",
) -> RuleScope | SkippedRule:
    """Turn one rule into IAM conditions, or say why it cannot be."""
    if not applies_on(rule, Provider.AWS):
        return SkippedRule(rule.id, "never applies on AWS")
    tags = required_tags(rule, rules)
    if not tags:
        return SkippedRule(rule.id, "requires no tag")
    notes: list[str] = []
    try:
        arn_sets, string_like = principal_conditions(rule, partition, notes)
    except Unwritable as exc:
        return SkippedRule(rule.id, str(exc))
    excluded, ex_notes = exclusions(rules, partition)
    prev_excluded, prev_notes, shadowed = earlier_exclusions(earlier, partition)
    if shadowed:
        return SkippedRule(rule.id, "an earlier rule takes every AWS event")
    notes += ex_notes + prev_notes
    cond = {
        **_principal_condition(arn_sets, string_like, excluded + prev_excluded),
        **_marker_condition(rules),
    }
    kept, exempt = _events(rule, rules, cov)
    if not kept:
        return SkippedRule(rule.id, "none of the events it covers can be denied at creation")
    notes += _left_to_the_enforcer(tags, rules)
    return RuleScope(rule.id, rule.on_missing, tags, cond, tuple(kept), tuple(exempt), tuple(notes))


def _principal_condition(
    arn_sets: list[list[str]], string_like: dict[str, list[str]], excluded: list[str]
) -> Condition:
    cond: Condition = {}
    if arn_sets:
        cond["ArnLike"] = {"aws:PrincipalArn": uniq(arn_sets[0])}
    if len(arn_sets) == 2:
        cond["ArnEquals"] = {"aws:PrincipalArn": uniq(arn_sets[1])}  # ArnEquals takes wildcards too
    for key, values in sorted(string_like.items()):
        cond.setdefault("StringLike", {})[key] = uniq(values)
    if excluded:
        cond["ArnNotLike"] = {"aws:PrincipalArn": uniq(excluded)}
    return cond


def _marker_condition(rules: RuleSet) -> Condition:
    """The exemption marker tag, given in the request, lifts the deny."""
    marker = rules.exemptions.marker_key
    if marker is None:
        return {}
    key = f"aws:RequestTag/{marker}"
    if rules.exemptions.marker_value is None:
        return {"Null": {key: ("true",)}}
    return {"StringNotEquals": {key: (rules.exemptions.marker_value,)}}


# What each event-narrowing matcher is matched against (resource_type: the main type created).
_EVENT_FIELDS: dict[str, Callable[[EventCoverage], str | None]] = {
    "resource_type": lambda e: e.created[0] if e.created else None,
    "event": lambda e: e.event,
    "event_source": lambda e: e.source,
}


def events_for(rule: Rule, events: Sequence[EventCoverage]) -> list[EventCoverage]:
    """The events a rule's resource_type / event / event_source matchers let through."""
    kept = list(events)
    for m in rule.matchers:
        field_of = _EVENT_FIELDS.get(m.field.name)
        if field_of is not None:
            kept = [e for e in kept if (value := field_of(e)) is not None and m.globs.match(value)]
    return kept


def _events(rule: Rule, rules: RuleSet, cov: Coverage) -> tuple[list[EventCoverage], list[EventCoverage]]:
    """(kept, exempt): the preventable events the rule covers, and those whose every created type
    is exempt by resource type."""
    events = events_for(rule, cov.preventable)
    exempt_rx = rules.exemptions.resource_types
    exempt = [
        e for e in events if exempt_rx is not None and e.created and all(map(exempt_rx.match, e.created))
    ]
    return [e for e in events if e not in exempt], exempt


def _left_to_the_enforcer(tags: Sequence[str], rules: RuleSet) -> list[str]:
    notes: list[str] = []
    for key in tags:
        spec = rules.tags[key]
        if spec.pattern is not None or spec.min_length is not None or spec.max_length is not None:
            notes.append(
                f"{key}: pattern and length checks are left to the enforcer (IAM cannot express them)"
            )
    return notes
