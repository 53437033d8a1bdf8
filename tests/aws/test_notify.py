"""SnsNotifier against moto in server mode (real HTTP): SQS queues subscribed to the topic receive
the notification with its message attributes (raw delivery off and on), filter policies on `kind`
and on `creator_address` deliver only what matches, email subscribers' text is the body, and the
Chatbot variant goes to its own topic.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from msgspec.structs import replace

from tagwarden.aws.clients import Clients
from tagwarden.aws.notify import SnsNotifier, topic_region
from tagwarden.channels.webhook import TeamsNotifier
from tagwarden.lifecycle import messages
from tagwarden.lifecycle.fanout import Fanout, FanoutError
from tagwarden.lifecycle.ports import Notification
from tagwarden.rules.model import RuleSet
from tagwarden_testing.moto_world import REGION, moto_server
from tagwarden_testing.notifications import quarantined

pytestmark = pytest.mark.e2e

ACCOUNT = "123456789012"
EC2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0abc1234def567890"

QUARANTINED = quarantined("aws")
RELEASED = replace(QUARANTINED, kind="released", missing=(), action="release", deadline=None, fix="")
BOBS = replace(QUARANTINED, creator=f"arn:aws:iam::{ACCOUNT}:user/bob", resource_id=EC2 + "b")


@dataclass
class World:
    sns: Any
    sqs: Any
    topic: str
    chatbot_topic: str
    queues: dict[str, str]  # name -> url

    def subscribe(self, name: str, topic: str, attributes: dict[str, str] | None = None) -> None:
        url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes=attributes or {})
        self.queues[name] = url

    def clear(self) -> None:
        for name in self.queues:  # moto delivers on Publish: nothing is in flight
            self.drain(name, 0, wait=0)

    def drain(self, name: str, expect: int, wait: float = 3.0) -> list[dict[str, Any]]:
        """Every message on the queue (waiting until `expect` arrived, or `wait` seconds)."""
        out: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait
        while True:
            got = self.sqs.receive_message(
                QueueUrl=self.queues[name],
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            for msg in got:
                out.append(msg)
                self.sqs.delete_message(QueueUrl=self.queues[name], ReceiptHandle=msg["ReceiptHandle"])
            if len(out) >= expect and not got:
                return out
            if time.monotonic() > deadline:
                return out
            if not got:
                time.sleep(0.05)


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with moto_server():
        sns = boto3.client("sns", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        w = World(
            sns,
            sqs,
            sns.create_topic(Name="tagwarden-notifications")["TopicArn"],
            sns.create_topic(Name="tagwarden-chatbot")["TopicArn"],
            {},
        )
        w.subscribe("envelope", w.topic)
        w.subscribe("raw", w.topic, {"RawMessageDelivery": "true"})
        w.subscribe(
            "only-quarantined",
            w.topic,
            {"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"kind": ["quarantined"]})},
        )
        w.subscribe(
            "alice",
            w.topic,
            {
                "RawMessageDelivery": "true",
                "FilterPolicy": json.dumps({"creator_address": ["alice@example.com"]}),
            },
        )
        w.subscribe("chatbot", w.chatbot_topic, {"RawMessageDelivery": "true"})
        yield w


@pytest.fixture
def notifier(world: World) -> SnsNotifier:
    world.clear()  # each test starts with empty queues
    return SnsNotifier(Clients(boto3.session.Session()), world.topic, world.chatbot_topic)


def test_envelope_delivery_carries_json_subject_and_attributes(world: World, notifier: SnsNotifier) -> None:
    notifier.send(QUARANTINED)
    [msg] = world.drain("envelope", 1)
    envelope = json.loads(msg["Body"])
    assert envelope["Type"] == "Notification"
    assert envelope["TopicArn"] == world.topic
    assert envelope["Subject"] == messages.subject(QUARANTINED)
    assert json.loads(envelope["Message"]) == messages.to_json(QUARANTINED)
    attrs = {k: v["Value"] for k, v in envelope["MessageAttributes"].items()}
    assert attrs == {
        "kind": "quarantined",
        "provider": "aws",
        "account": ACCOUNT,
        "rule": "prod-owner-required",
        "action": "quarantine",
        "resource_type": "AWS::EC2::Instance",
        "dry_run": "false",
        "creator_address": "alice@example.com",
    }
    assert all(v["Type"] == "String" for v in envelope["MessageAttributes"].values())


def test_raw_delivery_is_the_json_with_sqs_message_attributes(world: World, notifier: SnsNotifier) -> None:
    notifier.send(QUARANTINED)
    [msg] = world.drain("raw", 1)
    doc = json.loads(msg["Body"])
    assert doc["schema"] == "tagwarden.notification"
    assert doc["version"] == "1"
    assert doc == messages.to_json(QUARANTINED)
    assert doc["fix"].startswith("aws resourcegroupstaggingapi tag-resources --region us-east-1 ")
    attrs = {k: (v["DataType"], v["StringValue"]) for k, v in msg["MessageAttributes"].items()}
    assert attrs["kind"] == ("String", "quarantined")
    assert attrs["creator_address"] == ("String", "alice@example.com")


def test_filter_policy_on_kind_delivers_only_matching(world: World, notifier: SnsNotifier) -> None:
    notifier.send(QUARANTINED)
    notifier.send(RELEASED)
    notifier.send(replace(QUARANTINED, kind="deleted", action="delete"))
    kinds = [json.loads(m["Body"])["kind"] for m in world.drain("only-quarantined", 1)]
    assert kinds == ["quarantined"]
    assert len(world.drain("raw", 3)) == 3  # the unfiltered subscription got all three


def test_filter_policy_on_creator_address_routes_the_creators_copy(
    world: World, notifier: SnsNotifier
) -> None:
    notifier.send(BOBS)  # no address for bob: no attribute, no copy
    notifier.send(QUARANTINED)
    got = [json.loads(m["Body"]) for m in world.drain("alice", 1)]
    assert [d["resource_id"] for d in got] == [EC2]
    assert got[0]["recipients"] == ["alice@example.com"]
    assert "creator_address" not in notifier.attributes(BOBS)


def test_chatbot_variant_goes_to_its_own_topic(world: World, notifier: SnsNotifier) -> None:
    notifier.send(QUARANTINED)
    [msg] = world.drain("chatbot", 1)
    doc = json.loads(msg["Body"])
    assert doc == messages.chatbot(QUARANTINED)
    assert doc["version"] == "1.0"
    assert doc["source"] == "custom"
    assert len(world.drain("raw", 1)) == 1  # and the main topic still got the JSON


def test_without_a_chatbot_topic_only_the_main_topic_publishes(world: World) -> None:
    world.clear()
    SnsNotifier(Clients(boto3.session.Session()), world.topic).send(QUARANTINED)
    assert len(world.drain("raw", 1)) == 1
    assert world.drain("chatbot", 0, wait=0.3) == []


def test_email_subscribers_get_the_body(world: World, notifier: SnsNotifier) -> None:
    """MessageStructure=json: 'email' carries the text, every other protocol the JSON ('default')."""
    published: list[dict[str, Any]] = []
    sns = notifier.clients.get("sns", REGION)
    sns.meta.events.register(
        "provide-client-params.sns.Publish", lambda params, **_: published.append(params)
    )
    try:
        notifier.send(QUARANTINED)
    finally:
        sns.meta.events.unregister("provide-client-params.sns.Publish")
    main = published[0]
    assert main["MessageStructure"] == "json"
    structured = json.loads(main["Message"])
    assert structured["email"] == messages.body(QUARANTINED)
    assert json.loads(structured["default"]) == messages.to_json(QUARANTINED)
    assert main["Subject"] == messages.subject(QUARANTINED)


def test_fanout_keeps_the_sns_copy_when_another_channel_fails(world: World, notifier: SnsNotifier) -> None:
    class Down:
        def send(self, message: Notification) -> None:
            raise ConnectionError("teams webhook unreachable")

    with pytest.raises(FanoutError, match="teams: ConnectionError"):
        Fanout({"teams": Down(), "sns": notifier}).send(QUARANTINED)
    assert len(world.drain("raw", 1)) == 1


def test_publish_errors_propagate(world: World) -> None:
    missing = f"arn:aws:sns:{REGION}:{ACCOUNT}:no-such-topic"
    with pytest.raises(ClientError, match=r"NotFound|does not exist"):
        SnsNotifier(Clients(boto3.session.Session()), missing).send(QUARANTINED)


def test_topic_region() -> None:
    assert topic_region("arn:aws:sns:eu-west-1:123456789012:t") == "eu-west-1"
    assert topic_region("not-an-arn") is None


def test_the_aws_enforcer_fans_out_to_sns_and_the_teams_webhook(example_rules: RuleSet) -> None:
    """One fan-out on both clouds: AWS sends to its topic and to a Teams webhook when one is set."""
    from tagwarden.aws.enforcer import notifier

    clients = Clients(boto3.session.Session(region_name=REGION))  # nothing is called here
    env = {
        "TAGWARDEN_SNS_TOPIC_ARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:t",
        "TAGWARDEN_TEAMS_WEBHOOK_URL": "https://example.test/workflows/x?sig=s",
    }
    fan = notifier(env, example_rules, clients)
    assert isinstance(fan, Fanout)
    assert [(name, type(c)) for name, c in fan.channels] == [("sns", SnsNotifier), ("teams", TeamsNotifier)]
    assert notifier({}, example_rules, clients) is None
