"""The Azure Table store against Azurite (Microsoft's storage emulator, its table service on a free
loopback port, in memory): redeliveries count once, ETag conflicts between workers are retried, and
8 threads delivering 400 events (10% twice) count exactly 400."""

from __future__ import annotations

import pytest
import test_concurrency as concurrency

from tagwarden.runaway.azure.table import AzureTableRunawayStore, key
from tagwarden.runaway.ports import BrakeRecord, BrakeState, CounterKey, Member, Tally

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def connection(azurite_tables: str) -> str:
    return azurite_tables  # tests/conftest.py


def store(connection: str, name: str) -> AzureTableRunawayStore:
    return AzureTableRunawayStore.from_connection_string(connection, name)


def test_keys_escape_what_table_keys_forbid() -> None:
    assert key("Agent-ID=a/b#c?d\\e%") == "Agent-ID=a%2Fb%23c%3Fd%5Ce%25"


def test_counts_once_alerts_once_and_keeps_brakes(connection: str) -> None:
    s = store(connection, "basics")
    k = CounterKey("burst", "Agent-ID=a/b", 7)
    tally = Tally((Member("Agent-ID=a/b", "e1#x", 100.0, ("i-1", "i-2"), 0.5),), {k: 2.0}, 10_000.0)
    assert s.add(tally) is True
    assert s.add(tally) is False  # redelivered: nothing added
    assert s.add(Tally((Member("Agent-ID=a/b", "e2#x", 101.0, ("i-3",)),), {k: 1.0}, 10_000.0))
    assert s.read([k, CounterKey("burst", "Agent-ID=a/b", 6)]) == {
        k: 3.0,
        CounterKey("burst", "Agent-ID=a/b", 6): 0.0,
    }
    assert [m.resources for m in s.members("Agent-ID=a/b", 50.0)] == [("i-1", "i-2"), ("i-3",)]
    assert s.claim_alert("burst", "Agent-ID=a/b", 1, now=1000, cooldown=60)
    assert not s.claim_alert("burst", "Agent-ID=a/b", 1, now=1010, cooldown=60)
    assert s.claim_alert("burst", "Agent-ID=a/b", 2, now=1010, cooldown=60)
    record = BrakeRecord("Agent-ID=a/b", "principal", "burst", "azure", BrakeState.APPLYING, 1000.0)
    assert s.put_brake(record) and not s.put_brake(record)
    s.update_brake(record.evolve(state=BrakeState.ACTIVE))
    assert [b.state for b in s.brakes("Agent-ID=a/b")] == [BrakeState.ACTIVE]


def test_counts_exactly_once_under_concurrency(connection: str) -> None:
    store(connection, "concurrency")
    total, alerts = concurrency.deliver(lambda: store(connection, "concurrency"))
    assert total == concurrency.EVENTS
    assert alerts == [1, 2]
