"""Azure Activity Log records (history) read as the Event Grid resource events they correspond to.

Replaying what happened uses the Activity Log: the REST / `az monitor activity-log list` form
(`operationName: {value}`, `status: {value}`, `eventTimestamp`, `claims`, `authorization`) and the
diagnostic-settings export form (`operationName` as a string, `resultType`, `time`, `identity:
{claims, authorization}`). Both carry what an Event Grid ResourceWriteSuccess carries, so each
record is rewritten into that shape (a table of where each field lives) and read by the one
Event Grid reader: one home for what a write means.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagwarden.azure.normalize.eventgrid import WRITE_SUCCESS, normalize_eventgrid
from tagwarden.model import CreationEvent, Provider, SkipKind, Skipped

# Event Grid `data` field <- where an Activity Log record keeps it (first present wins).
FIELDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "operationName": (("operationName", "value"), ("operationName",)),
    "resourceUri": (("resourceId",),),
    "subscriptionId": (("subscriptionId",),),
    "correlationId": (("correlationId",),),
    "claims": (("claims",), ("identity", "claims")),
    "authorization": (("authorization",), ("identity", "authorization")),
    "resourceProvider": (("resourceProviderName", "value"),),
    "status": (("status", "value"), ("resultType",)),
}
TIME = (("eventTimestamp",), ("time",))
ID = (("eventDataId",), ("id",))
# A long operation logs Started/Accepted then Succeeded: only the completed one counts.
DONE = {"succeeded", "success"}


def is_activity_log(raw: Mapping[str, Any]) -> bool:
    return "operationName" in raw and ("category" in raw or "resourceId" in raw) and "data" not in raw


def normalize_activity_log(raw: Mapping[str, Any]) -> CreationEvent | Skipped:
    data = {name: value for name, paths in FIELDS.items() if (value := _first(raw, paths)) is not None}
    operation = str(data.get("operationName") or "")
    status = str(data.get("status") or "")
    category = _first(raw, (("category", "value"), ("category",)))
    if category is not None and str(category).lower() != "administrative":
        reason = f"Activity Log {category} record: not a resource write"
        return _skip(raw, operation, reason, SkipKind.NOT_AN_API_CALL)
    if not operation.lower().endswith("/write"):
        return _skip(raw, operation, f"{operation or 'record'}: not a resource write", SkipKind.NOT_A_CREATE)
    if status.lower() not in DONE:
        reason = f"write with status {status or 'unknown'}: not a completed write"
        return _skip(raw, operation, reason, SkipKind.FAILED_CALL)
    data["status"] = "Succeeded"
    event = {
        "id": str(_first(raw, ID) or ""),
        "eventType": WRITE_SUCCESS,
        "eventTime": str(_first(raw, TIME) or ""),
        "subject": data.get("resourceUri"),
        "data": data,
    }
    return normalize_eventgrid(event)


def _first(raw: Mapping[str, Any], paths: tuple[tuple[str, ...], ...]) -> Any:
    """The value at the first path that has one (a {value, localizedValue} pair is walked into)."""
    for path in paths:
        node: Any = raw
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if node is not None:
            return node
    return None


def _skip(raw: Mapping[str, Any], operation: str, reason: str, kind: SkipKind) -> Skipped:
    return Skipped(
        reason,
        kind,
        event_id=str(_first(raw, ID) or "") or None,
        event_name=operation or None,
        provider=Provider.AZURE,
        raw=raw,
    )
