"""What a rule can match on: a registry of fields, each reading candidate values off (event, resource).

Patterns are shell-style globs (`agent-*`, `AWS::EC2::*`), compared case-insensitively, since
role names, Azure types and resource group names are case-insensitive in the clouds themselves.
A field matches when any of its patterns matches any candidate value.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Callable, Sequence

from msgspec import Struct

from tagwarden.model import Actor, CreationEvent, Resource

Getter = Callable[[CreationEvent, Resource], tuple[str | None, ...]]


def _actor_ids(actor: Actor) -> tuple[str | None, ...]:
    return (
        actor.arn,
        actor.role_arn,
        actor.upn,
        actor.app_id,
        actor.object_id,
        actor.principal_id,
        actor.user_name,
        actor.invoked_by,
    )


class MatchField(Struct, frozen=True):
    name: str
    doc: str
    get: Getter


MATCH_FIELDS: dict[str, MatchField] = {
    f.name: f
    for f in (
        MatchField("provider", "aws or azure", lambda e, r: (e.provider.value,)),
        MatchField("account", "AWS account id or Azure subscription id", lambda e, r: (e.account,)),
        MatchField("region", "AWS region or Azure location", lambda e, r: (e.region,)),
        MatchField(
            "resource_type",
            "AWS::Service::Type or Microsoft.Provider/type",
            lambda e, r: (r.type,),
        ),
        MatchField("event", "CloudTrail eventName or ARM operation", lambda e, r: (e.event_name,)),
        MatchField("event_source", "CloudTrail eventSource or ARM provider", lambda e, r: (e.event_source,)),
        MatchField(
            "actor",
            "the caller: ARN, role ARN, UPN, app id, object id, principal id or user name",
            lambda e, r: _actor_ids(e.actor),
        ),
        MatchField(
            "actor_kind",
            "user, assumed-role, service, app, managed-identity",
            lambda e, r: (e.actor.kind.value,),
        ),
        MatchField("role_name", "the assumed role's name", lambda e, r: (e.actor.role_name,)),
        MatchField("session_name", "the assumed-role session name", lambda e, r: (e.actor.session_name,)),
        MatchField("resource_group", "the Azure resource group", lambda e, r: (r.resource_group,)),
    )
}


class Globs(Struct, frozen=True):
    """Shell-style globs, compared case-insensitively: `match(value)` when any of them matches.

    Most patterns in rules are plain names (`aws`, `user`, a role ARN) or prefixes (`agent-*`):
    those are a set lookup and a `startswith`, not a regex compiled at every cold start. Only the
    rest (`?`, `[...]`, a `*` before the end) make a regex. A value or pattern outside ASCII is
    matched by the regex of them all, whose Unicode case rules `lower()` does not follow.
    """

    patterns: tuple[str, ...]
    exact: frozenset[str]
    prefixes: tuple[str, ...]
    rest: re.Pattern[str] | None

    def match(self, value: str) -> bool:
        if not value.isascii():
            return _regex(self.patterns).match(value) is not None
        v = value.lower()
        if v in self.exact or v.startswith(self.prefixes):
            return True
        return self.rest is not None and self.rest.match(value) is not None


def compile_globs(patterns: Sequence[str]) -> Globs:
    """Globs for a list of patterns, so a match is one call. No patterns is an error (the rules'
    schema refuses an empty list: "match nothing" and "match anything" would both be a guess)."""
    if not patterns:
        raise ValueError("no glob patterns")
    exact: set[str] = set()
    prefixes: list[str] = []
    rest: list[str] = []
    for p in patterns:
        star = p.endswith("*")
        head = p[:-1] if star else p
        if not p.isascii() or any(c in head for c in "*?["):
            rest.append(p)
        elif star:
            prefixes.append(head.lower())
        else:
            exact.add(p.lower())
    return Globs(tuple(patterns), frozenset(exact), tuple(prefixes), _regex(tuple(rest)) if rest else None)


@functools.cache
def _regex(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns), re.IGNORECASE)


class Matcher(Struct, frozen=True):
    field: MatchField
    globs: Globs

    def __call__(self, event: CreationEvent, resource: Resource) -> bool:
        globs = self.globs
        return any(v is not None and globs.match(v) for v in self.field.get(event, resource))
