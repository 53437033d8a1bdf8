"""The pieces the quarantine table is made of: a row per resource type, the context each row's
functions run in, what they return, and the undo token they write.

A row's functions read freely and change state only through `Ctx.change`, which in a dry run
records what it would have done instead of calling; `Ctx.wait_until` polls a read through the
injected `sleep`, bounded by `wait_seconds` (in a dry run it does not wait).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tagwarden.aws.catalogue.tagger_spec import arn_parts
from tagwarden.lifecycle.ports import Status
from tagwarden.model import Resource

# An undo token: space-separated `key=value` pairs of letters, digits and `_ . : / + - @` (a subset
# of what an AWS tag value accepts), e.g. `state=running`, `policy=added shape=object`.
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
    """One action on one resource: its client, the knobs, and the notes that become `detail`."""

    resource: Resource
    client: Any
    region: str | None
    dry_run: bool
    sleep: Callable[[float], None]
    wait_seconds: float
    poll_seconds: float
    enforcer_principals: tuple[str, ...] = ()
    break_glass: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def change(self, what: str, method: str, **params: Any) -> Any:
        """Call `method` (a state change), or in a dry run only record that it would be called."""
        if self.dry_run:
            self.notes.append(f"would {what}")
            return {}
        response = getattr(self.client, method)(**params)
        self.notes.append(what)
        return response

    def wait_until(self, what: str, ready: Callable[[], bool]) -> bool:
        """Poll `ready` every `poll_seconds` until it holds or `wait_seconds` have been slept."""
        if self.dry_run:
            self.notes.append(f"would wait up to {self.wait_seconds:g} s for {what}")
            return True
        slept = 0.0
        while not ready():
            if slept >= self.wait_seconds:
                self.notes.append(f"gave up waiting for {what} after {slept:g} s")
                return False
            pause = min(self.poll_seconds, self.wait_seconds - slept)
            self.sleep(pause)
            slept += pause
        return True


QuarantineFn = Callable[[Ctx], Step]
ReleaseFn = Callable[[Ctx, Mapping[str, str]], Step]
DeleteFn = Callable[[Ctx], Step]


@dataclass(frozen=True, slots=True)
class Row:
    """How to quarantine, release and delete one resource type.

    `quarantine` None: no cheap reversible quarantine (marked only). `release` None: nothing to
    restore (the undo token must then be empty). `delete` None: no delete (UNSUPPORTED).
    """

    service: str  # boto3 client name
    tagger: str  # row of tagwarden.aws.catalogue.taggers.TAGGERS whose "not found" codes apply
    quarantine: QuarantineFn | None = None
    release: ReleaseFn | None = None
    delete: DeleteFn | None = None
    actions: tuple[str, ...] = ()  # the IAM actions these functions call
    not_found: frozenset[str] = frozenset()  # more codes meaning "gone" for this type
    # (code, text in the message): services that say "not found" inside a generic code
    not_found_messages: tuple[tuple[str, str], ...] = ()
    note: str = ""  # why marked only / why no delete


# --- identifiers ---------------------------------------------------------------------------------


def tail(value: str) -> str:
    """Last path segment: an ARN's `.../name`, `type:name`, or the value itself."""
    if "/" in value:
        return value.rstrip("/").rsplit("/", 1)[-1]
    parts = arn_parts(value)
    return parts[5].rsplit(":", 1)[-1] if parts else value


def native(resource: Resource) -> str:
    """The service's own id (i-0abc, vol-0abc, db id), from the native id or the ARN's tail."""
    return tail(resource.native_id or resource.id)


def name(resource: Resource) -> str:
    """The resource's name as its service's API takes it (the create request's, else the tail)."""
    return resource.name or native(resource)


def arn_or_native(resource: Resource) -> str:
    """For APIs that take an ARN or a name (Lambda FunctionName)."""
    if resource.id.startswith("arn:"):
        return resource.id
    return resource.native_id or resource.name or resource.id


def partition(resource: Resource) -> str:
    parts = arn_parts(resource.id)
    return parts[1] if parts else "aws"
