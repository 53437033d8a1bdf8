"""AWS guardrails from the rules file: SCPs (and identity policies) that deny a create request
lacking a required tag, and an AWS Organizations tag policy.

What can be prevented is decided per catalogue event (`tagwarden.aws.catalogue`): the
event's IAM action must accept `aws:RequestTag` at creation (the IAM database says so) and must not
also update existing resources. The rest is what the runtime enforcer is for; `coverage()` lists
both.

Who is denied is decided per rule: only rules that quarantine or delete an unattributed resource
(see `tagwarden.guardrails.common`), scoped to the principals the rule names (`role_name` globs ->
`aws:PrincipalArn` patterns, `actor` ARN globs as given, `session_name` -> `aws:userid`, `account`
-> `aws:PrincipalAccount`, `region` -> `aws:RequestedRegion`; `resource_type`, `event` and
`event_source` narrow the actions). Exempt principals and earlier rules' principals become
`ArnNotLike aws:PrincipalArn`; the exemption marker tag, when given in the request, lifts the deny.

Every deny also lets calls made through the services named in `allow_called_via` pass
(`ForAllValues:StringNotEquals aws:CalledVia`): CloudFormation, and other tools, create some
resources first and tag them afterwards, which a deny on a missing `aws:RequestTag` breaks.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from tagwarden.aws.catalogue import Entry
from tagwarden.guardrails import actions as tables
from tagwarden.guardrails.common import (
    PREVENTIVE,
    DoesNotFit,
    GuardrailError,
    Verdict,
    applies_on,
    blanket_verdict,
    catches_all,
    kinds_of,
    matcher_of,
    patterns,
    required_tags,
    slug,
)
from tagwarden.guardrails.iamdb import IamDatabase, default_database
from tagwarden.model import Action, ActorKind, Provider
from tagwarden.rules.model import Mode, Rule, RuleSet

SCP_LIMIT = 5120  # characters of the policy as stored: minified here
SCP_TARGET_LIMIT = 5  # SCPs attached to one root, OU or account (FullAWSAccess counts)
DEFAULT_MAX_SCPS = 4  # leaves the slot FullAWSAccess (or your allow list) usually holds
IDENTITY_LIMIT = 6144  # customer managed policy, whitespace not counted
IDENTITY_MAX = 10  # managed policies per role (default quota)
TAG_POLICY_LIMIT = 10000
TAG_POLICY_MAX = 10
DEFAULT_CALLED_VIA = ("cloudformation.amazonaws.com",)
VERSION = "2012-10-17"

WARNING = (
    "AWS warns that a deny on a missing aws:RequestTag breaks tools that create a resource first "
    "and tag it afterwards: CloudFormation for some resource types, some console flows, and SDK "
    "code that calls TagResource after Create. Calls made through the services in "
    "--allow-called-via ({services}) are let through (aws:CalledVia); the enforcer still checks "
    "what they create. Test in an OU with a few accounts before attaching at the root."
)


@dataclass(frozen=True, slots=True)
class AwsOptions:
    allow_called_via: tuple[str, ...] = DEFAULT_CALLED_VIA
    max_scps: int = DEFAULT_MAX_SCPS
    scp_limit: int = SCP_LIMIT
    identity_limit: int = IDENTITY_LIMIT
    max_identity_policies: int = IDENTITY_MAX
    partition: str = "aws"
    rules: tuple[str, ...] | None = None  # rule ids to prevent; None: those that quarantine/delete
    # When everything does not fit: False keeps the events that fit, in catalogue order, and
    # reports the rest; True raises DoesNotFit.
    strict: bool = False


# --- which catalogue events a deny at creation can cover -------------------------------------------


@dataclass(frozen=True, slots=True)
class EventCoverage:
    """One catalogue event: whether an SCP can deny it when a tag is missing, and how."""

    source: str
    event: str
    action: str | None  # the IAM action, as the database spells it
    preventable: bool
    reason: str
    created: tuple[str, ...]  # CloudFormation types it creates (the first is the main one)
    resources: tuple[str, ...] = ("*",)  # what a deny is scoped to
    others: frozenset[str] = frozenset()  # ARNs of resources the action also touches
    explicit: bool = False  # `resources` comes from the actions table

    @property
    def service(self) -> str:
        return self.source.removesuffix(".amazonaws.com")


@dataclass(frozen=True, slots=True)
class Coverage:
    preventable: tuple[EventCoverage, ...]
    not_preventable: tuple[EventCoverage, ...]
    database: str

    @property
    def events(self) -> tuple[EventCoverage, ...]:
        return self.preventable + self.not_preventable


def coverage(
    entries: Sequence[Entry] | None = None, db: IamDatabase | None = None, partition: str = "aws"
) -> Coverage:
    """Split the catalogue's create events into those an SCP can deny and those it cannot."""
    if entries is None:
        from tagwarden.aws.catalogue import ENTRIES

        entries = ENTRIES
    db = db or default_database()
    yes: list[EventCoverage] = []
    no: list[EventCoverage] = []
    for entry in entries:
        verdict = _cover_event(entry, db, partition)
        (yes if verdict.preventable else no).append(verdict)
    return Coverage(tuple(yes), tuple(no), db.version)


