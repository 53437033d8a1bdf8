"""Azure quarantine: make an unattributed resource stop costing money, reversibly; release it
exactly; delete it when the grace period has run out.

`AzureQuarantiner` implements `tagwarden.lifecycle.ports.Quarantiner` over `ROWS` (resource type,
compared case-insensitively -> how to quarantine, release and delete it):

- Microsoft.Compute/virtualMachines: deallocate (undo `power=running`, `power=stopped`, or
  `power=deallocated`: nothing done) / start, when it was running / delete the VM; its disks and
  NICs follow their own deleteOption, and the detail names those left behind (separate resources,
  each with its own marker).
- Microsoft.Network/networkInterfaces: marked only / - / delete, unless attached to a VM.
- Microsoft.Network/publicIPAddresses: marked only / - / unsupported (see its row's note).
- Managed disks, snapshots, storage accounts, key vaults, SQL servers, Cosmos DB accounts: marked
  only / - / unsupported: they hold data, a person deletes them.
- Any other type: marked only / - / unsupported (never guessed).

How a call proceeds:
1. The row for the type. No row (or no function for the action): quarantine is MARKED_ONLY, release
   DONE with nothing to restore (FAILED if an undo token was given: never guessed), delete
   UNSUPPORTED. No call is made.
2. The row's function reads what it needs and makes every change through `Ctx.change`, which in a
   dry run only records what it would have done: DONE and MARKED_ONLY become DRY_RUN; VANISHED,
   UNSUPPORTED and FAILED are facts read, reported as they are.
3. ARM answering 404 is VANISHED; any other failure (after arm.py's retries) is FAILED with ARM's
   code and message. Nothing is raised.

Calls go through the real SDK pipeline of `ArmClient` (its authentication and our retries): POST
actions (`{vm}/deallocate`, `{vm}/start`) and the instance view with `send_request`, deletes with
`resources.begin_delete_by_id` at the row's api-version. Actions and deletes are ARM long-running
operations: they are polled (through the ArmClient's injected `sleep`) for at most its
`lro_timeout`; one still running then was accepted by ARM and finishes by itself, so it is DONE with
a note saying so. A resource carrying the protect tag is neither deallocated nor deleted here
(the enforcer and the sweeper check it too): this is the last check before the change.

Undo tokens are `key=value` pairs that fit in a tag value: `power=running` (deallocated by us,
started on release), `power=stopped` (it was stopped, not deallocated: left deallocated on
release), `power=deallocated` (nothing was done).

`ACTIONS` is the union of the ARM operations the table calls: the writes among them are the
custom lifecycle role of infra/azure/modules/subscription-roles.bicep (tests/azure/test_azure_role.py
checks it against the operations recorded on the ARM fake); the reads come with Reader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from azure.core.exceptions import HttpResponseError
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.core.exceptions import ARMErrorFormat

from tagwarden.attribution.limits import LIMITS, tag_value
from tagwarden.azure.arm import ArmCallFailed, ArmClient, _Polling
from tagwarden.azure.normalize.resource_id import parse_resource_id
from tagwarden.lifecycle.ports import ActionResult, Status
from tagwarden.lifecycle.steps import Ctx as StepCtx
from tagwarden.lifecycle.steps import Refused, Step, need, parse_undo, undo_token
from tagwarden.model import Provider, Resource

COMPUTE_API = "2024-07-01"
NETWORK_API = "2024-05-01"
QUARANTINE, RELEASE, DELETE = "quarantine", "release", "delete"
DONE, VANISHED, FAILED = Status.DONE, Status.VANISHED, Status.FAILED
MARKED_ONLY, UNSUPPORTED = Status.MARKED_ONLY, Status.UNSUPPORTED

_TERMINAL = {"succeeded": True, "failed": False, "canceled": False, "cancelled": False}


class NotReady(Refused):
    """A transitional state (a VM still deallocating): FAILED, the next sweep tries again."""


# --- ARM calls the SDK's generic client does not model ----------------------------------------------


class Arm:
    """Thin helpers over `ArmClient`: GETs and POST actions through `send_request`, deletes through
    `resources.begin_delete_by_id`; every call under ArmClient's retries, every sleep its own."""

    def __init__(self, arm: ArmClient) -> None:
        self.arm = arm

    def _send(self, method: str, url: str, api_version: str | None) -> HttpResponse:
        params = {"api-version": api_version} if api_version else {}
        request = HttpRequest(method, url, params=params, headers={"Accept": "application/json"})
        response = self.arm.client().send_request(request)
        if response.status_code >= 400:
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        return response

    def get(self, url: str, api_version: str) -> dict[str, Any] | None:
        """The JSON at `url`, or None when ARM answers 404."""
        try:
            response, _ = self.arm._retrying(lambda: self._send("GET", url, api_version))
        except ArmCallFailed as exc:
            if exc.status == 404:
                return None
            raise
        body = response.json() if response.content else {}
        return body if isinstance(body, dict) else {}

    def action(self, resource_id: str, action: str, api_version: str) -> bool:
        """POST `{resource_id}/{action}` and follow the operation: True once it has succeeded,
        False while it still runs when the polling budget is spent. Raises ArmCallFailed."""
        response, _ = self.arm._retrying(lambda: self._send("POST", f"{resource_id}/{action}", api_version))
        return self._follow(response)

    def _follow(self, response: HttpResponse) -> bool:
        if response.status_code != 202:
            return True
        status_url = response.headers.get("Azure-AsyncOperation")
        location = response.headers.get("Location")
        url = status_url or location
        if not url:
            return True
        retry = self.arm.retry
        budget = retry.lro_timeout
        wait = _seconds(response.headers.get("Retry-After"), retry.lro_interval)
        while True:
            wait = min(wait, retry.max_retry_after)
            if wait > budget:
                return False
            budget -= wait
            self.arm._sleep(wait)
            polled, _ = self.arm._retrying(lambda: self._send("GET", url, None))
            if status_url:
                body = polled.json() if polled.content else {}
                state = str((body or {}).get("status", "")).lower()
                if state in _TERMINAL:
                    if _TERMINAL[state]:
                        return True
                    error = (body or {}).get("error") or {}
                    raise ArmCallFailed(
                        None,
                        str(error.get("code") or f"Operation{state.capitalize()}"),
                        str(error.get("message") or f"the operation ended {state}"),
                        1,
                    )
            elif polled.status_code != 202:
                return True
            wait = _seconds(polled.headers.get("Retry-After"), retry.lro_interval)

    def delete(self, resource_id: str, api_version: str) -> bool:
        """DELETE through the generic resources API: True once done, False while ARM still deletes
        when the polling budget is spent. Raises ArmCallFailed."""
        retry = self.arm.retry

        def call() -> None:
            polling = _Polling(
                retry.lro_interval,
                sleep=self.arm._sleep,
                budget=retry.lro_timeout,
                max_delay=retry.max_retry_after,
                path_format_arguments={"endpoint": self.arm.endpoint},
            )
            poller = self.arm.client().resources.begin_delete_by_id(
                resource_id, api_version=api_version, polling=polling
            )
            poller.result()

        try:
            self.arm._retrying(call)
        except ArmCallFailed as exc:
            if exc.code == "OperationTimeout":
                return False
            raise
        return True


