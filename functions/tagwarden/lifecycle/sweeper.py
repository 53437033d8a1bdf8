"""What a sweeper does with each judgement, the same for every cloud.

The adapters (tagwarden.aws.sweeper, tagwarden.azure.sweeper) find marked resources, hand in their
words (a CloudText) and implement small hooks: remove the marker, tag the "planned deletion
notified" notice, write tags, and say where a resource is (account, region).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from tagwarden.attribution.limits import LIMITS, tag_value
from tagwarden.lifecycle.marker import Keys, State, iso, marker_tags
from tagwarden.lifecycle.ports import ActionResult, CloudText, Notification, Notifier, Quarantiner, Status
from tagwarden.lifecycle.sweep import Found, Judgement, Verdict, acting_dry, judge, needs_undo, sweep
from tagwarden.model import Resource
from tagwarden.rules.model import RuleSet


class SweepActions:
    """Release, delete or leave one judged resource; log and notify what was done."""

    rules: RuleSet
    quarantiner: Quarantiner
    notifier: Notifier | None
    telemetry: Any
    text: CloudText

    @property
    def keys(self) -> Keys:
        return Keys.with_prefix(self.rules.stamp.prefix if self.rules.stamp is not None else "tagwarden:")

    @property
    def notice_key(self) -> str:
        """Set when a planned (dry-run) deletion was notified, so it is notified once, not every sweep."""
        return self.keys.state.replace("quarantine", "dry-run-notified")

    # --- hooks ---------------------------------------------------------------------------------

    def _remove_marker(self, resource: Resource, tags: Mapping[str, str]) -> bool:
        raise NotImplementedError

    def _mark_notice(self, resource: Resource, now: datetime) -> None:
        raise NotImplementedError

    def _write_tags(self, resource: Resource, tags: Mapping[str, str]) -> None:
        raise NotImplementedError

    def _where(self, resource: Resource) -> tuple[str, str | None]:
        """The resource's account (subscription) and region (location)."""
        raise NotImplementedError

    # --- the shared part -----------------------------------------------------------------------

    def _sweep_rows(
        self, found: Iterable[Found], now: datetime
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """Judge and act on every marked resource; the rows, and how many per verdict."""
        rows = [self._act(j, now) for j in sweep(list(found), self.rules, now)]
        counts: dict[str, int] = {}
        for row in rows:
            counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
        return rows, counts

    def _release_rows(self, found: Iterable[Found], now: datetime) -> dict[str, Any]:
        """Someone wrote tags: release what is now attributed, at once. A tag write never deletes:
        deletion is the scheduled sweep's."""
        rows: list[dict[str, Any]] = []
        for f in found:
            j = judge(f, self.rules, now)
            if j is None:
                continue  # not ours
            if j.verdict is Verdict.RELEASE:
                rows.append(self._act(j, now))
            else:
                rows.append(
                    {
                        "resource": f.resource.id,
                        "verdict": Verdict.LEAVE.value,
                        "reason": j.reason,
                        "problems": list(j.problems),
                        "status": None,
                    }
                )
        skipped = None if rows else "tag write on resources tagwarden has not quarantined"
        return {"resources": rows, "skipped": skipped, "kind": "tag-change"}

    def _act(self, j: Judgement, now: datetime) -> dict[str, Any]:
        resource = j.found.resource
        row: dict[str, Any] = {
            "resource": resource.id,
            "type": resource.type,
            "verdict": j.verdict.value,
            "reason": j.reason,
            "problems": list(j.problems),
            "status": None,
        }
        dry_run = acting_dry(self.rules)
        result: ActionResult | None = None
        kind = ""
        if j.verdict is Verdict.RELEASE:
            if needs_undo(j):
                result = self.quarantiner.release(resource, j.marker.undo, dry_run=dry_run)
            else:
                status = Status.DRY_RUN if dry_run else Status.DONE
                result = ActionResult(resource, "release", status, detail="nothing to undo: marker removed")
            if result.status in (Status.DONE, Status.MARKED_ONLY) and not dry_run:
                row["marker_removed"] = self._remove_marker(resource, j.found.tags)
            kind = "released" if result.status is not Status.FAILED else "failed"
        elif j.verdict is Verdict.DELETE:
            notified = tag_value(j.found.tags, self.notice_key, LIMITS[j.found.provider]) is not None
            if j.dry_run and notified:
                why = "delete dry-run, notified before"
                self.telemetry.log("info", "left in quarantine", resource=resource.id, reason=why)
                return row  # planned and notified once: not every sweep
            result = self.quarantiner.delete(resource, dry_run=dry_run or j.dry_run)
            if result.status is Status.DRY_RUN and not dry_run:
                self._mark_notice(resource, now)
            kind = "deleted" if result.status in (Status.DONE, Status.DRY_RUN, Status.VANISHED) else "failed"
            if result.status is Status.UNSUPPORTED and not dry_run:
                # tagwarden will never delete it: say so once, and stop sweeping it
                row["marker_removed"] = self._remove_marker(resource, j.found.tags)
                detail = f"left for a person: {result.detail}"
                result = ActionResult(resource, result.action, result.status, detail=detail)
        elif j.marker.state is State.QUARANTINE_PENDING and j.sealed and not j.exempt and not dry_run:
            result = self._retry_quarantine(j)
            kind = "quarantined"
            if result.status is Status.FAILED:
                row["status"], row["detail"] = result.status.value, result.detail
                self.telemetry.log(
                    "warning", "quarantine still failing", resource=resource.id, detail=result.detail
                )
                return row  # notified when it first failed; tried again next sweep
        if result is None:
            self.telemetry.log("info", "left in quarantine", resource=resource.id, reason=j.reason)
            return row
        row["status"] = result.status.value
        row["detail"] = result.detail
        self.telemetry.log(
            "error" if result.status is Status.FAILED else "warning",
            "lifecycle action",
            action=result.action,
            status=result.status.value,
            resource=resource.id,
            detail=result.detail,
            reason=j.reason,
            at=iso(now),
        )
        self._notify(j, kind, result)
        return row

    def _notify(self, j: Judgement, kind: str, result: ActionResult) -> None:
        if self.notifier is None:
            return
        found = j.found
        missing = tuple(p.split(" ", 1)[0] for p in j.problems)
        account, region = self._where(found.resource)
        prefix = self.rules.stamp.prefix if self.rules.stamp else "tagwarden:"
        n = Notification(
            kind=kind,
            provider=found.provider.value,
            resource_id=found.resource.id,
            resource_type=found.resource.type,
            account=account,
            region=region,
            creator=tag_value(found.tags, prefix + "creator", LIMITS[found.provider]),
            creator_address=None,
            rule=j.marker.rule,
            missing=missing,
            action=j.verdict.value,
            deadline=iso(j.marker.deadline),
            dry_run=result.status is Status.DRY_RUN,
            detail=result.detail,
            fix=self.text.fix_command(found.resource.id, found.resource.type, missing)
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

    def _retry_quarantine(self, j: Judgement) -> ActionResult:
        """A quarantine that failed at creation (the resource was still being created): try again,
        and on success seal the marker as quarantined with its undo token, same deadline."""
        result = self.quarantiner.quarantine(j.found.resource, dry_run=False)
        if result.status in (Status.DONE, Status.MARKED_ONLY):
            marker = dataclasses.replace(
                j.marker,
                state=State.QUARANTINED,
                undo=result.undo if result.status is Status.DONE else "",
                seal="",
            )
            key, rid = self.rules.lifecycle.seal_key, j.found.resource.id
            self._write_tags(j.found.resource, marker_tags(marker, j.found.provider, self.keys, key, rid))
        return result
