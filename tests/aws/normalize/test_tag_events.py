"""Tag writes -> the ARNs they touched (for release on tag events)."""

from __future__ import annotations

import json

import pytest

from tagwarden.aws.normalize.tag_events import TAG_EVENT_IDS, tag_change

import builders as b
from conftest import CORPUS


@pytest.mark.parametrize(
    ("name", "source", "params", "arns"),
    [
        (
            "CreateTags",
            "ec2.amazonaws.com",
            {"resourcesSet": {"items": [{"resourceId": "i-0abc"}, {"resourceId": "vol-1"}]}},
            [
                "arn:aws:ec2:us-east-1:123456789012:instance/i-0abc",
                "arn:aws:ec2:us-east-1:123456789012:volume/vol-1",
            ],
        ),
        (
            "PutBucketTagging",
            "s3.amazonaws.com",
            {"bucketName": "agent-scratch"},
            ["arn:aws:s3:::agent-scratch"],
        ),
        (
            "TagResource",
            "lambda.amazonaws.com",
            {"resource": "arn:aws:lambda:us-east-1:123456789012:function:f"},
            ["arn:aws:lambda:us-east-1:123456789012:function:f"],
        ),
        (
            "TagQueue",
            "sqs.amazonaws.com",
            {"queueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/jobs"},
            ["arn:aws:sqs:us-east-1:123456789012:jobs"],
        ),
        (
            "TagResources",
            "tagging.amazonaws.com",
            {"resourceARNList": ["arn:aws:sns:us-east-1:123456789012:t"]},
            ["arn:aws:sns:us-east-1:123456789012:t"],
        ),
    ],
)
def test_tag_change(name: str, source: str, params: dict, arns: list[str]) -> None:  # type: ignore[type-arg]
    change = tag_change(b.eventbridge(b.cloudtrail(name, source, params, None, b.iam_user("bob"))))
    assert change is not None
    assert list(change.resource_ids) == arns
    assert change.actor.user_name == "bob"


def test_not_a_tag_write_or_failed() -> None:
    assert tag_change(b.run_instances()) is None
    failed = b.cloudtrail(
        "CreateTags",
        "ec2.amazonaws.com",
        {"resourcesSet": {"items": [{"resourceId": "i-1"}]}},
        error_code="UnauthorizedOperation",
    )
    assert tag_change(failed) is None


@pytest.mark.skipif(not CORPUS.is_dir(), reason="no corpus")
def test_corpus_tag_writes_never_raise() -> None:
    seen = 0
    for path in sorted((CORPUS / "aws").rglob("*.json")):
        try:
            raw = json.loads(path.read_text())
        except ValueError:
            continue
        record = raw.get("detail", raw) if isinstance(raw, dict) else {}
        if (
            isinstance(record, dict)
            and record.get("eventName") in TAG_EVENT_IDS
            and not record.get("errorCode")
        ):
            seen += 1
            change = tag_change(raw)
            assert change is None or all(a.startswith("arn:") for a in change.resource_ids), path
    assert seen > 0
