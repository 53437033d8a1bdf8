"""Raw cloud events in, normalized create events (or skips with a reason) out.

`normalize` accepts whatever a handler or a user hands us: a CloudTrail record, an EventBridge
envelope, a CloudTrail log file (`{"Records": [...]}`), an Event Grid or CloudEvents event, or a
delivery batch (a JSON array of any of these). The shape decides the reader (a table, not a chain).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tagwarden.model import CreationEvent, SkipKind, Skipped
from tagwarden.normalize.aws.cloudtrail import is_envelope, is_record, normalize_record
from tagwarden.normalize.azure.eventgrid import is_eventgrid, normalize_eventgrid
from tagwarden.normalize.errors import MalformedEvent

Result = CreationEvent | Skipped


def _is_activity_log(raw: Mapping[str, Any]) -> bool:
    return "operationName" in raw and ("category" in raw or "resourceId" in raw) and "data" not in raw


READERS: tuple[tuple[Callable[[Mapping[str, Any]], bool], Callable[[Mapping[str, Any]], Result]], ...] = (
    (is_envelope, normalize_record),
    (is_record, normalize_record),
    (is_eventgrid, normalize_eventgrid),
    (
        _is_activity_log,
        lambda raw: Skipped(
            "Azure Activity Log record: tagwarden reads Event Grid resource events, not the Activity Log",
            SkipKind.UNSUPPORTED_SOURCE,
            event_name=str(raw.get("operationName")),
        ),
    ),
)


def normalize(raw: Any) -> list[Result]:
    """One result per event in the input; raises MalformedEvent for input no reader accepts."""
    if isinstance(raw, list):
        if not raw:
            raise MalformedEvent("empty event array")
        return [r for item in raw for r in normalize(item)]
    if not isinstance(raw, dict):
        raise MalformedEvent(f"expected a JSON object or array of events, got {type(raw).__name__}")
    # A CloudTrail log file ({"Records": [...]}) or an Azure diagnostic export ({"records": [...]}).
    records = raw.get("Records", raw.get("records"))
    if isinstance(records, list) and "eventSource" not in raw:
        return normalize(records) if records else []
    for accepts, read in READERS:
        if accepts(raw):
            return [read(raw)]
    keys = ", ".join(sorted(map(str, raw))[:8])
    raise MalformedEvent(
        "not a CloudTrail record, EventBridge CloudTrail event, Event Grid or CloudEvents event "
        f"(top-level keys: {keys})"
    )


__all__ = ["MalformedEvent", "Result", "normalize"]
