"""Organization mode, the sweeper: a hub sweeper working through the ledger in two member accounts
and two regions (moto keeps one backend per account; assumed-role keys map to the role's account).

The hub's enforcer quarantines what agents create in the members; the hub's sweeper releases,
deletes after the grace period (re-checking protection in the member account), releases at once on
a tag write forwarded from a member, and leaves, with a reason and a metric, what it may not or
cannot act on: an account no longer allowed, one it cannot assume into, an account-region that is
throttled, a sweep out of time. Our own writes in a member account never loop back."""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from moto import mock_aws

from tagwarden.aws import handler
from tagwarden.aws.clients import Clients, assumed_session
from tagwarden.aws.enforcer import AwsEnforcer, build, build_sweeper
from tagwarden.aws.sweeper import AwsSweeper
from tagwarden.aws.telemetry import Telemetry
from tagwarden_testing.moto_world import LambdaContext

import builders as b
from conftest import EXAMPLE_RULES

HUB = "123456789012"  # moto's default account: the hub's own credentials
MEMBER_A, MEMBER_B, OUTSIDER = "111111111111", "222222222222", "999999999999"
REGIONS = ("us-east-1", "eu-west-1")
OUTCOMES = {MEMBER_A: "OUT-1111", MEMBER_B: "OUT-2222"}
HOUR = 3600.0
FIX = {"CostCenter": "101"}
# Fast failures: a throttle the test simulates is not retried for seconds.
QUICK = Config(retries={"mode": "adaptive", "max_attempts": 2})


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Recording(Telemetry):
    """The real telemetry, with the deferred-work metric's values kept for the test to read."""

    def __init__(self) -> None:
        super().__init__()
        self.deferred: Counter[str] = Counter()

    def count_deferred(self, kind: str, n: int) -> None:
        super().count_deferred(kind, n)
        self.deferred[kind] += n


_SESSIONS: dict[tuple[str, str], boto3.session.Session] = {}  # per test: moto's keys die with it


def member_session(account: str, region: str) -> boto3.session.Session:
    """A person's session in a member account (the test's own; a botocore session is costly)."""
    if (account, region) not in _SESSIONS:
        sts = boto3.client("sts", region_name=region)
        _SESSIONS[(account, region)] = assumed_session(sts, f"arn:aws:iam::{account}:role/admin", None, region)
    return _SESSIONS[(account, region)]


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    rules = tmp_path / "rules.yaml"
    rules.write_text(EXAMPLE_RULES.read_text() + "lifecycle:\n  delete_dry_run: false\n")
    _SESSIONS.clear()
    with mock_aws():
        for account, outcome in OUTCOMES.items():
            member_session(account, "us-east-1").client("iam").create_role(
                RoleName="agent-fleet-adhoc",
                AssumeRolePolicyDocument="{}",
                Tags=[{"Key": "Outcome-ID", "Value": outcome}],
            )
        yield rules


def settings(rules: Path, **env: str) -> dict[str, str]:
    return {
        "TAGWARDEN_LEDGER": os.environ["TAGWARDEN_LEDGER"],
        "TAGWARDEN_RULES_PATH": str(rules),
        "TAGWARDEN_NOT_FOUND_WINDOW": "0.5",
        "TAGWARDEN_OWN_ARNS": "arn:aws:iam::*:role/tagwarden-enforcer*,arn:aws:iam::*:role/tagwarden-sweeper*",
        "TAGWARDEN_MEMBER_ACCOUNTS": f"{MEMBER_A},{MEMBER_B}",
        "TAGWARDEN_MEMBER_EXTERNAL_ID": "tagwarden-o-example",
        **env,
    }


def hub_clients() -> Clients:
    return Clients(boto3.session.Session(region_name="us-east-1"), QUICK)


def enforcer(rules: Path, clock: Clock) -> AwsEnforcer:
    e = build(settings(rules), clients=hub_clients(), telemetry=Telemetry())
    e.clock = clock
    return e


def sweeper(rules: Path, clock: Clock, **env: str) -> tuple[AwsSweeper, list[str], Recording]:
    """The hub's sweeper, the role ARNs it assumed (with the external id), and its telemetry."""
    telemetry = Recording()
    s = build_sweeper(settings(rules, **env), clients=hub_clients(), telemetry=telemetry)
    s.clock = clock
    assumed: list[str] = []
    s.clients.get("sts", "us-east-1").meta.events.register(
        "provide-client-params.sts.AssumeRole",
        lambda params, **_: assumed.append(f"{params['RoleArn']}#{params.get('ExternalId')}"),
    )
    return s, assumed, telemetry


