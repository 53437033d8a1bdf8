"""What a sweeper does with each judgement, the same for every cloud, through the ledger.

The work list is the ledger's (`in_state` of the lifecycle states), never a listing of the cloud
by tag. Every change is written to the ledger *before* the cloud call that it authorises (a
versioned update: a concurrent release, sweep or replay makes it fail and nothing is done), and
reverted if that call fails. The adapters (tagwarden.aws.sweeper, tagwarden.azure.sweeper)
implement the hooks: read the current tags of recorded resources, remove the marker display, write
tags; they hand in their words (a CloudText) for the notifications.

The work is done one scope at a time: the records of one account (subscription) and region
(location), each read and acted on through the adapter's actions for that scope (`_scope`: its
clients there). A scope the adapter refuses (an account no longer allowed), cannot reach, or that
stops answering (throttled past retries, out of time: `_halted`) has its records left for the next
sweep, each row saying why (`left`), and the other scopes go on. Deletions are capped over the
whole sweep, judged before any scope acts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from tagwarden.ledger.model import LIVE_STATES, LifecycleState, ResourceRecord
from tagwarden.ledger.ports import Conflict, Ledger
from tagwarden.ledger.state import advance, revert
from tagwarden.lifecycle.marker import Keys, iso_epoch, marker_tags
from tagwarden.lifecycle.ports import ActionResult, CloudText, Notification, Notifier, Quarantiner, Status
from tagwarden.lifecycle.sweep import Found, Judgement, Verdict, acting_dry, judge, sweep
from tagwarden.lifecycle.trust import actor_of
from tagwarden.model import Resource
from tagwarden.rules.model import RuleSet

S = LifecycleState
T = TypeVar("T")
R = TypeVar("R")
Where = tuple[str, str | None]  # (account / subscription, region / location)


@dataclass(frozen=True, slots=True)
class Deferral:
    """Why a scope's records are left for the next sweep: `kind` is a short, low-cardinality word
    (a metric dimension), `reason` the sentence logged and shown in the row."""

    kind: str
    reason: str


def by_where(records: Iterable[ResourceRecord]) -> dict[Where, list[ResourceRecord]]:
    """The records per (account, region), in order of first appearance."""
    groups: dict[Where, list[ResourceRecord]] = {}
    for record in records:
        groups.setdefault((record.account, record.region), []).append(record)
    return groups


class SweepActions:
    """Release, delete, retry or leave one judged record; log and notify what was done."""

    rules: RuleSet
    ledger: Ledger
    quarantiner: Quarantiner
    notifier: Notifier | None
    telemetry: Any
    provider: str
    text: CloudText

    @property
    def keys(self) -> Keys:
        return Keys.with_prefix(self.rules.stamp.prefix if self.rules.stamp is not None else "tagwarden:")

    # --- hooks ---------------------------------------------------------------------------------

    def _read(self, records: Sequence[ResourceRecord]) -> list[Found]:
        """Each record with its resource and current tags (None: gone)."""
        raise NotImplementedError

    def _remove_marker(self, resource: Resource, tags: Mapping[str, str], keys: Iterable[str]) -> bool:
        raise NotImplementedError

    def _write_tags(self, resource: Resource, tags: Mapping[str, str]) -> None:
        raise NotImplementedError

    def _scope(self, where: Where) -> SweepActions | Deferral:
        """The actions for one account-region (the adapter's clients there), or why nothing may
        be done there. By default: these actions, everywhere."""
        return self

    def _halted(self) -> Deferral | None:
        """Why this scope acts on nothing more in this sweep (throttled, out of time), or None."""
        return None

    def _misplaced(self, record: ResourceRecord) -> Deferral | None:
        """Why a record must not be acted on in its own scope (its resource id names another
        account, say), or None. By default: never."""
        return None

    def _deferral(self, exc: Exception) -> Deferral:
        """What a failure to read or act in this scope means (the adapter knows throttling)."""
        return Deferral("error", f"{type(exc).__name__}: {exc}")

    def _each(self, work: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """`work` over the scopes, in order; an adapter may run them concurrently (bounded)."""
        return [work(item) for item in items]

    # --- the shared part -----------------------------------------------------------------------

    def _sweep_rows(self, now: float) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """Judge and act on every live record, scope by scope; the rows, and how many per verdict."""
        records = [r for r in self.ledger.in_state(*LIVE_STATES) if r.provider == self.provider]
        scopes, left = self._read_scopes(records)
        judged = sweep([f for _, found in scopes for f in found], self.rules, now)
        rows = left + self._act_scopes(scopes, judged, now, lambda j: True)
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
        return rows, counts

    def _release_rows(self, resource_ids: Iterable[str], now: float) -> dict[str, Any]:
        """Someone wrote tags: release what is now attributed, at once. A tag write never deletes:
        deletion is the scheduled sweep's."""
        records = []
        for rid in dict.fromkeys(resource_ids):
            record = self.ledger.get(self.provider, rid)
            if record is not None and record.state in LIVE_STATES:
                records.append(record)
        scopes, left = self._read_scopes(records)
        judged = [judge(f, self.rules, now) for _, found in scopes for f in found]
        rows = left + self._act_scopes(scopes, judged, now, lambda j: j.verdict is Verdict.RELEASE)
        skipped = None if rows else "tag write on resources tagwarden has not quarantined"
        return {"resources": rows, "skipped": skipped, "kind": "tag-change"}

    # --- scopes --------------------------------------------------------------------------------

    def _read_scopes(
        self, records: Sequence[ResourceRecord]
    ) -> tuple[list[tuple[SweepActions, list[Found]]], list[dict[str, Any]]]:
        """Each scope's actions and what they read; the rows of the records left unread."""
        read = self._each(lambda item: self._read_scope(*item), list(by_where(records).items()))
        scopes = [(scope, found) for scope, found, _ in read if scope is not None]
        return scopes, [row for _, _, left in read for row in left]

    def _read_scope(
        self, where: Where, records: list[ResourceRecord]
    ) -> tuple[SweepActions | None, list[Found], list[dict[str, Any]]]:
        scope = self._scope(where)
        if isinstance(scope, Deferral):
            return None, [], self._defer(where, records, scope)
        left: list[dict[str, Any]] = []
        fine = []
        for record in records:
            why = scope._misplaced(record)
            if why is None:
                fine.append(record)
            else:
                left += self._defer(where, [record], why)
        try:
            return scope, scope._read(fine) if fine else [], left
        except Exception as exc:  # one account-region must not stop the others: left, logged
            return None, [], left + self._defer(where, fine, scope._deferral(exc))

    def _act_scopes(
        self,
        scopes: Sequence[tuple[SweepActions, list[Found]]],
        judged: Sequence[Judgement],
        now: float,
        acts: Callable[[Judgement], bool],
    ) -> list[dict[str, Any]]:
        """Each scope acts on its judgements (those `acts` refuses are rows only, left)."""
        owner = {id(f): n for n, (_, found) in enumerate(scopes) for f in found}
        mine: list[list[Judgement]] = [[] for _ in scopes]
        for j in judged:
            mine[owner[id(j.found)]].append(j)

        def act(n: int) -> list[dict[str, Any]]:
            return scopes[n][0]._act_all(mine[n], now, acts)

        return [row for rows in self._each(act, range(len(scopes))) for row in rows]

    def _act_all(
        self, judged: Sequence[Judgement], now: float, acts: Callable[[Judgement], bool]
    ) -> list[dict[str, Any]]:
        """Act on one scope's judgements in order until it halts or fails; the rest are left."""
        rows: list[dict[str, Any]] = []
        for n, j in enumerate(judged):
            if not acts(j):
                rows.append(_row(j, verdict=Verdict.LEAVE))
                continue
            halt = self._halted()
            if halt is None:
                try:
                    rows.append(self._act(j, now))
                    continue
                except Exception as exc:  # e.g. the ledger unreachable: this scope stops here
                    halt = self._deferral(exc)
            record = j.found.record
            rest = [later.found.record for later in judged[n:]]
            rows += self._defer((record.account, record.region), rest, halt)
            break
        return rows

    def _defer(self, where: Where, records: Sequence[ResourceRecord], why: Deferral) -> list[dict[str, Any]]:
        """Rows for records left for the next sweep, and one log line for them."""
        if records:
            self.telemetry.log(
                "error" if why.kind == "error" else "warning",  # an unexpected failure is loud
                "left for the next sweep",
                account=where[0],
                region=where[1],
                kind=why.kind,
                reason=why.reason,
                resources=len(records),
                first=records[0].resource_id,
            )
        return [
            {
                "resource": r.resource_id,
                "type": r.type,
                "verdict": Verdict.LEAVE.value,
                "reason": why.reason,
                "problems": [],
                "status": None,
                "left": why.kind,
            }
            for r in records
        ]

    def _act(self, j: Judgement, now: float) -> dict[str, Any]:
        row = _row(j)
        handler = {
            Verdict.RELEASE: self._release,
            Verdict.DELETE: self._delete,
            Verdict.RETRY: self._retry,
            Verdict.GONE: self._gone,
        }.get(j.verdict)
        outcome = handler(j, now, row) if handler is not None else None
        if outcome is None:
            self.telemetry.log(
                "info", "left in quarantine", resource=j.found.record.resource_id, reason=j.reason
            )
            return row
        kind, result = outcome
        row["status"], row["detail"] = result.status.value, result.detail
        self.telemetry.log(
            "error" if result.status is Status.FAILED else "warning",
            "lifecycle action",
            action=result.action,
            status=result.status.value,
            resource=result.resource.id,
            detail=result.detail,
            reason=j.reason,
            at=iso_epoch(now),
        )
        if kind:
            self._notify(j, kind, result)
        return row

    def _notify(self, j: Judgement, kind: str, result: ActionResult) -> None:
        """One notification; who created it and where it is come from the ledger, never a tag."""
        if self.notifier is None:
            return
        record, resource = j.found.record, j.found.resource
        missing = tuple(p.split(" ", 1)[0] for p in j.problems)
        n = Notification(
            kind=kind,
            provider=record.provider,
            resource_id=record.resource_id,
            resource_type=resource.type,
            account=record.account,
            region=record.region,
            creator=actor_of(record).identity,
            creator_address=None,
            rule=j.rule or record.rule,
            missing=missing,
            action=j.verdict.value,
            deadline=iso_epoch(record.deadline) if record.deadline is not None else None,
            dry_run=result.status is Status.DRY_RUN,
            detail=result.detail,
            fix=self.text.fix_command(record.resource_id, resource.type, missing)
            if missing and kind not in ("released", "deleted")
            else "",
            account_label=self.text.account_label,
            region_label=self.text.region_label,
        )
        try:
            self.notifier.send(n)
        except Exception as exc:  # logged with the message: the action itself is done
            self.telemetry.log(
                "error", "notification failed", error=str(exc), resource=n.resource_id, kind=n.kind
            )

    def _move(self, record: ResourceRecord, to: LifecycleState, **changes: Any) -> ResourceRecord | None:
        """The versioned ledger update that authorises the next call; None when someone else moved
        the record first (their change stands: nothing is done)."""
        try:
            moved = advance(record, to, **changes)
            self.ledger.update(moved)
        except Conflict as exc:
            self.telemetry.log("warning", "ledger record changed meanwhile", resource=record.resource_id,
                               error=str(exc))  # fmt: skip
            return None
        return moved

    def _undo_move(self, moved: ResourceRecord, to: LifecycleState, detail: str) -> None:
        try:
            self.ledger.update(revert(moved, to, detail=detail))
        except Conflict as exc:
            self.telemetry.log("error", "ledger revert failed", resource=moved.resource_id, error=str(exc))

    def _release(self, j: Judgement, now: float, row: dict[str, Any]) -> tuple[str, ActionResult] | None:
        record, resource = j.found.record, j.found.resource
        if acting_dry(self.rules):
            return "released", ActionResult(
                resource, "release", Status.DRY_RUN, detail=f"dry run: {j.reason}"
            )
        moved = self._move(record, S.RELEASED, released_at=now, released_by="sweeper", detail=j.reason)
        if moved is None:
            return None
        if record.state is S.QUARANTINED and record.undo:
            result = self.quarantiner.release(resource, record.undo, dry_run=False)
        else:
            result = ActionResult(resource, "release", Status.DONE, detail="nothing to undo")
        if result.status is Status.FAILED:
            self._undo_move(moved, record.state, f"release failed: {result.detail}")
            return "failed", result
        row["marker_removed"] = self._remove_marker(
            resource, j.found.tags or {}, {*record.marks, *self.keys.all()}
        )
        return "released", result

    def _delete(self, j: Judgement, now: float, row: dict[str, Any]) -> tuple[str, ActionResult] | None:
        record, resource = j.found.record, j.found.resource
        dry = acting_dry(self.rules) or j.dry_run
        if dry:
            if j.dry_run and record.notified_at is not None:
                self.telemetry.log("info", "left in quarantine", resource=resource.id,
                                   reason="delete dry-run, notified before")  # fmt: skip
                return None
            result = self.quarantiner.delete(resource, dry_run=True)
            if not acting_dry(self.rules):
                self._move(record, record.state, notified_at=now)
            return "deleted", result
        moved = self._move(record, S.DELETED, deleted_at=now, detail=j.reason)
        if moved is None:
            return None
        result = self.quarantiner.delete(resource, dry_run=False)
        if result.status is Status.UNSUPPORTED:
            self._undo_move(moved, record.state, result.detail)
            current = self.ledger.get(record.provider, record.resource_id)
            if current is not None:  # tagwarden will never delete it: say so once, stop sweeping it
                self._move(current, S.SKIPPED, detail=f"left for a person: {result.detail}")
            keys = {*record.marks, *self.keys.all()}
            row["marker_removed"] = self._remove_marker(resource, j.found.tags or {}, keys)
            detail = f"left for a person: {result.detail}"
            return "failed", ActionResult(resource, result.action, result.status, detail=detail)
        if result.status is Status.FAILED:
            self._undo_move(moved, record.state, f"delete failed: {result.detail}")
            return "failed", result
        if result.status is Status.VANISHED:
            self._move(moved, S.GONE, gone_at=now)
        return "deleted", result

    def _retry(self, j: Judgement, now: float, row: dict[str, Any]) -> tuple[str, ActionResult] | None:
        """A quarantine that failed (or crashed) at creation: again, keeping the recorded undo."""
        record, resource = j.found.record, j.found.resource
        if acting_dry(self.rules):
            return None
        result = self.quarantiner.quarantine(resource, dry_run=False)
        if result.status is Status.FAILED:
            self.telemetry.log(
                "warning", "quarantine still failing", resource=resource.id, detail=result.detail
            )
            return None
        to = S.GONE if result.status is Status.VANISHED else S.QUARANTINED
        undo = record.undo or (result.undo if result.status is Status.DONE else "")
        moved = self._move(record, to, undo=undo, quarantined_at=now, marks=self.keys.all())
        if moved is not None and to is S.QUARANTINED:
            self._write_tags(resource, marker_tags(moved, self.keys))
        return ("quarantined" if to is S.QUARANTINED else ""), result

    def _gone(self, j: Judgement, now: float, row: dict[str, Any]) -> tuple[str, ActionResult] | None:
        self._move(j.found.record, S.GONE, gone_at=now, detail=j.reason)
        return "", ActionResult(j.found.resource, "gone", Status.VANISHED, detail=j.reason)


def _row(j: Judgement, verdict: Verdict | None = None) -> dict[str, Any]:
    return {
        "resource": j.found.record.resource_id,
        "type": j.found.record.type,
        "verdict": (verdict or j.verdict).value,
        "reason": j.reason,
        "problems": list(j.problems),
        "status": None,
    }
