"""The Azure reader the core routes with: an Event Grid or CloudEvents resource event -> a
TagChange (a successful tags/write), a Removal (a successful delete), a CreationEvent (a resource
write) or a Skipped with its reason; an Activity Log record is read as the resource write it
records (history, for replay). Pure: no Azure SDK."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagwarden.azure.normalize.activitylog import is_activity_log, normalize_activity_log
from tagwarden.azure.normalize.delete_events import removal
from tagwarden.azure.normalize.eventgrid import is_eventgrid, normalize_eventgrid
from tagwarden.azure.normalize.tag_events import tag_change
from tagwarden.normalize import Reader, Routed


def read(raw: Mapping[str, Any]) -> Routed | None:
    if is_eventgrid(raw):
        return tag_change(raw) or removal(raw) or normalize_eventgrid(raw)
    if is_activity_log(raw):
        return normalize_activity_log(raw)
    return None


READER = Reader("an Event Grid or CloudEvents event", read)

__all__ = ["READER", "read"]
