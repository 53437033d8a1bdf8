"""The SQLite ledger: create is a claim, update is versioned, usage is idempotent, export round-trips."""

from __future__ import annotations

import io

import pytest

from tagwarden.ledger.export import read_jsonl, write_jsonl
from tagwarden.ledger.model import LifecycleState, ResourceRecord, UsageKind, UsageRecord
from tagwarden.ledger.ports import Conflict
from tagwarden.ledger.sqlite import SqliteLedger


def record(rid: str = "arn:aws:ec2:us-east-1:111122223333:instance/i-0Abc") -> ResourceRecord:
    return ResourceRecord(
        provider="aws",
        resource_id=rid,
        account="111122223333",
        region="us-east-1",
        type="AWS::EC2::Instance",
        name=None,
        event_id="e-1",
        event_name="RunInstances",
        event_time="2026-12-01T10:00:00Z",
        actor={"kind": "assumed-role", "session_name": "agent-42"},
        tags={"Agent-ID": "42"},
        sources={"Agent-ID": "actor:session_name"},
        rule="agents",
        action="tag",
        recorded_at=1000.0,
    )


def test_create_claims_once_and_keeps_exact_case(tmp_path: object) -> None:
    ledger = SqliteLedger()
    assert ledger.create(record()) is True
    assert ledger.create(record()) is False
    assert ledger.get("aws", "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc") is None
    got = ledger.get("aws", "arn:aws:ec2:us-east-1:111122223333:instance/i-0Abc")
    assert got == record()


def test_update_is_versioned_so_a_stale_writer_loses() -> None:
    ledger = SqliteLedger()
    first = record()
    ledger.create(first)
    quarantined = first.evolve(state=LifecycleState.QUARANTINED, undo="running", deadline=5000.0)
    ledger.update(quarantined)
    with pytest.raises(Conflict):
        ledger.update(first.evolve(state=LifecycleState.RELEASED))  # read before the quarantine
    assert [r.version for r in ledger.in_state(LifecycleState.QUARANTINED)] == [2]
    assert list(ledger.in_state(LifecycleState.ACTIVE)) == []


def test_usage_is_idempotent_and_filtered_by_time() -> None:
    ledger = SqliteLedger()
    u1 = UsageRecord("u1", UsageKind.LLM, 10.0, "openai", "gpt-4o", {"Agent-ID": "a"}, {"input_tokens": 5})
    u2 = UsageRecord("u2", UsageKind.LLM, 20.0, "openai", "gpt-4o", {"Agent-ID": "b"}, {"input_tokens": 7})
    assert ledger.add_usage([u1, u2]) == 2
    assert ledger.add_usage([u1]) == 0
    assert [u.usage_id for u in ledger.usage(since=15.0)] == ["u2"]


def test_jsonl_export_round_trips_both_kinds(tmp_path: object) -> None:
    u = UsageRecord("u1", UsageKind.VECTOR_QUERY, 1.0, "pgvector", "idx", {"tenant_id": "t1"}, {"queries": 3})
    buf = io.StringIO()
    assert write_jsonl([record(), u], buf) == 2
    path = tmp_path / "ledger.jsonl"  # type: ignore[operator]
    path.write_text(buf.getvalue() + '{"record": "nope"}\n')
    got = read_jsonl(path)
    assert next(got) == record()
    assert next(got) == u
    with pytest.raises(ValueError, match=r"ledger.jsonl:3: not a ledger record"):
        next(got)