def _seconds(raw: str | None, default: float) -> float:
    try:
        return max(0.0, float(raw)) if raw else default
    except ValueError:
        return default


# --- the table --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Ctx(StepCtx):
    """One action on one Azure resource: the ARM helpers, the row's api-version, the protect tag."""

    arm: Arm
    api_version: str
    protect_tag: str

    @property
    def name(self) -> str:
        return self.resource.name or self.resource.id.rstrip("/").rsplit("/", 1)[-1]

    def change(self, what: str, fn: Callable[[], bool]) -> None:
        """Make a change (`fn` answers whether it completed), or in a dry run record it only."""
        completed = self.act(what, fn)
        if completed is not None:
            self.notes.append(what if completed else f"{what}: accepted, ARM still running it")

    def get(self) -> dict[str, Any] | None:
        return self.arm.get(self.resource.id, self.api_version)

    def protected(self, tags: Mapping[str, str] | None) -> bool:
        if not self.protect_tag:  # the caller judged protection from the ledger and trusted tags
            return False
        if tags is not None and tag_value(tags, self.protect_tag, LIMITS[Provider.AZURE]) is not None:
            self.note(f"protected by the tag {self.protect_tag}")
            return True
        return False


QuarantineFn = Callable[[Ctx], Step]
ReleaseFn = Callable[[Ctx, Mapping[str, str]], Step]
DeleteFn = Callable[[Ctx], Step]


