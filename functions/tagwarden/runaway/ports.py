"""The ports the limiter works through: a store (counters, alert claims, brake records) and a brake
per cloud. Stores: SQLite (local), DynamoDB (AWS), Azure Table (Azure)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class CounterKey:
    limit: str
    scope: str
    bucket: int


@dataclass(frozen=True, slots=True)
class Member:
    """One event counted for one agent: written once; a second write of it means a redelivery."""

    scope: str
    key: str  # event id + digest of its resources (observe.member_key)
    time: float
    resources: tuple[str, ...] = ()  # what it created (for the alert's list), capped
    hourly: float = 0.0  # their estimated USD per hour


@dataclass(frozen=True, slots=True)
class Tally:
    """Everything one event adds, applied atomically: all of it, or nothing when already counted."""

    members: tuple[Member, ...]
    adds: Mapping[CounterKey, float]
    expires: float  # epoch seconds after which the store may forget all of it (TTL)


class BrakeState(StrEnum):
    APPLYING = "applying"  # recorded before the cloud call: a crash leaves a record to release
    ACTIVE = "active"
    FAILED = "failed"  # the cloud refused; the next event over the limit tries again
    RELEASED = "released"


@dataclass(frozen=True, slots=True)
class BrakeRecord:
    scope: str  # the agent
    principal: str  # the role ARN the brake is attached to
    limit: str
    provider: str
    state: BrakeState
    applied_at: float
    undo: str = ""  # what release restores (JSON: the policy that was there before, if any)
    detail: str = ""
    released_at: float | None = None
    released_by: str | None = None
    version: int = 1

    def evolve(self, **changes: Any) -> BrakeRecord:
        return replace(self, version=self.version + 1, **changes)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = self.state.value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BrakeRecord:
        values = dict(data)
        values["state"] = BrakeState(values["state"])
        return cls(**values)

    def dumps(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True)


class Conflict(Exception):
    """A brake record changed since it was read."""


class RunawayStore(Protocol):
    def add(self, tally: Tally) -> bool:
        """Apply the tally atomically; False (nothing changed) when any member was counted before."""

    def read(self, keys: Sequence[CounterKey]) -> dict[CounterKey, float]:
        """Current values (0 for keys never written), strongly consistent."""

    def members(self, scope: str, since: float) -> list[Member]:
        """What the agent created since `since` (read on an alert only)."""

    def claim_alert(self, limit: str, scope: str, level: int, now: float, cooldown: int) -> bool:
        """Atomically: True and recorded when judge.should_alert says so for the stored state."""

    def put_brake(self, record: BrakeRecord) -> bool:
        """Create or replace the record for (scope, principal) unless one is applying or active."""

    def update_brake(self, record: BrakeRecord) -> None:
        """Replace the stored record whose version is `record.version - 1`; Conflict otherwise."""

    def brakes(self, scope: str | None = None) -> list[BrakeRecord]: ...


@dataclass(frozen=True, slots=True)
class BrakeResult:
    ok: bool
    undo: str = ""
    detail: str = ""


class Brake(Protocol):
    """One cloud's reversible control over an agent's principal."""

    def apply(self, principal: str, scope: str, limit: str) -> BrakeResult: ...

    def release(self, record: BrakeRecord) -> BrakeResult: ...


@dataclass
class MemoryRates:
    """A RateSink that keeps the last value per (limit, agent): tests and the CLI."""

    values: dict[tuple[str, str], float] = field(default_factory=dict)

    def rate(self, limit: str, scope: str, value: float, unit: str) -> None:
        self.values[(limit, scope)] = value


class RateSink(Protocol):
    def rate(self, limit: str, scope: str, value: float, unit: str) -> None: ...
