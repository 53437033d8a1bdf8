"""End to end over real HTTP: moto's server, EventBridge rules with the template's patterns routing
CloudTrail-shaped events to SQS, and the real handler writing tags that we read back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tagwarden.aws.clients import Clients
from tagwarden.aws.enforcer import AwsEnforcer, TagWriteFailed, build
from tagwarden.aws.ledger import DynamoLedger, create_table
from tagwarden.aws.patterns import event_patterns
from tagwarden.aws.telemetry import Telemetry
from tagwarden_testing.moto_world import Bus, LambdaContext, agent_role, client, moto_server

import builders as b
from conftest import EXAMPLE_RULES

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def aws() -> Iterator[Bus]:
    with moto_server():
        agent_role("agent-fleet-support", {"Outcome-ID": "OUT-7001"})
        agent_role("agent-fleet-adhoc")
        agent_role("tagwarden-enforcer-role")
        yield Bus(event_patterns())


def enforcer(tmp_path: Path | None = None, rules_text: str | None = None, **env: str) -> AwsEnforcer:
    rules = EXAMPLE_RULES
    if rules_text is not None:
        assert tmp_path is not None
        rules = tmp_path / "rules.yaml"
        rules.write_text(rules_text)
    settings = {
        "TAGWARDEN_RULES_PATH": str(rules),
        "TAGWARDEN_NOT_FOUND_WINDOW": "0.5",
        "TAGWARDEN_OWN_ARNS": "arn:aws:iam::*:role/tagwarden-enforcer*",
        "TAGWARDEN_LEDGER": ":memory:",
        **env,
    }
    return build(settings, clients=Clients(), telemetry=Telemetry())


def run_instances(
    count: int = 1,
    tags: dict[str, str] | None = None,
    session: str = "agent-42",
    role: str = "agent-fleet-support",
) -> dict[str, Any]:
    got = client("ec2").run_instances(ImageId="ami-12c6146b", MinCount=count, MaxCount=count)
    pairs = [
        (i["InstanceId"], [n["NetworkInterfaceId"] for n in i.get("NetworkInterfaces", [])])
        for i in got["Instances"]
    ]
    return b.run_instances(tags=tags, identity=b.assumed_role(role, session), instances=pairs)


def ec2_tags(resource_id: str) -> dict[str, str]:
    found = client("ec2").describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]}])["Tags"]
    return {t["Key"]: t["Value"] for t in found}


def deliver(bus: Bus, record: dict[str, Any]) -> list[dict[str, Any]]:
    bus.put(record)
    return bus.drain()


def count_calls(e: AwsEnforcer, service: str, operation: str) -> list[int]:
    calls = [0]

    def hook(**_: Any) -> None:
        calls[0] += 1

    e.clients.get(service, "us-east-1").meta.events.register(f"before-call.{service}.{operation}", hook)
    return calls


def test_agent_instance_is_tagged_from_session_role_and_principal_tags(aws: Bus) -> None:
    record = run_instances(tags={"CostCenter": "101"})
    (event,) = deliver(aws, record)
    result = enforcer().handle(event)
    (report,) = result["events"]
    instance = record["responseElements"]["instancesSet"]["items"][0]["instanceId"]
    tags = ec2_tags(instance)
    assert tags["Agent-ID"] == "42"  # session agent-42
    assert tags["Outcome-ID"] == "OUT-7001"  # the role's own tag, read through iam:ListRoleTags
    assert tags["tagwarden:rule"] == "agents-aws"
    assert tags["tagwarden:creator"].endswith("assumed-role/agent-fleet-support/agent-42")
    assert {r["outcome"] for r in report["resources"]} == {"tagged"}
    eni = record["responseElements"]["instancesSet"]["items"][0]["networkInterfaceSet"]["items"][0]
    assert ec2_tags(eni["networkInterfaceId"])["CostCenter"] == "101"  # from the role mapping


def test_failed_calls_and_tag_writes_never_reach_the_function(aws: Bus) -> None:
    record = run_instances()
    assert deliver(aws, {**record, "errorCode": "UnauthorizedOperation"}) == []
    tag_call = b.cloudtrail(
        "CreateTags",
        "ec2.amazonaws.com",
        {"resourcesSet": {"items": []}},
        None,
        b.assumed_role("tagwarden-enforcer-role", "tagwarden"),
    )
    assert deliver(aws, tag_call) == []


def test_audit_mode_changes_nothing(aws: Bus, tmp_path: Path) -> None:
    rules = EXAMPLE_RULES.read_text().replace("mode: enforce", "mode: audit")
    record = run_instances()
    (event,) = deliver(aws, record)
    (report,) = enforcer(tmp_path, rules).handle(event)["events"]
    instance = record["responseElements"]["instancesSet"]["items"][0]["instanceId"]
    assert ec2_tags(instance) == {}
    assert {r["outcome"] for r in report["resources"]} == {"audit"}
    assert report["resources"][0]["tags"]["Agent-ID"] == "42"  # decided, reported, not written


def test_unattributable_gets_the_rules_action_and_what_could_be_derived(aws: Bus, caplog: Any) -> None:
    sqs = client("sqs")
    url = sqs.create_queue(QueueName="agent-13-jobs")["QueueUrl"]
    record = b.cloudtrail(
        "CreateQueue",
        "sqs.amazonaws.com",
        {"queueName": "agent-13-jobs"},
        {"queueUrl": url},
        b.assumed_role("agent-fleet-adhoc", "agent-13"),
    )
    (event,) = deliver(aws, record)
    (report,) = enforcer().handle(event)["events"]
    (res,) = report["resources"]
    assert res["action"] == "quarantine"
    assert set(res["missing"]) == {"CostCenter", "Outcome-ID"}
    tags = sqs.list_queue_tags(QueueUrl=url)["Tags"]
    assert tags["Agent-ID"] == "13"
    assert "CostCenter" not in tags


def test_duplicate_delivery_writes_once(aws: Bus) -> None:
    e = enforcer()
    calls = count_calls(e, "ec2", "CreateTags")
    (event,) = deliver(aws, run_instances(count=3))
    first = e.handle(event)["events"][0]
    second = e.handle(event)["events"][0]
    assert calls[0] == 1  # three instances and their ENIs: one batched call
    assert all(r["calls"] == 1 for r in first["resources"])
    assert second["kind"] == "duplicate" and second["resources"] == []


def test_duplicate_delivery_across_containers_with_the_dynamodb_ledger(aws: Bus) -> None:
    create_table(client("dynamodb"), "tagwarden-ledger")
    (event,) = deliver(aws, run_instances())
    a, c = (
        enforcer(TAGWARDEN_LEDGER_TABLE="tagwarden-ledger"),
        enforcer(TAGWARDEN_LEDGER_TABLE="tagwarden-ledger"),
    )
    assert isinstance(a.ledger, DynamoLedger)
    assert a.handle(event)["events"][0]["skipped"] is None
    assert c.handle(event)["events"][0]["kind"] == "duplicate"
    (instance,) = [r for r in a.ledger.scan() if r.type == "AWS::EC2::Instance"]
    assert instance.event_id == event["detail"]["eventID"] and instance.tags["Agent-ID"] == "42"
    assert instance.rules_hash == a.rules_digest and len(a.rules_digest) == 64


def test_vanished_resource_is_recorded_not_retried_forever(aws: Bus) -> None:
    ec2 = client("ec2")
    volume = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    ec2.delete_volume(VolumeId=volume)
    record = b.cloudtrail(
        "CreateVolume",
        "ec2.amazonaws.com",
        {"size": 1},
        {"volumeId": volume},
        b.assumed_role("agent-fleet-support", "agent-42"),
    )
    (event,) = deliver(aws, record)
    (report,) = enforcer().handle(event)["events"]
    (res,) = report["resources"]
    assert res["outcome"] == "vanished"
    assert res["tags"]["Agent-ID"] == "42"  # what it would have been tagged with is kept


class Injected:
    """Answers EC2 CreateTags with an error, over the wire, for the first `times` attempts."""

    def __init__(self, e: AwsEnforcer, code: str, status: int, times: int) -> None:
        self.code, self.status, self.left, self.sent = code, status, times, 0
        e.clients.get("ec2", "us-east-1").meta.events.register("before-send.ec2.CreateTags", self)

    def __call__(self, request: Any, **_: Any) -> Any:
        if self.left <= 0:
            return None  # let the real request through to moto
        from botocore.awsrequest import AWSResponse

        self.left -= 1
        self.sent += 1
        body = f"<Response><Errors><Error><Code>{self.code}</Code><Message>injected</Message></Error></Errors></Response>"
        return AWSResponse(request.url, self.status, {}, _Raw(body.encode()))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self) -> bytes:
        return self._body


def test_throttling_is_retried(aws: Bus) -> None:
    e = enforcer()
    throttle = Injected(e, "RequestLimitExceeded", 503, times=2)
    (event,) = deliver(aws, run_instances())
    (report,) = e.handle(event)["events"]
    assert throttle.sent == 2
    assert {r["outcome"] for r in report["resources"]} == {"tagged"}


def test_failed_write_raises_for_retry_and_the_retry_acts(aws: Bus) -> None:
    e = enforcer()
    deny = Injected(e, "UnauthorizedOperation", 403, times=1)
    record = run_instances()
    (event,) = deliver(aws, record)
    with pytest.raises(TagWriteFailed, match="UnauthorizedOperation"):
        e.handle(event)
    assert deny.sent == 1  # not retried by botocore: it is not transient
    (report,) = e.handle(event)["events"]  # permissions fixed; Lambda retries the same event
    assert report["skipped"] is None  # the failed attempt released its claim
    instance = record["responseElements"]["instancesSet"]["items"][0]["instanceId"]
    assert ec2_tags(instance)["Agent-ID"] == "42"


def test_own_calls_and_own_tag_writes_cause_no_further_writes(aws: Bus) -> None:
    e = enforcer()
    calls = count_calls(e, "ec2", "CreateTags")
    sg = client("ec2").create_security_group(GroupName="isolation", Description="x")["GroupId"]
    own = b.cloudtrail(
        "CreateSecurityGroup",
        "ec2.amazonaws.com",
        {"groupName": "isolation"},
        {"groupId": sg},
        b.assumed_role("tagwarden-enforcer-role", "tagwarden-enforcer"),
    )
    (event,) = deliver(aws, own)
    assert e.handle(event)["events"][0]["kind"] == "own-call"
    # The tag write tagwarden makes is itself a CloudTrail event; handed to the function anyway, it does nothing.
    (agent_event,) = deliver(aws, run_instances())
    e.handle(agent_event)
    assert calls[0] == 1
    echo = b.cloudtrail(
        "CreateTags",
        "ec2.amazonaws.com",
        {"resourcesSet": {"items": [{"resourceId": "i-1"}]}},
        {"_return": True},
        b.assumed_role("tagwarden-enforcer-role", "tagwarden-enforcer"),
    )
    assert e.handle(b.eventbridge(echo))["events"][0]["kind"] == "own-call"
    assert calls[0] == 1


def test_lambda_handler_entry_point(aws: Bus, monkeypatch: pytest.MonkeyPatch) -> None:
    from tagwarden.aws import handler

    monkeypatch.setenv("TAGWARDEN_RULES_PATH", str(EXAMPLE_RULES))
    monkeypatch.setenv("TAGWARDEN_LEDGER", ":memory:")
    monkeypatch.setattr(handler, "_ENFORCER", None)
    (event,) = deliver(aws, run_instances())
    result = handler.lambda_handler(event, LambdaContext())
    assert result["events"][0]["resources"][0]["outcome"] == "tagged"
    with pytest.raises(Exception, match="not a CloudTrail record"):
        handler.lambda_handler({"hello": "world"}, LambdaContext())


def test_every_delivered_event_is_json_serializable(aws: Bus) -> None:
    (event,) = deliver(aws, run_instances())
    report = json.loads(json.dumps(enforcer().handle(event)))  # what the handler returns goes over the wire
    assert report["events"][0]["resources"][0]["outcome"] == "tagged"


# --- a rules file's own catalogue entry, deployed ----------------------------------------------------

CLOUD_DIRECTORY = """
catalogue:
  - event_source: clouddirectory.amazonaws.com
    event_name: CreateDirectory
    id_path: responseElements.directoryArn
    resource_type: AWS::CloudDirectory::Directory
    tagger: rgta
