"""The pieces the AWS quarantine table is made of: a row per resource type, and the context each
row's functions run in (the shared parts, Step, undo tokens and the dry-run rule, are in
tagwarden.lifecycle.steps).

A row's functions read freely and change state only through `Ctx.change`, which in a dry run
records what it would have done instead of calling; `Ctx.wait_until` polls a read through the
injected `sleep`, bounded by `wait_seconds` (in a dry run it does not wait).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tagwarden.aws.catalogue.tagger_spec import arn_parts
from tagwarden.lifecycle.steps import BadUndo, Refused, Step, need, parse_undo, undo_token
from tagwarden.lifecycle.steps import Ctx as StepCtx
from tagwarden.model import Resource

__all__ = ["BadUndo", "Ctx", "Refused", "Row", "Step", "need", "parse_undo", "undo_token"]

@dataclass(slots=True)
class Ctx(StepCtx):
    """One action on one AWS resource: its client and the knobs (the notes become `detail`)."""

    client: Any
    region: str | None
    sleep: Callable[[float], None]
    wait_seconds: float
    poll_seconds: float
    enforcer_principals: tuple[str, ...] = ()
    break_glass: tuple[str, ...] = ()

    def change(self, what: str, method: str, **params: Any) -> Any:
        """Call the client's `method` (a state change), or in a dry run only record that it would be."""

        def call() -> Any:
            response = getattr(self.client, method)(**params)
            self.notes.append(what)
            return response

        response = self.act(what, call)
        return {} if response is None else response

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
