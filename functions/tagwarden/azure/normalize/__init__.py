"""The Azure reader the core routes with: an Event Grid or CloudEvents resource event -> a
TagChange (a successful tags/write), a CreationEvent (a resource write) or a Skipped with its
reason; an Activity Log record is skipped (tagwarden reads Event Grid). Pure: no Azure SDK."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagwarden.azure.normalize.eventgrid import is_eventgrid, normalize_eventgrid
from tagwarden.azure.normalize.tag_events import tag_change
from tagwarden.model import SkipKind, Skipped
from tagwarden.normalize import Reader, Routed


def _is_activity_log(raw: Mapping[str, Any]) -> bool:
    return "operationName" in raw and ("category" in raw or "resourceId" in raw) and "data" not in raw


def read(raw: Mapping[str, Any]) -> Routed | None:
    if is_eventgrid(raw):
        return tag_change(raw) or normalize_eventgrid(raw)
    if _is_activity_log(raw):
        return Skipped(
            "Azure Activity Log record: tagwarden reads Event Grid resource events, not the Activity Log",
            SkipKind.UNSUPPORTED_SOURCE,
            event_id=None,
            event_name=str(raw.get("operationName")),
        )
    return None


READER = Reader("an Event Grid or CloudEvents event", read)

__all__ = ["READER", "read"]
