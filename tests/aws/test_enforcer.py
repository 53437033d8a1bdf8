"""The AWS enforcer at scale: one RunInstances creating hundreds of instances is tagged and
quarantined in batched calls. Counts calls (not time; the timing is bench/scale_bench.py)."""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from tagwarden.aws.clients import Clients
from tagwarden.aws.enforcer import build
from tagwarden_testing import events as ev

from conftest import EXAMPLE_RULES

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var, value in (
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ):
        monkeypatch.setenv(var, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def test_300_instances_are_quarantined_with_batched_calls(aws: None, tmp_path: Path) -> None:
    boto3.client("iam").create_role(RoleName="agent-fleet-adhoc", AssumeRolePolicyDocument="{}")
    ec2 = boto3.client("ec2", region_name=REGION)
    got = ec2.run_instances(ImageId="ami-12c6146b", MinCount=300, MaxCount=300)["Instances"]
    pairs = [(i["InstanceId"], [n["NetworkInterfaceId"] for n in i["NetworkInterfaces"]]) for i in got]
    identity = ev.assumed_role(role="agent-fleet-adhoc", session="agent-13")
    event = ev.eventbridge(ev.run_instances(identity=identity, instances=pairs))

    calls: collections.Counter[str] = collections.Counter()
    session = boto3.session.Session()
    session.events.register("before-call", lambda model, **_: calls.update([model.name]))
    env = {"TAGWARDEN_RULES_PATH": str(EXAMPLE_RULES), "TAGWARDEN_NOT_FOUND_WINDOW": "0", "TAGWARDEN_LEDGER": str(tmp_path / "l.sqlite")}
    report = build(env, clients=Clients(session)).handle(event)

    actions = collections.Counter(r["action"] for r in report["events"][0]["resources"])
    assert actions == {"quarantine": 600}  # 300 instances and their network interfaces
    states = {i["State"]["Name"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
    assert states == {"stopped"}
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [got[123]["InstanceId"]]}])["Tags"]
    assert {t["Key"]: t["Value"] for t in tags}["tagwarden:undo"] == "state=running"
    # Before: per instance a tag read, a describe and a stop (5 sequential calls each with the tags).
    assert calls["StopInstances"] == 1  # 300 ids in one call (500 a call)
    # The ledger records each intent with its undo token before anything is stopped: the undo is
    # read first (a describe per 200 instances), so a retry after a crash still restores it exactly.
    assert calls["DescribeInstances"] == 2
    assert calls["GetResources"] == 0  # the ledger, not the live tags, says what was quarantined
    assert calls["CreateTags"] <= 2  # unsealed display markers: the same tags for all, batched
    assert sum(calls.values()) <= 8


