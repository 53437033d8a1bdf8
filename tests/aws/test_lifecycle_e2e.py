"""Whole lifecycles over real HTTP (moto's server): create -> quarantine -> fixed -> released and
restored exactly; create -> quarantine -> deadline -> deleted; dry-run; protected; notifications."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tagwarden.aws.clients import Clients
from tagwarden.aws.enforcer import AwsEnforcer, build, build_sweeper
from tagwarden.aws.sweeper import AwsSweeper
from tagwarden.aws.telemetry import Telemetry
from tagwarden_testing.moto_world import agent_role, client, moto_server

import builders as b
from conftest import EXAMPLE_RULES

pytestmark = pytest.mark.e2e

HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def world() -> Iterator[dict[str, str]]:
    with moto_server():
        agent_role("agent-fleet-adhoc")
        sns, sqs = client("sns"), client("sqs")
        topic = sns.create_topic(Name="tagwarden-notifications")["TopicArn"]
        url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        yield {"topic": topic, "inbox": url}


def rules_file(tmp_path: Path, lifecycle: str = "  delete_dry_run: false\n") -> str:
    path = tmp_path / "rules.yaml"
    path.write_text(EXAMPLE_RULES.read_text() + "lifecycle:\n" + lifecycle)
    return str(path)


def env(world: dict[str, str], rules: str) -> dict[str, str]:
    return {
        "TAGWARDEN_RULES_PATH": rules,
        "TAGWARDEN_SNS_TOPIC_ARN": world["topic"],
        "TAGWARDEN_NOT_FOUND_WINDOW": "0.5",
        "TAGWARDEN_LEDGER": str(Path(rules).with_name("ledger.sqlite")),
    }


def pair(world: dict[str, str], rules: str, clock: Clock) -> tuple[AwsEnforcer, AwsSweeper]:
    e = build(env(world, rules), clients=Clients(), telemetry=Telemetry())
    s = build_sweeper(env(world, rules), clients=Clients(), telemetry=Telemetry())
    e.clock = s.clock = clock
    return e, s


def inbox(world: dict[str, str]) -> list[dict[str, Any]]:
    sqs = client("sqs")
    out = []
    while msgs := sqs.receive_message(QueueUrl=world["inbox"], MaxNumberOfMessages=10).get("Messages", []):
        for m in msgs:
            out.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=world["inbox"], ReceiptHandle=m["ReceiptHandle"])
    return out


def launch(tags: dict[str, str] | None = None) -> tuple[str, dict[str, Any]]:
    got = client("ec2").run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
    pairs = [(got["InstanceId"], [n["NetworkInterfaceId"] for n in got["NetworkInterfaces"]])]
    if tags:
        client("ec2").create_tags(
            Resources=[got["InstanceId"]], Tags=[{"Key": k, "Value": v} for k, v in tags.items()]
        )
    record = b.run_instances(
        tags=tags, identity=b.assumed_role("agent-fleet-adhoc", "agent-13"), instances=pairs
    )
    return got["InstanceId"], b.eventbridge(record)


def state(instance: str) -> str:
    return str(
        client("ec2").describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["State"][
            "Name"
        ]
    )


def tags_of(instance: str) -> dict[str, str]:
    found = client("ec2").describe_tags(Filters=[{"Name": "resource-id", "Values": [instance]}])["Tags"]
    return {t["Key"]: t["Value"] for t in found}


def test_quarantine_then_fixed_then_released_exactly(world: dict[str, str], tmp_path: Path) -> None:
    inbox(world)
    clock = Clock()
    e, s = pair(world, rules_file(tmp_path), clock)
    instance, event = launch()
    assert state(instance) == "running"
    e.handle(event)
    assert state(instance) == "stopped"
    tags = tags_of(instance)
    assert tags["tagwarden:quarantine"] == "quarantined"
    assert tags["tagwarden:undo"] == "state=running"
    sent = inbox(world)
    quarantined = [m for m in sent if m["kind"] == "quarantined" and m["resource_id"].endswith(instance)]
    assert (
        quarantined and "CostCenter" in quarantined[0]["missing"] and "tag-resources" in quarantined[0]["fix"]
    )

    clock.now += 1 * HOUR  # within the 4h grace: left alone
    assert [r["verdict"] for r in s.run()["resources"] if r["resource"].endswith(instance)] == ["leave"]

    # The agent's owner adds the missing tags; the next sweep releases and restores it.
    client("ec2").create_tags(
        Resources=[instance],
        Tags=[{"Key": "CostCenter", "Value": "101"}, {"Key": "Outcome-ID", "Value": "OUT-5555"}],
    )
    clock.now += 1 * HOUR
    rows = [r for r in s.run()["resources"] if r["resource"].endswith(instance)]
    assert [(r["verdict"], r["status"]) for r in rows] == [("release", "done")]
    assert state(instance) == "running"
    after = tags_of(instance)
    assert not any(
        k in after
        for k in ("tagwarden:quarantine", "tagwarden:deadline", "tagwarden:undo", "tagwarden:reason")
    )
    assert after["CostCenter"] == "101" and after["Agent-ID"] == "13"
    assert any(m["kind"] == "released" and m["resource_id"].endswith(instance) for m in inbox(world))


def test_quarantine_then_deadline_then_deleted(world: dict[str, str], tmp_path: Path) -> None:
    inbox(world)
    clock = Clock()
    e, s = pair(world, rules_file(tmp_path), clock)
    instance, event = launch()
    e.handle(event)
    assert state(instance) == "stopped"
    clock.now += 5 * HOUR  # past the 4h grace, still unattributed
    rows = [r for r in s.run()["resources"] if r["resource"].endswith(instance)]
    assert [(r["verdict"], r["status"]) for r in rows] == [("delete", "done")]
    assert state(instance) in ("terminated", "shutting-down")
    assert any(
        m["kind"] == "deleted" and not m["dry_run"]
        for m in inbox(world)
        if m["resource_id"].endswith(instance)
    )


def test_delete_dry_run_by_default_plans_and_notifies_only(world: dict[str, str], tmp_path: Path) -> None:
    inbox(world)
    clock = Clock()
    e, s = pair(world, rules_file(tmp_path, "  max_deletions_per_sweep: 10\n"), clock)
    instance, event = launch()
    e.handle(event)
    clock.now += 5 * HOUR
    rows = [r for r in s.run()["resources"] if r["resource"].endswith(instance)]
    assert [(r["verdict"], r["status"]) for r in rows] == [("delete", "dry-run")]
    assert state(instance) == "stopped"  # still there
    assert any(
        m["kind"] == "deleted" and m["dry_run"] for m in inbox(world) if m["resource_id"].endswith(instance)
    )


def test_global_dry_run_changes_nothing(world: dict[str, str], tmp_path: Path) -> None:
    inbox(world)
    e, _ = pair(world, rules_file(tmp_path, "  dry_run: true\n"), Clock())
    instance, event = launch()
    e.handle(event)
    assert state(instance) == "running"
    assert tags_of(instance) == {}
    sent = [m for m in inbox(world) if m["resource_id"].endswith(instance)]
    assert sent and all(m["dry_run"] for m in sent)


def test_protected_resources_are_never_deleted(world: dict[str, str], tmp_path: Path) -> None:
    clock = Clock()
    e, s = pair(world, rules_file(tmp_path), clock)
    # the creator's own tagwarden:* tags are never trusted: quarantined anyway, and recorded
    instance, event = launch(tags={"tagwarden:protect": "oncall"})
    e.handle(event)
    assert state(instance) == "stopped"
    record = e.ledger.get("aws", f"arn:aws:ec2:us-east-1:123456789012:instance/{instance}")
    assert record is not None and dict(record.ignored) == {"tagwarden:protect": "oncall"}
    # quarantined first, protected later: the sweep never deletes it
    other, event2 = launch()
    e.handle(event2)
    client("ec2").create_tags(Resources=[other], Tags=[{"Key": "tagwarden:protect", "Value": "keep"}])
    clock.now += 10 * HOUR
    rows = [r for r in s.run()["resources"] if r["resource"].endswith(other)]
    assert [r["verdict"] for r in rows] == ["leave"] and "protected" in rows[0]["reason"]
    assert state(other) == "stopped"


def test_tag_write_by_a_person_releases_at_once(
    world: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tagwarden.aws import handler
    from tagwarden_testing.moto_world import LambdaContext

    clock = Clock()
    e, s = pair(world, rules_file(tmp_path), clock)
    monkeypatch.setattr(handler, "_ENFORCER", e)
    monkeypatch.setattr(handler, "_SWEEPER", s)
    instance, event = launch()
    handler.lambda_handler(event, LambdaContext())
    assert state(instance) == "stopped"
    fixed = [{"Key": "CostCenter", "Value": "205"}, {"Key": "Outcome-ID", "Value": "OUT-4321"}]
    client("ec2").create_tags(Resources=[instance], Tags=fixed)
    person = b.cloudtrail(
        "CreateTags",
        "ec2.amazonaws.com",
        {
            "resourcesSet": {"items": [{"resourceId": instance}]},
            "tagSet": {"items": [{"key": t["Key"], "value": t["Value"]} for t in fixed]},
        },
        {"_return": True},
        b.iam_user("bob"),
    )
    monkeypatch.setenv("TAGWARDEN_OWN_ARNS", "arn:aws:iam::*:role/tagwarden-enforcer*")
    result = handler.sweeper_handler(b.eventbridge(person), LambdaContext())  # routed by rule TagWrites
    (report,) = result["events"]
    assert [(r["verdict"], r["status"]) for r in report["resources"]] == [("release", "done")]
    assert state(instance) == "running"
    assert "tagwarden:quarantine" not in tags_of(instance)
    # the enforcer's own tag writes come back as CreateTags too: ignored
    ours = b.cloudtrail(
        "CreateTags",
        "ec2.amazonaws.com",
        {"resourcesSet": {"items": [{"resourceId": instance}]}},
        None,
        b.assumed_role("tagwarden-enforcer", "tagwarden"),
    )
    assert handler.sweeper_handler(b.eventbridge(ours), LambdaContext())["events"][0]["kind"] == "own-call"


def test_a_retried_event_never_quarantines_twice(world: dict[str, str], tmp_path: Path) -> None:
    rules = rules_file(tmp_path)
    first, _ = pair(world, rules, Clock())
    instance, event = launch()
    first.handle(event)
    assert tags_of(instance)["tagwarden:undo"] == "state=running"
    retry, _ = pair(world, rules, Clock())  # e.g. Lambda's retry after a failed write, another container
    retry.handle(event)
    assert tags_of(instance)["tagwarden:undo"] == "state=running"  # not overwritten with state=stopped


def test_delete_pending_is_released_without_an_undo(world: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(
        EXAMPLE_RULES.read_text().replace("    on_missing: quarantine\n", "    on_missing: delete\n", 1)
    )
    clock = Clock()
    e, s = pair(world, str(path), clock)
    instance, event = launch()
    e.handle(event)
    assert tags_of(instance)["tagwarden:quarantine"] == "delete-pending"
    assert state(instance) == "running"  # delete-pending does not quarantine
    client("ec2").create_tags(
        Resources=[instance],
        Tags=[{"Key": "CostCenter", "Value": "101"}, {"Key": "Outcome-ID", "Value": "OUT-1111"}],
    )
    rows = [r for r in s.run()["resources"] if r["resource"].endswith(instance)]
    assert [(r["verdict"], r["status"]) for r in rows] == [("release", "done")]
    assert "tagwarden:quarantine" not in tags_of(instance)


def test_audit_mode_sweeps_without_changing_anything(world: dict[str, str], tmp_path: Path) -> None:
    rules = rules_file(tmp_path)
    clock = Clock()
    e, _ = pair(world, rules, clock)
    instance, event = launch()
    e.handle(event)
    audit = tmp_path / "audit.yaml"
    audit.write_text(Path(rules).read_text().replace("mode: enforce", "mode: audit"))
    _, s = pair(world, str(audit), clock)
    clock.now += 10 * HOUR
    rows = [r for r in s.run()["resources"] if r["resource"].endswith(instance)]
    assert [(r["verdict"], r["status"]) for r in rows] == [("delete", "dry-run")]
    assert state(instance) == "stopped"


def test_a_planned_deletion_is_notified_once(world: dict[str, str], tmp_path: Path) -> None:
    inbox(world)
    clock = Clock()
    e, s = pair(world, rules_file(tmp_path, "  max_deletions_per_sweep: 10\n"), clock)
    instance, event = launch()
    e.handle(event)
    clock.now += 5 * HOUR
    s.run()
    s.run()
    deleted = [m for m in inbox(world) if m["kind"] == "deleted" and m["resource_id"].endswith(instance)]
    assert len(deleted) == 1 and deleted[0]["dry_run"]


# --- the attacks of issue 10: each ends safe ------------------------------------------------------


def queue(
    name: str, identity: dict[str, Any], tags: dict[str, str] | None = None
) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"queueName": name, **({"tags": tags} if tags else {})}
    url = client("sqs").create_queue(QueueName=name, **({"tags": tags} if tags else {}))["QueueUrl"]
    record = b.cloudtrail("CreateQueue", "sqs.amazonaws.com", params, {"queueUrl": url}, identity)
    return f"arn:aws:sqs:us-east-1:123456789012:{name}", b.eventbridge(record)


def queue_exists(name: str) -> bool:
    names = client("sqs").list_queues(QueueNamePrefix=name).get("QueueUrls", [])
    return any(u.rsplit("/", 1)[-1] == name for u in names)


def queue_tags(name: str) -> dict[str, str]:
    url = client("sqs").get_queue_url(QueueName=name)["QueueUrl"]
    return dict(client("sqs").list_queue_tags(QueueUrl=url).get("Tags", {}))


def test_a_marker_copied_onto_a_name_differing_only_in_case_never_deletes_it(
    world: dict[str, str], tmp_path: Path
) -> None:
    """Attack: tagwarden quarantines `Reports`; a BreakGlass role owns `reports`; someone copies
    `Reports`' marker tags (once sealed: the seal is gone, any key leaked is useless) onto it."""
    clock = Clock()
    e, s = pair(world, rules_file(tmp_path), clock)
    agent = b.assumed_role("agent-fleet-adhoc", "agent-13")
    theirs_arn, theirs = queue("Reports", agent)
    ours_arn, ours = queue("reports", b.assumed_role("BreakGlass", "oncall"))
    (report,) = e.handle(theirs)["events"]
    assert report["resources"], report
    e.handle(ours)
    marker = {k: v for k, v in queue_tags("Reports").items() if k.startswith("tagwarden:")}
    assert marker["tagwarden:quarantine"] == "quarantined"
    client("sqs").tag_queue(
        QueueUrl=client("sqs").get_queue_url(QueueName="reports")["QueueUrl"], Tags=marker
    )
    record = e.ledger.get("aws", ours_arn)
    assert record is not None and record.state.value == "skipped"  # exempt, decided by tagwarden
    clock.now += 10 * HOUR
    rows = {r["resource"]: r for r in s.run()["resources"]}
    assert ours_arn not in rows  # never in the work list, whatever it carries
    assert (rows[theirs_arn]["verdict"], rows[theirs_arn]["status"]) == ("delete", "done")
    assert queue_exists("reports") and not queue_exists("Reports")