@dataclass(frozen=True, slots=True)
class Row:
    """How to quarantine, release and delete one resource type; None: marked only / nothing to
    restore / no delete (UNSUPPORTED)."""

    api_version: str
    quarantine: QuarantineFn | None = None
    release: ReleaseFn | None = None
    delete: DeleteFn | None = None
    actions: tuple[str, ...] = ()  # the ARM operations these functions call
    note: str = ""  # why it is marked only, and why it has no delete (when it has none)


# --- virtual machines -----------------------------------------------------------------------------


def _power(ctx: Ctx) -> str | None:
    """The VM's power state (running, deallocated, ...); raises _Gone when it does not exist."""
    view = ctx.arm.get(f"{ctx.resource.id}/instanceView", ctx.api_version)
    if view is None:
        raise _Gone(f"VM {ctx.name} does not exist")
    for status in view.get("statuses") or []:
        code = str(status.get("code") or "")
        if code.lower().startswith("powerstate/"):
            return code.split("/", 1)[1].lower()
    return None


def vm_quarantine(ctx: Ctx) -> Step:
    if ctx.protected(ctx.arm.arm.get_tags(ctx.resource.id)):
        return Step(MARKED_ONLY)
    state = _power(ctx)
    if state in ("deallocated", "deallocating"):
        ctx.note(f"VM {ctx.name} already {state}: nothing to deallocate")
        return Step(DONE, undo_token(power="deallocated"))
    if state in ("running", "starting", "stopped", "stopping"):
        before = "running" if state in ("running", "starting") else "stopped"
        ctx.change(
            f"deallocate VM {ctx.name} (was {state}; compute billing stops, disks and IPs stay)",
            lambda: ctx.arm.action(ctx.resource.id, "deallocate", ctx.api_version),
        )
        return Step(DONE, undo_token(power=before))
    raise NotReady(f"VM {ctx.name} has power state {state or 'unknown'}; retry once it settles")


def vm_release(ctx: Ctx, undo: Mapping[str, str]) -> Step:
    before = need(undo, "power", ("running", "stopped", "deallocated"))
    if before == "deallocated":
        ctx.note(f"VM {ctx.name} was deallocated before the quarantine: left as it is")
        return Step(DONE)
    if before == "stopped":
        ctx.note(f"VM {ctx.name} was stopped (not deallocated) before the quarantine: left deallocated")
        return Step(DONE)
    state = _power(ctx)
    if state in ("running", "starting"):
        ctx.note(f"VM {ctx.name} already {state}")
        return Step(DONE)
    if state in ("deallocated", "stopped"):
        ctx.change(f"start VM {ctx.name}", lambda: ctx.arm.action(ctx.resource.id, "start", ctx.api_version))
        return Step(DONE)
    raise NotReady(f"VM {ctx.name} is {state or 'in an unknown power state'}; retry once it settles")


