"""The provider-neutral enforcer with in-memory ports: every path ends acted on, skipped or raised."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from tagwarden.attribution.context import StaticLookups
from tagwarden.aws.normalize import READER
from tagwarden.aws.text import AWS_TEXT
from tagwarden.enforce import Enforcer, TagWriteFailed
from tagwarden.guards import OwnIdentity
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.lifecycle.ports import Status
from tagwarden.model import Action, SkipKind, TagChange
from tagwarden.rules.model import RuleSet
from tagwarden.tagging import Outcome, TagResult, TagWrite

import builders as b


class Recorder:
    def __init__(self) -> None:
        self.logs: list[tuple[str, str, dict[str, Any]]] = []
        self.skips: list[SkipKind] = []
        self.resources: list[tuple[Action, Outcome | None]] = []
        self.events = 0
        self.actions: list[tuple[str, str]] = []
        self.lags: list[float] = []

    def correlate(self, event_id: str) -> None:
        pass

    def log(self, level: str, message: str, **fields: Any) -> None:
        self.logs.append((level, message, fields))

    def count_events(self, n: int) -> None:
        self.events += n

    def count_resource(self, action: Action, outcome: Outcome | None) -> None:
        self.resources.append((action, outcome))

    def count_skip(self, kind: SkipKind) -> None:
        self.skips.append(kind)

    def count_failure(self, error: str) -> None:
        self.skips.append(error)  # type: ignore[arg-type]

    def count_action(self, action: str, status: Status) -> None:
        self.actions.append((action, status.value))

    def observe_lag(self, seconds: float) -> None:
        self.lags.append(seconds)


class Writer:
    def __init__(self, outcome: Outcome = Outcome.TAGGED) -> None:
        self.outcome = outcome
        self.writes: list[TagWrite] = []
        self.tags: dict[str, dict[str, str]] = {}  # what each resource carries after the writes

    def current(self, resource: Any) -> dict[str, str]:
        return {**(resource.request_tags or {}), **self.tags.get(resource.id, {})}

    def __call__(self, writes: Sequence[TagWrite], region: str | None) -> list[TagResult]:
        self.writes.extend(writes)
        if self.outcome is Outcome.TAGGED:
            for w in writes:
                self.tags.setdefault(w.resource.id, {}).update(w.tags)
        return [
            TagResult(
                w.resource, self.outcome, w.tags, 1, None if self.outcome is Outcome.TAGGED else "X: no"
            )
            for w in writes
        ]


def enforcer(rules: RuleSet, writer: Writer | None = None) -> Enforcer:
    writer = writer or Writer()
    return Enforcer(
        rules=rules,
        write=writer,
        current_tags=writer.current,
        lookups=lambda: StaticLookups(principal={"Outcome-ID": "OUT-1001"}),
        ledger=SqliteLedger(),
        own=OwnIdentity(arns=("arn:aws:iam::*:role/tagwarden-*",)),
        telemetry=Recorder(),
        read=READER,
        text=AWS_TEXT,
    )


def test_acts_and_records(example_rules: RuleSet) -> None:
    e = enforcer(example_rules)
    (report,) = e.handle(b.eventbridge(b.run_instances(tags={"CostCenter": "101"})))["events"]
    assert [r["outcome"] for r in report["resources"]] == ["tagged", "tagged"]
    assert e.write.writes[0].tags["Agent-ID"] == "42"  # type: ignore[attr-defined]
    assert e.telemetry.resources == [(Action.TAG, Outcome.TAGGED)] * 2  # type: ignore[attr-defined]


def test_skip_is_logged_and_counted(example_rules: RuleSet) -> None:
    e = enforcer(example_rules)
    (report,) = e.handle(b.run_instances(error_code="AccessDenied"))["events"]
    assert report["kind"] == "failed-call"
    assert e.telemetry.skips == [SkipKind.FAILED_CALL]  # type: ignore[attr-defined]
    assert e.telemetry.logs[-1][1] == "event skipped"  # type: ignore[attr-defined]


def test_own_call_and_duplicate(example_rules: RuleSet) -> None:
    e = enforcer(example_rules)
    own = b.run_instances(identity=b.assumed_role("tagwarden-enforcer", "x"))
    assert e.handle(own)["events"][0]["kind"] == "own-call"
    event = b.run_instances()
    e.handle(event)
    assert e.handle(event)["events"][0]["kind"] == "duplicate"
    assert len(e.write.writes) == 2  # type: ignore[attr-defined]  # instance + ENI, once


def test_failure_raises_and_releases_the_claim(example_rules: RuleSet) -> None:
    writer = Writer(Outcome.FAILED)
    e = enforcer(example_rules, writer)
    event = b.run_instances()
    with pytest.raises(TagWriteFailed, match="2 of 2 tag writes failed"):
        e.handle(event)
    writer.outcome = Outcome.TAGGED
    assert e.handle(event)["events"][0]["skipped"] is None  # the retry acts


def test_unattributed_resources_are_marked_and_notified(example_rules: RuleSet) -> None:
    e = enforcer(example_rules)
    e.lookups = lambda: StaticLookups(principal={})
    e.handle(b.run_instances(identity=b.assumed_role("agent-fleet-unmapped", "agent-9")))
    logs = e.telemetry.logs  # type: ignore[attr-defined]
    actions = [f for level, msg, f in logs if msg == "lifecycle action"]
    assert [a["status"] for a in actions] == ["marked-only"]  # no quarantiner; the ENI follows its instance
    notes = [f for level, msg, f in logs if msg == "notification"]
    assert {n["n_kind"] for n in notes} == {"quarantined"}
    assert all(n["n_deadline"] for n in notes)
    written = {w.resource.type: w.tags for w in e.write.writes}  # type: ignore[attr-defined]
    assert written["AWS::EC2::Instance"]["tagwarden:quarantine"] == "quarantined"
    assert written["AWS::EC2::Instance"]["tagwarden:reason"] == "missing CostCenter Outcome-ID"
    assert "tagwarden:quarantine" not in written["AWS::EC2::NetworkInterface"]


EVENT_TIME = 1_795_946_400.0  # 2026-11-29T10:00:00Z, the builders' eventTime


@pytest.mark.parametrize(
    ("clock", "lags"),
    [
        (EVENT_TIME + 2.5, [2.5]),  # delivery and our work
        (EVENT_TIME - 30, [0.0]),  # the event's clock ahead of ours: no negative lag
    ],
)
def test_lag_from_event_time_to_tags_written_once_per_event(
    example_rules: RuleSet, clock: float, lags: list[float]
) -> None:
    e = enforcer(example_rules)
    e.clock = lambda: clock
    e.handle(b.run_instances())  # two resources tagged: one lag for the event
    assert e.telemetry.lags == lags  # type: ignore[attr-defined]


def test_no_lag_without_a_tag_written_or_a_readable_time(example_rules: RuleSet) -> None:
    import msgspec

    from tagwarden.rules.model import Mode

    e = enforcer(msgspec.structs.replace(example_rules, mode=Mode.AUDIT))
    e.clock = lambda: EVENT_TIME + 1
    e.handle(b.run_instances())  # audit: nothing written
    e = enforcer(example_rules, Writer(Outcome.VANISHED))
    e.handle(b.run_instances())  # vanished: nothing written
    e = enforcer(example_rules)
    event = b.run_instances()
    event["eventTime"] = "yesterday"
    e.handle(event)
    assert e.telemetry.lags == []  # type: ignore[attr-defined]
    assert e.write.writes  # type: ignore[attr-defined]  # tagged all the same


def test_lifecycle_actions_are_counted_by_action_and_status(example_rules: RuleSet) -> None:
    e = enforcer(example_rules)
    e.lookups = lambda: StaticLookups(principal={})
    e.handle(b.run_instances(identity=b.assumed_role("agent-fleet-unmapped", "agent-9")))
    assert e.telemetry.actions == [("quarantine", "marked-only")]  # type: ignore[attr-defined]


def test_dry_run_writes_nothing_but_notifies(example_rules: RuleSet) -> None:
    import msgspec

    from tagwarden.rules.model import Lifecycle

    e = enforcer(msgspec.structs.replace(example_rules, lifecycle=Lifecycle(dry_run=True)))
    e.lookups = lambda: StaticLookups(principal={})
    e.handle(b.run_instances(identity=b.assumed_role("agent-fleet-unmapped", "agent-9")))
    assert e.write.writes == []  # type: ignore[attr-defined]
    notes = [f for level, msg, f in e.telemetry.logs if msg == "notification"]  # type: ignore[attr-defined]
    assert notes and all(n["n_dry_run"] for n in notes)


def test_tag_writes_by_others_go_to_one_release_and_ours_are_skipped(example_rules: RuleSet) -> None:
    e = enforcer(example_rules)
    released: list[list[TagChange]] = []

    def release(changes: Sequence[TagChange]) -> dict[str, Any]:
        released.append(list(changes))
        return {"released": len(changes), "resources": []}

    e.release = release
    theirs = b.cloudtrail(
        "CreateTags",
        "ec2.amazonaws.com",
        {"resourcesSet": {"items": [{"resourceId": "i-1"}]}},
        None,
        b.iam_user("bob"),
    )
    ours = b.cloudtrail(
        "CreateTags",
        "ec2.amazonaws.com",
        {"resourcesSet": {"items": [{"resourceId": "i-2"}]}},
        None,
        b.assumed_role("tagwarden-enforcer", "x"),
    )
    events = e.handle([b.eventbridge(theirs), b.eventbridge(ours), b.eventbridge(b.run_instances())])[
        "events"
    ]
    assert [len(batch) for batch in released] == [1]
    assert released[0][0].actor.identity.endswith("user/bob")
    assert events[-1] == {"released": 1, "resources": []}  # after the create, one report
    assert e.write.writes  # type: ignore[attr-defined]  # the create in the same delivery was acted on
    (only_ours,) = e.handle(b.eventbridge(ours))["events"]
    assert only_ours["kind"] == "own-call" and only_ours["event_name"] == "CreateTags"
    assert len(released) == 1
    e.release = None
    (unwired,) = e.handle(b.eventbridge(theirs))["events"]
    assert unwired["kind"] == "tag-write"


def test_an_unknown_create_is_counted_each_time_and_warned_about_once() -> None:
    from tagwarden import enforce

    enforce._GAPS_WARNED.clear()
    rec = Recorder()
    for source, name in [("zz.amazonaws.com", "CreateThing"), ("zz.amazonaws.com", "CreateThing"),
                         ("zz.amazonaws.com", "CreateOther")]:  # fmt: skip
        report = enforce.skip_report(
            rec, "e", name, SkipKind.NOT_IN_CATALOGUE, f"{source} {name} is not in the catalogue"
        )
        assert report["kind"] == "not-in-catalogue"
    assert rec.skips == [SkipKind.NOT_IN_CATALOGUE] * 3
    warned = [f["reason"] for level, msg, f in rec.logs if level == "warning"]
    assert warned == [
        "zz.amazonaws.com CreateThing is not in the catalogue",
        "zz.amazonaws.com CreateOther is not in the catalogue",
    ]
    # Other skips are never warned about.
    enforce.skip_report(rec, "e", "DescribeThing", SkipKind.READ_ONLY, "read-only call DescribeThing")
    assert len([1 for level, _, _ in rec.logs if level == "warning"]) == 2
