"""CloudTrail records and EventBridge envelopes -> CreationEvent or Skipped."""

from __future__ import annotations

import json

import pytest

from tagwarden.aws.normalize.cloudtrail import actor_of, partition_of
from tagwarden.cli.normalize import normalize
from tagwarden.model import ActorKind, CreationEvent, Skipped
from tagwarden.normalize import MalformedEvent

import builders as b


def one(raw: object) -> CreationEvent | Skipped:
    (result,) = normalize(raw)
    return result


def test_run_instances_yields_instances_and_their_enis_with_request_tags() -> None:
    ev = one(b.run_instances(count=2, tags={"CostCenter": "101"}))
    assert isinstance(ev, CreationEvent)
    ids = [r.id for r in ev.resources]
    assert ids == [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000001",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000002",
        "arn:aws:ec2:us-east-1:123456789012:network-interface/eni-00000000000000001",
        "arn:aws:ec2:us-east-1:123456789012:network-interface/eni-00000000000000002",
    ]
    assert ev.resources[0].native_id == "i-00000000000000001"
    assert ev.resources[0].request_tags == {"CostCenter": "101"}
    assert ev.resources[2].request_tags == {}  # tag spec was for instances only


def test_envelope_and_bare_record_agree() -> None:
    record = b.create_function(tags={"Agent-ID": "7"})
    a, c = one(record), one(b.eventbridge(record))
    assert isinstance(a, CreationEvent) and isinstance(c, CreationEvent)
    assert a.resources == c.resources and a.actor == c.actor and a.event_id == c.event_id


def test_create_bucket_builds_the_arn_from_the_request() -> None:
    ev = one(b.create_bucket("agent-scratch-0001"))
    assert isinstance(ev, CreationEvent)
    (r,) = ev.resources
    assert (r.id, r.type, r.name, r.native_id) == (
        "arn:aws:s3:::agent-scratch-0001",
        "AWS::S3::Bucket",
        "agent-scratch-0001",
        "agent-scratch-0001",
    )


def test_partition_from_region() -> None:
    ev = one(b.run_instances(region="cn-north-1"))
    assert isinstance(ev, CreationEvent)
    assert ev.resources[0].id.startswith("arn:aws-cn:ec2:cn-north-1:")
    assert [partition_of(r) for r in ("us-gov-west-1", "eu-west-1")] == ["aws-us-gov", "aws"]


def test_assumed_role_actor() -> None:
    actor = actor_of(b.run_instances(identity=b.assumed_role("agent-fleet", "agent-42")))
    assert actor.kind is ActorKind.ASSUMED_ROLE
    assert actor.role_name == "agent-fleet"
    assert actor.role_arn == "arn:aws:iam::123456789012:role/agent-fleet"
    assert actor.session_name == "agent-42"
    assert actor.arn == "arn:aws:sts::123456789012:assumed-role/agent-fleet/agent-42"


def test_role_with_path_keeps_the_issuer_arn() -> None:
    ident = b.assumed_role("agent-fleet", "agent-1")
    ident["sessionContext"]["sessionIssuer"]["arn"] = "arn:aws:iam::123456789012:role/agents/agent-fleet"
    ident["sessionContext"]["sourceIdentity"] = "bob@corp.com"
    actor = actor_of(b.cloudtrail("RunInstances", "ec2.amazonaws.com", identity=ident))
    assert actor.role_arn == "arn:aws:iam::123456789012:role/agents/agent-fleet"
    assert actor.source_identity == "bob@corp.com"


def test_iam_user_and_service_actors() -> None:
    user = actor_of(b.run_instances(identity=b.iam_user("alice")))
    assert (user.kind, user.user_name, user.arn) == (
        ActorKind.USER,
        "alice",
        "arn:aws:iam::123456789012:user/alice",
    )
    svc = actor_of(b.run_instances(identity={"type": "AWSService", "invokedBy": "autoscaling.amazonaws.com"}))
    assert (svc.kind, svc.invoked_by, svc.arn) == (
        ActorKind.SERVICE,
        "autoscaling.amazonaws.com",
        "autoscaling.amazonaws.com",
    )


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (b.run_instances(error_code="UnauthorizedOperation"), "failed call (UnauthorizedOperation)"),
        (b.cloudtrail("CreateTags", "ec2.amazonaws.com", {"resourcesSet": {}}), "tag write CreateTags"),
        (b.cloudtrail("DescribeInstances", "ec2.amazonaws.com"), "read-only call DescribeInstances"),
        (
            b.cloudtrail("CreateWidget", "widgets.amazonaws.com"),
            "widgets.amazonaws.com CreateWidget is not in the catalogue",
        ),
        (b.cloudtrail("RebootInstances", "ec2.amazonaws.com"), "RebootInstances does not create resources"),
        (b.cloudtrail("RunInstances", "ec2.amazonaws.com", {}, None), "names no created resource"),
    ],
)
def test_skips_with_reason(record: dict, reason: str) -> None:  # type: ignore[type-arg]
    result = one(record)
    assert isinstance(result, Skipped)
    assert reason in result.reason
    assert result.event_id == record["eventID"]