def test_an_old_marker_replayed_after_release_never_deletes(world: dict[str, str], tmp_path: Path) -> None:
    clock = Clock()
    e, s = pair(world, rules_file(tmp_path), clock)
    instance, event = launch()
    e.handle(event)
    old_marker = {k: v for k, v in tags_of(instance).items() if k.startswith("tagwarden:")}
    fixed = [{"Key": "CostCenter", "Value": "101"}, {"Key": "Outcome-ID", "Value": "OUT-5555"}]
    client("ec2").create_tags(Resources=[instance], Tags=fixed)
    assert [r["verdict"] for r in s.run()["resources"] if r["resource"].endswith(instance)] == ["release"]
    # the owner removes the tags again, and someone re-applies the old marker
    client("ec2").delete_tags(Resources=[instance], Tags=[{"Key": t["Key"]} for t in fixed])
    client("ec2").create_tags(
        Resources=[instance], Tags=[{"Key": k, "Value": v} for k, v in old_marker.items()]
    )
    clock.now += 10 * HOUR
    assert [r for r in s.run()["resources"] if r["resource"].endswith(instance)] == []
    assert state(instance) == "running"


def test_tagwarden_tags_pre_set_in_the_create_request_are_ignored(
    world: dict[str, str], tmp_path: Path
) -> None:
    e, _ = pair(world, rules_file(tmp_path), Clock())
    forged = {
        "tagwarden:quarantine": "quarantined",  # "already marked": once meant never stopped
        "tagwarden:exempt": "true",  # the example rules' exemption tag: once meant exempt forever
        "tagwarden:creator": "arn:aws:sts::123456789012:assumed-role/BreakGlass/x",
    }
    instance, event = launch(tags=forged)
    (report,) = e.handle(event)["events"]
    assert state(instance) == "stopped"
    (row,) = [r for r in report["resources"] if r["resource"].endswith(instance)]
    assert (row["action"], row["state"]) == ("quarantine", "quarantined")
    assert tags_of(instance)["tagwarden:creator"].endswith("/agent-13")  # the truth, written over
    record = e.ledger.get("aws", row["resource"])
    assert record is not None and dict(record.ignored) == forged


