"""The any-cloud reader, for the CLI: a user hands `explain` or `replay` events of either cloud.

The deployed functions never load this: each reads only its own cloud's events (the core routes with
the reader its adapter hands it). Here the shape decides the reader: AWS first, then Azure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagwarden.aws.normalize import read as read_aws
from tagwarden.azure.normalize import read as read_azure
from tagwarden.model import CreationEvent, Removal, SkipKind, Skipped, TagChange
from tagwarden.normalize import Reader, Routed, route


def _read(raw: Mapping[str, Any]) -> Routed | None:
    routed = read_aws(raw)
    return routed if routed is not None else read_azure(raw)


ANY_CLOUD = Reader(
    "a CloudTrail record, EventBridge CloudTrail event, Event Grid or CloudEvents event", _read
)


def as_skip(change: TagChange | Removal) -> Skipped:
    """What the CLI reports for a tag write or a delete: not a create (deployed, a tag write releases
    what it attributes and a delete closes the resource's ledger record)."""
    if isinstance(change, Removal):
        reason, kind = f"delete {change.event_name}: not a create", SkipKind.NOT_A_CREATE
    else:
        reason, kind = f"tag write {change.event_name}: not a create", SkipKind.TAG_WRITE
    return Skipped(
        reason, kind, event_id=change.event_id, event_name=change.event_name, provider=change.provider
    )


def normalize(raw: Any) -> list[CreationEvent | Skipped]:
    """One create or skip per event in the input (tag writes and deletes are skips here); raises
    MalformedEvent for input no reader accepts."""
    return [as_skip(r) if isinstance(r, (TagChange, Removal)) else r for r in route(raw, ANY_CLOUD)]
