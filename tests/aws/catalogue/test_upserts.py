"""Which AWS creates may write an existing id (upserts): read into `CreationEvent.creates_only` by
the CloudTrail reader, with the request's idempotency token (`CreationEvent.idempotency_token`),
the two facts the core's renewal needs."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from tagwarden.aws.catalogue import all_entries
from tagwarden.aws.catalogue.upserts import TOKENS, UPSERT_EVENTS, idempotency_token, may_exist
from tagwarden.aws.normalize import READER
from tagwarden.model import CreationEvent
from tagwarden.normalize import route

import builders as b


def read(record: dict[str, Any]) -> CreationEvent:
    (event,) = route(b.eventbridge(record), READER)
    assert isinstance(event, CreationEvent), event
    return event


def test_creates_that_fail_on_an_existing_id_only_create() -> None:
    assert read(b.create_function("scraper")).creates_only
    role = b.cloudtrail(
        "CreateRole", "iam.amazonaws.com", {"roleName": "agent-x", "assumeRolePolicyDocument": "{}"},
        {"role": {"arn": "arn:aws:iam::123456789012:role/agent-x", "roleName": "agent-x"}},
    )  # fmt: skip
    assert read(role).creates_only
    assert read(b.run_instances()).creates_only  # no client token: it cannot return old instances


@pytest.mark.parametrize(
    ("record", "why"),
    [
        (b.cloudtrail("PutRule", "events.amazonaws.com", {"name": "nightly"},
                      {"ruleArn": "arn:aws:events:us-east-1:123456789012:rule/nightly"}), "Put*"),
        (b.cloudtrail("PutMetricAlarm", "monitoring.amazonaws.com", {"alarmName": "cpu"}, None), "Put*"),
        (b.create_bucket("scratch"), "us-east-1 CreateBucket answers 200 for a bucket you own"),
        (b.cloudtrail("CreateQueue", "sqs.amazonaws.com", {"queueName": "jobs"},
                      {"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/jobs"}), "idempotent"),
        (b.cloudtrail("CreateTopic", "sns.amazonaws.com", {"name": "alerts"},
                      {"topicArn": "arn:aws:sns:us-east-1:123456789012:alerts"}), "idempotent"),
    ],
)  # fmt: skip
def test_upserts_never_only_create(record: dict[str, Any], why: str) -> None:
    assert not read(record).creates_only, why


def test_create_bucket_only_creates_outside_us_east_1() -> None:
    assert read(b.create_bucket("scratch", region="eu-west-1")).creates_only  # BucketAlreadyOwnedByYou


@pytest.mark.parametrize(
    "token", ["clientToken", "ClientRequestToken", "callerReference", "idempotencyToken", "CreatorRequestId"]
)
def test_an_idempotency_token_is_read_and_leaves_a_create_a_creation(token: str) -> None:
    """The token is handed on for the ledger to compare (the same token: a retry of the record's
    create); it no longer makes a create an upsert."""
    record = b.run_instances()
    record["requestParameters"][token] = "4f0f3c8e-retry"
    event = read(record)
    assert event.creates_only and event.idempotency_token == "4f0f3c8e-retry"
    function = b.create_function("scraper")
    function["requestParameters"][token] = "t-1"
    assert read(function).creates_only and read(function).idempotency_token == "t-1"
    assert read(b.create_function("scraper")).idempotency_token is None


def test_an_upsert_with_a_token_stays_an_upsert() -> None:
    queue = b.cloudtrail("CreateQueue", "sqs.amazonaws.com", {"queueName": "jobs", "clientToken": "t-9"},
                         {"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/jobs"})  # fmt: skip
    event = read(queue)
    assert not event.creates_only and event.idempotency_token == "t-9"


@pytest.mark.parametrize(
    "members",
    [{"clientToken": ""}, {"clientToken": 42}, {"clientToken": {"value": "t-1"}}, {"clientToken": None},
     {"clientToken": "t-1", "callerReference": "t-2"}],
)  # fmt: skip
def test_a_token_that_cannot_be_compared_keeps_the_create_a_possible_retry(members: dict[str, Any]) -> None:
    """Not one non-empty string: it cannot be told from the record's, so the create never renews
    a live or released record (the safe way round, as every token was before it was compared)."""
    function = b.create_function("scraper")
    function["requestParameters"].update(members)
    event = read(function)
    assert not event.creates_only and event.idempotency_token is None
    assert may_exist(function, "lambda.amazonaws.com", "CreateFunction20150331")
    assert idempotency_token(function) is None


def test_every_catalogued_creates_idempotency_token_is_in_the_table() -> None:
    """botocore marks the members an SDK fills with a token (`idempotencyToken`): each one of a
    catalogued create is in TOKENS, so its retries are told from re-creations."""
    session = botocore.session.get_session()
    operations: dict[tuple[str, str], list[Any]] = {}
    for name in session.get_available_services():
        model = session.get_service_model(name)
        source = f"{model.metadata['endpointPrefix']}.amazonaws.com"
        for op in model.operation_names:
            operations.setdefault((source, op), []).append(model.operation_model(op))
    seen, missing = set(), set()
    for entry in all_entries():
        for op in operations.get((entry.source, entry.event.removesuffix("20150331")), []):
            for member, shape in (op.input_shape.members if op.input_shape else {}).items():
                if shape.metadata.get("idempotencyToken"):
                    seen.add(member.lower())
                    if member.lower() not in TOKENS:
                        missing.add((entry.source, entry.event, member))
    assert not missing, sorted(missing)
    assert {"clienttoken", "clientrequesttoken", "creatorrequestid"} <= seen  # the check sees them


def test_every_exception_names_a_catalogued_create() -> None:
    known = {(e.source, e.event) for e in all_entries()}
    assert set(UPSERT_EVENTS) <= known, set(UPSERT_EVENTS) - known
    for (source, name), (_, why) in UPSERT_EVENTS.items():
        assert why, (source, name)
        assert may_exist({"awsRegion": "us-east-1", "requestParameters": {}}, source, name), name


def test_catalogued_put_and_create_or_update_calls_are_upserts() -> None:
    names = [e for e in all_entries() if e.event.startswith(("Put", "CreateOrUpdate", "Upsert"))]
    assert names  # the catalogue has some (PutRule, PutMetricAlarm ...)
    assert all(may_exist({}, e.source, e.event) for e in names)