@pytest.mark.parametrize("change", ["notify", "removed"])
def test_a_rule_changed_to_notify_or_removed_releases_instead_of_deleting(
    world: dict[str, str], tmp_path: Path, change: str
) -> None:
    clock = Clock()
    rules = rules_file(tmp_path)
    e, _ = pair(world, rules, clock)
    instance, event = launch()
    e.handle(event)
    text = Path(rules).read_text()
    if change == "notify":
        text = text.replace("    on_missing: quarantine\n    grace: 4h\n", "    on_missing: notify\n", 1)
    else:
        text = text.replace('      role_name: "agent-*"\n', '      role_name: "nobody-*"\n', 1)
    changed = tmp_path / "changed.yaml"
    changed.write_text(text)
    _, s = pair(world, str(changed), clock)
    clock.now += 10 * HOUR
    rows = [r for r in s.run()["resources"] if r["resource"].endswith(instance)]
    assert [(r["verdict"], r["status"]) for r in rows] == [("release", "done")]
    assert state(instance) == "running"


def test_a_failed_tag_write_then_a_retry_keeps_the_undo(world: dict[str, str], tmp_path: Path) -> None:
    """Attack (reliability): the first delivery stops the instance and its tag write fails; the
    retry must not record `state=stopped` (which would leave it stopped after release)."""
    from tagwarden.enforce import TagWriteFailed
    from tagwarden.tagging import Outcome, TagResult

    clock = Clock()
    e, s = pair(world, rules_file(tmp_path), clock)
    instance, event = launch()
    real = e.write
    e.write = lambda writes, region: [
        TagResult(w.resource, Outcome.FAILED, {}, 1, "AccessDenied") for w in writes
    ]
    with pytest.raises(TagWriteFailed):
        e.handle(event)
    assert state(instance) == "stopped" and "tagwarden:undo" not in tags_of(instance)
    e.write = real
    (retry,) = e.handle(event)["events"]  # Lambda's retry: the same event
    assert {r["ledger"] for r in retry["resources"]} == {"redelivered"}
    assert tags_of(instance)["tagwarden:undo"] == "state=running"
    assert e.handle(event)["events"][0]["kind"] == "duplicate"  # and a third time: nothing to do
    client("ec2").create_tags(
        Resources=[instance],
        Tags=[{"Key": "CostCenter", "Value": "101"}, {"Key": "Outcome-ID", "Value": "OUT-5555"}],
    )
    assert [r["verdict"] for r in s.run()["resources"] if r["resource"].endswith(instance)] == ["release"]
    assert state(instance) == "running"


