"""The DynamoDB store (moto, in process): one TransactWriteItems per event, a redelivery none that
changes anything, the alert claim's condition, brake records with versions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tagwarden.runaway.aws.dynamodb import DynamoRunawayStore, create_table
from tagwarden.runaway.ports import BrakeRecord, BrakeState, Conflict, CounterKey, Member, Tally


@pytest.fixture
def store() -> Iterator[tuple[DynamoRunawayStore, list[str]]]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_table(client, "runaway")
        calls: list[str] = []
        client.meta.events.register("before-call.dynamodb.*", lambda model, **kw: calls.append(model.name))
        yield DynamoRunawayStore(client, "runaway"), calls


def test_one_write_per_event_and_a_redelivery_changes_nothing(store: tuple[DynamoRunawayStore, Any]) -> None:
    s, calls = store
    k, k2 = CounterKey("burst", "Agent-ID=42", 9), CounterKey("spend", "Agent-ID=42", 2)
    tally = Tally((Member("Agent-ID=42", "e1#d", 10.0, ("i-1",), 0.01),), {k: 1.0, k2: 0.0104}, 99_999.0)
    assert s.add(tally) is True
    assert calls == ["TransactWriteItems"]
    assert s.add(tally) is False
    assert s.add(Tally((Member("Agent-ID=42", "e2#d", 11.0, ("i-2",)),), {k: 2.0}, 99_999.0))
    assert s.read([k, k2, CounterKey("burst", "Agent-ID=42", 8)]) == {
        k: 3.0,
        k2: 0.0104,
        CounterKey("burst", "Agent-ID=42", 8): 0.0,
    }
    assert [m.resources for m in s.members("Agent-ID=42", 10.5)] == [("i-2",)]


def test_alert_claim_and_brake_records(store: tuple[DynamoRunawayStore, Any]) -> None:
    s, _ = store
    assert s.claim_alert("burst", "a", 1, now=100, cooldown=60)
    assert not s.claim_alert("burst", "a", 1, now=150, cooldown=60)
    assert s.claim_alert("burst", "a", 2, now=150, cooldown=60)
    assert s.claim_alert("burst", "a", 1, now=211, cooldown=60)
    record = BrakeRecord("a", "arn:aws:iam::1:role/agent-x", "burst", "aws", BrakeState.APPLYING, 100.0)
    assert s.put_brake(record) and not s.put_brake(record)
    active = record.evolve(state=BrakeState.ACTIVE)
    s.update_brake(active)
    with pytest.raises(Conflict):
        s.update_brake(active)  # stale: version 2 is stored already
    s.update_brake(active.evolve(state=BrakeState.RELEASED, released_by="oncall"))
    assert s.put_brake(record)  # released: a new brake may replace it
    assert [b.scope for b in s.brakes("a")] == ["a"] and s.brakes("b") == []
