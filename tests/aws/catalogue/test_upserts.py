"""Which AWS creates may write an existing id (upserts, idempotent retries): read into
`CreationEvent.creates_only` by the CloudTrail reader, the one fact the core's renewal needs."""

from __future__ import annotations

from typing import Any

import pytest

from tagwarden.aws.catalogue import all_entries
from tagwarden.aws.catalogue.upserts import UPSERT_EVENTS, may_exist
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
    "token", ["clientToken", "ClientRequestToken", "callerReference", "idempotencyToken"]
)
def test_an_idempotency_token_makes_a_create_a_possible_retry(token: str) -> None:
    """A retry with the same token succeeds and names the resource the first call made."""
    record = b.run_instances()
    record["requestParameters"][token] = "4f0f3c8e-retry"
    assert not read(record).creates_only
    function = b.create_function("scraper")
    function["requestParameters"][token] = "t-1"
    assert not read(function).creates_only


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
