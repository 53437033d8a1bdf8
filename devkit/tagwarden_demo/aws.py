"""The AWS demo: an agent fleet creating resources in a local AWS (moto, real HTTP), each create
reported as CloudTrail would, routed by EventBridge rules with the template's patterns, and tagged
by the real Lambda handler. Prints what happened to every resource, and fails loudly if anything
did not go as the rules say.
"""

from __future__ import annotations

import io
import json
import logging
import sys
import time
import zipfile
from collections.abc import Callable
from contextlib import redirect_stdout
from dataclasses import dataclass
from importlib import resources
from typing import Any, TextIO

from tagwarden_demo import ledger_path
from tagwarden_testing import events as ev
from tagwarden_testing.env import environ
from tagwarden_testing.moto_world import Bus, LambdaContext, agent_role, client, moto_server

ROLE_TAGS = {
    "agent-fleet-support": {"Outcome-ID": "OUT-7001"},  # Agent-ID from the session, CostCenter 101 by role
    "agent-fleet-research": {"Outcome-ID": "OUT-9001"},  # CostCenter 205 by role
    "agent-fleet-adhoc": {},  # nothing to attribute with: quarantined
    "sso-developer": {},  # a human: only notified
}


@dataclass
class Step:
    """One API call by an agent, and the CloudTrail record of it."""

    who: tuple[str, str]  # (role, session)
    what: str
    call: Callable[[dict[str, Any]], dict[str, Any]]  # identity -> CloudTrail record (after the real call)
    expect: str  # the action the rules should decide for its resources
    vanish: Callable[[], None] | None = None  # delete the resource before the event is handled


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def _run_instances(count: int, tags: dict[str, str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def call(identity: dict[str, Any]) -> dict[str, Any]:
        got = client("ec2").run_instances(
            ImageId="ami-12c6146b",
            MinCount=count,
            MaxCount=count,
            InstanceType="t3.micro",
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            ],
        )
        pairs = [
            (i["InstanceId"], [n["NetworkInterfaceId"] for n in i.get("NetworkInterfaces", [])])
            for i in got["Instances"]
        ]
        return ev.run_instances(tags=tags, identity=identity, instances=pairs)

    return call


def _bucket(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def call(identity: dict[str, Any]) -> dict[str, Any]:
        client("s3").create_bucket(Bucket=name)
        return ev.create_bucket(name, identity=identity)

    return call


def _json_call(
    service: str, source: str, event: str, method: str, **params: Any
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A JSON-protocol call: CloudTrail logs its parameters and response with lower-case first letters."""

    def call(identity: dict[str, Any]) -> dict[str, Any]:
        response = getattr(client(service), method)(**params)
        response.pop("ResponseMetadata", None)
        return ev.cloudtrail(event, source, ev.lower_first(params), ev.lower_first(response), identity)

    return call


def _function(name: str, role_arn: str, tags: dict[str, str]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def call(identity: dict[str, Any]) -> dict[str, Any]:
        params = {
            "FunctionName": name,
            "Runtime": "python3.13",
            "Role": role_arn,
            "Handler": "app.handler",
            "Tags": tags,
        }
        response = client("lambda").create_function(**params, Code={"ZipFile": _zip()})
        response.pop("ResponseMetadata", None)
        return ev.cloudtrail(
            "CreateFunction20150331",
            "lambda.amazonaws.com",
            ev.lower_first(params),
            ev.lower_first(response),
            identity,
        )

    return call


def _volume_then_gone() -> tuple[Callable[[dict[str, Any]], dict[str, Any]], Callable[[], None]]:
    made: dict[str, str] = {}

    def call(identity: dict[str, Any]) -> dict[str, Any]:
        made["id"] = client("ec2").create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"]
        return ev.cloudtrail(
            "CreateVolume",
            "ec2.amazonaws.com",
            {"size": 8, "zone": "us-east-1a"},
            {"volumeId": made["id"]},
            identity,
        )

    def vanish() -> None:
        client("ec2").delete_volume(VolumeId=made["id"])

    return call, vanish


def steps(role_arn: str) -> list[Step]:
    support, research, adhoc, human = (
        ("agent-fleet-support", "agent-42"),
        ("agent-fleet-research", "agent-7"),
        (
            "agent-fleet-adhoc",
            "agent-13",
        ),
        ("sso-developer", "alice@example.com"),
    )
    volume, vanish = _volume_then_gone()
    return [
        Step(support, "2 instances", _run_instances(2, {"CostCenter": "101"}), "tag"),
        Step(support, "S3 bucket for a PDF", _bucket("agent-42-pdf-scratch"), "tag"),
        Step(
            support,
            "vector store (OpenSearch Serverless)",
            _json_call(
                "opensearchserverless",
                "aoss.amazonaws.com",
                "CreateCollection",
                "create_collection",
                name="agent-42-vectors",
                type="VECTORSEARCH",
            ),
            "tag",
        ),
        Step(
            research,
            "function to format data",
            _function("agent-7-format", role_arn, {"Outcome-ID": "OUT-9001"}),
            "tag",
        ),
        Step(
            research,
            "DynamoDB table",
            _json_call(
                "dynamodb",
                "dynamodb.amazonaws.com",
                "CreateTable",
                "create_table",
                TableName="agent-7-memory",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
                Tags=[{"Key": "Agent-ID", "Value": "7"}],
            ),
            "tag",
        ),
        Step(
            adhoc,
            "SQS queue",
            _json_call("sqs", "sqs.amazonaws.com", "CreateQueue", "create_queue", QueueName="agent-13-jobs"),
            "quarantine",
        ),
        Step(
            adhoc,
            "SNS topic",
            _json_call("sns", "sns.amazonaws.com", "CreateTopic", "create_topic", Name="agent-13-alerts"),
            "quarantine",
        ),
        Step(human, "S3 bucket by a person", _bucket("alice-experiments"), "notify"),
        Step(adhoc, "volume deleted at once", volume, "quarantine", vanish=vanish),
    ]


def run(out: TextIO = sys.stdout, log: TextIO | None = None) -> int:
    """Run the scenario; returns 0 when every resource ended as the rules say."""
    log = log or io.StringIO()
    rules_path = resources.files("tagwarden") / "examples" / "rules.yaml"
    with (
        moto_server(),
        resources.as_file(rules_path) as rules_file,
        environ(
            TAGWARDEN_RULES_PATH=str(rules_file),
            TAGWARDEN_NOT_FOUND_WINDOW="1.5",
            TAGWARDEN_OWN_ARNS="arn:aws:iam::*:role/tagwarden-enforcer*",
            TAGWARDEN_LEDGER=ledger_path(),
            POWERTOOLS_SERVICE_NAME="tagwarden-aws",
        ),
    ):
        for role, tags in ROLE_TAGS.items():
            agent_role(role, tags)
        fn_role = agent_role("agent-function-exec")
        key_arn = client("kms").create_key(Description="vector store key")["KeyMetadata"]["Arn"]
        client("opensearchserverless").create_security_policy(  # collections need one, as in AWS
            name="agent-vectors-encryption",
            type="encryption",
            policy=json.dumps(
                {
                    "Rules": [{"ResourceType": "collection", "Resource": ["collection/agent-42-vectors"]}],
                    "AWSOwnedKey": False,
                    "KmsARN": key_arn,
                }
            ),
        )
        from tagwarden.aws.patterns import event_patterns

        bus = Bus(event_patterns())
        with redirect_stdout(log):  # Powertools writes JSON logs and EMF metrics to stdout
            from tagwarden.aws import handler

            handler._ENFORCER = None
            # The handler's logger keeps the stdout it first saw (an earlier import in the same
            # process, perhaps a stream closed since): it writes to this run's log from now on.
            stream = handler._TELEMETRY.logger.registered_handler
            assert isinstance(stream, logging.StreamHandler)
            stream.stream = log  # not setStream: it would flush the old stream, perhaps closed
            rows, problems = _play(steps(fn_role), bus, handler)
            handler._ENFORCER = None  # it points at this run's moto server
        _print(out, rows, problems, bus, log)
    return 1 if problems else 0


def _play(plan: list[Step], bus: Bus, handler: Any) -> tuple[list[dict[str, Any]], list[str]]:
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    first_event: dict[str, Any] | None = None
    for step in plan:
        identity = ev.assumed_role(*step.who)
        record = step.call(identity)
        created = time.time()
        if step.vanish:
            step.vanish()
        bus.put(record)
        # A failed call (same request, errorCode set) must not even reach the function.
        bus.put({**record, "errorCode": "SimulatedFailure", "eventID": record["eventID"] + "-failed"})
        delivered = bus.drain()
        if len(delivered) != 1:
            problems.append(f"{step.what}: the rules delivered {len(delivered)} events, expected 1")
        for event in delivered:
            first_event = first_event or event
            result = handler.lambda_handler(event, LambdaContext())
            for report in result["events"]:
                for res in report["resources"]:
                    ms = (res["tagged_at"] - created) * 1000 if res.get("tagged_at") else None
                    rows.append({"step": step, "res": res, "ms": ms})
                    if res["action"] != step.expect:
                        problems.append(
                            f"{step.what}: {res['resource']} got {res['action']}, expected {step.expect}"
                        )
                    if res["outcome"] == "failed":
                        problems.append(f"{step.what}: {res['resource']}: {res['error']}")
                    if step.vanish and res["outcome"] != "vanished":
                        problems.append(f"{step.what}: expected the resource to be recorded as vanished")
    if first_event is not None:  # EventBridge delivers at least once: a duplicate must do nothing
        again = handler.lambda_handler(first_event, LambdaContext())["events"][0]
        if again.get("kind") != "duplicate":
            problems.append(f"duplicate delivery was acted on again: {again}")
        else:
            rows.append({"step": None, "res": {"skipped": again["skipped"]}, "ms": None})
    return rows, problems


def _print(
    out: TextIO, rows: list[dict[str, Any]], problems: list[str], bus: Bus, log: io.StringIO | TextIO
) -> None:
    head = ("creator", "what", "resource", "action", "outcome", "tags written", "create->tag")
    table = [head]
    for row in rows:
        step, res = row["step"], row["res"]
        if step is None:
            table.append(("-", "same event delivered again", "-", "skipped", res["skipped"], "-", "-"))
            continue
        written = ", ".join(f"{k}={v}" for k, v in res["tags"].items() if not k.startswith("tagwarden:"))
        if not written and res["tags"]:
            written = "(tagwarden stamps only)"
        missing = res["missing"] + res["invalid"]
        if missing:
            written += f"  (missing {', '.join(missing)})"
        short = res["resource"].split(":")[-1][-40:]
        ms = f"{row['ms']:.0f} ms" if row["ms"] is not None else "-"
        table.append((step.who[1], step.what, short, res["action"], res["outcome"], written or "-", ms))
    widths = [max(len(str(r[i])) for r in table) for i in range(len(head))]
    out.write(
        "AWS (moto server, real HTTP): CloudTrail-shaped events -> EventBridge rules -> Lambda handler\n\n"
    )
    for r in table:
        out.write("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n")
    log_text = log.getvalue() if isinstance(log, io.StringIO) else ""
    records = [json.loads(line) for line in log_text.splitlines() if line.startswith("{")]
    actions = [r for r in records if r.get("message") == "lifecycle action"]
    notified = [r for r in records if r.get("message") == "notification"]
    emf = [r for r in records if "_aws" in r]
    out.write(
        f"\n{bus.sent} events published ({bus.sent // 2} failed-call copies filtered out by the rules' "
        f"errorCode condition); {len(actions)} lifecycle actions and {len(notified)} notifications logged; "
        f"{len(emf)} EMF metric documents, {len(records) - len(emf)} structured log records.\n"
    )
    if problems:
        out.write("\nPROBLEMS:\n" + "".join(f"  - {p}\n" for p in problems))
    else:
        out.write("Every resource ended as the rules say.\n")
