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


# --- re-created ids (names): a new resource gets its own lifecycle ---------------------------------

AGENT = b.assumed_role("agent-fleet-adhoc", "agent-13")
OWNER_TAGS = {"CostCenter": "101", "Outcome-ID": "OUT-5555"}
_EXEC_ROLE: list[str] = []


def function(
    name: str, at: float, concurrency: int = 5, identity: dict[str, Any] = AGENT
) -> tuple[str, dict[str, Any]]:
    """A Lambda function created in moto, untagged, and CloudTrail's event of it at `at`."""
    import io
    import zipfile

    if not _EXEC_ROLE:
        _EXEC_ROLE.append(agent_role("agent-function-exec"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return event\n")
    params = {"FunctionName": name, "Runtime": "python3.13", "Role": _EXEC_ROLE[0], "Handler": "app.handler"}
    lam = client("lambda")
    response = lam.create_function(**params, Code={"ZipFile": buf.getvalue()})
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=concurrency)
    response.pop("ResponseMetadata", None)
    record = b.cloudtrail(
        "CreateFunction20150331", "lambda.amazonaws.com", b.lower_first(params), b.lower_first(response),
        identity, event_time=b.at(at),
    )  # fmt: skip
    return response["FunctionArn"], b.eventbridge(record)


def concurrency(name: str) -> Any:
    return client("lambda").get_function_concurrency(FunctionName=name).get("ReservedConcurrentExecutions")


def verdicts(s: AwsSweeper, rid: str) -> list[tuple[str, str]]:
    return [(r["verdict"], r.get("status") or "") for r in s.run()["resources"] if r["resource"] == rid]


def test_released_then_deleted_outside_then_created_again_untagged_is_quarantined_again(
    world: dict[str, str], tmp_path: Path
) -> None:
    """The gap: a released record is terminal, and the id is a name. The new function of that name
    is a new resource: quarantined, with its own undo token, deadline and notification."""
    inbox(world)
    clock = Clock()
    t0 = clock.now
    e, s = pair(world, rules_file(tmp_path), clock)
    arn, first = function("agent-13-reborn", at=t0)
    e.handle(first)
    assert concurrency("agent-13-reborn") == 0
    client("lambda").tag_resource(Resource=arn, Tags=OWNER_TAGS)
    clock.now += HOUR
    assert verdicts(s, arn) == [("release", "done")]
    assert concurrency("agent-13-reborn") == 5

    # replays of the original create, after the release: never quarantined again
    assert e.handle(first)["events"][0]["kind"] == "duplicate"
    archive = b.eventbridge(first["detail"])  # an EventBridge archive replay: a new envelope, same event
    assert e.handle(archive)["events"][0]["kind"] == "duplicate"
    assert concurrency("agent-13-reborn") == 5
    released = e.ledger.get("aws", arn)
    assert released is not None and released.state.value == "released"
    inbox(world)

    # the agent deletes it outside tagwarden and creates it again, untagged, with concurrency 3
    client("lambda").delete_function(FunctionName="agent-13-reborn")
    again, second = function("agent-13-reborn", at=t0 + 2 * HOUR, concurrency=3)
    assert again == arn  # the same id: a name
    (report,) = e.handle(second)["events"]
    (row,) = report["resources"]
    assert (row["ledger"], row["state"]) == ("renewed", "quarantined")
    assert concurrency("agent-13-reborn") == 0
    record = e.ledger.get("aws", arn)
    assert record is not None and record.event_id == second["detail"]["eventID"]
    assert record.undo == "concurrency=3"  # read from the new function, not the old token
    assert record.deadline == pytest.approx(t0 + 2 * HOUR + 4 * HOUR, abs=1)  # its own grace
    assert record.version == released.version + 2  # renewed, then quarantined
    sent = [m for m in inbox(world) if m["resource_id"] == arn]
    assert [m["kind"] for m in sent] == ["quarantined"]

    # the first event, replayed now, is older than the record's: stale, nothing changes
    (old,) = e.handle(first)["events"]
    assert old["kind"] == "duplicate"
    assert e.ledger.get("aws", arn) == record and concurrency("agent-13-reborn") == 0

    # and it is released again, restored to its own concurrency, once its owner tags it
    client("lambda").tag_resource(Resource=arn, Tags=OWNER_TAGS)
    clock.now += HOUR
    assert verdicts(s, arn) == [("release", "done")]
    assert concurrency("agent-13-reborn") == 3


def test_a_quarantined_function_created_again_gets_its_own_intent_and_grace(
    world: dict[str, str], tmp_path: Path
) -> None:
    """Without renewal the sweeper would delete the new function at the old deadline, with the old
    undo token: here the old deadline passes and the new function is left until its own."""
    clock = Clock()
    t0 = clock.now
    e, s = pair(world, rules_file(tmp_path), clock)
    arn, first = function("agent-13-twice", at=t0, concurrency=5)
    e.handle(first)
    before = e.ledger.get("aws", arn)
    assert before is not None and before.state.value == "quarantined" and before.undo == "concurrency=5"

    clock.now = t0 + 3 * HOUR
    client("lambda").delete_function(FunctionName="agent-13-twice")
    _, second = function("agent-13-twice", at=t0 + 3 * HOUR, concurrency=2)
    (row,) = e.handle(second)["events"][0]["resources"]
    assert (row["ledger"], row["state"]) == ("renewed", "quarantined")
    after = e.ledger.get("aws", arn)
    assert after is not None and after.undo == "concurrency=2"
    assert after.deadline == pytest.approx(t0 + 7 * HOUR, abs=1) and after.deadline > (before.deadline or 0)
    assert after.quarantined_at == clock.now

    clock.now = t0 + 5 * HOUR  # past the old deadline, within the new grace
    assert verdicts(s, arn) == [("leave", "")]
    assert concurrency("agent-13-twice") == 0
    clock.now = t0 + 7 * HOUR + 60
    assert verdicts(s, arn) == [("delete", "done")]
    names = [f["FunctionName"] for f in client("lambda").list_functions()["Functions"]]
    assert "agent-13-twice" not in names


def bucket(name: str, region: str, at: float) -> tuple[str, dict[str, Any]]:
    s3 = client("s3", region)
    config = {"CreateBucketConfiguration": {"LocationConstraint": region}} if region != "us-east-1" else {}
    s3.create_bucket(Bucket=name, **config)
    record = b.create_bucket(name, AGENT, region=region, event_time=b.at(at))
    return f"arn:aws:s3:::{name}", b.eventbridge(record)


def bucket_policy(name: str, region: str) -> str:
    s3 = client("s3", region)
    try:
        return str(s3.get_bucket_policy(Bucket=name)["Policy"])
    except s3.exceptions.ClientError:
        return ""


@pytest.mark.parametrize(("region", "renewed"), [("us-east-1", False), ("eu-west-1", True)])
def test_create_bucket_is_an_upsert_in_us_east_1_only(
    world: dict[str, str], tmp_path: Path, region: str, renewed: bool
) -> None:
    """In us-east-1 CreateBucket answers 200 for a bucket its owner has already: a second
    CreateBucket there may be the released bucket itself, never re-quarantined. Elsewhere the call
    fails on an existing bucket, so a later success is a new bucket: quarantined again."""
    clock = Clock()
    t0 = clock.now
    # a bucket's quarantine policy spares the enforcer: it must know its own principal
    settings = {**env(world, rules_file(tmp_path)), "TAGWARDEN_OWN_ARNS": "arn:aws:iam::*:role/tagwarden-*"}
    e = build(settings, clients=Clients(), telemetry=Telemetry())
    s = build_sweeper(settings, clients=Clients(), telemetry=Telemetry())
    e.clock = s.clock = clock
    name = f"agent-13-scratch-{region}"
    arn, first = bucket(name, region, t0)
    e.handle(first)
    assert "TagwardenQuarantine" in bucket_policy(name, region)
    s3 = client("s3", region)
    now = {t["Key"]: t["Value"] for t in s3.get_bucket_tagging(Bucket=name)["TagSet"]}  # a whole set
    tags = {**now, **OWNER_TAGS}
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]})
    clock.now += HOUR
    assert verdicts(s, arn) == [("release", "done")]
    assert "TagwardenQuarantine" not in bucket_policy(name, region)

    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": []})  # what a re-created bucket carries
    again = b.eventbridge(b.create_bucket(name, AGENT, region=region, event_time=b.at(t0 + 2 * HOUR)))
    (row,) = e.handle(again)["events"][0]["resources"]
    assert row["ledger"] == ("renewed" if renewed else "known")
    assert ("TagwardenQuarantine" in bucket_policy(name, region)) is renewed
    record = e.ledger.get("aws", arn)
    assert record is not None and record.state.value == ("quarantined" if renewed else "released")


