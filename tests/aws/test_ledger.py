"""The DynamoDB ledger's read side on moto: `records` is one Scan, page by page, read as it is used."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tagwarden.aws.ledger import DynamoLedger, create_table
from tagwarden.ledger.model import ResourceRecord, UsageRecord
from tagwarden_testing.records import aws_record, usage_record

TABLE = "tagwarden-ledger"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, TABLE)
        yield client


def scans(client: Any) -> list[dict[str, Any]]:
    """Every Scan request the client makes from now on, as sent."""
    seen: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.dynamodb.Scan", lambda params, **_: seen.append(dict(params))
    )
    return seen


def fill(ledger: DynamoLedger, resources: int, usage: int) -> tuple[list[ResourceRecord], list[UsageRecord]]:
    made = [aws_record(i) for i in range(resources)]
    assert ledger.create_many(made) == [True] * resources
    used = [usage_record(i) for i in range(usage)]
    assert ledger.add_usage(used) == usage
    return made, used


def test_records_pages_through_one_unfiltered_scan(dynamodb: Any) -> None:
    ledger = DynamoLedger(dynamodb, TABLE, page_size=3)
    made, used = fill(ledger, resources=10, usage=4)
    sent = scans(dynamodb)
    got = list(ledger.records())
    assert sorted((r for r in got if isinstance(r, ResourceRecord)), key=lambda r: r.resource_id) == made
    assert sorted((r for r in got if isinstance(r, UsageRecord)), key=lambda r: r.time) == used
    assert len(sent) >= 5  # 14 items, 3 a page: pagination really ran
    assert all(s["Limit"] == 3 and "FilterExpression" not in s for s in sent)  # one pass over the table
    assert [("ExclusiveStartKey" in s) for s in sent] == [False] + [True] * (len(sent) - 1)


def test_records_reads_a_page_only_when_it_is_needed(dynamodb: Any) -> None:
    ledger = DynamoLedger(dynamodb, TABLE, page_size=2)
    fill(ledger, resources=9, usage=0)
    sent = scans(dynamodb)
    stream = ledger.records()
    next(stream)
    next(stream)
    assert len(sent) == 1  # two records read: one page, nothing held beyond it
    next(stream)
    assert len(sent) == 2


def test_scan_keeps_to_resources_and_honours_the_page_size(dynamodb: Any) -> None:
    ledger = DynamoLedger(dynamodb, TABLE, page_size=4)
    made, _ = fill(ledger, resources=6, usage=5)
    sent = scans(dynamodb)
    assert sorted(ledger.scan(), key=lambda r: r.resource_id) == made
    assert len(sent) >= 3 and all(s["Limit"] == 4 for s in sent)


def test_without_a_page_size_no_limit_is_sent(dynamodb: Any) -> None:
    ledger = DynamoLedger(dynamodb, TABLE)
    fill(ledger, resources=2, usage=1)
    sent = scans(dynamodb)
    assert len(list(ledger.records())) == 3
    assert len(sent) == 1 and "Limit" not in sent[0]
