"""Tag writes and their outcomes, the same for every cloud (the adapters produce them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Protocol

from msgspec import Struct

from tagwarden.model import Resource


class Outcome(StrEnum):
    TAGGED = "tagged"
    VANISHED = "vanished"  # not found for the whole window: deleted before we could tag it
    FAILED = "failed"
    UNSUPPORTED = "unsupported"  # no tagger for it, or its type cannot carry tags


class TagWrite(Struct, frozen=True):
    """One resource and the tags to add to it."""

    resource: Resource
    tags: Mapping[str, str]


class TagResult(Struct, frozen=True):
    resource: Resource
    outcome: Outcome
    tags: Mapping[str, str]  # what was (or would have been) written
    calls: int  # API calls that carried this resource (a batch call counts 1 for each member)
    error: str | None = None  # "Code: message" when not TAGGED
    attempts: int = 1  # rounds taken (0: no call was made)


class TagWriter(Protocol):
    """Writes tags (adding keys, never removing any) and says what became of each resource."""

    def __call__(self, writes: Sequence[TagWrite], region: str | None) -> list[TagResult]: ...
