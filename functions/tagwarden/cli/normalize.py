"""The any-cloud reader, for the CLI: a user hands `explain` or `replay` events of either cloud.

The deployed functions never load this: each reads only its own cloud's events (the core routes with
the reader its adapter hands it). Here the shape decides the reader: AWS first, then Azure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagwarden.aws.normalize import read as read_aws
from tagwarden.azure.normalize import read as read_azure
from tagwarden.model import CreationEvent, SkipKind, Skipped, TagChange
from tagwarden.normalize import Reader, Routed, route


def _read(raw: Mapping[str, Any]) -> Routed | None:
    routed = read_aws(raw)
    return routed if routed is not None else read_azure(raw)


ANY_CLOUD = Reader(
    "a CloudTrail record, EventBridge CloudTrail event, Event Grid or CloudEvents event", _read
)


def as_skip(change: TagChange) -> Skipped:
    """What the CLI reports for a tag write: not a create (deployed, it releases what it attributes)."""
    return Skipped(
        f"tag write {change.event_name}: not a create",
        SkipKind.TAG_WRITE,
        event_id=change.event_id,
        event_name=change.event_name,
        provider=change.provider,
    )


def normalize(raw: Any) -> list[CreationEvent | Skipped]:
    """One create or skip per event in the input (tag writes are skips here); raises MalformedEvent
    for input no reader accepts."""
    return [as_skip(r) if isinstance(r, TagChange) else r for r in route(raw, ANY_CLOUD)]
