"""What the ledger holds: one ResourceRecord per created resource, UsageRecords for shared spend.

Plain data with a stable JSON form (the export format, JSON lines, one object per line with a
`record` discriminator), read by showback and written by every store.

Schema 2 (this version) added to ResourceRecord `event_source`, `correlation_id`, `ignored`, `detail`,
`notified_at` and `marks`;
a schema-1 line reads with their defaults, so old exports stay readable.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from msgspec import Struct, field
from msgspec.structs import asdict, replace

SCHEMA_VERSION = 2
_EMPTY: Mapping[str, str] = MappingProxyType({})


class LifecycleState(StrEnum):
    """Where a resource is in its life, as tagwarden knows it. Only the ledger's state authorises."""

    ACTIVE = "active"  # decided and acted on (tagged, left alone, notified): nothing pending
    QUARANTINE_INTENT = "quarantine-intent"  # about to quarantine; the undo is recorded before the action
    QUARANTINED = "quarantined"
    QUARANTINE_PENDING = "quarantine-pending"  # the quarantine failed; the sweeper retries it
    DELETE_PENDING = "delete-pending"  # left running, deleted at the deadline unless attributed
    RELEASED = "released"
    DELETED = "deleted"
    GONE = "gone"  # vanished before or after tagging (deleted by someone else)
    SKIPPED = "skipped"  # exempt, or left for a person: deliberately not touched


# States the sweeper works on: a lifecycle tagwarden started and has not finished.
LIVE_STATES: frozenset[LifecycleState] = frozenset(
    {
        LifecycleState.QUARANTINE_INTENT,
        LifecycleState.QUARANTINED,
        LifecycleState.QUARANTINE_PENDING,
        LifecycleState.DELETE_PENDING,
    }
)


def ledger_key(provider: str, resource_id: str) -> str:
    """The store key of a resource id: exact case on AWS (ARNs are case-sensitive: `MyFn` and
    `myfn` are two functions), folded on Azure (ARM ids are case-insensitive: one resource)."""
    return resource_id.lower() if provider == "azure" else resource_id


class ResourceRecord(Struct, frozen=True):
    """One created resource: who made it, what the rules decided, and what became of it.

    Keyed by (provider, resource_id) with the id in its exact case. `version` grows by one on every
    update; stores update only when the version they read is still current (optimistic concurrency).
    """

    provider: str  # aws | azure
    resource_id: str  # ARN / Azure resource id, exact case
    account: str  # AWS account / Azure subscription
    region: str | None
    type: str
    name: str | None
    event_id: str
    event_name: str
    event_time: str  # ISO 8601 as the event gave it
    event_source: str = ""  # CloudTrail eventSource / ARM provider: the current rules match on it
    correlation_id: str | None = None  # AWS requestID / ARM correlationId (a deployment's event pair)
    actor: Mapping[str, str] = field(default_factory=lambda: _EMPTY)  # Actor.to_json()
    tags: Mapping[str, str] = field(default_factory=lambda: _EMPTY)  # the attribution: derived + kept
    sources: Mapping[str, str] = field(default_factory=lambda: _EMPTY)  # tag key -> where it came from
    rule: str | None = None
    rules_hash: str | None = None  # sha256 of the rules file's text (hex)
    action: str = "none"  # model.Action value
    state: LifecycleState = LifecycleState.ACTIVE
    deadline: float | None = None  # epoch seconds on the ledger's clock (the enforcer's record time)
    undo: str = ""  # what release needs to restore the resource exactly
    recorded_at: float = 0.0  # epoch seconds the record was first written
    tagged_at: float | None = None
    quarantined_at: float | None = None
    released_at: float | None = None
    deleted_at: float | None = None
    gone_at: float | None = None
    released_by: str | None = None
    # Tags with tagwarden's prefix the creator set in the create request: never trusted (a
    # `tagwarden:protect` or exemption tag with one of these values does not count), kept to show.
    ignored: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    detail: str = ""  # what the last action did, or why it was not done
    notified_at: float | None = None  # a planned (dry-run) deletion was notified: not every sweep
    marks: tuple[str, ...] = ()  # the marker tag keys written for people to read (removed on release)
    version: int = 1

    @property
    def key(self) -> tuple[str, str]:
        return (self.provider, ledger_key(self.provider, self.resource_id))

    def evolve(self, **changes: Any) -> ResourceRecord:
        """The next version of this record (the store checks the old version is still current)."""
        return replace(self, version=self.version + 1, **changes)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = self.state.value
        out["actor"] = dict(self.actor)
        out["tags"] = dict(self.tags)
        out["sources"] = dict(self.sources)
        out["ignored"] = dict(self.ignored)
        out["marks"] = list(self.marks)
        return {"record": "resource", "schema": SCHEMA_VERSION, **out}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ResourceRecord:
        names = set(cls.__struct_fields__)
        values = {k: v for k, v in data.items() if k in names}
        values["state"] = LifecycleState(values.get("state", LifecycleState.ACTIVE.value))
        for key in ("actor", "tags", "sources", "ignored"):
            values[key] = MappingProxyType(dict(values.get(key) or {}))
        values["marks"] = tuple(values.get("marks") or ())
        return cls(**values)


class UsageKind(StrEnum):
    LLM = "llm"  # one model call (or an importer's aggregate): tokens
    VECTOR_STORAGE = "vector-storage"  # a snapshot of what a tenant stores in a shared index
    VECTOR_QUERY = "vector-query"  # queries / read units a tenant spent on a shared index


class UsageRecord(Struct, frozen=True):
    """A measured use of something shared (a model, an index), with the attribution it belongs to.

    `usage_id` makes writes idempotent (a re-imported log line or a retried hook writes once).
    `resource` names what was used as the bill names it where possible (an inference profile ARN, a
    model id, an index's resource id); showback matches cost rows to it and splits by `quantities`.
    """

    usage_id: str
    kind: UsageKind
    time: float  # epoch seconds
    platform: str  # openai | bedrock | azure-openai | pgvector | qdrant | pinecone | opensearch | ...
    resource: str  # model id / inference profile ARN / index resource id
    attribution: Mapping[str, str] = field(default_factory=lambda: _EMPTY)  # Agent-ID, Outcome-ID, tenant_id
    quantities: Mapping[str, float] = field(default_factory=dict)  # input_tokens, vectors, queries ...
    source: str = ""  # sdk-hook | bedrock-invocation-log | openai-usage-api | pgvector-count | ...

    def to_json(self) -> dict[str, Any]:
        return {
            "record": "usage",
            "schema": SCHEMA_VERSION,
            "usage_id": self.usage_id,
            "kind": self.kind.value,
            "time": self.time,
            "platform": self.platform,
            "resource": self.resource,
            "attribution": dict(self.attribution),
            "quantities": dict(self.quantities),
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UsageRecord:
        return cls(
            usage_id=str(data["usage_id"]),
            kind=UsageKind(data["kind"]),
            time=float(data["time"]),
            platform=str(data["platform"]),
            resource=str(data["resource"]),
            attribution=MappingProxyType(
                {str(k): str(v) for k, v in (data.get("attribution") or {}).items()}
            ),
            quantities={str(k): float(v) for k, v in (data.get("quantities") or {}).items()},
            source=str(data.get("source", "")),
        )