def test_a_put_of_a_released_rule_never_renews_it(world: dict[str, str], tmp_path: Path) -> None:
    """PutRule creates or overwrites: a later PutRule without tags is the same rule updated."""
    clock = Clock()
    t0 = clock.now
    e, _ = pair(world, rules_file(tmp_path), clock)
    arn = "arn:aws:events:us-east-1:123456789012:rule/agent-13-nightly"

    client("events").put_rule(Name="agent-13-nightly", ScheduleExpression="rate(1 day)")

    def put(at: float) -> dict[str, Any]:
        request = {"name": "agent-13-nightly", "scheduleExpression": "rate(1 day)"}
        record = b.cloudtrail("PutRule", "events.amazonaws.com", request, {"ruleArn": arn}, AGENT,
                              event_time=b.at(at))  # fmt: skip
        return b.eventbridge(record)

    (row,) = e.handle(put(t0))["events"][0]["resources"]
    assert row["ledger"] == "new" and row["state"] == "quarantined"  # marked only: no rule quarantine
    record = e.ledger.get("aws", arn)
    assert record is not None
    from tagwarden.ledger.state import advance

    released = advance(record, record.state.RELEASED, released_at=clock.now)  # as the sweeper would
    e.ledger.update(released)
    (row,) = e.handle(put(t0 + HOUR))["events"][0]["resources"]
    assert (row["ledger"], row["state"]) == ("known", "released")
    assert e.ledger.get("aws", arn) == released


