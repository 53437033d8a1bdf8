"""A bound on metric cardinality: per-agent rates are metrics with the agent as a dimension, and
every distinct dimension value is a billed metric. The first `limit` agents a container sees keep
their own name; any further one is reported as OTHER (its exact value stays in the logs)."""

from __future__ import annotations

OTHER = "(other)"
DEFAULT_LIMIT = 50


class CardinalityGuard:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._seen: set[str] = set()

    def label(self, value: str) -> str:
        if value in self._seen:
            return value
        if len(self._seen) < self.limit:
            self._seen.add(value)
            return value
        return OTHER
