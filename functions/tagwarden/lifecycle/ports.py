"""The ports the lifecycle acts through: one adapter per cloud implements each."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from msgspec import Struct, field

from tagwarden.model import Resource


class Status(StrEnum):
    DONE = "done"  # the action was carried out
    MARKED_ONLY = "marked-only"  # the type has no cheap quarantine: marked, the grace clock runs
    DRY_RUN = "dry-run"  # planned and notified, nothing changed
    VANISHED = "vanished"  # the resource is already gone
    UNSUPPORTED = "unsupported"  # no delete (or release) for this type: recorded, left alone
    FAILED = "failed"


class ActionResult(Struct, frozen=True):
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


class LazyQuarantiner:
    """A Quarantiner built on its first use: its table (and what it imports) costs cold-start time
    that events without a quarantine never need."""

    def __init__(self, build: Callable[[], Quarantiner]) -> None:
        self._build = build
        self._built: Quarantiner | None = None

    def _get(self) -> Quarantiner:
        if self._built is None:
            self._built = self._build()
        return self._built

    def quarantine(self, resource: Resource, *, dry_run: bool) -> ActionResult:
        return self._get().quarantine(resource, dry_run=dry_run)

    def release(self, resource: Resource, undo: str, *, dry_run: bool) -> ActionResult:
        return self._get().release(resource, undo, dry_run=dry_run)

    def delete(self, resource: Resource, *, dry_run: bool) -> ActionResult:
        return self._get().delete(resource, dry_run=dry_run)

    def quarantine_many(self, resources: Sequence[Resource], *, dry_run: bool) -> list[ActionResult]:
        return quarantine_all(self._get(), resources, dry_run=dry_run)


VALUE_PLACEHOLDER = "<value>"  # what a fix command leaves for the user to fill in


class CloudText(Protocol):
    """The words and commands that differ by cloud, handed in by the adapter (tagwarden.aws.text,
    tagwarden.azure.text), so the lifecycle never asks which cloud it is on."""

    @property
    def account_label(self) -> str: ...  # "Account", "Subscription"

    @property
    def region_label(self) -> str: ...  # "Region", "Location"

    def fix_command(
        self, resource_id: str, resource_type: str, keys: Iterable[str], region: str | None = None
    ) -> str:
        """The CLI command that adds `keys` (values left as VALUE_PLACEHOLDER), or "" for no keys."""
        ...


class Notifier(Protocol):
    """Delivers one notification on one channel (SNS, Teams, a queue ...)."""

    def send(self, message: Notification) -> None: ...


class Notification(Struct, frozen=True):
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
    fix: str = ""  # the exact CLI command that adds the missing tags (the adapter's CloudText)
    extra: dict[str, Any] = field(default_factory=dict)
    account_label: str = "Account"  # what the cloud calls the account / region (CloudText)
    region_label: str = "Region"

    VERSION = "1"
