"""Raw cloud events in, normalized create events (or skips with a reason) out.

`normalize` accepts whatever a handler or a user hands us: a CloudTrail record, an EventBridge
envelope, a CloudTrail log file (`{"Records": [...]}`), an Event Grid or CloudEvents event, or a
delivery batch (a JSON array of any of these). The shape decides the reader (a table, not a chain).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tagwarden.model import CreationEvent, Skipped
from tagwarden.normalize.aws.cloudtrail import is_envelope, is_record, normalize_record
from tagwarden.normalize.azure.activitylog import is_activity_log, normalize_activity_log
from tagwarden.normalize.azure.eventgrid import is_eventgrid, normalize_eventgrid
from tagwarden.normalize.errors import MalformedEvent

Result = CreationEvent | Skipped


READERS: tuple[tuple[Callable[[Mapping[str, Any]], bool], Callable[[Mapping[str, Any]], Result]], ...] = (
    (is_envelope, normalize_record),
    (is_record, normalize_record),
    (is_eventgrid, normalize_eventgrid),
    (is_activity_log, normalize_activity_log),
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
