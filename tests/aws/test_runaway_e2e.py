"""Runaway agents end to end on moto's server (real HTTP) with IAM enforced: moto checks every
request's signature and the caller's policies once INITIAL_NO_AUTH_ACTION_COUNT requests have been
made (set here through moto's own /moto-api/reset-auth, after the account is set up).

An agent session in a loop creating instances crosses its limit (50 creates per 10 minutes): the
event that crosses it sends one alert (SNS -> SQS, read back) and attaches the deny-create policy to
the agent's role within its own processing, so the agent's next RunInstances fails with an
authorisation error. `tagwarden brake release` lifts it and records who did. A second agent under
its limit is untouched throughout.
"""

from __future__ import annotations

import io
import json
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tagwarden.aws.brake import POLICY_NAME
from tagwarden.aws.clients import Clients
from tagwarden.aws.enforcer import AwsEnforcer, build
from tagwarden.aws.telemetry import Telemetry
from tagwarden.cli.main import main
from tagwarden.runaway.aws.dynamodb import create_table
from tagwarden_testing.moto_world import moto_server

import builders as b

pytestmark = pytest.mark.e2e
REGION = "us-east-1"
TABLE = "tagwarden-runaway"
RULES = """
version: 1
mode: enforce
tags:
  Agent-ID:
    sources: [{actor: session_name, pattern: '^agent-(?P<value>.+)$'}]
rules:
  - {id: agents, match: {role_name: "agent-*"}, on_missing: notify}
limits:
  checks:
    - id: burst
      match: {role_name: "agent-*"}
      per: {tag: Agent-ID}
      creates: 50
      window: 10m
      actions: [alert, brake]
"""
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
AGENT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ec2:*"], "Resource": "*"}]}


@dataclass
class World:
    endpoint: str
    admin: dict[str, str]  # the enforcer's (and the operator's) access key
    queue_url: str
    topic_arn: str

    def session(self, creds: dict[str, str] | None = None) -> boto3.session.Session:
        c = creds or self.admin
        return boto3.session.Session(region_name=REGION, **c)

    def agent(self, role: str, name: str) -> boto3.session.Session:
        sts = self.session().client("sts")
        got = sts.assume_role(RoleArn=f"arn:aws:iam::123456789012:role/{role}", RoleSessionName=name)
        c = got["Credentials"]
        return self.session(
            {
                "aws_access_key_id": c["AccessKeyId"],
                "aws_secret_access_key": c["SecretAccessKey"],
                "aws_session_token": c["SessionToken"],
            }
        )


