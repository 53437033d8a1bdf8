"""The Azure sweeper: a timer-triggered function that finds marked resources, and releases, deletes
or leaves them.

Found by the marker tag, subscription by subscription (`TAGWARDEN_SUBSCRIPTIONS`, else the
function's own `AZURE_SUBSCRIPTION_ID`): `resources.list` and `resource_groups.list` with the filter
`tagName eq '<prefix>quarantine'`. ARM documents that a tag filter may leave the tags out of the
answer: a resource listed without its marker has its tags read with the Tags API. Judged by
tagwarden.lifecycle.sweep; acted on through the quarantiner; on release the marker is removed with
a Tags API `Delete` of exactly the marker tags it carries, with their current values (a marker
rewritten since is not removed; nothing else ever is; never Replace). Every action is logged and
notified.

Virtual machines are acted on first, so a network interface judged in the same sweep is already
detached when its own delete comes.

Release on tag writes: the Azure reader routes Microsoft.Resources/tags/write events as TagChanges
(a second event subscription sends them, see infra/azure), and `release_now` releases at once the
resources among them that are marked and now attributed; the timer's sweep still
releases any the events miss, within its period.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from azure.mgmt.resource.resources.models import Tags, TagsPatchResource

from tagwarden.attribution.limits import LIMITS
from tagwarden.azure.arm import ArmCallFailed, ArmClient, _Polling
from tagwarden.azure.normalize.resource_id import parse_resource_id
from tagwarden.azure.text import AZURE_TEXT
from tagwarden.lifecycle.marker import iso
from tagwarden.lifecycle.ports import CloudText, Notifier, Quarantiner
from tagwarden.lifecycle.sweep import Found
from tagwarden.lifecycle.sweeper import SweepActions
from tagwarden.model import Provider, Resource, TagChange
from tagwarden.rules.model import RuleSet

LIMITS_AZ = LIMITS[Provider.AZURE]
RESOURCE_GROUP = "Microsoft.Resources/resourceGroups"
# Acted on first: what deleting them releases (NICs detach when their VM goes).
FIRST = ("microsoft.compute/virtualmachines",)


class SweepIncomplete(RuntimeError):
    """Some subscriptions could not be listed; what was found elsewhere was acted on."""


def odata_string(value: str) -> str:
    """A string literal for an OData $filter: quoted, its quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