def test_a_late_create_of_the_earlier_function_writes_nothing_on_the_new_one(
    world: dict[str, str], tmp_path: Path
) -> None:
    """CloudTrail delivers out of order: agent 7's function is deleted and agent 13 creates its
    name again; agent 7's create arrives last. It is about the earlier function: its derived tags
    (agent 7's attribution) must not land on agent 13's, nor release it."""
    clock = Clock()
    t0 = clock.now
    e, _ = pair(world, rules_file(tmp_path), clock)
    _, late = function("agent-late", at=t0, identity=b.assumed_role("agent-fleet-adhoc", "agent-7"))
    client("lambda").delete_function(FunctionName="agent-late")
    arn, second = function("agent-late", at=t0 + 60)
    e.handle(second)
    record = e.ledger.get("aws", arn)
    assert record is not None and record.state.value == "quarantined"
    before = client("lambda").list_tags(Resource=arn)["Tags"]
    assert before["Agent-ID"] == "13"
    (report,) = e.handle(late)["events"]
    assert report["kind"] == "duplicate"
    assert client("lambda").list_tags(Resource=arn)["Tags"] == before
    assert e.ledger.get("aws", arn) == record


# --- idempotency tokens: a retry is the first call's resource, another token a new one -------------


def cluster(name: str, token: str, at: float) -> tuple[str, dict[str, Any]]:
    """An EKS cluster created in moto, untagged, with the SDK's token, and CloudTrail's event of it."""
    eks = client("eks")
    role = f"arn:aws:iam::{b.ACCOUNT}:role/eks-cluster"
    got = eks.create_cluster(
        name=name, roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-0123456789abcdef0"]},
        clientRequestToken=token,
    )["cluster"]  # fmt: skip
    record = b.create_cluster(name, token, AGENT, role=role, event_time=b.at(at))
    assert record["responseElements"]["cluster"]["arn"] == got["arn"]
    return got["arn"], b.eventbridge(record)


def cluster_tags(arn: str) -> dict[str, str]:
    return dict(client("eks").list_tags_for_resource(resourceArn=arn)["tags"])


def test_the_sdks_retry_of_a_released_instances_create_never_quarantines_it_again(
    world: dict[str, str], tmp_path: Path
) -> None:
    """RunInstances with a ClientToken, quarantined, fixed, released by the sweeper; then the SDK's
    retry of that call (the same token, a new event stamped later) reaches the enforcer. It is the
    same instance, answered again: renewing on it would stop a released instance."""
    clock = Clock()
    t0 = clock.now
    e, s = pair(world, rules_file(tmp_path), clock)
    instance, event = launch()
    event["detail"]["requestParameters"]["clientToken"] = "sdk-token-ec2"
    event["detail"]["eventTime"] = b.at(t0)
    (row, _eni) = e.handle(event)["events"][0]["resources"]
    assert (row["ledger"], row["state"]) == ("new", "quarantined") and state(instance) == "stopped"
    client("ec2").create_tags(
        Resources=[instance], Tags=[{"Key": k, "Value": v} for k, v in OWNER_TAGS.items()]
    )
    clock.now += HOUR
    rid = row["resource"]
    assert verdicts(s, rid) == [("release", "done")] and state(instance) == "running"
    released = e.ledger.get("aws", rid)
    assert released is not None and released.idempotency_token == "sdk-token-ec2"

    # stamped ten minutes after the first call (inside RETRY_WINDOW), delivered after the release
    retry = b.eventbridge(b.resent(event["detail"], b.at(t0 + 600)))
    (row, _eni) = e.handle(retry)["events"][0]["resources"]
    assert (row["ledger"], row["state"]) == ("known", "released")
    assert state(instance) == "running" and e.ledger.get("aws", rid) == released
    # the same call without its token would be another request: a re-creation of the id
    other = b.eventbridge(b.resent(event["detail"], b.at(clock.now + 60)))
    del other["detail"]["requestParameters"]["clientToken"]
    (row, _eni) = e.handle(other)["events"][0]["resources"]
    assert (row["ledger"], row["state"]) == ("renewed", "quarantined") and state(instance) == "stopped"


