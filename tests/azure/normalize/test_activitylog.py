"""Activity Log records (REST and diagnostic-export forms) read as the Event Grid writes they are."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tagwarden.cli.normalize import normalize
from tagwarden.model import ActorKind, CreationEvent, SkipKind, Skipped

import builders as b
from conftest import CORPUS

RID = b.resource_id("rg-agents", "Microsoft.Compute/virtualMachines", "vm1")


def rest_record(
    status: str = "Succeeded", operation: str = "Microsoft.Compute/virtualMachines/write"
) -> dict[str, Any]:
    """The `az monitor activity-log list` / REST form."""
    grid = b.eventgrid_write(RID, claims=b.user_claims(), principal_type="User")["data"]
    return {
        "authorization": grid["authorization"],
        "caller": "alice@contoso.com",
        "claims": grid["claims"],
        "correlationId": "c-1",
        "eventDataId": "d-1",
        "eventName": {"value": "EndRequest"},
        "category": {"value": "Administrative"},
        "eventTimestamp": "2026-11-30T08:00:00Z",
        "operationName": {"value": operation, "localizedValue": "Create or Update Virtual Machine"},
        "resourceId": RID,
        "status": {"value": status},
        "subscriptionId": b.SUBSCRIPTION,
    }


def export_record() -> dict[str, Any]:
    """The diagnostic-settings export form (a storage account / Event Hub `records` array)."""
    grid = b.eventgrid_write(RID, claims=b.user_claims(), principal_type="User")["data"]
    return {
        "time": "2026-11-30T08:00:00Z",
        "resourceId": RID.upper(),
        "operationName": "MICROSOFT.COMPUTE/VIRTUALMACHINES/WRITE",
        "category": "Administrative",
        "resultType": "Success",
        "correlationId": "c-2",
        "identity": {"authorization": grid["authorization"], "claims": grid["claims"]},
    }


@pytest.mark.parametrize("record", [rest_record(), export_record()], ids=["rest", "export"])
def test_a_completed_write_is_a_creation_event(record: dict[str, Any]) -> None:
    (event,) = normalize(record)
    assert isinstance(event, CreationEvent)
    assert event.resources[0].id.lower() == RID.lower()
    assert event.resources[0].resource_group and event.resources[0].resource_group.lower() == "rg-agents"
    assert event.actor.kind is ActorKind.USER and event.actor.upn == "alice@contoso.com"
    assert event.time == "2026-11-30T08:00:00Z"


def test_an_export_file_of_records_is_read_record_by_record() -> None:
    results = normalize({"records": [export_record(), rest_record(status="Started")]})
    assert isinstance(results[0], CreationEvent)
    assert isinstance(results[1], Skipped) and results[1].kind is SkipKind.FAILED_CALL


@pytest.mark.parametrize(
    ("record", "kind", "reason"),
    [
        (rest_record(status="Started"), SkipKind.FAILED_CALL, "write with status Started"),
        (rest_record(status="Failed"), SkipKind.FAILED_CALL, "write with status Failed"),
        (
            rest_record(operation="Microsoft.Compute/virtualMachines/delete"),
            SkipKind.NOT_A_CREATE,
            "not a resource write",
        ),
        (
            {**export_record(), "category": "Security"},
            SkipKind.NOT_AN_API_CALL,
            "Activity Log Security record",
        ),
        (
            rest_record(operation="Microsoft.Resources/tags/write"),
            SkipKind.TAG_WRITE,
            "",
        ),
    ],
)
def test_what_is_not_a_completed_create_is_skipped_with_a_reason(
    record: dict[str, Any], kind: SkipKind, reason: str
) -> None:
    (skipped,) = normalize(record)
    assert isinstance(skipped, Skipped) and skipped.kind is kind, skipped
    assert reason in skipped.reason


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
def test_corpus_activity_log_samples_are_read_or_skipped_never_raise() -> None:
    seen = 0
    for path in sorted((CORPUS / "azure").rglob("*.json")):
        try:
            raw = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(raw, dict) and "eventDataId" in raw:
            (result,) = normalize(raw)
            seen += 1
            if isinstance(result, CreationEvent):
                assert result.resources[0].id.lower() == raw["resourceId"].lower()
    assert seen > 0