def _cover_event(entry: Entry, db: IamDatabase, partition: str) -> EventCoverage:
    created = tuple(c.type for c in entry.creates)
    ref = tables.iam_action(entry.source, entry.event)
    prefix, _, name = ref.action.partition(":")
    base = EventCoverage(entry.source, entry.event, None, False, "", created)
    upsert = tables.UPSERTS.get((entry.source, entry.event))
    if not db.has_service(prefix):
        return replace(base, reason=f"the IAM database has no service prefix {prefix!r}")
    spelled = db.action_name(prefix, name)
    if spelled is None:
        return replace(base, reason=f"the IAM database has no action {ref.action}")
    action = f"{prefix}:{spelled}"
    base = replace(base, action=action)
    if upsert is not None:
        return replace(base, reason=f"create-or-update call: {upsert}")
    support = db.request_tag_support(prefix, spelled)
    if support is None:
        return replace(base, reason=f"{action} does not accept aws:RequestTag")
    if ref.resources is not None:
        arns = tuple(sorted(r.format(partition=partition) for r in ref.resources))
        return replace(base, preventable=True, reason="explicit resources", resources=arns, explicit=True)
    if support.request_level or not support.others:
        return replace(base, preventable=True, reason="aws:RequestTag on the request")
    # Authorized per resource: scope the deny to what the call creates, never to what it only uses
    # (an image or subnet carries no request tags, so a deny there would always apply).
    main = entry.creates[0].tag_spec if entry.creates and entry.creates[0].tag_spec else None
    chosen = {main} if main in support.types else set(support.types)
    arns_or_none = [db.resource_arn(prefix, t, partition) for t in sorted(chosen)]
    if any(a is None for a in arns_or_none):
        return replace(base, reason=f"the IAM database has no ARN format for {action}'s resources")
    arns = tuple(sorted(a for a in arns_or_none if a is not None))
    # ARNs of everything else the call touches: no statement holding this action may name them (a
    # deny there would apply to resources that carry no request tags, or to ones the call creates
    # alongside, like an instance's volumes, which the catalogue does not ask to be tagged at once).
    # An unknown format stands for the whole service.
    others = frozenset(
        db.resource_arn(prefix, t, partition) or f"arn:{partition}:{prefix}:*"
        for t in (support.types | support.others) - chosen
    )
    return replace(
        base,
        preventable=True,
        reason="aws:RequestTag on " + ", ".join(sorted(chosen)),
        resources=arns,
        others=others,
    )


Condition = dict[str, dict[str, tuple[str, ...]]]  # operator -> key -> values


# --- who a rule denies -------------------------------------------------------------------------------


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


def _role_arns(glob: str, partition: str) -> list[str]:
    """aws:PrincipalArn patterns for a role-name glob: roles without and with a path."""
    return [f"arn:{partition}:iam::*:role/{glob}", f"arn:{partition}:iam::*:role/*/{glob}"]


def _principal_arn(glob: str, partition: str, widen: bool) -> tuple[list[str], str | None]:
    """aws:PrincipalArn patterns for an `actor` or exemption glob, and a note when it is changed.

    aws:PrincipalArn is the role ARN for a session (arn:aws:iam::<acct>:role/<path><name>), not the
    sts assumed-role ARN the event names, so assumed-role globs are turned into role globs. `widen`
    (exclusions) may make a pattern match more; otherwise a pattern that cannot be expressed
    exactly is dropped (the deny then covers fewer callers, never more).
    """
    if "[" in glob:
        if not widen:
            return [], f"{glob!r}: IAM patterns have no [...] classes"
        glob = _classes_to_any(glob)
    if not glob.lower().startswith("arn:"):
        return [], f"{glob!r} is not an ARN (IAM conditions cannot name it)"
    parts = glob.split(":", 5)
    if len(parts) < 6:
        return [], f"{glob!r} is not a complete ARN"
    _, part, service, _region, account, resource = parts
    part = part if part not in ("", "*") else partition
    if service == "sts" and resource.startswith("assumed-role/"):
        rest = resource.removeprefix("assumed-role/")
        role, slash, session = rest.partition("/")
        if slash and session not in ("*", "") and not widen:
            return [], f"{glob!r}: the session part cannot be matched on aws:PrincipalArn"
        out = [f"arn:{part}:iam::{account}:role/{role}", f"arn:{part}:iam::{account}:role/*/{role}"]
        return out, None
    return [glob], None


