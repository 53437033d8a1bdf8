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
    env = {"TAGWARDEN_RULES_PATH": str(EXAMPLE_RULES), "TAGWARDEN_NOT_FOUND_WINDOW": "0"}
    report = build({**env, "TAGWARDEN_MARKER_KEY": "k"}, clients=Clients(session)).handle(event)

    actions = collections.Counter(r["action"] for r in report["events"][0]["resources"])
    assert actions == {"quarantine": 600}  # 300 instances and their network interfaces
    states = {i["State"]["Name"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]}
    assert states == {"stopped"}
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [got[123]["InstanceId"]]}])["Tags"]
    assert {t["Key"]: t["Value"] for t in tags}["tagwarden:undo"] == "state=running"
    # Before: per instance a tag read, a describe and a stop (5 sequential calls each with the tags).
    assert calls["StopInstances"] == 1  # 300 ids in one call (500 a call)
    assert calls["DescribeInstances"] == 0  # the stop's answer gives each previous state
    assert calls["GetResources"] == 3  # live tags of 300 instances, 100 ARNs a call
    assert calls["CreateTags"] == 301  # the shared tags once, each sealed marker once


def test_the_seal_key_is_read_from_the_secret_at_each_cold_start(aws: None) -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from tagwarden.lifecycle.marker import Marker, State, seal, verify

    sm = boto3.client("secretsmanager", region_name=REGION)
    arn = sm.create_secret(Name="tagwarden-marker-key", SecretString="key-one")["ARN"]
    env = {
        "TAGWARDEN_RULES_PATH": str(EXAMPLE_RULES),
        "TAGWARDEN_MARKER_KEY_SECRET": arn,
        "TAGWARDEN_MARKER_KEY": "a-plain-variable-is-not-used",
    }
    warm = build(env)
    assert warm.rules.lifecycle.seal_key == "key-one"
    rid = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0"
    marker = Marker(State.QUARANTINED, datetime(2026, 12, 2, tzinfo=UTC), "missing CostCenter", "state=running")
    sealed = replace(marker, seal=seal("key-one", rid, marker))

    sm.put_secret_value(SecretId=arn, SecretString="key-two")  # rotation
    assert warm.rules.lifecycle.seal_key == "key-one"  # a warm container keeps the key it read
    cold = build(env)
    assert cold.rules.lifecycle.seal_key == "key-two"  # a new one reads the rotated key
    # A marker sealed with the previous key no longer authorises anything (fails safe: left alone).
    assert verify(warm.rules.lifecycle.seal_key, rid, sealed)
    assert not verify(cold.rules.lifecycle.seal_key, rid, sealed)


def test_a_seal_key_secret_that_cannot_be_read_fails_the_cold_start(aws: None) -> None:
    env = {
        "TAGWARDEN_RULES_PATH": str(EXAMPLE_RULES),
        "TAGWARDEN_MARKER_KEY_SECRET": f"arn:aws:secretsmanager:{REGION}:123456789012:secret:gone-AbCdEf",
    }
    with pytest.raises(RuntimeError, match="cannot read the marker seal key"):
        build(env)