@dataclass
class AzureSweeper(SweepActions):
    rules: RuleSet
    arm: ArmClient
    quarantiner: Quarantiner
    notifier: Notifier | None
    telemetry: Any
    subscriptions: Sequence[str]
    clock: Callable[[], float] = time.time
    last: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    locations: dict[str, str] = field(default_factory=dict)  # resource id (lower) -> location
    text: CloudText = AZURE_TEXT

    @property
    def prefix(self) -> str:
        return self.rules.stamp.prefix if self.rules.stamp is not None else "tagwarden:"

    # --- finding ------------------------------------------------------------------------------

    def find(self) -> list[Found]:
        """Every resource and resource group carrying the marker, VMs first. A subscription that
        cannot be listed is logged and recorded in `errors`; the others are still swept."""
        self.errors = []
        found: list[Found] = []
        for sub in self.subscriptions:
            try:
                found += self._find_in(sub)
            except ArmCallFailed as exc:
                self.errors.append(f"{sub}: {exc}")
                self.telemetry.log("error", "sweep could not list", subscription=sub, error=str(exc))
        return sorted(found, key=lambda f: 0 if f.resource.type.lower() in FIRST else 1)

    def _find_in(self, sub: str) -> list[Found]:
        query = f"tagName eq {odata_string(self.keys.state)}"
        client = self.arm.client(sub)
        items, _ = self.arm._retrying(lambda: list(client.resources.list(filter=query)))
        groups, _ = self.arm._retrying(lambda: list(client.resource_groups.list(filter=query)))
        out: list[Found] = []
        listed: list[Any] = [*items, *groups]
        for item in listed:
            rid = str(item.id)
            tags: Mapping[str, str] | None = dict(item.tags or {})
            if not _has(tags or {}, self.keys.state):
                tags = self.arm.get_tags(rid)  # listed without its tags
                if tags is None:
                    continue  # gone since it was listed
            if item.location:
                self.locations[rid.lower()] = str(item.location)
            out.append(Found(_resource(item), dict(tags or {}), Provider.AZURE))
        return out

    # --- acting -------------------------------------------------------------------------------

    def release_now(self, changes: Sequence[TagChange]) -> dict[str, Any]:
        """Someone wrote tags on these resources: release the quarantined ones that are now
        attributed, at once. A tag write never deletes anything: deletion is the sweep's."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        found: list[Found] = []
        for rid in dict.fromkeys(rid for change in changes for rid in change.resource_ids):
            tags = self.arm.get_tags(rid)
            if tags is not None and _has(tags, self.keys.state):  # else gone, or not ours
                found.append(Found(_resource_from_id(rid), tags, Provider.AZURE))
        return self._release_rows(found, now)

    def run(self) -> dict[str, Any]:
        now = datetime.fromtimestamp(self.clock(), UTC)
        self.last, counts = self._sweep_rows(self.find(), now)
        self.telemetry.log("info", "sweep done", at=iso(now), errors=self.errors, **counts)
        result = {"at": iso(now), "resources": self.last, "errors": list(self.errors)}
        if self.errors:
            raise SweepIncomplete("; ".join(self.errors))
        return result

    def _mark_notice(self, resource: Resource, now: datetime) -> None:
        result = self.arm.merge_tags(resource, {self.notice_key: iso(now)})
        if result.error:
            self.telemetry.log("error", "tag not written", resource=resource.id, error=result.error)

    def _write_tags(self, resource: Resource, tags: Mapping[str, str]) -> None:
        result = self.arm.merge_tags(resource, dict(tags))
        if result.error:
            self.telemetry.log("error", "tag not written", resource=resource.id, error=result.error)

    def _remove_marker(self, resource: Resource, tags: Mapping[str, str]) -> bool:
        """Delete exactly the marker tags the resource carries (their names as written, their
        current values): a Tags API `Delete`, never Replace."""
        wanted = {LIMITS_AZ.fold(k) for k in (*self.keys.all(), self.notice_key)}
        marker = {k: v for k, v in tags.items() if LIMITS_AZ.fold(k) in wanted}
        if not marker:
            return False
        body = TagsPatchResource(operation="Delete", properties=Tags(tags=marker))
        retry = self.arm.retry

        def call() -> None:
            polling = _Polling(
                retry.lro_interval,
                sleep=self.arm._sleep,
                budget=retry.lro_timeout,
                max_delay=retry.max_retry_after,
                path_format_arguments={"endpoint": self.arm.endpoint},
            )
            self.arm.client().tags.begin_update_at_scope(resource.id, body, polling=polling).result()

        try:
            self.arm._retrying(call)
        except Exception as exc:  # one resource must not stop the sweep: logged, retried next sweep
            if not (isinstance(exc, ArmCallFailed) and exc.status == 404):
                self.telemetry.log(
                    "error", "marker not removed", resource=resource.id, error=f"{type(exc).__name__}: {exc}"
                )
            return False
        return True

    def _where(self, resource: Resource) -> tuple[str, str | None]:
        return _subscription(resource.id), self.locations.get(resource.id.lower())


def _has(tags: Mapping[str, str], key: str) -> bool:
    folded = LIMITS_AZ.fold(key)
    return any(LIMITS_AZ.fold(k) == folded for k in tags)


def _resource(item: Any) -> Resource:
    return _resource_from_id(str(item.id), str(item.type or ""), item.name)


def _resource_from_id(rid: str, rtype: str = "", name: str | None = None) -> Resource:
    group: str | None
    try:
        parsed = parse_resource_id(rid)
        rtype = rtype or parsed.type
        group = parsed.resource_group
        name = name or parsed.full_name
    except ValueError:
        group = None
    return Resource(id=rid, type=rtype, name=name, resource_group=group, native_id=rid)


def _subscription(resource_id: str) -> str:
    parts = resource_id.split("/")
    return parts[2] if len(parts) > 2 and parts[1].lower() == "subscriptions" else ""
