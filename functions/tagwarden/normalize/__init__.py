"""A delivery in, routed events out: each is a create, a tag write, a delete, or a skip with its reason.

The core does not choose the cloud: each adapter hands the core its `Reader` (tagwarden.aws.normalize,
tagwarden.azure.normalize), which turns one raw event into a CreationEvent, a TagChange, a Removal
(a resource deleted: its record is closed) or a Skipped.
`route` is what every delivery shares: arrays (batches), log files (`{"Records": [...]}`) and diagnostic
exports (`{"records": [...]}`) are unwrapped into their events, and input no reader accepts raises
MalformedEvent. The any-cloud reader (for `tagwarden explain`) lives with the CLI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from msgspec import Struct

from tagwarden.model import CreationEvent, Removal, SkipKind, Skipped, TagChange
from tagwarden.normalize.errors import MalformedEvent

Routed = CreationEvent | TagChange | Removal | Skipped


class Reader(Struct, frozen=True):
    """An adapter's normalizer (the port): one JSON object -> routed event, or None if not its kind."""

    expects: str  # what it reads, for the error message ("a CloudTrail record or ...")
    read: Callable[[Mapping[str, Any]], Routed | None]


def gated(reader: Reader, allows: Callable[[str], bool], words: str = "account") -> Reader:
    """`reader`, with creates and deletes in an account (subscription) `allows` refuses turned into
    skips (`foreign-account`): a deployment serving many accounts acts in the ones it was given only."""

    def read(raw: Mapping[str, Any]) -> Routed | None:
        routed = reader.read(raw)
        if isinstance(routed, (CreationEvent, Removal)) and not allows(routed.account):
            return Skipped(
                f"{words} {routed.account} is neither this {words} nor an allowed member",
                SkipKind.FOREIGN_ACCOUNT,
                routed.event_id,
                routed.event_name,
                routed.provider,
            )
        return routed

    return Reader(reader.expects, read)


def route(raw: Any, reader: Reader) -> list[Routed]:
    """One routed event per event in the input; raises MalformedEvent for input `reader` rejects."""
    if isinstance(raw, list):
        if not raw:
            raise MalformedEvent("empty event array")
        return [r for item in raw for r in route(item, reader)]
    if not isinstance(raw, dict):
        raise MalformedEvent(f"expected a JSON object or array of events, got {type(raw).__name__}")
    # A CloudTrail log file ({"Records": [...]}) or an Azure diagnostic export ({"records": [...]}).
    records = raw.get("Records", raw.get("records"))
    if isinstance(records, list) and "eventSource" not in raw:
        return route(records, reader) if records else []
    routed = reader.read(raw)
    if routed is None:
        keys = ", ".join(sorted(map(str, raw))[:8])
        raise MalformedEvent(f"not {reader.expects} (top-level keys: {keys})")
    return [routed]


__all__ = ["MalformedEvent", "Reader", "Routed", "gated", "route"]