def test_a_name_created_again_with_a_new_token_is_quarantined_again_its_retry_is_not(
    world: dict[str, str], tmp_path: Path
) -> None:
    """The hole this closes: an agent re-creating a released name with a token of its own (EKS
    CreateCluster: the SDK draws one per call) kept the old record: tagged, never quarantined.
    EKS has no reversible quarantine (marked only), and moto's tagging API does not list EKS, so
    the release is written as the sweeper writes it."""
    inbox(world)
    clock = Clock()
    t0 = clock.now
    e, _ = pair(world, rules_file(tmp_path), clock)
    name = "agent-13-tokens"
    arn, first = cluster(name, "sdk-token-1", t0)
    (row,) = e.handle(first)["events"][0]["resources"]
    assert (row["ledger"], row["state"]) == ("new", "quarantined")
    opened = e.ledger.get("aws", arn)
    assert opened is not None and opened.idempotency_token == "sdk-token-1"
    assert cluster_tags(arn).get("tagwarden:quarantine")
    from tagwarden.ledger.state import advance

    released = advance(opened, opened.state.RELEASED, released_at=clock.now)  # as the sweeper would
    e.ledger.update(released)
    inbox(world)

    # the SDK resends the first create (same token) after the release: the same cluster, known
    retry = b.eventbridge(b.resent(first["detail"], b.at(t0 + 60)))
    (row,) = e.handle(retry)["events"][0]["resources"]
    assert (row["ledger"], row["state"]) == ("known", "released")
    assert e.ledger.get("aws", arn) == released
    assert [m for m in inbox(world) if m["resource_id"] == arn] == []

    # deleted outside tagwarden and created again, untagged, with a new token: a new cluster
    client("eks").delete_cluster(name=name)
    clock.now = t0 + 2 * HOUR
    again, second = cluster(name, "sdk-token-2", t0 + 2 * HOUR)
    assert again == arn  # the same id: a name
    (row,) = e.handle(second)["events"][0]["resources"]
    assert (row["ledger"], row["state"]) == ("renewed", "quarantined")
    renewed = e.ledger.get("aws", arn)
    assert renewed is not None and renewed.idempotency_token == "sdk-token-2"
    assert renewed.event_id == second["detail"]["eventID"] and renewed.version == released.version + 2
    assert renewed.deadline == pytest.approx(t0 + 6 * HOUR, abs=1)  # its own grace
    assert cluster_tags(arn).get("tagwarden:quarantine")
    assert [m["kind"] for m in inbox(world) if m["resource_id"] == arn] == ["quarantined"]

    # the new create's own retry, ten minutes later: nothing moves (not the deadline, not the version)
    clock.now += 600
    retry = b.eventbridge(b.resent(second["detail"], b.at(t0 + 2 * HOUR + 600)))
    (row,) = e.handle(retry)["events"][0]["resources"]
    assert (row["ledger"], row["state"]) == ("known", "quarantined")
    assert e.ledger.get("aws", arn) == renewed
    assert [m for m in inbox(world) if m["resource_id"] == arn] == []

    # released, then deleted without its delete event reaching us, and created again two hours
    # later with the token of the last create copied: past RETRY_WINDOW the service may have
    # forgotten the token and made a new cluster, so the copy keeps nothing
    released = advance(renewed, renewed.state.RELEASED, released_at=clock.now)
    e.ledger.update(released)
    client("eks").delete_cluster(name=name)
    clock.now = t0 + 4 * HOUR
    again, third = cluster(name, "sdk-token-2", t0 + 4 * HOUR)
    assert again == arn
    (row,) = e.handle(third)["events"][0]["resources"]
    assert (row["ledger"], row["state"]) == ("renewed", "quarantined")
    last = e.ledger.get("aws", arn)
    assert last is not None and last.event_id == third["detail"]["eventID"]
    assert cluster_tags(arn).get("tagwarden:quarantine")