def launch(account: str, region: str, tags: dict[str, str] | None = None) -> tuple[dict[str, Any], str]:
    """An agent in `account` runs an instance in `region`: the real instance and its event."""
    ec2 = member_session(account, region).client("ec2")
    kwargs: dict[str, Any] = {}
    if tags:
        spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
        kwargs["TagSpecifications"] = spec
    got = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, **kwargs)["Instances"][0]
    enis = [n["NetworkInterfaceId"] for n in got.get("NetworkInterfaces", [])]
    record = b.run_instances(
        identity=b.assumed_role("agent-fleet-adhoc", "agent-42", account=account),
        instances=[(got["InstanceId"], enis)],
        account=account,
        region=region,
    )
    return b.eventbridge(record), got["InstanceId"]


def ec2_in(account: str | None, region: str) -> Any:
    session = member_session(account, region) if account else boto3.session.Session(region_name=region)
    return session.client("ec2")


def tags_in(account: str | None, region: str, instance: str) -> dict[str, str]:
    found = ec2_in(account, region).describe_tags(Filters=[{"Name": "resource-id", "Values": [instance]}])
    return {t["Key"]: t["Value"] for t in found["Tags"]}


def state_in(account: str, region: str, instance: str) -> str:
    reservations = ec2_in(account, region).describe_instances(InstanceIds=[instance])["Reservations"]
    return str(reservations[0]["Instances"][0]["State"]["Name"])


def arn(account: str, region: str, instance: str) -> str:
    return f"arn:aws:ec2:{region}:{account}:instance/{instance}"


def rows_by_resource(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["resource"]: r for r in result["resources"]}


def quarantine_everywhere(rules: Path, clock: Clock) -> dict[tuple[str, str], str]:
    """An instance per member account-region, quarantined by the hub's enforcer."""
    e = enforcer(rules, clock)
    made = {}
    for account in OUTCOMES:
        for region in REGIONS:
            event, instance = launch(account, region)
            (report,) = e.handle(event)["events"]
            assert report["skipped"] is None, report
            made[(account, region)] = instance
    return made


def throttle(operation: str, region: str, code: str = "RequestLimitExceeded") -> Any:
    """A before-call hook answering `operation` in `region` with a throttling error, as AWS does
    when an account-region's limit is reached (no request is sent)."""

    def hook(model: Any, context: Any, **_: Any) -> Any:
        if model.name != operation or context.get("client_region") != region:
            return None
        error = {"Error": {"Code": code, "Message": "Request limit exceeded."}, "ResponseMetadata": {}}
        return AWSResponse("https://ec2.amazonaws.com", 503, {}, None), error

    return hook


# --- the lifecycle across accounts ---------------------------------------------------------------


def test_quarantined_in_each_member_with_the_members_principal_tags(org: Path) -> None:
    made = quarantine_everywhere(org, Clock())
    for (account, region), instance in made.items():
        assert state_in(account, region, instance) == "stopped"
        tags = tags_in(account, region, instance)
        assert tags["tagwarden:quarantine"] == "quarantined"
        assert tags["Outcome-ID"] == OUTCOMES[account]  # the agent role's tag, read in its account
        assert tags["tagwarden:creator"].startswith(f"arn:aws:sts::{account}:assumed-role/agent-fleet-adhoc/")
        assert tags_in(None, region, instance) == {}  # nothing in the hub's own backend


