"""Ledger records for tests: a resource record per cloud and usage samples, each a full record
(actor, tags, sources, ignored keys, marks), so a round trip that drops a field is noticed."""

from __future__ import annotations

from typing import Any

from msgspec.structs import replace

from tagwarden.ledger.model import LifecycleState, ResourceRecord, UsageKind, UsageRecord

AWS_ACCOUNT = "111122223333"
SUBSCRIPTION = "00000000-0000-0000-0000-0000000000aa"


def aws_record(n: int = 0, **changes: Any) -> ResourceRecord:
    record = ResourceRecord(
        provider="aws",
        resource_id=f"arn:aws:ec2:us-east-1:{AWS_ACCOUNT}:instance/i-0abc{n:04d}",
        account=AWS_ACCOUNT,
        region="us-east-1",
        type="AWS::EC2::Instance",
        name=None,
        event_id=f"e-{n}",
        event_name="RunInstances",
        event_time="2026-12-01T10:00:00Z",
        event_source="ec2.amazonaws.com",
        correlation_id=f"req-{n}",
        actor={"kind": "assumed-role", "arn": f"arn:aws:sts::{AWS_ACCOUNT}:assumed-role/agent/agent-{n}"},
        tags={"Agent-ID": str(n), "Outcome-ID": "o-1"},
        sources={"Agent-ID": "actor:session_name"},
        rule="agents-aws",
        rules_hash="ab" * 32,
        action="quarantine",
        state=LifecycleState.QUARANTINED,
        deadline=1_800_014_400.0,
        undo="state=running",
        recorded_at=1_800_000_000.0 + n,
        quarantined_at=1_800_000_001.0 + n,
        ignored={"tagwarden:protect": "x"},
        marks=("tagwarden:quarantine",),
    )
    return replace(record, **changes)


def azure_record(n: int = 0, **changes: Any) -> ResourceRecord:
    group = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-agents"
    rid = f"{group}/providers/Microsoft.Compute/virtualMachines/VM-{n}"
    record = ResourceRecord(
        provider="azure",
        resource_id=rid,
        account=SUBSCRIPTION,
        region="westeurope",
        type="Microsoft.Compute/virtualMachines",
        name=f"VM-{n}",
        event_id=f"az-{n}",
        event_name="Microsoft.Compute/virtualMachines/write",
        event_time="2026-12-01T10:00:00Z",
        event_source="Microsoft.Compute",
        actor={"kind": "app", "app_id": "11111111-0000-0000-0000-000000000001"},
        tags={"Agent-ID": str(n)},
        sources={"Agent-ID": "actor:app_id"},
        rule="agents-azure",
        rules_hash="cd" * 32,
        action="tag",
        recorded_at=1_800_000_000.0 + n,
        tagged_at=1_800_000_000.5 + n,
    )
    return replace(record, **changes)


def usage_record(n: int = 0, **changes: Any) -> UsageRecord:
    record = UsageRecord(
        usage_id=f"bedrock:req-{n}",
        kind=UsageKind.LLM,
        time=1_800_000_100.0 + n,
        platform="bedrock",
        resource="anthropic.claude-sonnet",
        attribution={"Agent-ID": str(n % 3)},
        quantities={"input_tokens": 100.0 + n, "output_tokens": 7.0},
        source="bedrock-invocation-log",
    )
    return replace(record, **changes)
