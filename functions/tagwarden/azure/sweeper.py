"""The Azure sweeper: a timer-triggered function that releases, deletes or leaves what the ledger
holds in a lifecycle.

The work list is the ledger's (Azure Table Storage; tagwarden.lifecycle.sweeper), never a listing
by tag; each recorded resource's current tags are read with the Tags API. Judged by
tagwarden.lifecycle.sweep; acted on through the quarantiner; on release the marker display is removed with
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
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from azure.mgmt.resource.resources.models import Tags, TagsPatchResource

from tagwarden.attribution.limits import LIMITS
from tagwarden.azure.arm import ArmCallFailed, ArmClient, _Polling
from tagwarden.azure.members import MembershipUnknown, SubscriptionGate
from tagwarden.azure.normalize.resource_id import parse_resource_id
from tagwarden.azure.text import AZURE_TEXT
from tagwarden.ledger.model import ResourceRecord
from tagwarden.ledger.ports import Ledger
from tagwarden.lifecycle.marker import iso_epoch
from tagwarden.lifecycle.ports import CloudText, Notifier, Quarantiner
from tagwarden.lifecycle.sweep import Found
from tagwarden.lifecycle.sweeper import Deferral, SweepActions, Where
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
    ledger: Ledger
    clock: Callable[[], float] = time.time
    last: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    provider: str = "azure"
    text: CloudText = AZURE_TEXT
    gate: SubscriptionGate | None = None  # None: every subscription of the ledger is served

    # --- scopes: one subscription-location each -------------------------------------------------

    def _scope(self, where: Where) -> SweepActions | Deferral:
        """A subscription the gate does not prove a member (it left the management group, or ARM
        cannot tell) has its records left, each with the reason, and counted: nothing is done there."""
        if self.gate is None:
            return self
        subscription = where[0]
        try:
            allowed = self.gate.allows(subscription)
        except MembershipUnknown as exc:
            return Deferral("unverified", f"{exc}: nothing done there")
        if not allowed:
            return Deferral(
                "not-member",
                f"subscription {subscription} is neither listed nor under the management group "
                "(TAGWARDEN_SUBSCRIPTIONS / TAGWARDEN_MANAGEMENT_GROUP): nothing done there, left",
            )
        return self

    @property
    def prefix(self) -> str:
        return self.rules.stamp.prefix if self.rules.stamp is not None else "tagwarden:"

    # --- reading ------------------------------------------------------------------------------

    def _read(self, records: Sequence[ResourceRecord]) -> list[Found]:
        """Each recorded resource's tags now (Tags API; None: gone), VMs first. A resource whose
        tags cannot be read is logged and recorded in `errors`; the others are still swept."""
        found: list[Found] = []
        for record in records:
            try:
                tags = self.arm.get_tags(record.resource_id)
            except ArmCallFailed as exc:
                self.errors.append(f"{record.resource_id}: {exc}")
                self.telemetry.log(
                    "error", "sweep could not read", resource=record.resource_id, error=str(exc)
                )
                continue
            resource = _resource_from_id(record.resource_id, record.type, record.name)
            found.append(Found(record, resource, None if tags is None else dict(tags)))
        return sorted(found, key=lambda f: 0 if f.resource.type.lower() in FIRST else 1)

    # --- acting -------------------------------------------------------------------------------

    def release_now(self, changes: Sequence[TagChange]) -> dict[str, Any]:
        """Someone wrote tags on these resources: release the quarantined ones that are now
        attributed, at once. A tag write never deletes anything: deletion is the sweep's."""
        self.errors = []
        ids = dict.fromkeys(rid for change in changes for rid in change.resource_ids)
        return self._release_rows(ids, self.clock())

    def run(self) -> dict[str, Any]:
        self.errors = []
        now = self.clock()
        self.last, counts = self._sweep_rows(now)
        left: dict[str, int] = {}
        for row in self.last:
            if row.get("left"):
                left[row["left"]] = left.get(row["left"], 0) + 1
        count = getattr(self.telemetry, "count_deferred", None)  # test sinks may not count
        for kind, n in left.items():  # a metric per reason (not-member, unverified, error)
            if count is not None:
                count(kind, n)
        self.telemetry.log("info", "sweep done", at=iso_epoch(now), errors=self.errors, left=left, **counts)
        result = {"at": iso_epoch(now), "resources": self.last, "errors": list(self.errors)}
        if self.errors:
            raise SweepIncomplete("; ".join(self.errors))
        return result

    def _write_tags(self, resource: Resource, tags: Mapping[str, str]) -> None:
        result = self.arm.merge_tags(resource, dict(tags))
        if result.error:
            self.telemetry.log("error", "tag not written", resource=resource.id, error=result.error)

    def _remove_marker(self, resource: Resource, tags: Mapping[str, str], keys: Iterable[str]) -> bool:
        """Delete exactly the marker tags the resource carries (their names as written, their
        current values): a Tags API `Delete`, never Replace."""
        wanted = {LIMITS_AZ.fold(k) for k in keys}
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
