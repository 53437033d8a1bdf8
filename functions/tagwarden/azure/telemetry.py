"""Structured logs and counters for the Azure Function, through the standard `logging` module.

The Functions host sends Python log records to Application Insights as traces. Each record's
message is one JSON object (searchable with `parse_json(message)` in Log Analytics); counters are
records with `"metric": <name>`, which a query can sum. No Azure SDK is needed for either.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import TYPE_CHECKING, Any

from tagwarden.lifecycle.ports import Status
from tagwarden.model import Action, SkipKind
from tagwarden.tagging import Outcome
from tagwarden.untrusted import bounded

if TYPE_CHECKING:
    from tagwarden.runaway.metrics import CardinalityGuard

LOGGER = "tagwarden.azure"

_OUTCOME_METRICS = {
    Outcome.TAGGED: "ResourcesTagged",
    Outcome.VANISHED: "ResourcesVanished",
    Outcome.FAILED: "TagWriteFailures",
    Outcome.UNSUPPORTED: "TagWriteUnsupported",
}


class Telemetry:
    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.logger = logger or logging.getLogger(LOGGER)
        if self.logger.level == logging.NOTSET:
            self.logger.setLevel(logging.INFO)  # counters are INFO records: keep them whatever the root says
        self._correlation: str | None = None

    @functools.cached_property
    def agents(self) -> CardinalityGuard:
        """Per-agent metric dimensions, bounded per worker (made when the rules have limits)."""
        from tagwarden.runaway.metrics import CardinalityGuard

        return CardinalityGuard()

    def correlate(self, event_id: str) -> None:
        self._correlation = event_id

    def log(self, level: str, message: str, **fields: Any) -> None:
        # Fields may carry the event itself: bounded, so no input can break json.dumps.
        record = {"message": message, "correlation_id": self._correlation}
        record.update((k, bounded(v)) for k, v in fields.items())
        self.logger.log(logging.getLevelName(level.upper()), json.dumps(record, default=str))

    def rate(self, limit: str, scope: str, value: float, unit: str) -> None:
        """An agent's windowed rate (runaway agents), the agent bounded by a cardinality guard."""
        self._metric("AgentRate", value, limit=limit, agent=self.agents.label(scope), unit=unit)

    def _metric(self, name: str, value: float = 1, **dimensions: str) -> None:
        self.logger.info(json.dumps({"metric": name, "value": value, **dimensions}))

    def count_events(self, n: int) -> None:
        self._metric("EventsReceived", n)

    def count_resource(self, action: Action, outcome: Outcome | None) -> None:
        if action not in (Action.TAG, Action.NONE, Action.SKIP):
            self._metric("ResourcesUnattributed")
        if outcome is not None:
            self._metric(_OUTCOME_METRICS[outcome])

    def count_skip(self, kind: SkipKind) -> None:
        self._metric("EventsSkipped", kind=kind.value)

    def count_failure(self, error: str) -> None:
        self._metric("EventsFailed", error=error)

    def count_deferred(self, kind: str, n: int = 1) -> None:
        """Sweep scopes left for the next sweep (not-member, unverified)."""
        self._metric("SweepDeferred", n, kind=kind)

    def count_action(self, action: str, status: Status) -> None:
        self._metric("LifecycleActions", action=action, status=status.value)

    def observe_lag(self, seconds: float) -> None:
        self._metric("TagWriteLag", seconds, unit="Seconds")

    def count_rules(self, outcome: str) -> None:
        """Rules from a Blob (tagwarden.rules.live): RulesReloaded, RulesRejected, RulesUnreadable."""
        self._metric(f"Rules{outcome.capitalize()}")
