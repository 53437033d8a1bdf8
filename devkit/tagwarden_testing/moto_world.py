"""A local AWS for end-to-end runs: moto in server mode (real HTTP), an EventBridge rule with the
template's patterns routing CloudTrail-shaped events to an SQS queue, and the real handler
consuming that queue.

moto's CloudTrail records nothing, so whoever makes an API call here also builds the CloudTrail
record of that call (tagwarden_testing.events) and puts it on the bus, as CloudTrail would.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

REGION = "us-east-1"
QUEUE = "tagwarden-events"
RULE_PREFIX = "tagwarden-create-events"


@contextmanager
def moto_server(region: str = REGION) -> Iterator[str]:
    """Start moto's server on a free loopback port; point every boto3 client at it meanwhile."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its state per process, across server instances: start from an empty account.
    import urllib.request

    urllib.request.urlopen(
        urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10
    ).close()
    wanted = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }
    saved = {k: os.environ.get(k) for k in wanted}
    os.environ.update(wanted)
    try:
        yield endpoint
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def client(service: str, region: str = REGION) -> Any:
    return boto3.client(service, region_name=region)


@dataclass
class Bus:
    """EventBridge rules (the template's patterns) delivering to an SQS queue we drain."""

    patterns: list[dict[str, Any]]
    region: str = REGION
    queue_url: str = ""
    sent: int = 0
    _events: Any = field(default=None, repr=False)
    _sqs: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._events = client("events", self.region)
        self._sqs = client("sqs", self.region)
        self.queue_url = self._sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
        arn = self._sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        for i, pattern in enumerate(self.patterns):
            name = f"{RULE_PREFIX}-{i}"
            self._events.put_rule(Name=name, EventPattern=json.dumps(pattern), State="ENABLED")
            self._events.put_targets(Rule=name, Targets=[{"Id": "enforcer", "Arn": arn}])

    def put(self, record: Mapping[str, Any]) -> None:
        """Publish a CloudTrail record the way CloudTrail does: on the default bus of its region."""
        service = str(record["eventSource"]).split(".")[0]
        result = self._events.put_events(
            Entries=[
                {
                    "Source": f"aws.{service}",
                    "DetailType": "AWS API Call via CloudTrail",
                    "Detail": json.dumps(record, default=str),
                }
            ]
        )
        if result.get("FailedEntryCount"):
            raise RuntimeError(f"EventBridge refused the event: {result}")
        self.sent += 1

    def drain(self, wait_seconds: float = 2.0) -> list[dict[str, Any]]:
        """Every event the rules delivered to the queue so far (deleting them)."""
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait_seconds
        while True:
            got = self._sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            messages = got.get("Messages", [])
            for m in messages:
                out.append(json.loads(m["Body"]))
                self._sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
            if not messages:
                if out or time.monotonic() > deadline:
                    return out
                time.sleep(0.05)


def agent_role(name: str, tags: Mapping[str, str] | None = None) -> str:
    """An IAM role agents assume (its tags are what principal_tag sources read)."""
    iam = client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    arn: str = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust),
        Tags=[{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    )["Role"]["Arn"]
    return arn


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as `context` (the fields Powertools reads)."""

    function_name: str = "tagwarden-enforcer"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:tagwarden-enforcer"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    log_group_name: str = "/aws/lambda/tagwarden-enforcer"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000
