"""The lifecycle demo (AWS, moto server): quarantine on create, release once the owner adds the
tags, deletion after the grace period, and the notifications that went out (read back from an SQS
queue subscribed to the SNS topic). The clock is simulated, so a 30-second grace period takes no
real time.
"""

from __future__ import annotations

import io
import json
import sys
import time
import zipfile
from importlib import resources
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any, TextIO

from tagwarden_demo import ledger_path
from tagwarden_testing import events as ev
from tagwarden_testing.moto_world import agent_role, client, moto_server

GRACE = 30  # seconds, for the demo


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def _rules(directory: Path) -> Path:
    text = (resources.files("tagwarden") / "examples" / "rules.yaml").read_text(encoding="utf-8")
    text = text.replace(
        "    on_missing: quarantine\n    grace: 4h\n", f"    on_missing: quarantine\n    grace: {GRACE}s\n"
    )
    text += "lifecycle:\n  delete_dry_run: false   # the demo deletes for real, in moto\n"
    path = directory / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _instance(identity: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    got = client("ec2").run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
    pairs = [(got["InstanceId"], [n["NetworkInterfaceId"] for n in got["NetworkInterfaces"]])]
    record = ev.run_instances(identity=identity, instances=pairs, event_time=ev.at(time.time()))
    return got["InstanceId"], ev.eventbridge(record)


def _function(identity: dict[str, Any], role_arn: str) -> tuple[str, dict[str, Any]]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return event\n")
    lam = client("lambda")
    params = {
        "FunctionName": "agent-13-scraper",
        "Runtime": "python3.13",
        "Role": role_arn,
        "Handler": "app.handler",
    }
    response = lam.create_function(**params, Code={"ZipFile": buf.getvalue()})
    lam.put_function_concurrency(FunctionName="agent-13-scraper", ReservedConcurrentExecutions=5)
    response.pop("ResponseMetadata", None)
    record = ev.cloudtrail(
        "CreateFunction20150331",
        "lambda.amazonaws.com",
        ev.lower_first(params),
        ev.lower_first(response),
        identity,
        event_time=ev.at(time.time()),  # CloudTrail's clock: a second run's function is a new one
    )
    return response["FunctionArn"], ev.eventbridge(record)


_LOG_HANDLERS: list[Any] = []  # at most one


def _demo_logger(stream: io.StringIO) -> Any:
    """One Powertools logger per process, its handler pointed at this run's stream: Powertools
    registers a handler only on a service's first Logger, so a second Logger of the same service
    would come without a formatter (the scene could not run twice in one process)."""
    import logging

    from aws_lambda_powertools import Logger

    if not _LOG_HANDLERS:
        _LOG_HANDLERS.append(logging.StreamHandler(stream))
        return Logger(service="tagwarden-demo", logger_handler=_LOG_HANDLERS[0])
    _LOG_HANDLERS[0].stream = stream  # not setStream: that flushes the previous run's stream
    return Logger(service="tagwarden-demo")


def run(out: TextIO = sys.stdout) -> int:  # noqa: PLR0915 - a scenario, told in order
    from tagwarden.aws.clients import Clients
    from tagwarden.aws.enforcer import build, build_sweeper
    from tagwarden.aws.telemetry import Telemetry

    problems: list[str] = []
    lines: list[str] = []
    with moto_server(), TemporaryDirectory() as tmp:
        agent_role("agent-fleet-adhoc")
        exec_role = agent_role("agent-function-exec")
        sns, sqs, ec2, lam = client("sns"), client("sqs"), client("ec2"), client("lambda")
        topic = sns.create_topic(Name="tagwarden-notifications")["TopicArn"]
        inbox = sqs.create_queue(QueueName="finops-inbox")["QueueUrl"]
        inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(
            TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn, Attributes={"RawMessageDelivery": "true"}
        )
        env = {
            "TAGWARDEN_RULES_PATH": str(_rules(Path(tmp))),
            "TAGWARDEN_SNS_TOPIC_ARN": topic,
            "TAGWARDEN_OWN_ARNS": "arn:aws:iam::123456789012:role/tagwarden-enforcer",
            "TAGWARDEN_NOT_FOUND_WINDOW": "1",
            "TAGWARDEN_LEDGER": ledger_path(),
        }
        clock = Clock()
        logs = io.StringIO()
        telemetry = Telemetry(logger=_demo_logger(logs))
        enforcer, sweeper = build(env, Clients(), telemetry), build_sweeper(env, Clients(), telemetry)
        enforcer.clock = sweeper.clock = clock

        agent = ev.assumed_role("agent-fleet-adhoc", "agent-13")
        a, event_a = _instance(agent)
        b_id, event_b = _instance(agent)
        f, event_f = _function(agent, exec_role)
        for event in (event_a, event_b, event_f):
            enforcer.handle(event)

        def instance_state(i: str) -> str:
            return str(
                ec2.describe_instances(InstanceIds=[i])["Reservations"][0]["Instances"][0]["State"]["Name"]
            )

        def concurrency() -> Any:
            return lam.get_function_concurrency(FunctionName="agent-13-scraper").get(
                "ReservedConcurrentExecutions"
            )

        lines.append(f"t+0s   agent-13 created {a}, {b_id} and agent-13-scraper: none can be attributed")
        lines.append(
            f"       -> quarantined: {a} {instance_state(a)}, {b_id} {instance_state(b_id)}, "
            f"function concurrency {concurrency()} (was 5); grace {GRACE}s"
        )
        if (instance_state(a), instance_state(b_id), concurrency()) != ("stopped", "stopped", 0):
            problems.append("quarantine did not stop the instances / zero the concurrency")

        clock.now += 10
        owner_tags = [{"Key": "CostCenter", "Value": "101"}, {"Key": "Outcome-ID", "Value": "OUT-7777"}]
        ec2.create_tags(Resources=[a], Tags=owner_tags)
        lam.tag_resource(Resource=f, Tags={t["Key"]: t["Value"] for t in owner_tags})
        lines.append(f"t+10s  the owner tags {a} and agent-13-scraper with CostCenter and Outcome-ID")
        swept = sweeper.run()["resources"]
        lines.append(
            "       sweep: "
            + ", ".join(
                f"{r['resource'].split(':')[-1]} {r['verdict']}"
                for r in swept
                if r["type"] != "AWS::EC2::NetworkInterface"
            )
        )
        lines.append(f"       -> {a} {instance_state(a)}, function concurrency {concurrency()} (restored)")
        if (instance_state(a), concurrency()) != ("running", 5):
            problems.append("release did not restore the instance and the concurrency exactly")

        clock.now += GRACE
        swept = sweeper.run()["resources"]
        lines.append(
            f"t+{10 + GRACE}s  sweep: "
            + ", ".join(
                f"{r['resource'].split(':')[-1]} {r['verdict']}"
                for r in swept
                if r["type"] != "AWS::EC2::NetworkInterface"
            )
        )
        lines.append(f"       -> {b_id} {instance_state(b_id)}")
        if instance_state(b_id) not in ("terminated", "shutting-down"):
            problems.append("the unattributed instance was not deleted after its grace period")

        notes = []
        while msgs := sqs.receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", []):
            for m in msgs:
                notes.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=inbox, ReceiptHandle=m["ReceiptHandle"])

    out.write("Lifecycle (AWS, moto server; simulated clock): quarantine, release, delete\n\n")
    out.write("\n".join(lines) + "\n\n")
    out.write(f"{len(notes)} notifications on the SNS topic (read back from a subscribed SQS queue):\n")
    for n in sorted(notes, key=lambda n: (n["kind"], n["resource_id"])):
        out.write(
            f"  [{n['kind']}] {n['resource_id'].split(':')[-1]}: "
            + (f"missing {', '.join(n['missing'])}" if n["missing"] else "attributed now")
            + (f"; fix: {n['fix']}" if n["fix"] else "")
            + "\n"
        )
    kinds = {n["kind"] for n in notes}
    if not {"quarantined", "released", "deleted"} <= kinds:
        problems.append(f"expected quarantined, released and deleted notifications, got {sorted(kinds)}")
    if problems:
        out.write("\nPROBLEMS:\n" + "".join(f"  - {p}\n" for p in problems))
    else:
        out.write("Quarantine, release and deletion happened as the rules say.\n")
    return 1 if problems else 0
