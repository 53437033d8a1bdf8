"""Who a rule denies, as IAM can say it: the rule's caller matchers as `aws:PrincipalArn` patterns
and StringLike keys, and the callers taken out (exempt principals, earlier rules' principals).

`role_name` globs -> `aws:PrincipalArn` patterns, `actor` ARN globs as given, `session_name` ->
`aws:userid`, `account` -> `aws:PrincipalAccount`, `region` -> `aws:RequestedRegion`. A pattern
that cannot be written exactly is dropped for a deny (it then covers fewer callers, never more)
and widened for an exclusion.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tagwarden.guardrails.common import catches_all, kinds_of, matcher_of, patterns
from tagwarden.model import ActorKind, Provider
from tagwarden.rules.match import Matcher
from tagwarden.rules.model import Rule, RuleSet

AWS_CALLERS = frozenset({ActorKind.USER, ActorKind.ASSUMED_ROLE})

# Caller matchers written as StringLike on a global key (aws:userid is "<role id>:<session name>").
STRING_KEYS = {
    "session_name": "aws:userid",
    "account": "aws:PrincipalAccount",
    "region": "aws:RequestedRegion",
}


class Unwritable(Exception):
    """A rule IAM conditions cannot express; the message says why."""


def role_arns(glob: str, partition: str) -> list[str]:
    """aws:PrincipalArn patterns for a role-name glob: roles without and with a path."""
    return [f"arn:{partition}:iam::*:role/{glob}", f"arn:{partition}:iam::*:role/*/{glob}"]


def _kind_arns(kinds: frozenset[ActorKind], partition: str) -> list[str]:
    """aws:PrincipalArn patterns of every role (assumed roles) or every user and root."""
    if ActorKind.ASSUMED_ROLE in kinds:
        return [f"arn:{partition}:iam::*:role/*"]
    return [f"arn:{partition}:iam::*:user/*", f"arn:{partition}:iam::*:root"]


def principal_arn(glob: str, partition: str, widen: bool) -> tuple[list[str], str | None]:
    """aws:PrincipalArn patterns for an `actor` or exemption glob, and a note when it is changed.

    aws:PrincipalArn is the role ARN for a session (arn:aws:iam::<acct>:role/<path><name>), not the
    sts assumed-role ARN the event names, so assumed-role globs are turned into role globs. `widen`
    (exclusions) may make a pattern match more; otherwise a pattern that cannot be expressed
    exactly is dropped (the deny then covers fewer callers, never more).
    """
    if "[" in glob:
        if not widen:
            return [], f"{glob!r}: IAM patterns have no [...] classes"
        glob = classes_to_any(glob)
    if not glob.lower().startswith("arn:"):
        return [], f"{glob!r} is not an ARN (IAM conditions cannot name it)"
    parts = glob.split(":", 5)
    if len(parts) < 6:
        return [], f"{glob!r} is not a complete ARN"
    _, part, service, _region, account, resource = parts
    part = part if part not in ("", "*") else partition
    if service == "sts" and resource.startswith("assumed-role/"):
        return _assumed_role_arns(glob, part, account, resource, widen)
    return [glob], None


def _assumed_role_arns(
    glob: str, partition: str, account: str, resource: str, widen: bool
) -> tuple[list[str], str | None]:
    role, slash, session = resource.removeprefix("assumed-role/").partition("/")
    if slash and session not in ("*", "") and not widen:
        return [], f"{glob!r}: the session part cannot be matched on aws:PrincipalArn"
    return [
        f"arn:{partition}:iam::{account}:role/{role}",
        f"arn:{partition}:iam::{account}:role/*/{role}",
    ], None


def classes_to_any(glob: str) -> str:
    out, i = [], 0
    while i < len(glob):
        if glob[i] == "[" and (end := glob.find("]", i + 2)) > 0:
            out.append("?")
            i = end + 1
        else:
            out.append(glob[i])
            i += 1
    return "".join(out)


# --- the callers a rule names --------------------------------------------------------------------


def aws_kinds(rule: Rule) -> frozenset[ActorKind] | None:
    """The AWS caller kinds a rule's actor_kind allows (None: any); raises Unwritable when none is
    a caller SCPs govern."""
    kinds = kinds_of(rule)
    found = None if kinds is None else kinds & AWS_CALLERS
    if found is not None and not found:
        raise Unwritable("matches only AWS services acting on their own, which SCPs do not govern")
    return found


ArnWriter = Callable[[Matcher, frozenset[ActorKind] | None, str, list[str]], list[str]]


def _role_name_arns(
    m: Matcher, kinds: frozenset[ActorKind] | None, partition: str, notes: list[str]
) -> list[str]:
    if kinds is not None and ActorKind.ASSUMED_ROLE not in kinds:
        raise Unwritable("role_name with an actor_kind that is never an assumed role")
    pats: list[str] = []
    for g in patterns(m):
        if "[" in g:
            notes.append(f"role_name {g!r}: IAM patterns have no [...] classes; left to the enforcer")
        else:
            pats += role_arns(g, partition)
    if not pats:
        raise Unwritable("none of its role_name patterns can be written for IAM")
    return pats


def _actor_arns(
    m: Matcher, kinds: frozenset[ActorKind] | None, partition: str, notes: list[str]
) -> list[str]:
    pats: list[str] = []
    for g in patterns(m):
        arns, note = principal_arn(g, partition, widen=False)
        pats += arns
        if note:
            notes.append(f"actor {note}; left to the enforcer")
    if not pats:
        raise Unwritable("none of its actor patterns is an ARN IAM can match")
    return pats


# Caller matchers written as aws:PrincipalArn pattern sets.
ARN_WRITERS: dict[str, ArnWriter] = {"role_name": _role_name_arns, "actor": _actor_arns}


def _string_like(name: str, m: Matcher, notes: list[str]) -> list[str]:
    pats = [g for g in patterns(m) if "[" not in g]
    if len(pats) < len(patterns(m)):
        notes.append(f"{name}: IAM patterns have no [...] classes; those left to the enforcer")
    if not pats:
        raise Unwritable(f"none of its {name} patterns can be written for IAM")
    return [f"*:{g}" for g in pats] if name == "session_name" else pats


def principal_conditions(
    rule: Rule, partition: str, notes: list[str]
) -> tuple[list[list[str]], dict[str, list[str]]]:
    """The rule's caller matchers as aws:PrincipalArn pattern sets (each one ANDed) and other
    StringLike keys; raises Unwritable when a matcher cannot be written at all."""
    kinds = aws_kinds(rule)
    arn_sets: list[list[str]] = []
    string_like: dict[str, list[str]] = {}
    for m in rule.matchers:
        name = m.field.name
        if name in ARN_WRITERS:
            arn_sets.append(ARN_WRITERS[name](m, kinds, partition, notes))
        elif name in STRING_KEYS:
            string_like[STRING_KEYS[name]] = _string_like(name, m, notes)
    # An actor_kind short of every AWS caller, and no role_name saying which roles: every role, or
    # every user.
    if kinds and kinds != AWS_CALLERS and matcher_of(rule, "role_name") is None:
        arn_sets.append(_kind_arns(kinds, partition))
    if len(arn_sets) > 2:
        raise Unwritable("more principal conditions than IAM can combine on aws:PrincipalArn")
    return arn_sets, string_like


# --- the callers taken out -----------------------------------------------------------------------


def exclusions(rules: RuleSet, partition: str) -> tuple[list[str], list[str]]:
    """The exempt principals as aws:PrincipalArn patterns (widened), and notes where one cannot be."""
    out: list[str] = []
    notes: list[str] = []
    principals = rules.exemptions.principals
    for glob in patterns(principals) if principals is not None else ():
        arns, note = principal_arn(glob, partition, widen=True)
        out += arns
        if note:
            notes.append(f"exemption {note}: the SCP does not exempt it, the enforcer does")
    return out, notes


def _named_principals(rule: Rule, partition: str) -> list[str]:
    """The aws:PrincipalArn patterns (widened) of the callers a rule names, if it names any."""
    named: list[str] = []
    for m in rule.matchers:
        if m.field.name == "role_name":
            named += [a for g in patterns(m) for a in role_arns(classes_to_any(g), partition)]
        elif m.field.name == "actor":
            named += [a for g in patterns(m) for a in principal_arn(g, partition, widen=True)[0]]
    kinds = kinds_of(rule)
    if not named and kinds is not None:
        if ActorKind.ASSUMED_ROLE in kinds:
            named.append(f"arn:{partition}:iam::*:role/*")
        if ActorKind.USER in kinds:
            named += [f"arn:{partition}:iam::*:user/*", f"arn:{partition}:iam::*:root"]
    return named


def earlier_exclusions(earlier: Sequence[Rule], partition: str) -> tuple[list[str], list[str], bool]:
    """Principals of earlier rules (they decide those callers' events), as exclusions; notes where an
    earlier rule cannot be expressed; True when an earlier rule takes every AWS event."""
    out: list[str] = []
    notes: list[str] = []
    for prev in earlier:
        if catches_all(prev, Provider.AWS):
            return out, notes, True
        named = _named_principals(prev, partition)
        if named:
            out += named
        else:
            notes.append(
                f"rule {prev.id} comes first and decides some events the SCP cannot tell apart; "
                f"the SCP denies those too"
            )
    return out, notes, False
