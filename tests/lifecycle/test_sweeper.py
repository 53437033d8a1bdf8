"""SweepActions with in-memory hooks: a failed quarantine is retried by the sweep, and sealed."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tagwarden.lifecycle.marker import Keys, Marker, State, marker_tags, read_marker, verify
from tagwarden.lifecycle.ports import ActionResult, Status
from tagwarden.lifecycle.sweep import Found, judge
from tagwarden.lifecycle.sweeper import SweepActions
from tagwarden.model import Provider, Resource
from tagwarden.rules import load_rules_text

from conftest import EXAMPLE_RULES

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
KEY = "k"
DB = Resource(id="arn:aws:rds:us-east-1:123456789012:db:db1", type="AWS::RDS::DBInstance", native_id="db1")
RULES = load_rules_text(EXAMPLE_RULES.read_text(), env={"TAGWARDEN_MARKER_KEY": KEY})


class Quarantiner:
    def __init__(self, *statuses: Status) -> None:
        self.statuses = list(statuses)
        self.calls = 0

    def quarantine(self, resource: Resource, *, dry_run: bool) -> ActionResult:
        self.calls += 1
        status = self.statuses.pop(0)
        undo = "state=available" if status is Status.DONE else ""
        return ActionResult(
            resource, "quarantine", status, undo, "NotReady: creating" if status is Status.FAILED else ""
        )

    def release(self, resource: Resource, undo: str, *, dry_run: bool) -> ActionResult:
        raise AssertionError("not expected")

    def delete(self, resource: Resource, *, dry_run: bool) -> ActionResult:
        raise AssertionError("not expected")


class Log:
    def log(self, level: str, message: str, **fields: Any) -> None:
        self.last = (level, message, fields)


class Sweeper(SweepActions):
    def __init__(self, quarantiner: Quarantiner, tags: dict[str, str]) -> None:
        self.rules, self.quarantiner, self.telemetry = RULES, quarantiner, Log()  # type: ignore[assignment]
        self.tags = tags
        self.notified: list[str] = []

    def _remove_marker(self, resource: Resource, tags: Mapping[str, str]) -> bool:
        raise AssertionError("not expected")

    def _mark_notice(self, resource: Resource, now: datetime) -> None:
        raise AssertionError("not expected")

    def _notify(self, j: Any, kind: str, result: ActionResult) -> None:
        self.notified.append(kind)

    def _write_tags(self, resource: Resource, tags: Mapping[str, str]) -> None:
        self.tags.update(tags)


def pending(protect: bool = False) -> dict[str, str]:
    m = Marker(State.QUARANTINE_PENDING, NOW + timedelta(hours=4), "missing CostCenter", "", "agents-aws")
    tags = marker_tags(m, Provider.AWS, Keys.with_prefix(), KEY, DB.id)
    return {**tags, **({"tagwarden:protect": "yes"} if protect else {})}


def test_failed_quarantine_is_retried_until_it_works_then_sealed() -> None:
    tags = pending()
    q = Quarantiner(Status.FAILED, Status.DONE)
    s = Sweeper(q, tags)
    j = judge(Found(DB, dict(tags), Provider.AWS), RULES, NOW)
    assert j is not None
    row = s._act(j, NOW)
    assert row["status"] == "failed" and s.notified == []  # notified when it first failed
    j = judge(Found(DB, dict(tags), Provider.AWS), RULES, NOW)
    assert j is not None
    s._act(j, NOW)
    assert s.notified == ["quarantined"]
    marker = read_marker(tags, Keys.with_prefix())
    assert marker is not None and marker.state is State.QUARANTINED and marker.undo == "state=available"
    assert marker.deadline == NOW + timedelta(hours=4)  # the same deadline
    assert verify(KEY, DB.id, marker)


def test_protected_resources_are_not_quarantined_later() -> None:
    tags = pending(protect=True)
    q = Quarantiner(Status.DONE)
    j = judge(Found(DB, dict(tags), Provider.AWS), RULES, NOW)
    assert j is not None and j.exempt
    Sweeper(q, tags)._act(j, NOW)
    assert q.calls == 0