"""


def _extra_rule(parameters: dict[str, str]) -> dict[str, Any]:
    """template.yaml's CreateEventsRuleExtra pattern with its parameters resolved, as CloudFormation does."""
    from cfnlint.decode import decode_str

    decoded, errors = decode_str((Path(__file__).resolve().parents[2] / "template.yaml").read_text())
    assert not errors
    pattern: dict[str, Any] = json.loads(
        json.dumps(decoded["Resources"]["CreateEventsRuleExtra"]["Properties"])
    )["EventPattern"]
    detail = pattern["detail"]
    for key, param in (("eventSource", "ExtraEventSources"), ("eventName", "ExtraEventNames")):
        assert detail[key] == {"Ref": param}
        detail[key] = parameters[param].split(",")
    return pattern


def test_a_rules_files_entry_for_a_service_the_catalogue_lacks_is_routed_and_tagged(
    aws: Bus, tmp_path: Path
) -> None:
    """Cloud Directory is in neither catalogue (its create calls take no tags); moto emulates it and
    tags its directories through the tagging API. The rules file teaches the enforcer its
    CreateDirectory; the template's parameters route the event and grant the permission."""
    import contextvars

    import cfnlint

    from tagwarden.aws.catalogue import CATALOGUE, derived, user
    from tagwarden.aws.patterns import extra_parameters, tag_actions
    from tagwarden.aws.taggers import TAGGERS
    from tagwarden.rules import load_rules_text

    source, name = "clouddirectory.amazonaws.com", "CreateDirectory"
    assert (source, name) not in CATALOGUE and derived.lookup(source, name) is None
    cd = client("clouddirectory")
    schema = cd.create_schema(Name="ledger")["SchemaArn"]
    published = cd.publish_schema(DevelopmentSchemaArn=schema, Version="1")["PublishedSchemaArn"]
    made = cd.create_directory(Name="vault-7", SchemaArn=published)
    arn = made["DirectoryArn"]
    record = b.cloudtrail(
        name,
        source,
        {"name": "vault-7", "schemaArn": published},
        {"directoryArn": arn, "name": "vault-7", "objectIdentifier": made["ObjectIdentifier"]},
        b.assumed_role("agent-fleet-support", "agent-42"),
    )
    # The generated rules alone do not take it.
    assert deliver(aws, record) == []

    rules_text = EXAMPLE_RULES.read_text() + CLOUD_DIRECTORY
    entries = load_rules_text(rules_text, "rules.yaml", env={}).catalogue
    params = extra_parameters(user.index(entries).values(), TAGGERS)
    assert params == {
        "ExtraEventSources": source,
        "ExtraEventNames": name,
        "ExtraTagActions": "clouddirectory:TagResource",  # tag:TagResources is granted already
    }
    assert "tag:TagResources" in tag_actions(TAGGERS).actions
    reference = json.loads(
        (Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json").read_text()
    )
    assert "tagresource" in reference["clouddirectory"]["Actions"]

    # Deployed with those parameters: the extra rule delivers it, the enforcer (installing the rules
    # file's entries at build) tags it. In a context of its own: the install is per container.
    with_extra = Bus([*event_patterns(), _extra_rule(params)])
    (event,) = deliver(with_extra, record)

    def handle() -> dict[str, Any]:
        return enforcer(tmp_path, rules_text).handle(event)

    (report,) = contextvars.copy_context().run(handle)["events"]
    (res,) = report["resources"]
    assert res["type"] == "AWS::CloudDirectory::Directory" and res["outcome"] == "tagged", res
    tags = {t["Key"]: t["Value"] for t in cd.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert tags["Agent-ID"] == "42" and tags["tagwarden:rule"] == "agents-aws"
    # The install did not leak into this context: without the rules file the event is unknown again.
    assert user.lookup(source, name) is None