def test_a_sweep_releases_and_deletes_across_two_members_and_two_regions(org: Path) -> None:
    clock = Clock()
    made = quarantine_everywhere(org, clock)
    fixed = [(MEMBER_A, "us-east-1"), (MEMBER_B, "eu-west-1")]
    protected, doomed = (MEMBER_B, "us-east-1"), (MEMBER_A, "eu-west-1")
    for account, region in fixed:
        ec2_in(account, region).create_tags(Resources=[made[(account, region)]], Tags=[{"Key": "CostCenter", "Value": "101"}])
    s, assumed, telemetry = sweeper(org, clock)

    clock.now += 1 * HOUR  # within the 4h grace: the fixed ones are released, the rest left
    rows = rows_by_resource(s.run())
    for where, instance in made.items():
        row = rows[arn(*where, instance)]
        if where in fixed:
            assert (row["verdict"], row["status"]) == ("release", "done"), row
            assert state_in(*where, instance) == "running"
            assert not [k for k in tags_in(*where, instance) if k.startswith("tagwarden:quarantine")]
        else:
            assert (row["verdict"], row["reason"]) == ("leave", "within the grace period")

    # protected later, in its member account: re-checked there at the deadline, never deleted
    ec2_in(*protected).create_tags(Resources=[made[protected]], Tags=[{"Key": "tagwarden:protect", "Value": "oncall"}])
    clock.now += 4 * HOUR
    rows = rows_by_resource(s.run())
    assert (rows[arn(*doomed, made[doomed])]["verdict"], rows[arn(*doomed, made[doomed])]["status"]) == (
        "delete",
        "done",
    )
    assert state_in(*doomed, made[doomed]) in ("terminated", "shutting-down")
    kept = rows[arn(*protected, made[protected])]
    assert kept["verdict"] == "leave" and "protected" in kept["reason"]
    assert state_in(*protected, made[protected]) == "stopped"
    assert not telemetry.deferred

    # one member sweeper session per member account for the container, with the external id
    assert sorted(assumed) == [
        f"arn:aws:iam::{MEMBER_A}:role/tagwarden-member-sweeper#tagwarden-o-example",
        f"arn:aws:iam::{MEMBER_B}:role/tagwarden-member-sweeper#tagwarden-o-example",
    ]


