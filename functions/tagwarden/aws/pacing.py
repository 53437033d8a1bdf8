"""The sweeper within API rate limits, per account-region.

AWS rate-limits per account and region (and per API). The sweeper works one account-region at a
time per worker, a few workers at once (`AwsSweeper.concurrency`); every client retries throttled
calls with botocore's adaptive mode (exponential backoff with jitter, and a client-side token
bucket that slows the client down after a throttle: one bucket per client, so per account, region
and service). A call still throttled after its retries marks its account-region throttled for the
rest of the sweep: nothing more is started there, and its records are left for the next sweep,
each row saying why, with a log line and a metric. So is everything once the sweep's time budget
(the Lambda's remaining time, less a margin) is spent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config

from tagwarden.aws.clients import DEFAULT_CONFIG, Clients
from tagwarden.lifecycle.sweeper import Deferral

# Client-side rate limiting on top of the standard retries (the sweeper's clients only: its work is
# a backlog, which may wait; the enforcer's hot path keeps the standard mode).
SWEEP_CONFIG = DEFAULT_CONFIG.merge(Config(retries={"mode": "adaptive", "max_attempts": 6}))

# Error codes botocore's retries treat as throttling (botocore.retries.standard).
THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)


def error_code(exc: BaseException) -> str | None:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None


class ThrottleWatch:
    """Calls of one account's clients still throttled after their retries, per region (fed by
    botocore's `after-call` event, whatever made the call: a read, a quarantine, an untag)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._hits: dict[str | None, tuple[str, str, float]] = {}
        self._lock = threading.Lock()

    def attach(self, clients: Clients) -> ThrottleWatch:
        clients.observe("after-call", self._after_call)
        return self

    def _after_call(self, parsed: Any = None, model: Any = None, context: Any = None, **_: Any) -> None:
        code = parsed.get("Error", {}).get("Code") if isinstance(parsed, dict) else None
        if code not in THROTTLE_CODES:
            return
        region = context.get("client_region") if isinstance(context, dict) else None
        call = f"{model.service_model.service_name}:{model.name}" if model is not None else "?"
        with self._lock:
            self._hits[region] = (str(code), call, self.clock())

    def since(self, region: str | None, started: float) -> tuple[str, str] | None:
        """The last throttled call in `region` at or after `started`: (code, service:operation)."""
        with self._lock:
            hit = self._hits.get(region)
        return (hit[0], hit[1]) if hit is not None and hit[2] >= started else None


@dataclass
class Pace:
    """One sweep's limits for one account-region: throttled past retries, or out of time."""

    account: str
    region: str | None
    watch: ThrottleWatch
    started: float
    deadline: float | None = None  # on `clock` (monotonic)
    clock: Callable[[], float] = field(default=time.monotonic)

    def halted(self) -> Deferral | None:
        hit = self.watch.since(self.region, self.started)
        if hit is not None:
            code, call = hit
            return Deferral(
                "throttled",
                f"throttled in {self.account} {self.region or ''} ({call}: {code}) after retries: "
                "left for the next sweep",
            )
        if self.deadline is not None and self.clock() >= self.deadline:
            return Deferral("out-of-time", "the sweep's time ran out: left for the next sweep")
        return None

    def deferral(self, exc: Exception) -> Deferral:
        """What a failure to read or act here means: throttled, the member role refused, or else."""
        code = error_code(exc)
        where = f"{self.account} {self.region or ''}".strip()
        if code in THROTTLE_CODES:
            why = f"throttled in {where} ({code}) after retries: left for the next sweep"
            return Deferral("throttled", why)
        if getattr(exc, "operation_name", None) == "AssumeRole":
            return Deferral(
                "unreachable",
                f"cannot assume the member role in {self.account} ({code}): nothing done there",
            )
        return Deferral("error", f"{where}: {type(exc).__name__}: {str(exc)[:300]}")
