"""Provider-neutral model: what a create event is, and what we decided about each resource.

Plain, immutable data. Normalizers (tagwarden.normalize) build it from raw AWS/Azure events;
the attribution core (tagwarden.attribution) reads it and returns decisions; adapters apply them.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from msgspec import Struct, field

EMPTY: Mapping[str, str] = MappingProxyType({})


class Provider(StrEnum):
    AWS = "aws"
    AZURE = "azure"


class ActorKind(StrEnum):
    USER = "user"  # IAM user, root, Entra ID user (UPN)
    ASSUMED_ROLE = "assumed-role"  # AWS STS session
    SERVICE = "service"  # an AWS service acting on its own (invokedBy, AWSService)
    APP = "app"  # Entra ID application / service principal
    MANAGED_IDENTITY = "managed-identity"
    UNKNOWN = "unknown"


class Action(StrEnum):
    """What happens to a resource. Ordered from harmless to destructive."""

    NONE = "none"  # every required tag already present and valid: nothing to write
    TAG = "tag"  # all required tags derived: write them
    TAG_UNALLOCATED = "tag-unallocated"  # write what we could, mark the rest as unallocated
    NOTIFY = "notify"  # write what we could, tell people
    QUARANTINE = "quarantine"  # write what we could, make the resource stop costing, start the clock
    DELETE = "delete"  # write what we could, delete after the grace period
    SKIP = "skip"  # exempt: deliberately not touched


# Actions a rule may name for resources it cannot attribute.
FALLBACK_ACTIONS: tuple[Action, ...] = (
    Action.TAG_UNALLOCATED,
    Action.NOTIFY,
    Action.QUARANTINE,
    Action.DELETE,
)


class Actor(Struct, frozen=True):
    """Who made the call. Fields that a provider does not have stay None."""

    kind: ActorKind
    arn: str | None = None  # AWS principal ARN (assumed-role ARN for sessions)
    account: str | None = None
    role_name: str | None = None  # AWS role name, for assumed-role sessions
    role_arn: str | None = None  # AWS role ARN (sessionIssuer), the principal whose tags count
    session_name: str | None = None
    source_identity: str | None = None
    user_name: str | None = None  # IAM user name
    upn: str | None = None  # Azure user principal name (or email)
    name: str | None = None  # display name
    app_id: str | None = None  # Azure application (client) id
    object_id: str | None = None  # Azure principal object id
    principal_id: str | None = None  # AWS principalId / Azure evidence principalId
    invoked_by: str | None = None  # AWS service that made the call on the actor's behalf

    @property
    def identity(self) -> str | None:
        """The most specific stable identifier, used for exemptions and `actor` matches."""
        return self.arn or self.upn or self.app_id or self.object_id or self.principal_id

    def get(self, attr: str) -> str | None:
        value = getattr(self, attr, None)
        if value is None or isinstance(value, str):
            return value
        return str(value)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": str(self.kind)}
        for name in ACTOR_FIELDS:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


ACTOR_FIELDS: tuple[str, ...] = (
    "arn",
    "account",
    "role_name",
    "role_arn",
    "session_name",
    "source_identity",
    "user_name",
    "upn",
    "name",
    "app_id",
    "object_id",
    "principal_id",
    "invoked_by",
)


class Resource(Struct, frozen=True):
    """One resource the event created."""

    id: str  # AWS ARN (or the best id we have) / Azure resource id
    type: str  # AWS::EC2::Instance / Microsoft.Compute/virtualMachines
    name: str | None = None
    resource_group: str | None = None  # Azure only
    native_id: str | None = None  # the service's own id (i-0abc..., bucket name), what its tag API takes
    # Tags supplied with the create call. None when the event does not carry them (Azure): the
    # resource's current tags are then read through a lookup when a rule needs them.
    request_tags: Mapping[str, str] | None = None
    tagger: str | None = None  # which tagger applies (from the catalogue)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "type": self.type, "name": self.name}
        if self.resource_group is not None:
            out["resource_group"] = self.resource_group
        return out


def _but_raw(x: Struct) -> tuple[Any, ...]:
    return tuple(getattr(x, name) for name in x.__struct_fields__ if name != "raw")


def _eq_but_raw(self: Struct, other: object) -> bool:
    """Events are equal when what was read from them is: the raw event they came from is not
    compared (two deliveries of one event differ in envelope fields)."""
    return type(other) is type(self) and _but_raw(self) == _but_raw(other)


def _hash_but_raw(self: Struct) -> int:
    return hash(_but_raw(self))


def _repr_but_raw(self: Struct) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__struct_fields__ if name != "raw")
    return f"{type(self).__name__}({shown})"


class CreationEvent(Struct, frozen=True):
    """A normalized create event: one API call that created zero or more resources."""

    provider: Provider
    event_id: str
    event_name: str  # CloudTrail eventName / ARM operationName
    event_source: str  # CloudTrail eventSource / ARM resource provider namespace
    time: str  # ISO 8601 as the event gave it
    account: str  # AWS account / Azure subscription id
    region: str | None  # AWS region / Azure location (often unknown in Event Grid events)
    actor: Actor
    resources: tuple[Resource, ...]
    raw: Mapping[str, Any] = field(default_factory=dict)  # the event as read: not compared, hashed or shown
    correlation_id: str | None = None  # Azure correlationId, AWS requestID
    # True only when the call fails if the id exists already (set by the adapter's reader): such an
    # event for an id the ledger knows, later than its record, is a re-creation and starts a new
    # lifecycle. False (the default) for upserts, idempotent retries and every Azure write: an event
    # for a known id is then an update (tags only). See tagwarden.ledger.state.renews.
    creates_only: bool = False

    __eq__ = _eq_but_raw
    __hash__ = _hash_but_raw
    __repr__ = _repr_but_raw


class SkipKind(StrEnum):
    """Low-cardinality class of a skip reason: the metric dimension (the reason itself is logged)."""

    FAILED_CALL = "failed-call"
    READ_ONLY = "read-only"
    TAG_WRITE = "tag-write"
    NOT_IN_CATALOGUE = "not-in-catalogue"
    NOT_A_CREATE = "not-a-create"
    NO_RESOURCE = "no-resource"
    NOT_AN_API_CALL = "not-an-api-call"
    DEPLOYMENT = "deployment"
    NOT_BILLABLE = "not-billable"
    UNSUPPORTED_SOURCE = "unsupported-source"
    DUPLICATE = "duplicate"
    OWN_CALL = "own-call"
    FOREIGN_ACCOUNT = "foreign-account"  # neither this account nor an allowed member (organization mode)


class Skipped(Struct, frozen=True):
    """An event deliberately not acted on, with the reason (logged and counted, never silent)."""

    reason: str
    kind: SkipKind = SkipKind.NOT_A_CREATE
    event_id: str | None = None
    event_name: str | None = None
    provider: Provider | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)  # not compared, hashed or shown

    __eq__ = _eq_but_raw
    __hash__ = _hash_but_raw
    __repr__ = _repr_but_raw


class Removal(Struct, frozen=True):
    """A resource was deleted (by anyone, tagwarden included): its ledger record is closed as gone,
    so that the next write of the same id starts a new lifecycle. Never acted on in the cloud."""

    event_id: str
    event_name: str
    time: str  # ISO 8601, the cloud's
    account: str
    actor: Actor
    resource_id: str
    provider: Provider


class TagChange(Struct, frozen=True):
    """Someone wrote tags on existing resources (never a create): the lifecycle releases the
    quarantined ones among them that are now attributed."""

    event_id: str
    event_name: str
    actor: Actor
    resource_ids: tuple[str, ...]  # ARNs (AWS), resource or group ids (Azure)
    provider: Provider


class TagProblem(Struct, frozen=True):
    """A required tag we could not settle: missing, or present/derived but invalid."""

    key: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"key": self.key, "reason": self.reason}


class Decision(Struct, frozen=True):
    """What the rules say about one resource."""

    resource: Resource
    action: Action
    rule: str | None  # id of the rule that matched (None when exempt before matching)
    tags: Mapping[str, str] = field(
        default_factory=dict
    )  # tags to write (never ones already present with that value)
    sources: Mapping[str, str] = field(default_factory=dict)  # tag key -> the source that produced its value
    missing: tuple[TagProblem, ...] = ()
    invalid: tuple[TagProblem, ...] = ()
    exemption: str | None = None
    grace_seconds: int | None = None  # for quarantine/delete
    reasons: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()  # lookups that could not be answered (offline, or failed)

    @property
    def attributed(self) -> bool:
        return not self.missing and not self.invalid

    def to_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource.to_json(),
            "tags": dict(self.tags),
            "sources": dict(self.sources),
            "missing": [p.to_json() for p in self.missing],
            "invalid": [p.to_json() for p in self.invalid],
            "action": str(self.action),
            "rule": self.rule,
            "exemption": self.exemption,
            "grace_seconds": self.grace_seconds,
            "unresolved": list(self.unresolved),
            "reasons": list(self.reasons),
        }