def test_a_tag_write_in_a_member_account_releases_at_once(
    org: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    made = quarantine_everywhere(org, clock)
    where = (MEMBER_B, "eu-west-1")
    s, _, _ = sweeper(org, clock)
    monkeypatch.setattr(handler, "_SWEEPER", s)
    for key, value in settings(org).items():
        monkeypatch.setenv(key, value)
    ec2_in(*where).create_tags(Resources=[made[where]], Tags=[{"Key": "CostCenter", "Value": "205"}])
    person = b.create_tags([made[where]], {"CostCenter": "205"}, b.iam_user("bob", MEMBER_B),
                           account=MEMBER_B, region="eu-west-1")  # fmt: skip
    (report,) = handler.sweeper_handler(b.eventbridge(person), LambdaContext())["events"]
    assert [(r["resource"], r["verdict"], r["status"]) for r in report["resources"]] == [
        (arn(*where, made[where]), "release", "done")
    ]
    assert state_in(*where, made[where]) == "running"
    assert "tagwarden:quarantine" not in tags_in(*where, made[where])
    # the other member's instances were not touched by that event
    assert state_in(MEMBER_A, "eu-west-1", made[(MEMBER_A, "eu-west-1")]) == "stopped"


# --- what the sweeper may not or cannot act on: left, with a reason and a metric -----------------


def test_records_of_an_account_no_longer_allowed_are_left_and_never_assumed(org: Path) -> None:
    clock = Clock()
    made = quarantine_everywhere(org, clock)  # while B was a member
    s, assumed, telemetry = sweeper(org, clock, TAGWARDEN_MEMBER_ACCOUNTS=MEMBER_A)  # B removed since
    clock.now += 5 * HOUR
    rows = rows_by_resource(s.run())
    for region in REGIONS:
        row = rows[arn(MEMBER_B, region, made[(MEMBER_B, region)])]
        assert (row["verdict"], row["left"]) == ("leave", "not-member")
        assert MEMBER_B in row["reason"] and "never assumed" in row["reason"]
        assert state_in(MEMBER_B, region, made[(MEMBER_B, region)]) == "stopped"  # not deleted
        assert rows[arn(MEMBER_A, region, made[(MEMBER_A, region)])]["status"] == "done"  # A's go on
    assert not [a for a in assumed if MEMBER_B in a]
    assert telemetry.deferred == {"not-member": 2}
    # still in the ledger's work list: acted on again if B is allowed again
    record = s.ledger.get("aws", arn(MEMBER_B, "us-east-1", made[(MEMBER_B, "us-east-1")]))
    assert record is not None and record.state.value == "quarantined"


def test_an_account_the_hub_cannot_assume_into_is_left_untouched(org: Path) -> None:
    clock = Clock()
    made = quarantine_everywhere(org, clock)
    s, _, telemetry = sweeper(org, clock)

    def refuse(params: dict[str, Any], **_: Any) -> Any:  # B's member role does not trust the hub
        if MEMBER_B not in str(params.get("body")):  # the request as it would be sent
            return None
        error = {"Error": {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"}}
        return AWSResponse("https://sts.amazonaws.com", 403, {}, None), {**error, "ResponseMetadata": {}}

    s.clients.get("sts", "us-east-1").meta.events.register("before-call.sts.AssumeRole", refuse)
    clock.now += 5 * HOUR
    rows = rows_by_resource(s.run())
    for region in REGIONS:
        row = rows[arn(MEMBER_B, region, made[(MEMBER_B, region)])]
        assert (row["verdict"], row["left"]) == ("leave", "unreachable"), row
        assert "cannot assume" in row["reason"]
        assert state_in(MEMBER_B, region, made[(MEMBER_B, region)]) == "stopped"
        assert rows[arn(MEMBER_A, region, made[(MEMBER_A, region)])]["status"] == "done"
    assert telemetry.deferred == {"unreachable": 2}


def test_an_account_region_throttled_past_retries_is_left_for_the_next_sweep(org: Path) -> None:
    clock = Clock()
    e = enforcer(org, clock)
    crowded: list[str] = []
    for _ in range(3):
        event, instance = launch(MEMBER_A, "us-east-1")
        e.handle(event)
        crowded.append(instance)
    elsewhere = {where: launch(*where) for where in [(MEMBER_A, "eu-west-1"), (MEMBER_B, "us-east-1")]}
    for event, _ in elsewhere.values():
        e.handle(event)
    s, _, telemetry = sweeper(org, clock)
    s.gate.clients.get(MEMBER_A).observe("before-call", throttle("TerminateInstances", "us-east-1"))  # type: ignore[union-attr]
    clock.now += 5 * HOUR
    rows = rows_by_resource(s.run())
    verdicts = [(rows[arn(MEMBER_A, "us-east-1", i)]["status"], rows[arn(MEMBER_A, "us-east-1", i)].get("left")) for i in crowded]
    # the first delete fails (throttled), then nothing more is started in that account-region
    assert verdicts == [("failed", None), (None, "throttled"), (None, "throttled")]
    assert all(state_in(MEMBER_A, "us-east-1", i) == "stopped" for i in crowded)
    assert "RequestLimitExceeded" in rows[arn(MEMBER_A, "us-east-1", crowded[1])]["reason"]
    for where, (_, instance) in elsewhere.items():  # the other account-regions went on
        assert rows[arn(*where, instance)]["status"] == "done"
    assert telemetry.deferred == {"throttled": 2}
    # the limit has passed by the next sweep: the rest is deleted then
    s2, _, _ = sweeper(org, clock)
    rows = rows_by_resource(s2.run())
    assert [rows[arn(MEMBER_A, "us-east-1", i)]["status"] for i in crowded] == ["done"] * 3


def test_a_throttled_read_leaves_only_that_account_region(org: Path) -> None:
    clock = Clock()
    made = quarantine_everywhere(org, clock)
    s, _, telemetry = sweeper(org, clock)
    s.gate.clients.get(MEMBER_B).observe("before-call", throttle("GetResources", "eu-west-1", "ThrottlingException"))  # type: ignore[union-attr]
    clock.now += 5 * HOUR
    rows = rows_by_resource(s.run())
    left = rows[arn(MEMBER_B, "eu-west-1", made[(MEMBER_B, "eu-west-1")])]
    assert (left["verdict"], left["left"]) == ("leave", "throttled")
    assert sum(r["status"] == "done" for r in rows.values()) == 3
    assert telemetry.deferred == {"throttled": 1}


def test_a_sweep_out_of_time_starts_nothing_more(org: Path) -> None:
    clock = Clock()
    made = quarantine_everywhere(org, clock)
    s, _, telemetry = sweeper(org, clock)
    clock.now += 5 * HOUR
    rows = s.run(budget_seconds=0)["resources"]
    assert {(r["verdict"], r.get("left")) for r in rows} == {("leave", "out-of-time")}
    assert all(state_in(*where, i) == "stopped" for where, i in made.items())
    assert telemetry.deferred == {"out-of-time": 4}


# --- attacks -------------------------------------------------------------------------------------


def test_a_forged_marker_in_a_member_account_makes_the_hub_delete_nothing(org: Path) -> None:
    """Someone in member A writes tagwarden's marker tags (quarantined, a deadline long past, an
    undo) on their own instance, as if the hub had quarantined it: the ledger has no such record."""
    clock = Clock()
    forged = {
        "tagwarden:quarantine": "quarantined",
        "tagwarden:deadline": "2020-01-01T00:00:00Z",
        "tagwarden:undo": "state=running",
        "tagwarden:rule": "agents-aws",
    }
    _, victim = launch(MEMBER_A, "us-east-1", tags=forged)  # its create event never reached the hub
    s, assumed, _ = sweeper(org, clock)
    clock.now += 48 * HOUR
    assert s.run()["resources"] == []
    assert state_in(MEMBER_A, "us-east-1", victim) == "running"
    assert assumed == []  # nothing in the ledger for A: the hub never even went there
    # and a forged create request carrying them is quarantined like any other, never trusted
    e = enforcer(org, clock)
    event, instance = launch(MEMBER_A, "us-east-1", tags=forged)
    event["detail"]["requestParameters"]["tagSpecificationSet"] = {
        "items": [{"resourceType": "instance", "tags": [{"key": k, "value": v} for k, v in forged.items()]}]
    }
    e.handle(event)
    record = e.ledger.get("aws", arn(MEMBER_A, "us-east-1", instance))
    # the grace runs from the record (4h from now), never from the forged deadline tag
    assert record is not None and record.deadline is not None and record.deadline > time.time() + 3 * HOUR
    assert dict(record.ignored) == forged


def test_a_record_naming_an_outside_account_is_never_assumed_into(org: Path) -> None:
    """An event from outside the allow-list is skipped by the enforcer; even a record that names
    one (an old deployment's) is left by the sweeper without any call there."""
    clock = Clock()
    event, instance = launch(OUTSIDER, "us-east-1")
    (report,) = enforcer(org, clock).handle(event)["events"]
    assert report["kind"] == "foreign-account" and OUTSIDER in report["skipped"]
    assert state_in(OUTSIDER, "us-east-1", instance) == "running"
    # a ledger written before the allow-list changed: the same instance, recorded and quarantined
    wide = build(settings(org, TAGWARDEN_MEMBER_ACCOUNTS=f"{MEMBER_A},{OUTSIDER}"), clients=hub_clients(),
                 telemetry=Telemetry())  # fmt: skip
    wide.clock = clock
    wide.handle(event)
    assert state_in(OUTSIDER, "us-east-1", instance) == "stopped"
    s, assumed, _ = sweeper(org, clock)
    clock.now += 5 * HOUR
    (row,) = s.run()["resources"]
    assert (row["verdict"], row["left"]) == ("leave", "not-member")
    assert state_in(OUTSIDER, "us-east-1", instance) == "stopped"
    assert assumed == []


# --- our own writes in member accounts never loop back ------------------------------------------


@pytest.mark.parametrize("role", ["tagwarden-member", "tagwarden-member-sweeper"])
def test_our_own_writes_through_a_member_role_are_ignored(
    org: Path, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    """The marker and stamp tags the hub writes in member A come back as CreateTags by the member
    role's session (not the hub's function role): the enforcer and the sweeper skip them."""
    clock = Clock()
    e = enforcer(org, clock)
    event, instance = launch(MEMBER_A, "eu-west-1")
    e.handle(event)
    ours = b.assumed_role(role, "tagwarden", account=MEMBER_A)
    echo = b.eventbridge(b.create_tags([instance], {"tagwarden:quarantine": "quarantined"}, ours,
                                       account=MEMBER_A, region="eu-west-1"))  # fmt: skip
    assert e.handle(echo)["events"][0]["kind"] == "own-call"
    s, assumed, _ = sweeper(org, clock)
    monkeypatch.setattr(handler, "_SWEEPER", s)
    for key, value in settings(org).items():
        monkeypatch.setenv(key, value)
    (report,) = handler.sweeper_handler(echo, LambdaContext())["events"]
    assert report["kind"] == "own-call"
    assert assumed == []  # not even read
    # a create by our member role (e.g. what a quarantine makes) is ours too
    made = b.eventbridge(b.run_instances(identity=ours, account=MEMBER_A, region="eu-west-1"))
    assert e.handle(made)["events"][0]["kind"] == "own-call"


def test_a_quarantine_that_failed_in_a_member_account_is_retried_there_by_the_sweep(org: Path) -> None:
    clock = Clock()
    e = enforcer(org, clock)
    assert e.members is not None
    e.members.clients.get(MEMBER_B).observe("before-call", throttle("StopInstances", "eu-west-1"))
    event, instance = launch(MEMBER_B, "eu-west-1")
    e.handle(event)
    where = arn(MEMBER_B, "eu-west-1", instance)
    record = e.ledger.get("aws", where)
    assert record is not None and record.state.value == "quarantine-pending"
    assert state_in(MEMBER_B, "eu-west-1", instance) == "running"
    s, assumed, _ = sweeper(org, clock)
    clock.now += 1 * HOUR  # within the grace: quarantined again, by the sweeper, in member B
    (row,) = s.run()["resources"]
    assert (row["resource"], row["verdict"], row["status"]) == (where, "retry", "done")
    assert state_in(MEMBER_B, "eu-west-1", instance) == "stopped"
    assert tags_in(MEMBER_B, "eu-west-1", instance)["tagwarden:quarantine"] == "quarantined"
    assert [a.split("#")[0] for a in assumed] == [f"arn:aws:iam::{MEMBER_B}:role/tagwarden-member-sweeper"]


def test_reads_are_batched_per_account_region(org: Path) -> None:
    """101 instances of one RunInstances in A/us-east-1 and one in B/eu-west-1: the sweep reads
    their tags in 2 + 1 GetResources calls (100 ARNs a call, per account-region), one session each."""
    clock = Clock()
    e = enforcer(org, clock)
    ec2 = member_session(MEMBER_A, "us-east-1").client("ec2")
    got = ec2.run_instances(ImageId="ami-12c6146b", MinCount=101, MaxCount=101)["Instances"]
    pairs = [(i["InstanceId"], [n["NetworkInterfaceId"] for n in i["NetworkInterfaces"]]) for i in got]
    agent = b.assumed_role("agent-fleet-adhoc", "agent-42", account=MEMBER_A)
    e.handle(b.eventbridge(b.run_instances(identity=agent, instances=pairs, account=MEMBER_A)))
    e.handle(launch(MEMBER_B, "eu-west-1")[0])
    s, assumed, _ = sweeper(org, clock)
    reads: Counter[str] = Counter()
    for account in (MEMBER_A, MEMBER_B):
        s.gate.clients.get(account).observe(  # type: ignore[union-attr]
            "before-call.resource-groups-tagging-api.GetResources",
            lambda context, account=account, **_: reads.update([f"{account}/{context['client_region']}"]),
        )
    clock.now += 1 * HOUR
    rows = s.run()["resources"]
    assert len(rows) == 102 and {r["verdict"] for r in rows} == {"leave"}
    assert reads == {f"{MEMBER_A}/us-east-1": 2, f"{MEMBER_B}/eu-west-1": 1}
    assert len(assumed) == 2


def test_a_record_whose_arn_names_another_account_is_never_acted_on(org: Path) -> None:
    """A record of member A naming B's function (a cross-account call CloudTrail logged in A, say):
    acting on it with A's role could reach B's resource through a resource policy. Left, no call."""
    from msgspec.structs import replace

    from tagwarden.ledger.model import LifecycleState, ResourceRecord

    clock = Clock()
    victim = f"arn:aws:lambda:us-east-1:{MEMBER_B}:function:victim"
    s, assumed, telemetry = sweeper(org, clock)
    record = ResourceRecord(
        provider="aws", resource_id=victim, account=MEMBER_A, region="us-east-1",
        type="AWS::Lambda::Function", name="victim", event_id="e-x", event_name="CreateFunction20150331",
        event_time="2026-11-29T10:00:00Z", event_source="lambda.amazonaws.com",
        actor={"kind": "assumed-role", "role_name": "agent-fleet-adhoc",
               "arn": f"arn:aws:sts::{MEMBER_A}:assumed-role/agent-fleet-adhoc/agent-9"},
        rule="agents-aws", action="quarantine", state=LifecycleState.QUARANTINED,
        deadline=clock.now - HOUR, recorded_at=clock.now - 5 * HOUR,
    )  # fmt: skip
    assert s.ledger.create(replace(record))
    (row,) = s.run()["resources"]
    assert (row["verdict"], row["left"]) == ("leave", "misplaced") and MEMBER_B in row["reason"]
    assert assumed == [] and telemetry.deferred == {"misplaced": 1}  # no session, no call anywhere
