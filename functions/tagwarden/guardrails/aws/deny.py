"""Deny statements: per rule and required tag, one statement for a missing tag (or a value not
allowed) per group of actions that can share a Resource list; action lists compressed with
wildcards that deny nothing more.

Every deny also lets calls made through the services named in `allow_called_via` pass
(`ForAllValues:StringNotEquals aws:CalledVia`): CloudFormation, and other tools, create some
resources first and tag them afterwards, which a deny on a missing `aws:RequestTag` breaks.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tagwarden.guardrails.aws.options import AwsOptions
from tagwarden.guardrails.aws.preventable import EventCoverage
from tagwarden.guardrails.aws.scope import Condition, RuleScope, uniq
from tagwarden.guardrails.common import GuardrailError, slug
from tagwarden.guardrails.iamdb import IamDatabase
from tagwarden.rules.model import RuleSet, TagSpec


@dataclass(frozen=True, slots=True)
class _Group:
    resources: tuple[str, ...]
    actions: frozenset[str]
    others: frozenset[str] = frozenset()


def _groups(events: Sequence[EventCoverage]) -> list[_Group]:
    """Actions that can share one statement: Resource "*" for those authorized on the request, and
    for the others any Resource list that names none of its members' other resources."""
    star: set[str] = set()
    scoped: list[_Group] = []
    for e in sorted(events, key=lambda e: (e.action or "", e.resources)):
        assert e.action is not None
        if e.resources == ("*",):
            star.add(e.action)
        else:
            _join(scoped, e, e.action)
    return ([_Group(("*",), frozenset(star))] if star else []) + sorted(scoped, key=lambda g: g.resources)


def _join(scoped: list[_Group], e: EventCoverage, action: str) -> None:
    """Add an event to the first group its resources do not clash with, or to a new one."""
    for i, g in enumerate(scoped):
        if not _overlap(set(g.resources) | set(e.resources), g.others | e.others):
            scoped[i] = _Group(
                tuple(sorted(set(g.resources) | set(e.resources))), g.actions | {action}, g.others | e.others
            )
            return
    scoped.append(_Group(e.resources, frozenset({action}), e.others))


def _overlap(resources: Iterable[str], others: Iterable[str]) -> bool:
    """Whether a Resource list could match an ARN of one of `others` (wildcards on either side)."""
    return any(fnmatch.fnmatchcase(o, r) or fnmatch.fnmatchcase(r, o) for r in resources for o in others)


def compress(action_list: Iterable[str], db: IamDatabase) -> list[str]:
    """Sorted actions, with a wildcard wherever every action the database has under that prefix is
    in the list (so the wildcard grants or denies nothing more than the list did)."""
    by_prefix: dict[str, dict[str, str]] = {}
    for a in action_list:
        prefix, _, name = a.partition(":")
        by_prefix.setdefault(prefix, {})[name.lower()] = name
    out: list[str] = []
    for prefix, chosen in sorted(by_prefix.items()):
        universe = sorted({n.lower() for n in db.actions(prefix)} | set(chosen))
        out += [f"{prefix}:{p}" for p in _cover("", sorted(chosen), chosen, universe)]
    return out


def _cover(stem: str, members: list[str], chosen: Mapping[str, str], universe: Sequence[str]) -> list[str]:
    under = [u for u in universe if u.startswith(stem)]
    if len(members) >= 2 and all(u in chosen for u in under):
        common = _common_prefix(members)
        return [chosen[members[0]][: len(common)] + "*"]
    if len(members) == 1:
        return [chosen[members[0]]]
    out: list[str] = []
    if stem in chosen and stem in members:
        out.append(chosen[stem])
    for ch, longer in _by_next_letter(stem, members):
        out += _cover(stem + ch, longer, chosen, universe)
    return out


def _by_next_letter(stem: str, members: list[str]) -> list[tuple[str, list[str]]]:
    """The members longer than `stem`, grouped by their next letter, in letter order."""
    nexts: dict[str, list[str]] = {}
    for m in members:
        if len(m) > len(stem):
            nexts.setdefault(m[len(stem)], []).append(m)
    return sorted(nexts.items())


def _common_prefix(words: Sequence[str]) -> str:
    first, last = min(words), max(words)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def merge(*conds: Mapping[str, Mapping[str, tuple[str, ...]]]) -> Condition:
    out: Condition = {}
    for cond in conds:
        for op, keys in cond.items():
            target = out.setdefault(op, {})
            for key, values in keys.items():
                if key in target and target[key] != values:
                    raise GuardrailError(
                        f"two conditions on {op} {key}: the exemption marker is a catalogue tag?"
                    )
                target[key] = values
    return out


def _condition_json(cond: Condition) -> dict[str, dict[str, Any]]:
    return {
        op: {k: (v[0] if len(v) == 1 else list(v)) for k, v in sorted(keys.items())}
        for op, keys in sorted(cond.items())
    }


@dataclass(frozen=True, slots=True)
class Statement:
    sid: str
    actions: tuple[str, ...]  # already compressed and sorted
    resources: tuple[str, ...]
    condition: Condition

    def json(self) -> dict[str, Any]:
        return {
            "Sid": self.sid,
            "Effect": "Deny",
            "Action": self.actions[0] if len(self.actions) == 1 else list(self.actions),
            "Resource": self.resources[0] if len(self.resources) == 1 else list(self.resources),
            "Condition": _condition_json(self.condition),
        }


def _tag_condition(key: str, spec: TagSpec) -> tuple[str, Condition]:
    """(statement kind, condition) that denies a missing tag, or a value not allowed."""
    tag = f"aws:RequestTag/{key}"
    if spec.allowed is None:
        return "Missing", {"Null": {tag: ("true",)}}
    # A negated operator is true when the key is absent: one statement denies a missing tag and a
    # value that is not allowed.
    op = "StringNotEqualsIgnoreCase" if spec.allowed_folded is not None else "StringNotEquals"
    return "Value", {op: {tag: uniq(spec.allowed)}}


def statements(scope: RuleScope, rules: RuleSet, options: AwsOptions, db: IamDatabase) -> list[Statement]:
    """The deny statements for one rule: per required tag, one for a missing tag and, where the
    catalogue restricts values, one for a value not allowed; each per group of actions."""
    base: Condition = {k: dict(v) for k, v in scope.conditions.items()}
    if options.allow_called_via:
        base = merge(
            base, {"ForAllValues:StringNotEquals": {"aws:CalledVia": uniq(options.allow_called_via)}}
        )
    groups = _groups(scope.events)
    out: list[Statement] = []
    rule = slug(scope.rule_id, 24)
    for key in scope.tags:
        kind, extra = _tag_condition(key, rules.tags[key])
        for n, g in enumerate(groups, 1):
            sid = f"{rule}{slug(key, 24)}{kind}{n if len(groups) > 1 else ''}"
            out.append(Statement(sid, tuple(compress(g.actions, db)), g.resources, merge(base, extra)))
    return out
