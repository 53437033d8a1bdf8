"""What both clouds' guardrails read off the compiled rules: which rules may deny, which tags they
require, which rules can apply on a provider, and the glob patterns behind a matcher.

The one principle: a guardrail is never stricter than the rules. A rule whose fallback is to
quarantine or delete (`on_missing`) says an unattributed resource must not live, so denying its
creation agrees with it; `notify` and `tag-unallocated` rules tolerate such resources, so a
preventive control over their callers would contradict them, and is reported instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tagwarden.model import Action, ActorKind, Provider
from tagwarden.rules.match import Matcher
from tagwarden.rules.model import Mode, Rule, RuleSet

# Fallback actions that mean "must not exist unattributed": a deny at creation agrees with them.
PREVENTIVE: frozenset[Action] = frozenset({Action.QUARANTINE, Action.DELETE})

# Caller kinds each provider produces.
PROVIDER_KINDS: dict[Provider, frozenset[ActorKind]] = {
    Provider.AWS: frozenset({ActorKind.USER, ActorKind.ASSUMED_ROLE, ActorKind.SERVICE, ActorKind.UNKNOWN}),
    Provider.AZURE: frozenset({ActorKind.USER, ActorKind.APP, ActorKind.MANAGED_IDENTITY, ActorKind.UNKNOWN}),
}

# Match fields that only one provider fills (the other's events leave them None: never a match).
PROVIDER_ONLY_FIELDS: dict[str, Provider] = {
    "role_name": Provider.AWS,
    "session_name": Provider.AWS,
    "resource_group": Provider.AZURE,
}


class GuardrailError(Exception):
    """The rules cannot be turned into guardrails as asked."""


class DoesNotFit(GuardrailError):
    """The guardrails do not fit the cloud's size or count limits."""


def patterns(matcher: Matcher) -> tuple[str, ...]:
    """The glob patterns a matcher was compiled from."""
    return matcher.globs.patterns


def required_tags(rule: Rule, rules: RuleSet) -> tuple[str, ...]:
    """The catalogue tags a rule requires, in catalogue order."""
    if rule.require is None:
        return tuple(k for k, spec in rules.tags.items() if spec.required)
    wanted = {k.lower() for k in rule.require}
    return tuple(k for k in rules.tags if k.lower() in wanted)


def matcher_of(rule: Rule, name: str) -> Matcher | None:
    return next((m for m in rule.matchers if m.field.name == name), None)


def kinds_of(rule: Rule) -> frozenset[ActorKind] | None:
    """The caller kinds a rule's `actor_kind` matches, or None when it has no such matcher."""
    m = matcher_of(rule, "actor_kind")
    if m is None:
        return None
    return frozenset(k for k in ActorKind if m.globs.match(k.value))


def applies_on(rule: Rule, provider: Provider) -> bool:
    """Whether a rule can match some event of a provider at all."""
    for m in rule.matchers:
        name = m.field.name
        if name == "provider" and not m.globs.match(provider.value):
            return False
        if PROVIDER_ONLY_FIELDS.get(name, provider) is not provider:
            return False
    kinds = kinds_of(rule)
    return kinds is None or bool(kinds & PROVIDER_KINDS[provider])


def catches_all(rule: Rule, provider: Provider) -> bool:
    """Whether a rule matches every event of a provider (rules after it never see one)."""
    for m in rule.matchers:
        if m.field.name == "provider" and m.globs.match(provider.value):
            continue
        if m.field.name == "actor_kind" and PROVIDER_KINDS[provider] <= (kinds_of(rule) or frozenset()):
            continue
        return False
    return True


def reachable_rules(rules: RuleSet, provider: Provider) -> tuple[Rule, ...]:
    """The rules (the default rule included) that can decide some event of a provider, in order."""
    out: list[Rule] = []
    for rule in rules.rules:
        if not applies_on(rule, provider):
            continue
        out.append(rule)
        if catches_all(rule, provider):
            return tuple(out)
    return (*out, rules.default_rule)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a control that cannot tell callers apart (Azure Policy, a tag policy) may deny."""

    deny: bool
    reason: str


def blanket_verdict(rules: RuleSet, provider: Provider, key: str) -> Verdict:
    """A deny that applies to every caller agrees with the rules only when every rule that can
    decide an event on the provider requires the tag and would quarantine or delete without it."""
    if rules.mode is Mode.AUDIT:
        return Verdict(False, "the rules are in audit mode")
    lenient = [
        r
        for r in reachable_rules(rules, provider)
        if r.on_missing not in PREVENTIVE or key.lower() not in {k.lower() for k in required_tags(r, rules)}
    ]
    if not lenient:
        return Verdict(True, f"every rule that applies on {provider.value} quarantines or deletes without it")
    names = ", ".join(f"{r.id} ({r.on_missing.value})" for r in lenient)
    return Verdict(False, f"rules that only {_tolerate(lenient, key, rules)} also apply: {names}")


def _tolerate(lenient: Sequence[Rule], key: str, rules: RuleSet) -> str:
    if all(key.lower() not in {k.lower() for k in required_tags(r, rules)} for r in lenient):
        return "do not require it"
    return "notify or mark it unallocated"


def slug(text: str, limit: int = 40) -> str:
    """Letters and digits only, CamelCased at separators (IAM Sids, Bicep symbols)."""
    parts = re.split(r"[^A-Za-z0-9]+", text)
    out = "".join(p[:1].upper() + p[1:] for p in parts if p)
    return out[:limit] or "X"