def test_an_enforcer_clock_10_hours_behind_cannot_shorten_the_grace(
    world: dict[str, str], tmp_path: Path
) -> None:
    now = time.time()
    e, s = pair(world, rules_file(tmp_path), Clock())
    e.clock = lambda: now - 10 * HOUR  # the enforcer's host is 10 h behind
    s.clock = lambda: now + 60  # the sweeper's is right, a minute after the create
    instance, event = launch()
    event["detail"]["eventTime"] = event["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
    e.handle(event)
    assert state(instance) == "stopped"
    assert [r["verdict"] for r in s.run()["resources"] if r["resource"].endswith(instance)] == ["leave"]
    s.clock = lambda: now + 5 * HOUR  # the 4 h grace, counted from CloudTrail's event time
    rows = [r for r in s.run()["resources"] if r["resource"].endswith(instance)]
    assert [r["verdict"] for r in rows] == ["delete"]


def test_changing_the_stamp_prefix_orphans_nothing(world: dict[str, str], tmp_path: Path) -> None:
    clock = Clock()
    rules = rules_file(tmp_path)
    e, _ = pair(world, rules, clock)
    instance, event = launch()
    e.handle(event)
    assert "tagwarden:quarantine" in tags_of(instance)
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(Path(rules).read_text().replace('prefix: "tagwarden:"', 'prefix: "tw:"'))
    _, s = pair(world, str(renamed), clock)
    client("ec2").create_tags(
        Resources=[instance],
        Tags=[{"Key": "CostCenter", "Value": "101"}, {"Key": "Outcome-ID", "Value": "OUT-5555"}],
    )
    assert [r["verdict"] for r in s.run()["resources"] if r["resource"].endswith(instance)] == ["release"]
    assert state(instance) == "running"
    assert not [
        k
        for k in tags_of(instance)
        if k.startswith("tagwarden:")
        and k not in {"tagwarden:rule", "tagwarden:creator", "tagwarden:created-at"}
    ]
