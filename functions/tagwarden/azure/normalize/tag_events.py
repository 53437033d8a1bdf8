"""Tag writes in Event Grid: a successful Microsoft.Resources/tags/write names the scope whose tags
changed. The enforcer never treats them as creates; the lifecycle releases, at once, the quarantined
resources they attribute (a second event subscription delivers them, see infra/azure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagwarden.azure.normalize.eventgrid import WRITE_SUCCESS, actor_of
from tagwarden.model import Provider, TagChange

TAG_WRITE = "microsoft.resources/tags/write"
TAGS_SCOPE = "/providers/microsoft.resources/tags/default"


def tag_change(event: Mapping[str, Any]) -> TagChange | None:
    """The scope a successful tags/write touched and who wrote it, or None for anything else."""
    data = event.get("data")
    if not isinstance(data, Mapping):
        return None
    etype = event.get("eventType") or event.get("type")
    operation = str(data.get("operationName") or "").lower()
    status = str(data.get("status") or "Succeeded").lower()
    uri = data.get("resourceUri") or event.get("subject")
    if etype != WRITE_SUCCESS or operation != TAG_WRITE or status != "succeeded" or not isinstance(uri, str):
        return None
    scope = uri[: -len(TAGS_SCOPE)] if uri.lower().endswith(TAGS_SCOPE) else uri
    name = str(data.get("operationName") or TAG_WRITE)
    return TagChange(str(event.get("id") or ""), name, actor_of(data), (scope,), Provider.AZURE)
