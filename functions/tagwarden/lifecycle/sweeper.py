"""What a sweeper does with each judgement, the same for every cloud, through the ledger.

The work list is the ledger's (`in_state` of the lifecycle states), never a listing of the cloud
by tag. Every change is written to the ledger *before* the cloud call that it authorises (a
versioned update: a concurrent release, sweep or replay makes it fail and nothing is done), and
reverted if that call fails. The adapters (tagwarden.aws.sweeper, tagwarden.azure.sweeper)
implement the hooks: read the current tags of recorded resources, remove the marker display, write
tags; they hand in their words (a CloudText) for the notifications.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

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

    def _where(self, resource: Resource) -> tuple[str, str | None]:
        """The resource's account (subscription) and region (location)."""
        raise NotImplementedError

    # --- the shared part -----------------------------------------------------------------------

    def _sweep_rows(self, now: float) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """Judge and act on every live record; the rows, and how many per verdict."""
        records = [r for r in self.ledger.in_state(*LIVE_STATES) if r.provider == self.provider]
        rows = [self._act(j, now) for j in sweep(self._read(records), self.rules, now)]
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
        rows: list[dict[str, Any]] = []
        for f in self._read(records):
            j = judge(f, self.rules, now)
            if j.verdict is Verdict.RELEASE:
                rows.append(self._act(j, now))
            else:
                rows.append(_row(j, verdict=Verdict.LEAVE))
        skipped = None if rows else "tag write on resources tagwarden has not quarantined"
        return {"resources": rows, "skipped": skipped, "kind": "tag-change"}

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
