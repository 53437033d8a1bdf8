"""The core's route: deliveries unwrapped into events, each read by the adapter's reader."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from tagwarden.model import Skipped
from tagwarden.normalize import MalformedEvent, Reader, Routed, route

SEEN: list[Mapping[str, Any]] = []


def _read(raw: Mapping[str, Any]) -> Routed | None:
    if "mine" not in raw:
        return None
    SEEN.append(raw)
    return Skipped(f"read {raw['mine']}", event_id=str(raw["mine"]))


READER = Reader("a test event", _read)


def test_batches_and_log_files_are_unwrapped_in_order() -> None:
    delivery = [{"mine": 1}, {"Records": [{"mine": 2}, {"mine": 3}]}, {"records": []}]
    assert [r.event_id for r in route(delivery, READER)] == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "empty event array"),
        ("text", "expected a JSON object or array of events, got str"),
        ({"theirs": 1}, "not a test event (top-level keys: theirs)"),
    ],
)
def test_what_no_reader_accepts_is_malformed(raw: Any, message: str) -> None:
    with pytest.raises(MalformedEvent, match=message.replace("(", r"\(").replace(")", r"\)")):
        route(raw, READER)
