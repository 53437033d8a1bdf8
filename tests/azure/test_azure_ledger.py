"""The Azure Table ledger's read side on Azurite: `records` and `scan` follow the query's
continuation page by page, read a page only when it is needed, and only ever GET."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tagwarden.azure.ledger import TableLedger
from tagwarden.ledger.model import ResourceRecord, UsageRecord
from tagwarden_testing.records import azure_record, usage_record

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def connection(azurite_tables: str) -> str:
    return azurite_tables  # tests/conftest.py


class Requests:
    """Every HTTP request the table client sends (azure-core's raw_request_hook), as (method, url)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, request: Any) -> None:
        self.sent.append((request.http_request.method, request.http_request.url))

    def clear(self) -> None:
        self.sent.clear()


def ledger(connection: str, name: str, page_size: int | None, requests: Requests) -> TableLedger:
    from azure.data.tables import TableServiceClient

    service = TableServiceClient.from_connection_string(connection, raw_request_hook=requests)
    table = service.create_table_if_not_exists("t" + re.sub(r"[^a-z0-9]", "", name.lower())[:40])
    return TableLedger(table, page_size=page_size)


def fill(store: TableLedger, resources: int, usage: int) -> tuple[list[ResourceRecord], list[UsageRecord]]:
    made = [azure_record(i) for i in range(resources)]
    assert store.create_many(made) == [True] * resources
    used = [usage_record(i) for i in range(usage)]
    assert store.add_usage(used) == usage
    return made, used


def test_records_follow_the_continuation_and_only_get(
    connection: str, request: pytest.FixtureRequest
) -> None:
    requests = Requests()
    store = ledger(connection, request.node.name, 2, requests)
    made, used = fill(store, resources=7, usage=3)
    requests.clear()
    got = list(store.records())
    assert sorted((r for r in got if isinstance(r, ResourceRecord)), key=lambda r: r.resource_id) == made
    assert sorted((r for r in got if isinstance(r, UsageRecord)), key=lambda r: r.time) == used
    assert {method for method, _ in requests.sent} == {"GET"}
    assert len(requests.sent) >= 5  # 10 entities, 2 a page
    assert all("%24top=2" in url or "$top=2" in url for _, url in requests.sent)
    assert sum("NextPartitionKey" in url for _, url in requests.sent) == len(requests.sent) - 1


def test_records_read_a_page_only_when_it_is_needed(connection: str, request: pytest.FixtureRequest) -> None:
    requests = Requests()
    store = ledger(connection, request.node.name, 3, requests)
    fill(store, resources=8, usage=0)
    requests.clear()
    stream = store.records()
    for _ in range(3):
        next(stream)
    assert len(requests.sent) == 1
    next(stream)
    assert len(requests.sent) == 2


def test_scan_streams_resources_only(connection: str, request: pytest.FixtureRequest) -> None:
    requests = Requests()
    store = ledger(connection, request.node.name, 2, requests)
    made, _ = fill(store, resources=5, usage=4)
    requests.clear()
    stream = store.scan()
    first = next(stream)
    assert len(requests.sent) == 1 and isinstance(first, ResourceRecord)
    assert sorted([first, *stream], key=lambda r: r.resource_id) == made