def set_no_auth_count(endpoint: str, count: str) -> None:
    """moto's INITIAL_NO_AUTH_ACTION_COUNT, set in the running server (read once at import otherwise)."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(request, timeout=10).close()


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with moto_server() as endpoint:
        iam = boto3.client("iam")
        iam.create_user(UserName="tagwarden-operator")
        iam.put_user_policy(
            UserName="tagwarden-operator", PolicyName="all", PolicyDocument=json.dumps(ALLOW_ALL)
        )
        key = iam.create_access_key(UserName="tagwarden-operator")["AccessKey"]
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
        }
        for role in ("agent-fleet-support", "agent-fleet-research"):
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
            iam.put_role_policy(RoleName=role, PolicyName="agent", PolicyDocument=json.dumps(AGENT))
        create_table(boto3.client("dynamodb"), TABLE)
        sqs, sns = boto3.client("sqs"), boto3.client("sns")
        queue_url = sqs.create_queue(QueueName="alerts")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        topic = sns.create_topic(Name="tagwarden")["TopicArn"]
        sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )
        # From here on moto authenticates and authorises every request (INITIAL_NO_AUTH_ACTION_COUNT=0).
        set_no_auth_count(endpoint, "0")
        try:
            yield World(
                endpoint,
                {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]},
                queue_url,
                topic,
            )
        finally:
            from moto import settings  # the server runs in this process

            settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")


def enforcer(world: World, tmp_path: Path) -> AwsEnforcer:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    env = {
        "TAGWARDEN_LEDGER": os.environ["TAGWARDEN_LEDGER"], "TAGWARDEN_RULES_PATH": str(rules),
        "TAGWARDEN_RUNAWAY_TABLE": TABLE,
        "TAGWARDEN_SNS_TOPIC_ARN": world.topic_arn,
        "TAGWARDEN_NOT_FOUND_WINDOW": "0.5",
    }
    return build(env, clients=Clients(world.session()), telemetry=Telemetry())


def create(ec2: Any, role: str, session: str) -> dict[str, Any]:
    got = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro")
    pairs = [
        (i["InstanceId"], [n["NetworkInterfaceId"] for n in i["NetworkInterfaces"]]) for i in got["Instances"]
    ]
    return b.eventbridge(b.run_instances(identity=b.assumed_role(role, session), instances=pairs))


def alerts(world: World) -> list[dict[str, Any]]:
    sqs = world.session().client("sqs")
    out = []
    while True:
        got = sqs.receive_message(QueueUrl=world.queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        for m in got:
            body = json.loads(m["Body"])
            out.append(json.loads(body["default"]) if "default" in body else body)
            sqs.delete_message(QueueUrl=world.queue_url, ReceiptHandle=m["ReceiptHandle"])


def test_runaway_agent_is_alerted_once_and_braked_then_released(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    e = enforcer(world, tmp_path)
    runaway_session = world.agent("agent-fleet-support", "agent-42")
    runaway = runaway_session.client("ec2")
    calm = world.agent("agent-fleet-research", "agent-7").client("ec2")

    # moto enforces the agent role's own policy (EC2 only): no IAM, so no lifting its own brake.
    with pytest.raises(ClientError) as no_iam:
        runaway_session.client("iam").list_roles()
    assert no_iam.value.response["Error"]["Code"] == "AccessDenied"

    created, denied, crossed_at = 0, None, None
    for i in range(60):
        try:
            event = create(runaway, "agent-fleet-support", "agent-42")
        except ClientError as exc:
            denied = exc.response["Error"]["Code"]
            break
        created += 1
        report = e.handle(event)["events"][0]
        if report.get("limits"):
            crossed_at = crossed_at or i
            assert report["limits"][0]["brake"] == "active"
            got = alerts(world)  # sent within this event's processing
            assert [a["kind"] for a in got] == ["runaway"]
        if i % 5 == 0:  # the second agent keeps working, under its limit
            e.handle(create(calm, "agent-fleet-research", "agent-7"))
    assert crossed_at == 50 and created == 51
    assert denied == "AccessDenied"  # moto's EC2 answer to an explicit deny (AWS says UnauthorizedOperation)
    with pytest.raises(ClientError) as own:
        runaway_session.client("iam").delete_role_policy(
            RoleName="agent-fleet-support", PolicyName=POLICY_NAME
        )
    assert own.value.response["Error"]["Code"] == "AccessDenied"
    assert alerts(world) == []  # one alert for the crossing, no storm
    create(calm, "agent-fleet-research", "agent-7")  # untouched while the other is braked
    iam = world.session().client("iam")
    assert POLICY_NAME in iam.list_role_policies(RoleName="agent-fleet-support")["PolicyNames"]
    assert POLICY_NAME not in iam.list_role_policies(RoleName="agent-fleet-research")["PolicyNames"]

    # The operator lifts the brake with the CLI; it records who did.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", world.admin["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", world.admin["aws_secret_access_key"])
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    out, err = io.StringIO(), io.StringIO()
    assert main(["brake", "release", "42", "--table", TABLE, "--format", "json"], out, err) == 0, (
        err.getvalue()
    )
    (released,) = json.loads(out.getvalue())
    assert released["state"] == "released"
    assert released["released_by"] == "arn:aws:iam::123456789012:user/tagwarden-operator"
    assert POLICY_NAME not in iam.list_role_policies(RoleName="agent-fleet-support")["PolicyNames"]
    create(runaway, "agent-fleet-support", "agent-42")  # creates work again

    out = io.StringIO()
    assert main(["brake", "list", "--table", TABLE], out, err) == 0
    assert "released" in out.getvalue() and "tagwarden-operator" in out.getvalue()