def _classes_to_any(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        if glob[i] == "[" and (end := glob.find("]", i + 2)) > 0:
            out.append("?")
            i = end + 1
        else:
            out.append(glob[i])
            i += 1
    return "".join(out)


def _exclusions(rules: RuleSet, partition: str) -> tuple[list[str], list[str]]:
    out: list[str] = []
    notes: list[str] = []
    principals = rules.exemptions.principals
    for glob in patterns(principals) if principals is not None else ():
        arns, note = _principal_arn(glob, partition, widen=True)
        out += arns
        if note:
            notes.append(f"exemption {note}: the SCP does not exempt it, the enforcer does")
    return out, notes


def _earlier_exclusions(earlier: Sequence[Rule], partition: str) -> tuple[list[str], list[str], bool]:
    """Principals of earlier rules (they decide those callers' events), as exclusions; notes where an
    earlier rule cannot be expressed; True when an earlier rule takes every AWS event."""
    out: list[str] = []
    notes: list[str] = []
    for prev in earlier:
        if catches_all(prev, Provider.AWS):
            return out, notes, True
        named: list[str] = []
        for m in prev.matchers:
            if m.field.name == "role_name":
                named += [a for g in patterns(m) for a in _role_arns(_classes_to_any(g), partition)]
            elif m.field.name == "actor":
                named += [a for g in patterns(m) for a in _principal_arn(g, partition, widen=True)[0]]
        kinds = kinds_of(prev)
        if not named and kinds is not None:
            if ActorKind.ASSUMED_ROLE in kinds:
                named.append(f"arn:{partition}:iam::*:role/*")
            if ActorKind.USER in kinds:
                named += [f"arn:{partition}:iam::*:user/*", f"arn:{partition}:iam::*:root"]
        if named:
            out += named
        else:
            notes.append(
                f"rule {prev.id} comes first and decides some events the SCP cannot tell apart; "
                f"the SCP denies those too"
            )
    return out, notes, False


def _events_for(rule: Rule, events: Sequence[EventCoverage]) -> list[EventCoverage]:
    """The events a rule's resource_type / event / event_source matchers let through."""
    kept = list(events)
    for m in rule.matchers:
        rx = m.regex
        if m.field.name == "resource_type":
            kept = [e for e in kept if e.created and rx.match(e.created[0])]
        elif m.field.name == "event":
            kept = [e for e in kept if rx.match(e.event)]
        elif m.field.name == "event_source":
            kept = [e for e in kept if rx.match(e.source)]
    return kept


class _Skip(Exception):
    """A rule IAM conditions cannot express; the message says why."""


def _principal_conditions(
    rule: Rule, partition: str, notes: list[str]
) -> tuple[list[list[str]], dict[str, list[str]]]:
    """The rule's caller matchers as aws:PrincipalArn pattern sets (each one ANDed) and other
    StringLike keys; raises _Skip when a matcher cannot be written at all."""
    arn_sets: list[list[str]] = []
    string_like: dict[str, list[str]] = {}
    kinds = kinds_of(rule)
    aws_kinds = None if kinds is None else kinds & {ActorKind.USER, ActorKind.ASSUMED_ROLE}
    if aws_kinds is not None and not aws_kinds:
        raise _Skip("matches only AWS services acting on their own, which SCPs do not govern")
    for m in rule.matchers:
        name = m.field.name
        pats: list[str] = []
        if name == "role_name":
            if aws_kinds is not None and ActorKind.ASSUMED_ROLE not in aws_kinds:
                raise _Skip("role_name with an actor_kind that is never an assumed role")
            for g in patterns(m):
                if "[" in g:
                    notes.append(f"role_name {g!r}: IAM patterns have no [...] classes; left to the enforcer")
                else:
                    pats += _role_arns(g, partition)
            if not pats:
                raise _Skip("none of its role_name patterns can be written for IAM")
            arn_sets.append(pats)
        elif name == "actor":
            for g in patterns(m):
                arns, note = _principal_arn(g, partition, widen=False)
                pats += arns
                if note:
                    notes.append(f"actor {note}; left to the enforcer")
            if not pats:
                raise _Skip("none of its actor patterns is an ARN IAM can match")
            arn_sets.append(pats)
        elif name in _STRING_KEYS:
            pats = [g for g in patterns(m) if "[" not in g]
            if len(pats) < len(patterns(m)):
                notes.append(f"{name}: IAM patterns have no [...] classes; those left to the enforcer")
            if not pats:
                raise _Skip(f"none of its {name} patterns can be written for IAM")
            string_like[_STRING_KEYS[name]] = [f"*:{g}" for g in pats] if name == "session_name" else pats
    limited = aws_kinds is not None and aws_kinds != {ActorKind.USER, ActorKind.ASSUMED_ROLE}
    if limited and aws_kinds and matcher_of(rule, "role_name") is None:
        if ActorKind.ASSUMED_ROLE in aws_kinds:
            arn_sets.append([f"arn:{partition}:iam::*:role/*"])
        else:
            arn_sets.append([f"arn:{partition}:iam::*:user/*", f"arn:{partition}:iam::*:root"])
    if len(arn_sets) > 2:
        raise _Skip("more principal conditions than IAM can combine on aws:PrincipalArn")
    return arn_sets, string_like


# Caller matchers written as StringLike on a global key (aws:userid is "<role id>:<session name>").
_STRING_KEYS = {
    "session_name": "aws:userid",
    "account": "aws:PrincipalAccount",
    "region": "aws:RequestedRegion",
}


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
        arn_sets, string_like = _principal_conditions(rule, partition, notes)
    except _Skip as exc:
        return SkippedRule(rule.id, str(exc))
    excluded, ex_notes = _exclusions(rules, partition)
    prev_excluded, prev_notes, shadowed = _earlier_exclusions(earlier, partition)
    if shadowed:
        return SkippedRule(rule.id, "an earlier rule takes every AWS event")
    notes += ex_notes + prev_notes

    cond: Condition = {}
    if arn_sets:
        cond["ArnLike"] = {"aws:PrincipalArn": _uniq(arn_sets[0])}
    if len(arn_sets) == 2:
        cond["ArnEquals"] = {"aws:PrincipalArn": _uniq(arn_sets[1])}  # ArnEquals takes wildcards too
    for key, values in sorted(string_like.items()):
        cond.setdefault("StringLike", {})[key] = _uniq(values)
    if excluded or prev_excluded:
        cond["ArnNotLike"] = {"aws:PrincipalArn": _uniq(excluded + prev_excluded)}
    marker = rules.exemptions.marker_key
    if marker is not None:
        key = f"aws:RequestTag/{marker}"
        if rules.exemptions.marker_value is None:
            cond.setdefault("Null", {})[key] = ("true",)
        else:
            cond.setdefault("StringNotEquals", {})[key] = (rules.exemptions.marker_value,)

    events = _events_for(rule, cov.preventable)
    exempt_rx = rules.exemptions.resource_types
    exempt = [
        e for e in events if exempt_rx is not None and e.created and all(map(exempt_rx.match, e.created))
    ]
    kept = [e for e in events if e not in exempt]
    if not kept:
        return SkippedRule(rule.id, "none of the events it covers can be denied at creation")
    for key in tags:
        spec = rules.tags[key]
        if spec.pattern is not None or spec.min_length is not None or spec.max_length is not None:
            notes.append(
                f"{key}: pattern and length checks are left to the enforcer (IAM cannot express them)"
            )
    return RuleScope(rule.id, rule.on_missing, tags, cond, tuple(kept), tuple(exempt), tuple(notes))


def _uniq(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


# --- statements ------------------------------------------------------------------------------------


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
            continue
        for i, g in enumerate(scoped):
            if not _overlap(set(g.resources) | set(e.resources), g.others | e.others):
                scoped[i] = _Group(
                    tuple(sorted(set(g.resources) | set(e.resources))),
                    g.actions | {e.action},
                    g.others | e.others,
                )
                break
        else:
            scoped.append(_Group(e.resources, frozenset({e.action}), e.others))
    return ([_Group(("*",), frozenset(star))] if star else []) + sorted(scoped, key=lambda g: g.resources)


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
    nexts: dict[str, list[str]] = {}
    for m in members:
        if len(m) > len(stem):
            nexts.setdefault(m[len(stem)], []).append(m)
    for ch in sorted(nexts):
        out += _cover(stem + ch, nexts[ch], chosen, universe)
    return out


def _common_prefix(words: Sequence[str]) -> str:
    first, last = min(words), max(words)
    n = 0
    while n < min(len(first), len(last)) and first[n] == last[n]:
        n += 1
    return first[:n]


def _merge(*conds: Mapping[str, Mapping[str, tuple[str, ...]]]) -> Condition:
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


def statements(scope: RuleScope, rules: RuleSet, options: AwsOptions, db: IamDatabase) -> list[Statement]:
    """The deny statements for one rule: per required tag, one for a missing tag and, where the
    catalogue restricts values, one for a value not allowed; each per group of actions."""
    base: Condition = {k: dict(v) for k, v in scope.conditions.items()}
    if options.allow_called_via:
        base = _merge(
            base, {"ForAllValues:StringNotEquals": {"aws:CalledVia": _uniq(options.allow_called_via)}}
        )
    groups = _groups(scope.events)
    out: list[Statement] = []
    rule = slug(scope.rule_id, 24)
    for key in scope.tags:
        spec = rules.tags[key]
        tag = f"aws:RequestTag/{key}"
        extra: Condition
        if spec.allowed is None:
            kind, extra = "Missing", {"Null": {tag: ("true",)}}
        else:
            # A negated operator is true when the key is absent: one statement denies a missing
            # tag and a value that is not allowed.
            op = "StringNotEqualsIgnoreCase" if spec.allowed_folded is not None else "StringNotEquals"
            kind, extra = "Value", {op: {tag: _uniq(spec.allowed)}}
        for n, g in enumerate(groups, 1):
            sid = f"{rule}{slug(key, 24)}{kind}{n if len(groups) > 1 else ''}"
            out.append(Statement(sid, tuple(compress(g.actions, db)), g.resources, _merge(base, extra)))
    return out


# --- fitting statements into policies --------------------------------------------------------------


def minified(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _policy(stmts: Sequence[Statement]) -> dict[str, Any]:
    return {"Version": VERSION, "Statement": [s.json() for s in stmts]}


def _size(stmts: Sequence[Statement]) -> int:
    return len(minified(_policy(stmts)))


def pack(stmts: Sequence[Statement], limit: int, max_policies: int, what: str) -> list[dict[str, Any]]:
    """Put statements into as few policies of at most `limit` characters as it takes: whole ones
    first (largest first, first fit), then the long action lists, split to fill what room is left.
    Raises DoesNotFit past `max_policies`. Deterministic: the same statements give the same files."""
    rank = {st.sid: i for i, st in enumerate(stmts)}
    bins: list[list[Statement]] = []
    whole = [st for st in stmts if len(st.actions) < 2 or _size([st]) <= limit // 4]
    long = [st for st in stmts if st not in whole]
    for st in sorted(whole, key=lambda st: -_size([st])):
        if _size([st]) > limit:
            raise DoesNotFit(
                f"{what}: statement {st.sid} alone is {_size([st]):,} characters, over {limit:,}"
            )
        target = next((b for b in bins if _size([*b, st]) <= limit), None)
        if target is None:
            bins.append(target := [])
        target.append(st)
    for st in long:
        rest, part = st, 0
        while True:
            roomiest = sorted(bins, key=_size)
            target = next((b for b in roomiest if _size([*b, rest]) <= limit), None)
            if target is not None:
                target.append(rest)
                break
            if not roomiest or len(rest.actions) < 2:
                bins.append([])
                roomiest = [bins[-1]]
            part += 1
            head, tail = _split_to_fit(rest, roomiest[0], limit, f"{st.sid}P{part}", f"{st.sid}P{part + 1}")
            if head is None:
                if roomiest[0]:
                    bins.append([])
                    part -= 1
                    continue
                raise DoesNotFit(f"{what}: statement {st.sid} does not fit in {limit:,} characters")
            roomiest[0].append(head)
            rest = tail
    if len(bins) > max_policies:
        total = sum(_size(b) for b in bins)
        raise DoesNotFit(
            f"{what}: the statements need {len(bins)} policies of at most {limit:,} characters "
            f"({total:,} in all), more than the {max_policies} allowed"
        )
    order = {**rank}
    for b in bins:
        b.sort(key=lambda st: (order.get(_PART.sub("", st.sid), order.get(st.sid, 0)), st.sid))
    return [_policy(b) for b in bins]


def _split_to_fit(
    stmt: Statement, current: list[Statement], limit: int, head_sid: str, tail_sid: str
) -> tuple[Statement | None, Statement]:
    """The longest head of a statement's action list that still fits in `current`, and the rest."""
    lo, hi, best = 1, len(stmt.actions) - 1, 0
    while lo <= hi:
        mid = (lo + hi) // 2
        if _size([*current, replace(stmt, sid=head_sid, actions=stmt.actions[:mid])]) <= limit:
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    if best == 0:
        return None, stmt
    head = replace(stmt, sid=head_sid, actions=stmt.actions[:best])
    return head, replace(stmt, sid=tail_sid, actions=stmt.actions[best:])


_PART = re.compile(r"P\d+$")  # statement ids end in Missing/Value[n]; parts add P<n>


# --- tag policy --------------------------------------------------------------------------------------


def tag_policies(rules: RuleSet, cov: Coverage) -> tuple[list[dict[str, Any]], list[str]]:
    """An AWS Organizations tag policy: the catalogue's key casing and allowed values; blocking
    (`enforced_for`) only where a deny that applies to every caller agrees with the rules."""
    notes: list[str] = []
    exempt_rx = rules.exemptions.resource_types
    enforceable = sorted(
        {
            t
            for e in cov.events
            for c in e.created
            if not (exempt_rx is not None and exempt_rx.match(c))
            and (t := tables.tag_policy_type(tables.iam_action(e.source, e.event).action.split(":")[0], c))
        }
    )
    unallocated = any(r.on_missing is Action.TAG_UNALLOCATED for r in _aws_rules(rules))
    entries: dict[str, dict[str, Any]] = {}
    for key, spec in rules.tags.items():
        body: dict[str, Any] = {"tag_key": {"@@assign": key}}
        verdict = (
            blanket_verdict(rules, Provider.AWS, key) if spec.required else Verdict(False, "optional tag")
        )
        values = sorted(spec.allowed) if spec.allowed is not None else None
        if values is not None and verdict.deny and unallocated:
            values = sorted({*values, rules.unallocated_value})
        if values is not None:
            body["tag_value"] = {"@@assign": values}
            if spec.allowed_folded is not None:
                notes.append(f"{key}: tag policies compare values with their case; the rules ignore it")
        if verdict.deny and enforceable:
            body["enforced_for"] = {"@@assign": enforceable}
        else:
            notes.append(f"tag policy for {key}: reporting only ({verdict.reason})")
        entries[key.lower()] = body
    docs: list[dict[str, Any]] = [{"tags": {}}]
    for key, body in entries.items():
        candidate = {"tags": {**docs[-1]["tags"], key: body}}
        if len(minified(candidate)) > TAG_POLICY_LIMIT and docs[-1]["tags"]:
            docs.append({"tags": {key: body}})
        else:
            docs[-1] = candidate
        if len(minified(docs[-1])) > TAG_POLICY_LIMIT:
            raise DoesNotFit(f"tag policy for {key} alone is over {TAG_POLICY_LIMIT:,} characters")
    if len(docs) > TAG_POLICY_MAX:
        raise DoesNotFit(f"the tag policy needs {len(docs)} documents, more than {TAG_POLICY_MAX}")
    return docs, notes


def _aws_rules(rules: RuleSet) -> list[Rule]:
    return [r for r in (*rules.rules, rules.default_rule) if applies_on(r, Provider.AWS)]


# --- everything together -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fitted:
    """Policies of one kind, and the preventable events left out of them for lack of room."""

    policies: tuple[dict[str, Any], ...]
    left_out: tuple[EventCoverage, ...]
    limit: int
    max_policies: int

    def sizes(self) -> list[int]:
        return [len(minified(d)) for d in self.policies]


def fit(
    scopes: Sequence[RuleScope],
    rules: RuleSet,
    options: AwsOptions,
    db: IamDatabase,
    limit: int,
    max_policies: int,
    what: str,
) -> Fitted:
    """Pack every scope's statements; when they do not fit, keep the longest run of preventable
    events, in catalogue order (compute first), whose statements fit, and list the rest."""
    order: list[tuple[str, str]] = []
    for sc in scopes:
        order += [(e.source, e.event) for e in sc.events if (e.source, e.event) not in order]

    def attempt(k: int) -> list[dict[str, Any]]:
        keep = set(order[:k])
        stmts = [
            st
            for sc in scopes
            for st in statements(
                replace(sc, events=tuple(e for e in sc.events if (e.source, e.event) in keep)),
                rules,
                options,
                db,
            )
        ]
        return pack(stmts, limit, max_policies, what)

    try:
        return Fitted(tuple(attempt(len(order))), (), limit, max_policies)
    except DoesNotFit:
        if options.strict:
            raise
    lo, hi, best = 0, len(order) - 1, 0
    while lo <= hi:
        mid = (lo + hi) // 2
        try:
            attempt(mid)
        except DoesNotFit:
            hi = mid - 1
        else:
            best, lo = mid, mid + 1
    if best == 0:
        attempt(1)  # raises DoesNotFit with the reason: not even one event fits
    dropped = set(order[best:])
    left = {(e.source, e.event): e for sc in scopes for e in sc.events if (e.source, e.event) in dropped}
    return Fitted(tuple(attempt(best)), tuple(left[k] for k in order[best:]), limit, max_policies)


@dataclass(frozen=True)
class AwsGuardrails:
    source: str
    scopes: tuple[RuleScope, ...]
    skipped: tuple[SkippedRule, ...]
    coverage: Coverage
    scps: Fitted
    identity: Fitted
    tag_policies: tuple[dict[str, Any], ...]
    options: AwsOptions
    notes: tuple[str, ...] = field(default=())

    @property
    def warning(self) -> str:
        return WARNING.format(services=", ".join(self.options.allow_called_via) or "none")

    def files(self) -> dict[str, str]:
        """File name -> content, for `--out`. SCPs and identity policies are minified and end without
        a newline: the file is exactly what AWS stores and counts (`--content file://scp-1.json`)."""
        out: dict[str, str] = {}
        for i, doc in enumerate(self.scps.policies, 1):
            out[f"scp-{i}.json"] = minified(doc)
        for i, doc in enumerate(self.identity.policies, 1):
            out[f"identity-policy-{i}.json"] = minified(doc)
        for i, doc in enumerate(self.tag_policies, 1):
            name = "tag-policy.json" if len(self.tag_policies) == 1 else f"tag-policy-{i}.json"
            out[name] = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        out["coverage.json"] = json.dumps(self.coverage_json(), indent=2) + "\n"
        out["README.md"] = self.report()
        return out

    def coverage_json(self) -> dict[str, Any]:
        scp_out = {(e.source, e.event) for e in self.scps.left_out}
        in_scope = {(e.source, e.event) for s in self.scopes for e in s.events}

        def row(e: EventCoverage) -> dict[str, Any]:
            out: dict[str, Any] = {"event_source": e.source, "event_name": e.event, "action": e.action}
            if e.preventable:
                key = (e.source, e.event)
                out["in_scps"] = key in in_scope and key not in scp_out
            out["why"] = e.reason
            return out

        return {
            "database": self.coverage.database,
            "preventable": [row(e) for e in self.coverage.preventable],
            "not_preventable": [row(e) for e in self.coverage.not_preventable],
        }

    def headline(self) -> list[str]:
        cov = self.coverage
        lines = [
            f"AWS: {len(cov.preventable)} of {len(cov.events)} catalogued create events can be denied at "
            f"creation (aws:RequestTag); {len(cov.not_preventable)} only the enforcer can catch",
        ]
        for s in self.scopes:
            lines.append(
                f"  rule {s.rule_id}: deny creating without {', '.join(s.tags)}, {len(s.events)} events"
                + (f" ({len(s.exempt_events)} exempt by resource type)" if s.exempt_events else "")
            )
        for k in self.skipped:
            lines.append(f"  rule {k.rule_id}: no deny ({k.reason})")
        total = len({(e.source, e.event) for s in self.scopes for e in s.events})
        for label, got in (("SCPs", self.scps), ("identity policies", self.identity)):
            if not got.policies:
                continue
            sizes = " + ".join(f"{n:,}" for n in got.sizes())
            lines.append(
                f"  {len(got.policies)} {label} deny {total - len(got.left_out)} of those {total} events "
                f"({sizes} characters; limit {got.limit:,}, at most {got.max_policies})"
                + (f"; {len(got.left_out)} left out for size" if got.left_out else "")
            )
        enforced = sum(1 for d in self.tag_policies for t in d["tags"].values() if "enforced_for" in t)
        keys = sum(len(d["tags"]) for d in self.tag_policies)
        lines.append(f"  tag policy: {keys} tag keys, {enforced} enforced, {keys - enforced} reporting only")
        return lines

    def report(self) -> str:
        opts = self.options
        lines = [
            "# AWS guardrails (generated)",
            "",
            f"Generated by `tagwarden policy aws --rules {self.source}` from the rules file and the",
            f"enforcer's catalogue of create events, with the IAM database of {self.coverage.database}.",
            "Regenerate instead of editing.",
            "",
            "```",
            *self.headline(),
            "```",
            "",
            "## Files",
            "",
            f"- `scp-N.json`: service control policies, minified (AWS counts every character, up to "
            f"{self.scps.limit:,}). Attach all of them to the same root, OU or account; AWS allows "
            f"{SCP_TARGET_LIMIT} per target, FullAWSAccess included.",
            f"- `identity-policy-N.json`: the same denies as customer managed policies (up to "
            f"{opts.identity_limit:,} characters each), for accounts outside an Organization: attach "
            "them to the roles the rules name.",
            "- `tag-policy.json`: an AWS Organizations tag policy: key casing and allowed values.",
            "- `coverage.json`: every catalogued create event, whether a deny can cover it, and why.",
            "",
            "## Before you attach them",
            "",
            self.warning,
            "",
        ]
        notes = [*self.notes, *(f"rule {s.rule_id}: {n}" for s in self.scopes for n in s.notes)]
        if notes:
            lines += ["## Notes", "", *(f"- {n}" for n in notes), ""]
        for label, got in (("SCPs", self.scps), ("identity policies", self.identity)):
            if got.left_out:
                lines += [
                    f"## Left out of the {label} for size",
                    "",
                    f"These events fit in no {label} within the limits; the enforcer still catches them"
                    + (
                        " and the identity policies deny them."
                        if label == "SCPs" and not self.identity.left_out
                        else "."
                    ),
                    "",
                    ", ".join(dict.fromkeys(f"`{e.action}`" for e in got.left_out)),
                    "",
                ]
        lines += [
            "## Only the enforcer can catch these",
            "",
            "| event | action | why |",
            "| --- | --- | --- |",
        ]
        for e in sorted(self.coverage.not_preventable, key=lambda e: (e.source, e.event)):
            lines.append(f"| {e.source} {e.event} | {e.action or '-'} | {e.reason} |")
        lines.append("")
        return "\n".join(lines)


def build_aws(
    rules: RuleSet,
    options: AwsOptions | None = None,
    entries: Sequence[Entry] | None = None,
    db: IamDatabase | None = None,
) -> AwsGuardrails:
    """Every AWS guardrail for a rule set; raises DoesNotFit when nothing fits (or, with
    `strict`, when not everything does)."""
    options = options or AwsOptions()
    db = db or default_database()
    cov = coverage(entries, db, options.partition)
    candidates = (*rules.rules, rules.default_rule)
    if options.rules is not None:
        unknown = set(options.rules) - {r.id for r in candidates}
        if unknown:
            raise GuardrailError(f"no rule with id {', '.join(sorted(unknown))}")
    scopes: list[RuleScope] = []
    skipped: list[SkippedRule] = []
    for i, r in enumerate(candidates):
        chosen = r.id in options.rules if options.rules is not None else r.on_missing in PREVENTIVE
        if not chosen:
            if options.rules is None and applies_on(r, Provider.AWS):
                skipped.append(
                    SkippedRule(r.id, f"on_missing is {r.on_missing.value}: the rule tolerates it")
                )
            continue
        earlier = [p for p in candidates[:i] if applies_on(p, Provider.AWS)]
        got = scope_rule(r, rules, cov, earlier, options.partition)
        if isinstance(got, RuleScope):
            scopes.append(got)
        else:
            skipped.append(got)
    scps = fit(scopes, rules, options, db, min(options.scp_limit, SCP_LIMIT), options.max_scps, "SCPs")
    identity = fit(
        scopes, rules, options, db, options.identity_limit, options.max_identity_policies, "identity policies"
    )
    tag_docs, tag_notes = tag_policies(rules, cov)
    notes = list(tag_notes)
    if rules.mode is Mode.AUDIT and scps.policies:
        notes.insert(
            0, "the rules are in audit mode: SCPs deny, so attach them only after switching to enforce"
        )
    return AwsGuardrails(
        source=rules.source,
        scopes=tuple(scopes),
        skipped=tuple(skipped),
        coverage=cov,
        scps=scps,
        identity=identity,
        tag_policies=tuple(tag_docs),
        options=options,
        notes=tuple(notes),
    )