def test_other_eventbridge_detail_types_are_skipped() -> None:
    raw = {
        "detail-type": "AWS Console Sign In via CloudTrail",
        "source": "aws.signin",
        "id": "x",
        "detail": b.cloudtrail("ConsoleLogin", "signin.amazonaws.com"),
    }
    result = one(raw)
    assert isinstance(result, Skipped)
    assert "only CloudTrail API calls and service events are acted on" in result.reason


_ACCOUNT_DONE = {
    "createAccountStatus": {
        "id": "car-aaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "state": "SUCCEEDED",
        "accountName": "sandbox-9",
        "accountId": "210987654321",
    }
}


@pytest.mark.parametrize("as_text", [False, True], ids=["object", "json-text"])
def test_a_service_event_names_what_the_service_made(as_text: bool) -> None:
    details = json.dumps(_ACCOUNT_DONE, indent=2) if as_text else _ACCOUNT_DONE
    record = b.service_event("CreateAccountResult", "organizations.amazonaws.com", details)
    for raw in (record, b.eventbridge(record)):
        ev = one(raw)
        assert isinstance(ev, CreationEvent), ev
        (resource,) = ev.resources
        assert (resource.id, resource.name, resource.tagger) == ("210987654321", "sandbox-9", "organizations")
    assert b.eventbridge(record)["detail-type"] == "AWS Service Event via CloudTrail"


@pytest.mark.parametrize("details", ["not json", "{broken", {"createAccountStatus": {"state": "FAILED"}}])
def test_a_service_event_without_the_id_yields_no_resource(details: object) -> None:
    record = b.service_event("CreateAccountResult", "organizations.amazonaws.com", details)  # type: ignore[arg-type]
    result = one(record)
    assert isinstance(result, Skipped)
    assert "names no created resource" in result.reason


def test_an_api_call_entry_reached_by_a_service_event_yields_nothing() -> None:
    """A service event carries no request or response: a row reading them finds no id."""
    record = b.service_event("CreateBucket", "s3.amazonaws.com", {"bucketName": "forged"})
    result = one(b.eventbridge(record))
    assert isinstance(result, Skipped)


def test_cloudtrail_log_file_records() -> None:
    results = normalize({"Records": [b.create_bucket("a"), b.create_bucket("b")]})
    assert [r.resources[0].name for r in results] == ["a", "b"]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "empty event array"),
        ("x", "expected a JSON object or array"),
        ({"hello": 1}, "not a CloudTrail record"),
        (
            {"detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "detail": None},
            "no 'detail' object",
        ),
        ({"eventSource": 1, "eventName": None}, "without eventSource/eventName"),
    ],
)
def test_malformed(raw: object, message: str) -> None:
    with pytest.raises(MalformedEvent, match=message):
        normalize(raw)


def test_an_arn_that_needs_the_parent_id_is_not_guessed_without_it() -> None:
    """A GuardDuty set's ARN joins the request's detector id and the new id: no detector, no ARN."""
    response = {"threatIntelSetId": "1ab200428351c99d859bf61992460d24"}
    request = {"detectorId": "5ab04b1110c865eecf516eee2435ede7", "name": "intel"}
    ev = one(b.cloudtrail("CreateThreatIntelSet", "guardduty.amazonaws.com", request, response))
    assert isinstance(ev, CreationEvent)
    assert ev.resources[0].id == (
        "arn:aws:guardduty:us-east-1:123456789012:detector/5ab04b1110c865eecf516eee2435ede7"
        "/threatintelset/1ab200428351c99d859bf61992460d24"
    )
    no_parent = {"name": "intel"}
    result = one(b.cloudtrail("CreateThreatIntelSet", "guardduty.amazonaws.com", no_parent, response))
    assert isinstance(result, Skipped)
    assert "names no created resource" in result.reason