def _left_behind(props: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(what goes with the VM, what stays): its disks and NICs by their deleteOption (default Detach)."""
    goes: list[str] = []
    stays: list[str] = []
    storage = props.get("storageProfile") or {}
    disks = [("OS disk", storage.get("osDisk") or {})]
    disks += [("data disk", d) for d in storage.get("dataDisks") or []]
    for label, disk in disks:
        ident = (disk.get("managedDisk") or {}).get("id") or disk.get("name")
        if not ident:
            continue
        option = str(disk.get("deleteOption") or "Detach")
        (goes if option.lower() == "delete" else stays).append(f"{label} {_tail(str(ident))}")
    for nic in (props.get("networkProfile") or {}).get("networkInterfaces") or []:
        ident = nic.get("id")
        if not ident:
            continue
        option = str((nic.get("properties") or {}).get("deleteOption") or "Detach")
        (goes if option.lower() == "delete" else stays).append(f"NIC {_tail(str(ident))}")
    return goes, stays


def _tail(resource_id: str) -> str:
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


def vm_delete(ctx: Ctx) -> Step:
    vm = ctx.get()
    if vm is None:
        raise _Gone(f"VM {ctx.name} does not exist")
    if ctx.protected(vm.get("tags")):
        return Step(UNSUPPORTED)
    goes, stays = _left_behind(vm.get("properties") or {})
    ctx.change(f"delete VM {ctx.name}", lambda: ctx.arm.delete(ctx.resource.id, ctx.api_version))
    if goes:
        ctx.note(f"{', '.join(goes)} {'go' if len(goes) > 1 else 'goes'} with it (deleteOption Delete)")
    if stays:
        ctx.note(
            f"left: {', '.join(stays)} (deleteOption Detach): separate resources, each swept by its own "
            "marker or left for a person"
        )
    return Step(DONE)


# --- single deletes -------------------------------------------------------------------------------


def nic_delete(ctx: Ctx) -> Step:
    nic = ctx.get()
    if nic is None:
        raise _Gone(f"NIC {ctx.name} does not exist")
    if ctx.protected(nic.get("tags")):
        return Step(UNSUPPORTED)
    vm = ((nic.get("properties") or {}).get("virtualMachine") or {}).get("id")
    if vm:
        ctx.note(f"NIC {ctx.name} is attached to VM {_tail(str(vm))}: it goes with its VM, or a person")
        return Step(UNSUPPORTED)
    ctx.change(f"delete NIC {ctx.name}", lambda: ctx.arm.delete(ctx.resource.id, ctx.api_version))
    return Step(DONE)


_HOLDS_DATA = "holds data: a person deletes it"

_ROWS: dict[str, Row] = {
    "Microsoft.Compute/virtualMachines": Row(
        COMPUTE_API,
        vm_quarantine,
        vm_release,
        vm_delete,
        actions=(
            "Microsoft.Compute/virtualMachines/read",
            "Microsoft.Compute/virtualMachines/instanceView/read",
            "Microsoft.Compute/virtualMachines/deallocate/action",
            "Microsoft.Compute/virtualMachines/start/action",
            "Microsoft.Compute/virtualMachines/delete",
        ),
    ),
    "Microsoft.Network/networkInterfaces": Row(
        NETWORK_API,
        delete=nic_delete,
        actions=("Microsoft.Network/networkInterfaces/read", "Microsoft.Network/networkInterfaces/delete"),
        note="a network interface costs nothing while it waits",
    ),
    "Microsoft.Network/publicIPAddresses": Row(
        NETWORK_API,
        note=(
            "a public IP is deleted by a person: deleting it needs Microsoft.Network/publicIPAddresses/"
            "delete, which among built-in roles only the broad Network Contributor grants"
        ),
    ),
    "Microsoft.Compute/disks": Row(COMPUTE_API, note=f"a managed disk {_HOLDS_DATA}"),
    "Microsoft.Compute/snapshots": Row(COMPUTE_API, note=f"a snapshot {_HOLDS_DATA}"),
    "Microsoft.Storage/storageAccounts": Row("2023-05-01", note=f"a storage account {_HOLDS_DATA}"),
    "Microsoft.KeyVault/vaults": Row("2023-07-01", note=f"a key vault {_HOLDS_DATA}"),
    "Microsoft.Sql/servers": Row("2023-08-01", note=f"a SQL server {_HOLDS_DATA}"),
    "Microsoft.DocumentDB/databaseAccounts": Row("2024-08-15", note=f"a Cosmos DB account {_HOLDS_DATA}"),
}

ROWS: MappingProxyType[str, Row] = MappingProxyType({k.lower(): v for k, v in _ROWS.items()})
ACTIONS: tuple[str, ...] = tuple(sorted({a for row in _ROWS.values() for a in row.actions}))


class _Gone(Exception):
    """The resource does not exist: VANISHED."""


# --- the quarantiner ------------------------------------------------------------------------------


class AzureQuarantiner:
    """Per-type quarantine, release and delete for Azure, driven by `ROWS`."""

    def __init__(
        self,
        arm: ArmClient,
        *,
        protect_tag: str = "tagwarden:protect",
        rows: Mapping[str, Row] = ROWS,
    ) -> None:
        self._arm = Arm(arm)
        self._protect_tag = protect_tag
        self._rows = {k.lower(): v for k, v in rows.items()}

    def row(self, resource_type: str) -> Row | None:
        return self._rows.get(resource_type.lower())

    def quarantine(self, resource: Resource, *, dry_run: bool) -> ActionResult:
        row = self.row(_type(resource))
        if row is None or row.quarantine is None:
            why = row.note if row and row.note else f"no cheap reversible quarantine for {_type(resource)}"
            return _settled(resource, QUARANTINE, MARKED_ONLY, f"marked only: {why}", dry_run)
        return self._run(resource, QUARANTINE, row, dry_run, row.quarantine)

    def release(self, resource: Resource, undo: str, *, dry_run: bool) -> ActionResult:
        row = self.row(_type(resource))
        if row is None or row.release is None:
            if undo.strip():
                detail = (
                    f"BadUndo: {_type(resource)} has no release, yet undo {undo!r} was given: not guessed"
                )
                return ActionResult(resource, RELEASE, FAILED, detail=detail)
            why = f"{_type(resource)} was only marked"
            return _settled(resource, RELEASE, DONE, f"{why}: nothing to restore", dry_run)
        fn = row.release
        if not undo.strip():
            return _settled(resource, RELEASE, DONE, "nothing was changed by the quarantine", dry_run)
        return self._run(resource, RELEASE, row, dry_run, lambda ctx: fn(ctx, parse_undo(undo)))

    def delete(self, resource: Resource, *, dry_run: bool) -> ActionResult:
        row = self.row(_type(resource))
        if row is None or row.delete is None:
            why = row.note if row and row.note else f"no delete for {_type(resource)}"
            return ActionResult(resource, DELETE, UNSUPPORTED, detail=f"left alone: {why}")
        return self._run(resource, DELETE, row, dry_run, row.delete)

    def _run(
        self, resource: Resource, action: str, row: Row, dry_run: bool, fn: Callable[[Ctx], Step]
    ) -> ActionResult:
        ctx = Ctx(resource, dry_run, self._arm, row.api_version, self._protect_tag)
        try:
            step = fn(ctx)
        except _Gone as exc:
            return ActionResult(resource, action, VANISHED, detail=ctx.detail(str(exc)))
        except ArmCallFailed as exc:
            status = VANISHED if exc.status == 404 else FAILED
            return ActionResult(resource, action, status, detail=ctx.detail(str(exc)))
        except Refused as exc:
            return ActionResult(resource, action, FAILED, detail=ctx.detail(f"{type(exc).__name__}: {exc}"))
        if dry_run and step.status in (DONE, MARKED_ONLY):
            would = f"undo would be {step.undo!r}" if step.undo else ""
            # the undo it would return: the enforcer records it in the ledger before it quarantines
            return ActionResult(
                resource, action, Status.DRY_RUN, undo=step.undo, detail="dry run: " + ctx.detail(would)
            )
        return ActionResult(resource, action, step.status, undo=step.undo, detail=ctx.detail())


def _type(resource: Resource) -> str:
    if resource.type:
        return resource.type
    try:
        return parse_resource_id(resource.id).type
    except ValueError:
        return ""


def _settled(resource: Resource, action: str, status: Status, detail: str, dry_run: bool) -> ActionResult:
    if dry_run:
        return ActionResult(resource, action, Status.DRY_RUN, detail=f"dry run: {detail}")
    return ActionResult(resource, action, status, detail=detail)


__all__ = ["ACTIONS", "ROWS", "AzureQuarantiner", "Row"]
