"""AWS quarantine: make an unattributed resource stop costing money and stop being usable, reversibly;
release it exactly; delete it when the grace period has run out.

`AwsQuarantiner` implements `tagwarden.lifecycle.ports.Quarantiner` over the table in `registry`
(resource type -> quarantine / release / delete functions, in `actions`). How a call proceeds:

1. The row for `resource.type`. No row (or a row without that function): quarantine is MARKED_ONLY,
   release DONE with nothing to restore (FAILED if an undo token was given: never guessed), delete
   UNSUPPORTED. No call is made.
2. The row's function runs against the service's client in the resource's region (the ARN's, else
   the quarantiner's). It reads what it needs and makes every change through `Ctx.change`.
3. Its status is returned with the undo token (quarantine) and a detail built from its notes. In a
   dry run nothing that changes state is called: DONE and MARKED_ONLY become DRY_RUN, the detail
   says what would have been done, and `undo` is the token the quarantine would return (the
   enforcer records it in the ledger before it quarantines); VANISHED,
   UNSUPPORTED and FAILED are reported as they are, since they are facts read, not changes.
4. A ClientError is VANISHED when its code (or SageMaker's message) means "not found" for that
   service (the tagger registry's codes, plus the row's), else FAILED with code and message; a
   BotoCoreError or an unusable undo token is FAILED. Nothing is raised.

Undo tokens are `key=value` pairs that fit in an AWS tag value (e.g. `state=running`,
`concurrency=none`, `desired=3`, `policy=added`). Waits (an instance leaving `pending`, volumes
detaching after a terminate) poll every `poll_seconds` through the injected `sleep` for at most
`wait_seconds` (defaults 5 s and 120 s).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from botocore.exceptions import BotoCoreError, ClientError

from tagwarden.aws.catalogue.tagger_spec import ErrorKind, arn_region
from tagwarden.aws.catalogue.taggers import TAGGERS
from tagwarden.aws.clients import Clients
from tagwarden.aws.quarantine.actions import ec2_instances_quarantine
from tagwarden.aws.quarantine.base import Ctx, Refused, Row, Step, native, parse_undo
from tagwarden.aws.quarantine.registry import IAM_ACTIONS, QUARANTINE_ROWS
from tagwarden.lifecycle.ports import ActionResult, Status
from tagwarden.model import Resource

WAIT_SECONDS = 120.0
POLL_SECONDS = 5.0

QUARANTINE, RELEASE, DELETE = "quarantine", "release", "delete"
EC2_INSTANCE = "AWS::EC2::Instance"


class AwsQuarantiner:
    """Per-type quarantine, release and delete for AWS, driven by `QUARANTINE_ROWS`.

    `enforcer_principals` and `break_glass` are IAM principal ARNs (globs allowed) spared by the
    S3 deny statement; the enforcer's own role must be among them (S3 quarantine refuses otherwise,
    it would lock the enforcer out of release and delete).
    """

    def __init__(
        self,
        clients: Clients,
        region: str | None = None,
        enforcer_principals: Iterable[str] = (),
        break_glass: Iterable[str] = (),
        *,
        sleep: Callable[[float], None] = time.sleep,
        wait_seconds: float = WAIT_SECONDS,
        poll_seconds: float = POLL_SECONDS,
        rows: Mapping[str, Row] = QUARANTINE_ROWS,
    ) -> None:
        self._clients = clients
        self._region = region
        self._enforcer = tuple(enforcer_principals)
        self._break_glass = tuple(break_glass)
        self._sleep = sleep
        self._wait_seconds = wait_seconds
        self._poll_seconds = poll_seconds
        self._rows = rows

    def quarantine(self, resource: Resource, *, dry_run: bool) -> ActionResult:
        row = self._rows.get(resource.type)
        if row is None or row.quarantine is None:
            why = row.note if row and row.note else f"no cheap reversible quarantine for {resource.type}"
            return self._settled(resource, QUARANTINE, Status.MARKED_ONLY, f"{why}: marked only", dry_run)
        return self._run(resource, QUARANTINE, row, dry_run, row.quarantine)

    def quarantine_many(self, resources: Sequence[Resource], *, dry_run: bool) -> list[ActionResult]:
        """`quarantine` for each resource, in order; EC2 instances of one region in batched calls
        (see `actions.ec2_instances_quarantine`), the other types one by one."""
        results: dict[int, ActionResult] = {}
        batches: dict[str | None, list[int]] = {}
        for n, resource in enumerate(resources):
            if resource.type == EC2_INSTANCE and resource.type in self._rows:
                batches.setdefault(self._region_of(self._rows[resource.type], resource), []).append(n)
            else:
                results[n] = self.quarantine(resource, dry_run=dry_run)
        for region, members in batches.items():
            group = [resources[n] for n in members]
            for n, result in zip(members, self._ec2_batch(group, region, dry_run), strict=True):
                results[n] = result
        return [results[n] for n in range(len(resources))]

    def _ec2_batch(self, group: list[Resource], region: str | None, dry_run: bool) -> list[ActionResult]:
        if len(group) == 1:
            return [self.quarantine(group[0], dry_run=dry_run)]
        ctx = self._ctx(group[0], region, dry_run)
        ids = [native(r) for r in group]
        try:
            ctx.client = self._clients.get("ec2", region)
            steps = ec2_instances_quarantine(ctx, ids)
        except (ClientError, BotoCoreError) as exc:
            detail = ctx.detail(f"{type(exc).__name__}: {exc}")
            return [ActionResult(r, QUARANTINE, Status.FAILED, detail=detail) for r in group]
        out = []
        for resource, iid in zip(group, ids, strict=True):
            step = steps[iid]
            detail = _instance_detail(iid, step, [n for n in ctx.notes if iid in n])
            if dry_run and step.status in (Status.DONE, Status.MARKED_ONLY):
                detail = f"dry run: would {detail}; undo would be {step.undo!r}"
                out.append(ActionResult(resource, QUARANTINE, Status.DRY_RUN, detail=detail))
            else:
                out.append(ActionResult(resource, QUARANTINE, step.status, undo=step.undo, detail=detail))
        return out

    def _region_of(self, row: Row, resource: Resource) -> str | None:
        spec = TAGGERS.get(row.tagger)
        fixed = spec.region if spec else None
        return fixed or arn_region(resource.id) or self._region or self._clients.region

    def _ctx(self, resource: Resource, region: str | None, dry_run: bool) -> Ctx:
        return Ctx(
            resource=resource,
            client=None,
            region=region,
            dry_run=dry_run,
            sleep=self._sleep,
            wait_seconds=self._wait_seconds,
            poll_seconds=self._poll_seconds,
            enforcer_principals=self._enforcer,
            break_glass=self._break_glass,
        )

    def release(self, resource: Resource, undo: str, *, dry_run: bool) -> ActionResult:
        row = self._rows.get(resource.type)
        if row is None or row.release is None:
            if undo.strip():
                detail = f"BadUndo: {resource.type} has no release, yet undo {undo!r} was given: not guessed"
                return ActionResult(resource, RELEASE, Status.FAILED, detail=detail)
            why = row.note if row and row.note else f"{resource.type} was only marked"
            return self._settled(resource, RELEASE, Status.DONE, f"{why}: nothing to restore", dry_run)
        fn = row.release
        return self._run(resource, RELEASE, row, dry_run, lambda ctx: fn(ctx, parse_undo(undo)))

    def delete(self, resource: Resource, *, dry_run: bool) -> ActionResult:
        row = self._rows.get(resource.type)
        if row is None or row.delete is None:
            why = row.note if row and row.note else f"no delete for {resource.type}"
            return ActionResult(resource, DELETE, Status.UNSUPPORTED, detail=f"{why}: left alone")
        return self._run(resource, DELETE, row, dry_run, row.delete)

    # --- engine --------------------------------------------------------------------------------

    def _settled(
        self, resource: Resource, action: str, status: Status, detail: str, dry_run: bool
    ) -> ActionResult:
        if dry_run:
            return ActionResult(resource, action, Status.DRY_RUN, detail=f"dry run: {detail}")
        return ActionResult(resource, action, status, detail=detail)

    def _run(
        self, resource: Resource, action: str, row: Row, dry_run: bool, fn: Callable[[Ctx], Step]
    ) -> ActionResult:
        region = self._region_of(row, resource)
        ctx = self._ctx(resource, region, dry_run)
        try:
            ctx.client = self._clients.get(row.service, region)
            step = fn(ctx)
        except ClientError as exc:
            err = exc.response.get("Error", {})
            code, message = str(err.get("Code") or "Unknown"), str(err.get("Message") or exc)
            status = Status.VANISHED if _gone(row, code, message) else Status.FAILED
            return ActionResult(resource, action, status, detail=ctx.detail(f"{code}: {message}"))
        except BotoCoreError as exc:
            detail = ctx.detail(f"{type(exc).__name__}: {exc}")
            return ActionResult(resource, action, Status.FAILED, detail=detail)
        except Refused as exc:
            detail = ctx.detail(f"{type(exc).__name__}: {exc}")
            return ActionResult(resource, action, Status.FAILED, detail=detail)
        if dry_run and step.status in (Status.DONE, Status.MARKED_ONLY):
            would_undo = f"undo would be {step.undo!r}" if step.undo else ""
            # the undo it would return: the enforcer records it before the real quarantine
            return ActionResult(
                resource,
                action,
                Status.DRY_RUN,
                undo=step.undo,
                detail="dry run: " + ctx.detail(would_undo),
            )
        return ActionResult(resource, action, step.status, undo=step.undo, detail=ctx.detail())


def _instance_detail(iid: str, step: Step, notes: list[str]) -> str:
    if step.status is Status.DONE:
        stopped = step.undo == "state=stopped"
        return f"instance {iid} already stopped: nothing to stop" if stopped else f"stop instance {iid}"
    if step.status is Status.VANISHED:
        return f"instance {iid} is gone"
    return "; ".join(notes) or f"NotReady: instance {iid} is still pending; retry once it settles"


def _gone(row: Row, code: str, message: str) -> bool:
    if code in row.not_found or any(code == c and text in message for c, text in row.not_found_messages):
        return True
    spec = TAGGERS.get(row.tagger)
    return spec is not None and spec.classify(code) is ErrorKind.NOT_FOUND


__all__ = ["IAM_ACTIONS", "QUARANTINE_ROWS", "AwsQuarantiner", "Row"]
