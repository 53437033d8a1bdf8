"""8 threads deliver 400 create events, 10% of them twice, in random order, through the limiter:
exactly 400 creates are counted and exactly one alert goes out per level crossed, on SQLite (one
connection per thread, as separate processes would) and on DynamoDB (moto)."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tagwarden.runaway.aws.dynamodb import DynamoRunawayStore, create_table
from tagwarden.runaway.limiter import Limiter
from tagwarden.runaway.ports import RunawayStore
from tagwarden.runaway.sqlite import SqliteRunawayStore

from runaway_helpers import decisions, rules, run_instances, tags_of

NOW = 1_796_000_000.0
EVENTS, DUPLICATES, THREADS = 400, 40, 8
LIMIT = """
version: 1
tags: {Agent-ID: {sources: [{actor: session_name, pattern: '^agent-(?P<value>.+)$'}]}}
limits:
  checks:
    - {id: burst, per: {tag: Agent-ID}, creates: 100, window: 1h}
"""


def deliver(make_store: Any) -> tuple[float, int]:
    rs = rules(LIMIT)
    events = [run_instances(1, event_id=f"e{i}", start=i + 1) for i in range(EVENTS)]
    deliveries = events + random.Random(7).sample(events, DUPLICATES)
    random.Random(11).shuffle(deliveries)
    work = iter(deliveries)
    lock = threading.Lock()
    alerts: list[int] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(THREADS)

    def worker() -> None:
        limiter = Limiter(rs.limits, make_store(), clock=lambda: NOW)  # one "container" per thread
        barrier.wait()
        while True:
            with lock:
                event = next(work, None)
            if event is None:
                return
            try:
                out = limiter.check(event, decisions(event, rs), tags_of)
            except BaseException as exc:  # collected: a thread failure must fail the test
                errors.append(exc)
                return
            with lock:
                alerts.extend(n.extra["level"] for n in out.notifications)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    check = make_store()
    total = sum(check.read(list(_keys(rs))).values())
    return total, sorted(alerts)  # type: ignore[return-value]


def _keys(rs: Any) -> Iterator[Any]:
    from tagwarden.runaway.judge import bucket_of
    from tagwarden.runaway.observe import event_time
    from tagwarden.runaway.ports import CounterKey

    t = event_time(run_instances(1), NOW)
    b = bucket_of(t, 3600)
    yield CounterKey("burst", "Agent-ID=42", b)
    yield CounterKey("burst", "Agent-ID=42", b - 1)


def test_sqlite_counts_exactly_once_under_concurrency(tmp_path: Path) -> None:
    path = tmp_path / "runaway.db"
    SqliteRunawayStore(path)  # schema first
    total, alerts = deliver(lambda: SqliteRunawayStore(path))
    assert total == EVENTS
    assert alerts == [1, 2]  # crossed 100 and 200 (400 is not above 4 x 100): one alert each


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    # DynamoDB runs each request atomically (transactions serialisably); moto's backend does not
    # (a transaction deep-copies the tables while other threads write them). So each request is made
    # atomic here, as DynamoDB's are; the 8 clients still interleave their requests freely.
    from moto.dynamodb.responses import DynamoHandler

    atomic = threading.Lock()
    original = DynamoHandler.call_action

    def call_action(self: Any) -> Any:
        with atomic:
            return original(self)

    monkeypatch.setattr(DynamoHandler, "call_action", call_action)
    with mock_aws():
        create_table(boto3.client("dynamodb", region_name="us-east-1"), "runaway")
        yield "runaway"


def test_dynamodb_counts_exactly_once_under_concurrency(dynamo: str) -> None:
    def store() -> RunawayStore:
        session = boto3.session.Session()  # the default session is not safe to share across threads
        return DynamoRunawayStore(session.client("dynamodb", region_name="us-east-1"), dynamo)

    total, alerts = deliver(store)
    assert total == EVENTS
    assert alerts == [1, 2]
