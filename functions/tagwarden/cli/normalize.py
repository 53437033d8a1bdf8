"""The any-cloud reader, for the CLI: a user hands `explain` an event of either cloud.

The deployed functions never load this: each reads only its own cloud's events (the core routes with
the reader its adapter hands it). Here the shape decides the reader: AWS first, then Azure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagwarden.aws.normalize import read as read_aws
from tagwarden.azure.normalize import read as read_azure
from tagwarden.normalize import Reader, Routed, route


def _read(raw: Mapping[str, Any]) -> Routed | None:
    routed = read_aws(raw)
    return routed if routed is not None else read_azure(raw)


ANY_CLOUD = Reader(
    "a CloudTrail record, EventBridge CloudTrail event, Event Grid or CloudEvents event", _read
)


def normalize(raw: Any) -> list[Routed]:
    """One routed event per event in the input; raises MalformedEvent for input no reader accepts."""
    return route(raw, ANY_CLOUD)
