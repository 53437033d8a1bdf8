"""Deletes in Event Grid: a ResourceDeleteSuccess names a resource that no longer exists. The core
closes its ledger record as gone (tagwarden.lifecycle.removal), so that the next write of the same
id, which Event Grid reports as one more ResourceWriteSuccess, starts a new lifecycle instead of
being read as an update of the resource that was deleted (ARM ids are names: deleting `vm-1` and
creating `vm-1` again gives the same id). The event subscription delivers them (infra/azure).

Deleting a tag scope (`.../providers/Microsoft.Resources/tags/default`) is a tag write, not a delete
of the resource: skipped. A resource group's delete closes the group's own record only (Event Grid
may send no event for each resource in it: those records stay until their next write finds them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagwarden.azure.normalize.eventgrid import actor_of
from tagwarden.azure.normalize.resource_id import parse_resource_id
from tagwarden.model import Provider, Removal, SkipKind, Skipped

DELETE_SUCCESS = "Microsoft.Resources.ResourceDeleteSuccess"


def removal(event: Mapping[str, Any]) -> Removal | Skipped | None:
    """The resource a successful delete removed, a Skipped for a delete that removed no resource,
    or None for anything other than a ResourceDeleteSuccess (left to the other readers)."""
    etype = event.get("eventType") or event.get("type")
    data = event.get("data")
    if etype != DELETE_SUCCESS or not isinstance(data, Mapping):
        return None
    event_id = str(event.get("id") or "")
    operation = str(data.get("operationName") or "")
    uri = data.get("resourceUri") or event.get("subject")

    def skip(reason: str, kind: SkipKind) -> Skipped:
        name = operation or DELETE_SUCCESS
        return Skipped(reason, kind, event_id=event_id, event_name=name, provider=Provider.AZURE, raw=event)

    if not isinstance(uri, str):
        return skip("delete without a resourceUri or subject", SkipKind.NO_RESOURCE)
    try:
        rid = parse_resource_id(uri)
    except ValueError as exc:
        return skip(f"delete of something not a resource: {exc}", SkipKind.NO_RESOURCE)
    if rid.type.lower().endswith("/tags"):
        return skip("tag delete: the resource stays", SkipKind.TAG_WRITE)
    return Removal(
        event_id=event_id,
        event_name=operation or f"{rid.type}/delete",
        time=str(event.get("eventTime") or event.get("time") or ""),
        account=str(data.get("subscriptionId") or rid.subscription or ""),
        actor=actor_of(data),
        resource_id=rid.id,
        provider=Provider.AZURE,
    )
