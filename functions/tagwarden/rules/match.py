"""What a rule can match on: a registry of fields, each reading candidate values off (event, resource).

Patterns are shell-style globs (`agent-*`, `AWS::EC2::*`), compared case-insensitively, since
role names, Azure types and resource group names are case-insensitive in the clouds themselves.
A field matches when any of its patterns matches any candidate value.
"""

from __future__ import annotations

import fnmatch
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


def compile_globs(patterns: Sequence[str]) -> re.Pattern[str]:
    """One regex for a list of globs, so a match is a single call."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns), re.IGNORECASE)


class Matcher(Struct, frozen=True):
    field: MatchField
    regex: re.Pattern[str]

    def __call__(self, event: CreationEvent, resource: Resource) -> bool:
        rx = self.regex
        return any(v is not None and rx.match(v) for v in self.field.get(event, resource))
