"""The runaway-agent demo: in a local AWS (moto's server, real HTTP) that enforces IAM, an agent in
a loop creating instances crosses its limit; the event that crosses it alerts (SNS, read back from
a queue) and brakes the agent's role, its next RunInstances is denied, `tagwarden brake release`
lifts the brake, and a second agent under its limit is never touched.
"""

from __future__ import annotations

import io
import json
import os
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, TextIO

import boto3
from botocore.exceptions import ClientError

from tagwarden_demo import ledger_path
from tagwarden_testing import events as ev
from tagwarden_testing.moto_world import moto_server

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
      description: an agent in a loop
      match: {role_name: "agent-*"}
      per: {tag: Agent-ID}
      creates: 50
      window: 10m
      actions: [alert, brake]
"""
ALLOW = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
EC2_ONLY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}


def _enforce_iam(endpoint: str, count: str) -> None:
    """moto's INITIAL_NO_AUTH_ACTION_COUNT, set in the running server: 0 authorises every request."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=count.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    urllib.request.urlopen(request, timeout=10).close()


@contextmanager
def _as(creds: dict[str, str]) -> Iterator[None]:
    """The operator's credentials in the environment (what the CLI reads), then back."""
    names = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    saved = {k: os.environ.get(k) for k in names}
    os.environ["AWS_ACCESS_KEY_ID"] = creds["aws_access_key_id"]
    os.environ["AWS_SECRET_ACCESS_KEY"] = creds["aws_secret_access_key"]
    os.environ.pop("AWS_SESSION_TOKEN", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run(out: TextIO = sys.stdout) -> int:
    from tagwarden.aws.clients import Clients
    from tagwarden.aws.enforcer import build
    from tagwarden.aws.telemetry import Telemetry
    from tagwarden.cli.main import main as cli
    from tagwarden.runaway.aws.dynamodb import create_table

    problems: list[str] = []
    out.write("Runaway agents (moto server, real HTTP, IAM enforced): limit burst = 50 creates per 10m\n\n")
    with moto_server() as endpoint, TemporaryDirectory() as tmp:
        iam = boto3.client("iam")
        iam.create_user(UserName="oncall")
        iam.put_user_policy(UserName="oncall", PolicyName="all", PolicyDocument=json.dumps(ALLOW))
        key = iam.create_access_key(UserName="oncall")["AccessKey"]
        operator = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
        for role in ("agent-fleet-support", "agent-fleet-research"):
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(TRUST))
            iam.put_role_policy(RoleName=role, PolicyName="ec2", PolicyDocument=json.dumps(EC2_ONLY))
        create_table(boto3.client("dynamodb"), TABLE)
        sqs, sns = boto3.client("sqs"), boto3.client("sns")
        queue = sqs.create_queue(QueueName="oncall")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        topic = sns.create_topic(Name="tagwarden")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
        _enforce_iam(endpoint, "0")
        try:
            session = boto3.session.Session(region_name="us-east-1", **operator)
            rules = Path(tmp) / "rules.yaml"
            rules.write_text(RULES)
            log = io.StringIO()
            with redirect_stdout(log):  # Powertools writes JSON logs and EMF metrics to stdout
                enforcer = build(
                    {
                        "TAGWARDEN_LEDGER": ledger_path(), "TAGWARDEN_RULES_PATH": str(rules),
                        "TAGWARDEN_RUNAWAY_TABLE": TABLE,
                        "TAGWARDEN_SNS_TOPIC_ARN": topic,
                    },
                    clients=Clients(session),
                    telemetry=Telemetry(),
                )
                _play(session, enforcer, queue, problems, out)
            with _as(operator):
                _release(cli, problems, out)
                agent = _agent(session, "agent-fleet-support", "agent-42")
                try:
                    agent.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)
                    out.write("agent-42 RunInstances after the release: allowed again\n")
                except ClientError as exc:
                    problems.append(f"still denied after the release: {exc}")
            emf = [line for line in log.getvalue().splitlines() if '"AgentRate"' in line]
            out.write(f"\n{len(emf)} AgentRate EMF metric documents (dimensions limit, agent)\n")
        finally:
            from moto import settings  # the server runs in this process

            settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
    if problems:
        out.write("\nPROBLEMS:\n" + "".join(f"  - {p}\n" for p in problems))
        return 1
    out.write("The runaway agent was alerted once and braked; the other agent was never touched.\n")
    return 0


def _agent(session: boto3.session.Session, role: str, name: str) -> Any:
    c = session.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::123456789012:role/{role}", RoleSessionName=name
    )["Credentials"]
    return boto3.session.Session(
        region_name="us-east-1",
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
    ).client("ec2")


def _create(ec2: Any, role: str, session: str) -> dict[str, Any]:
    got = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro")
    pairs = [
        (i["InstanceId"], [n["NetworkInterfaceId"] for n in i["NetworkInterfaces"]]) for i in got["Instances"]
    ]
    return ev.eventbridge(ev.run_instances(identity=ev.assumed_role(role, session), instances=pairs))


def _alerts(session: boto3.session.Session, queue: str) -> list[dict[str, Any]]:
    sqs = session.client("sqs")
    found = []
    while got := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        for m in got:
            body = json.loads(m["Body"])
            found.append(json.loads(body["default"]) if "default" in body else body)
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
    return found


def _play(session: boto3.session.Session, enforcer: Any, queue: str, problems: list[str], out: Any) -> None:
    runaway = _agent(session, "agent-fleet-support", "agent-42")
    calm = _agent(session, "agent-fleet-research", "agent-7")
    write = out.write  # the stream given (sys.stdout itself is the log meanwhile)
    created, alerts = 0, []
    for i in range(60):
        try:
            event = _create(runaway, "agent-fleet-support", "agent-42")
        except ClientError as exc:
            write(f"agent-42 create #{i + 1}: {exc.response['Error']['Code']} (the brake holds)\n")
            break
        created += 1
        report = enforcer.handle(event)["events"][0]
        if report.get("limits"):
            got = _alerts(session, queue)
            alerts += got
            for a in got:
                write(f"agent-42 create #{i + 1}: ALERT in the same event's processing ({a['kind']})\n")
                lines = a["detail"].splitlines()
                write("".join(f"    {line}\n" for line in lines[:4]))
                write(
                    f"      ... {a['extra']['resources_in_window']} in the window, 20 named in the message\n"
                )
                write("".join(f"    {line}\n" for line in lines[-2:]))
        if i % 10 == 0:
            enforcer.handle(_create(calm, "agent-fleet-research", "agent-7"))
    alerts += _alerts(session, queue)
    write(f"agent-42 created {created} instances; agent-7 created 6 (under its limit, untouched)\n")
    if created != 51 or len(alerts) != 1:
        problems.append(f"expected 51 creates and 1 alert, got {created} and {len(alerts)}")
    try:
        _create(calm, "agent-fleet-research", "agent-7")
    except ClientError as exc:
        problems.append(f"agent-7 was denied: {exc}")


def _release(cli: Any, problems: list[str], out: TextIO) -> None:
    listing = io.StringIO()
    cli(["brake", "list", "--table", TABLE], listing, out)
    out.write("\n$ tagwarden brake list\n" + listing.getvalue())
    released = io.StringIO()
    code = cli(["brake", "release", "Agent-ID=42", "--table", TABLE], released, out)
    out.write("$ tagwarden brake release Agent-ID=42\n" + released.getvalue())
    if code != 0 or "released by arn:aws:iam::123456789012:user/oncall" not in released.getvalue():
        problems.append(f"release failed ({code}): {released.getvalue()}")
