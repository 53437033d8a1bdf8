"""The ports the lifecycle acts through: one adapter per cloud implements each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from tagwarden.model import Resource


class Status(StrEnum):
    DONE = "done"  # the action was carried out
    MARKED_ONLY = "marked-only"  # the type has no cheap quarantine: marked, the grace clock runs
    DRY_RUN = "dry-run"  # planned and notified, nothing changed
    VANISHED = "vanished"  # the resource is already gone
    UNSUPPORTED = "unsupported"  # no delete (or release) for this type: recorded, left alone
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ActionResult:
    resource: Resource
    action: str  # quarantine | release | delete
    status: Status
    undo: str = ""  # quarantine: what release needs to restore the resource exactly (fits in a tag)
    detail: str = ""  # what was done, or the error


class Quarantiner(Protocol):
    """Per-type quarantine, release and delete for one cloud (a registry inside the adapter)."""

    def quarantine(self, resource: Resource, *, dry_run: bool) -> ActionResult: ...

    def release(self, resource: Resource, undo: str, *, dry_run: bool) -> ActionResult: ...

    def delete(self, resource: Resource, *, dry_run: bool) -> ActionResult: ...


@runtime_checkable
class BatchQuarantiner(Protocol):
    """A quarantiner that also acts on many resources at once (one event may create 1,000
    instances: batched calls, not 1,000 sequential ones). Optional: `quarantine_all` falls back to
    one `quarantine` call per resource."""

    def quarantine_many(self, resources: Sequence[Resource], *, dry_run: bool) -> list[ActionResult]: ...


def quarantine_all(
    quarantiner: Quarantiner, resources: Sequence[Resource], *, dry_run: bool
) -> list[ActionResult]:
    """One result per resource, in order: batched when the adapter can, else one call each."""
    if isinstance(quarantiner, BatchQuarantiner):
        return quarantiner.quarantine_many(resources, dry_run=dry_run)
    return [quarantiner.quarantine(r, dry_run=dry_run) for r in resources]


class Notifier(Protocol):
    """Delivers one notification on one channel (SNS, Teams, a queue ...)."""

    def send(self, message: Notification) -> None: ...


@dataclass(frozen=True, slots=True)
class Notification:
    """One structured, versioned message per action; renderers turn it into each channel's format."""

    kind: str  # tagged-as-unallocated | quarantined | released | deleted | failed | notify
    provider: str
    resource_id: str
    resource_type: str
    account: str
    region: str | None
    creator: str | None
    creator_address: str | None  # an email / UPN to route a copy to, when the creator has one
    rule: str | None
    missing: tuple[str, ...] = ()
    invalid: tuple[str, ...] = ()
    action: str = ""
    deadline: str | None = None  # ISO 8601, for quarantine / delete
    dry_run: bool = False
    detail: str = ""
    fix: str = ""  # the exact CLI command that adds the missing tags
    extra: dict[str, Any] = field(default_factory=dict)

    VERSION = "1"
