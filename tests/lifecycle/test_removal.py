"""A delete closes the record as gone: every state, redeliveries, older deletes, a moving record."""

from __future__ import annotations

from typing import Any

import pytest
from msgspec.structs import replace

from tagwarden.ledger.model import LifecycleState, ResourceRecord
from tagwarden.ledger.ports import Conflict
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.lifecycle.removal import ATTEMPTS, close_removed
from tagwarden.model import Actor, ActorKind, Provider, Removal

S = LifecycleState
RID = "/subscriptions/s-1/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/VM-1"


def stored(ledger: SqliteLedger, state: LifecycleState) -> ResourceRecord:
    record = ResourceRecord(
        provider="azure", resource_id=RID, account="s-1", region=None, type="Microsoft.Compute/virtualMachines",
        name="VM-1", event_id="w-1", event_name="Microsoft.Compute/virtualMachines/write",
        event_time="2026-12-01T10:00:00.1234567Z", state=state,
    )  # fmt: skip
    assert ledger.create(record)
    return record


def removal(at: str = "2026-12-01T11:00:00.0000000Z", rid: str = RID) -> Removal:
    who = Actor(ActorKind.USER, upn="alice@contoso.com")
    return Removal("d-1", "Microsoft.Compute/virtualMachines/delete", at, "s-1", who, rid, Provider.AZURE)


@pytest.mark.parametrize("state", [s for s in S if s is not S.GONE])
def test_every_state_but_gone_is_closed(state: LifecycleState) -> None:
    ledger = SqliteLedger()
    stored(ledger, state)
    closed = close_removed(ledger, removal(rid=RID.lower()), now=50.0)  # ARM ids fold
    assert closed.previous is state and closed.record is not None
    got = ledger.get("azure", RID)
    assert got is not None and got.state is S.GONE and got.gone_at == 50.0 and got.version == 2
    assert "by alice@contoso.com" in got.detail and got.event_id == "w-1"  # still the create's record


def test_nothing_to_close() -> None:
    ledger = SqliteLedger()
    assert close_removed(ledger, removal(), now=1.0).record is None  # never recorded
    stored(ledger, S.GONE)
    again = close_removed(ledger, removal(), now=1.0)
    assert (again.record, again.previous, again.reason) == (None, S.GONE, "already gone")
    assert ledger.get("azure", RID).version == 1  # type: ignore[union-attr]


def test_a_delete_older_than_the_record_leaves_it() -> None:
    ledger = SqliteLedger()
    stored(ledger, S.QUARANTINED)
    closed = close_removed(ledger, removal(at="2026-12-01T09:59:59.9999999Z"), now=1.0)
    assert closed.record is None and "older than the record's event" in closed.reason
    assert ledger.get("azure", RID).state is S.QUARANTINED  # type: ignore[union-attr]


class Racing(SqliteLedger):
    """Another writer moves the record between each read and write, `times` times."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.times = times

    def update(self, record: ResourceRecord) -> None:
        if self.times:
            self.times -= 1
            now = self.get(record.provider, record.resource_id)
            assert now is not None
            super().update(replace(now, version=now.version + 1, detail="moved meanwhile"))
        super().update(record)


def test_a_record_moved_meanwhile_is_read_again() -> None:
    ledger = Racing(times=ATTEMPTS - 1)
    stored(ledger, S.QUARANTINED)
    closed = close_removed(ledger, removal(), now=1.0)
    assert closed.record is not None and ledger.get("azure", RID).state is S.GONE  # type: ignore[union-attr]


def test_a_record_that_keeps_moving_is_left_for_the_retry() -> None:
    ledger = Racing(times=ATTEMPTS)
    stored(ledger, S.QUARANTINED)
    with pytest.raises(Conflict, match="changed 3 times"):
        close_removed(ledger, removal(), now=1.0)
    assert ledger.get("azure", RID).state is S.QUARANTINED  # type: ignore[union-attr]


def test_the_enforcer_reports_and_logs_it(example_rules: Any) -> None:
    from tagwarden.attribution.context import StaticLookups
    from tagwarden.azure.normalize import READER
    from tagwarden.azure.text import AZURE_TEXT
    from tagwarden.enforce import Enforcer
    from tagwarden.guards import OwnIdentity

    import builders as b

    logs: list[tuple[str, str, dict[str, Any]]] = []

    class Log:
        def correlate(self, event_id: str) -> None: ...
        def log(self, level: str, message: str, **fields: Any) -> None:
            logs.append((level, message, fields))

        def count_events(self, n: int) -> None: ...
        def count_resource(self, action: Any, outcome: Any) -> None: ...
        def count_skip(self, kind: Any) -> None: ...
        def count_failure(self, error: str) -> None: ...
        def count_action(self, action: str, status: Any) -> None: ...
        def observe_lag(self, seconds: float) -> None: ...

    ledger = SqliteLedger()
    rid = b.resource_id("rg", "Microsoft.Compute/virtualMachines", "vm-1")
    stored(ledger, S.RELEASED)  # another id: untouched
    e = Enforcer(
        rules=example_rules, write=lambda w, r: [], lookups=StaticLookups, ledger=ledger, own=OwnIdentity(),
        telemetry=Log(), read=READER, text=AZURE_TEXT,
    )  # fmt: skip
    e.handle(b.eventgrid_write(rid))
    (report,) = e.handle(b.eventgrid_delete(rid, event_time="2026-11-29T10:00:01Z"))["events"]
    (row,) = report["resources"]
    assert (row["resource"], row["ledger"], row["state"]) == (rid, "closed", "gone")
    assert logs[-1][:2] == ("info", "resource deleted")
    assert ledger.get("azure", RID).state is S.RELEASED  # type: ignore[union-attr]
