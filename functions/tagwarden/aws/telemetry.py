"""Structured logs and CloudWatch metrics (EMF) through Powertools, behind a small interface.

Metrics keep dimensions low-cardinality: the action, the outcome, the skip kind. Identifiers
(resource ARNs, event ids, creators) go to the logs, where they can be searched.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric

from tagwarden.lifecycle.ports import Status
from tagwarden.model import Action, SkipKind
from tagwarden.untrusted import bounded

if TYPE_CHECKING:
    from tagwarden.runaway.metrics import CardinalityGuard

NAMESPACE = "tagwarden"
SERVICE = "tagwarden-aws"

# (action, outcome) -> metric name; outcome None means nothing was written (audit, none, skip).
_RESOURCE_METRICS: dict[str, str] = {
    "tagged": "ResourcesTagged",
    "vanished": "ResourcesVanished",
    "failed": "TagWriteFailures",
    "unsupported": "TagWriteUnsupported",
}


class Telemetry:
    def __init__(self, logger: Logger | None = None, metrics: Metrics | None = None) -> None:
        self.logger = logger or Logger(service=SERVICE)
        self.metrics = metrics or Metrics(namespace=NAMESPACE, service=SERVICE)

    @functools.cached_property
    def agents(self) -> CardinalityGuard:
        """Per-agent metric dimensions, bounded per container (made when the rules have limits)."""
        from tagwarden.runaway.metrics import CardinalityGuard

        return CardinalityGuard()

    def correlate(self, event_id: str) -> None:
        self.logger.set_correlation_id(event_id)

    def log(self, level: str, message: str, **fields: Any) -> None:
        # Fields may carry the event itself: bounded, so no input can break the log formatter.
        getattr(self.logger, level)(message, extra={k: bounded(v) for k, v in fields.items()})

    def count_events(self, n: int) -> None:
        self.metrics.add_metric(name="EventsReceived", unit=MetricUnit.Count, value=n)

    def count_swept(self, n: int) -> None:
        """Ledger records a scheduled sweep looked at: apart from EventsReceived, so the events
        panel counts deliveries, not sweeps."""
        self.metrics.add_metric(name="ResourcesSwept", unit=MetricUnit.Count, value=n)

    def count_resource(self, action: Action, outcome: Any) -> None:
        if action not in (Action.TAG, Action.NONE, Action.SKIP):
            self.metrics.add_metric(name="ResourcesUnattributed", unit=MetricUnit.Count, value=1)
        if outcome is not None:
            name = _RESOURCE_METRICS.get(str(outcome.value if hasattr(outcome, "value") else outcome))
            if name:
                self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)

    def count_skip(self, kind: SkipKind) -> None:
        # A dimension of its own: emitted as a separate EMF document.
        _emit("EventsSkipped", 1, kind=kind.value)

    def count_deferred(self, kind: str, n: int) -> None:
        """Sweep work left for the next sweep (throttled, out of time, not a member, unreachable)."""
        _emit("SweepDeferred", n, reason=kind)

    def count_failure(self, error: str) -> None:
        # No dimension: the error type is in the log record next to it.
        self.metrics.add_metric(name="EventsFailed", unit=MetricUnit.Count, value=1)
        self.metrics.add_metadata(key="error", value=error)

    def count_action(self, action: str, status: Status) -> None:
        """A lifecycle action's result (quarantine, release, delete; done, dry-run, failed ...)."""
        _emit("LifecycleActions", 1, action=action, status=status.value)

    def observe_lag(self, seconds: float) -> None:
        self.metrics.add_metric(name="TagWriteLag", unit=MetricUnit.Seconds, value=seconds)

    def count_rules(self, outcome: str) -> None:
        """Rules from a store (tagwarden.rules.live): RulesReloaded, RulesRejected (a broken version,
        once each), RulesUnreadable (the store could not be read). Emitted at once, in or out of a
        handler's invocation."""
        _emit(f"Rules{outcome.capitalize()}", 1)

    def rate(self, limit: str, scope: str, value: float, unit: str) -> None:
        """An agent's windowed rate for one limit (runaway agents): one EMF document, with the agent
        as a dimension while the container has seen fewer than the guard's limit of agents."""
        count = unit in ("creates", "tokens")
        _emit(
            "AgentRate",
            value,
            MetricUnit.Count if count else MetricUnit.NoUnit,
            limit=limit,
            agent=self.agents.label(scope),
        )


def _emit(name: str, value: float, unit: MetricUnit = MetricUnit.Count, **dimensions: str) -> None:
    """One EMF document of its own (its dimensions apart from the invocation's metrics), at once."""
    with single_metric(
        name=name, unit=unit, value=value, namespace=NAMESPACE, default_dimensions={"service": SERVICE}
    ) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)
