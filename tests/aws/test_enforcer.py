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
    env = {
        "TAGWARDEN_RULES_PATH": str(EXAMPLE_RULES),
        "TAGWARDEN_NOT_FOUND_WINDOW": "0",
        "TAGWARDEN_LEDGER": str(tmp_path / "l.sqlite"),
    }
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


CLOUD_DIRECTORY = """
catalogue:
  - event_source: clouddirectory.amazonaws.com
    event_name: CreateDirectory
    id_path: responseElements.directoryArn
    resource_type: AWS::CloudDirectory::Directory
    tagger: {tagger}
"""


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_each_rules_version_brings_its_own_catalogue_entries(aws: None, tmp_path: Path) -> None:
    """Rules from SSM: a version that adds a `catalogue:` entry teaches the enforcer that event at
    the next check; a version whose entry names no tagger is not applied (the previous build and
    its entries stay)."""
    import contextvars

    from tagwarden.aws.catalogue import user
    from tagwarden.aws.live import enforcer_from_env
    from tagwarden.aws.rules_source import live_rules
    from tagwarden.aws.telemetry import Telemetry

    boto3.client("iam").create_role(RoleName="agent-fleet-support", AssumeRolePolicyDocument="{}")
    ssm = boto3.client("ssm", region_name=REGION)

    def put(text: str) -> None:
        ssm.put_parameter(Name="/tagwarden/rules", Value=text, Type="String", Overwrite=True, Tier="Advanced")

    cd = boto3.client("clouddirectory", region_name=REGION)
    schema = cd.create_schema(Name="ledger")["SchemaArn"]
    published = cd.publish_schema(DevelopmentSchemaArn=schema, Version="1")["PublishedSchemaArn"]

    def create_directory(name: str) -> tuple[str, dict[str, str]]:
        arn = cd.create_directory(Name=name, SchemaArn=published)["DirectoryArn"]
        record = ev.cloudtrail(
            "CreateDirectory",
            "clouddirectory.amazonaws.com",
            {"name": name, "schemaArn": published},
            {"directoryArn": arn, "name": name},
            ev.assumed_role("agent-fleet-support", "agent-42"),
        )
        return arn, ev.eventbridge(record)

    def scenario() -> None:
        v1 = EXAMPLE_RULES.read_text()
        put(v1)
        env = {"TAGWARDEN_RULES_SOURCE": "ssm:/tagwarden/rules", "TAGWARDEN_NOT_FOUND_WINDOW": "0"}
        env["TAGWARDEN_LEDGER"] = str(tmp_path / "l.sqlite")
        clients, telemetry, clock = Clients(), Telemetry(), _Clock()
        live = live_rules(env, clients, telemetry, clock)
        e = enforcer_from_env(live, env, clients, telemetry)

        _, event = create_directory("d1")
        (report,) = e.handle(event)["events"]
        assert report["kind"] == "not-in-catalogue", report

        put(v1 + CLOUD_DIRECTORY.format(tagger="rgta"))
        clock.now += 61
        arn, event = create_directory("d2")
        (report,) = e.handle(event)["events"]
        assert [r["outcome"] for r in report["resources"]] == ["tagged"], report
        tags = {t["Key"]: t["Value"] for t in cd.list_tags_for_resource(ResourceArn=arn)["Tags"]}
        assert tags["Agent-ID"] == "42"

        put(v1 + CLOUD_DIRECTORY.format(tagger="frobnicate"))  # valid rules, no such tagger
        clock.now += 61
        arn, event = create_directory("d3")
        (report,) = e.handle(event)["events"]
        assert [r["outcome"] for r in report["resources"]] == ["tagged"], report  # the entries in force stay
        assert user.lookup("clouddirectory.amazonaws.com", "CreateDirectory") is not None

    contextvars.copy_context().run(scenario)  # the install is the container's: kept out of other tests
    assert user.lookup("clouddirectory.amazonaws.com", "CreateDirectory") is None
