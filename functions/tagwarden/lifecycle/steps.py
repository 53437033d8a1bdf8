"""What a quarantine table's row functions are made of, the same on every cloud.

A row function (quarantine, release or delete one resource type) gets a context (`Ctx`: the
resource, whether this is a dry run, the notes that become the result's detail; each adapter adds
its client and knobs) and answers a `Step` (status, undo token). It reads freely and changes state
only through `Ctx.act`, which in a dry run records what it would have done instead. Undo tokens are
`key=value` pairs that fit in a tag value; a token a row cannot act on is refused, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from tagwarden.lifecycle.ports import Status
from tagwarden.model import Resource

T = TypeVar("T")

# An undo token: space-separated `key=value` pairs of letters, digits and `_ . : / + - @` (a subset
# of what an AWS or Azure tag value accepts), e.g. `state=running`, `policy=added shape=object`.
_PAIR = re.compile(r"([A-Za-z][\w.-]*)=([\w.:/+@-]+)")
UNDO_MAX = 256


class Refused(ValueError):
    """The resource is not in a shape the row can act on safely: FAILED with this message."""


class BadUndo(Refused):
    """An undo token the row cannot act on (never guessed around)."""


def undo_token(**pairs: object) -> str:
    token = " ".join(f"{key}={value}" for key, value in pairs.items())
    if len(token) > UNDO_MAX or not all(_PAIR.fullmatch(p) for p in token.split()):
        raise ValueError(f"undo token {token!r} would not fit in a tag value")
    return token


def parse_undo(token: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in token.split():
        match = _PAIR.fullmatch(pair)
        if match is None:
            raise BadUndo(f"undo token {token!r} is not key=value pairs")
        out[match.group(1)] = match.group(2)
    return out


def need(undo: Mapping[str, str], key: str, allowed: tuple[str, ...] | None = None) -> str:
    """The undo value under `key`, which must be there (and one of `allowed`, when given)."""
    value = undo.get(key)
    if value is None:
        raise BadUndo(f"undo token has no {key}= (has {' '.join(f'{k}={v}' for k, v in undo.items())!r})")
    if allowed is not None and value not in allowed:
        raise BadUndo(f"undo {key}={value} is not one of {', '.join(allowed)}")
    return value


@dataclass(frozen=True, slots=True)
class Step:
    """What a row function did. DONE / MARKED_ONLY become DRY_RUN in a dry run."""

    status: Status
    undo: str = ""


@dataclass(slots=True)
class Ctx:
    """One action on one resource; adapters subclass it with their client and knobs."""

    resource: Resource
    dry_run: bool
    notes: list[str] = field(default_factory=list, kw_only=True)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def act(self, what: str, call: Callable[[], T]) -> T | None:
        """Make a change (`call`), or in a dry run only record that it would be made (None)."""
        if self.dry_run:
            self.notes.append(f"would {what}")
            return None
        return call()

    def detail(self, *more: str) -> str:
        """The notes and `more`, as the result's detail."""
        return "; ".join(note for note in (*self.notes, *more) if note)
