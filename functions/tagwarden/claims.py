"""At-least-once delivery, exactly-once effects: an event is claimed before it is acted on.

A second delivery of a claimed event is skipped as a duplicate. A claim left by a failed attempt
is released so the retry can act. The port is here; stores are per cloud (memory here, DynamoDB
in tagwarden.aws.dedupe).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

DUPLICATE = "duplicate delivery"
IN_PROGRESS = "in progress"


class Claim(Protocol):
    def claim(self, key: str) -> str | None:
        """None when claimed now; otherwise why not (DUPLICATE, IN_PROGRESS)."""

    def done(self, key: str) -> None: ...

    def release(self, key: str) -> None: ...


class MemoryClaims:
    """Claims in the container's memory: enough where one instance sees all deliveries of an event."""

    def __init__(self, size: int = 10_000) -> None:
        self._seen: OrderedDict[str, str] = OrderedDict()
        self._size = size

    def claim(self, key: str) -> str | None:
        state = self._seen.get(key)
        if state is not None:
            return DUPLICATE if state == "done" else IN_PROGRESS
        self._seen[key] = "in-progress"
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return None

    def done(self, key: str) -> None:
        self._seen[key] = "done"

    def release(self, key: str) -> None:
        self._seen.pop(key, None)
