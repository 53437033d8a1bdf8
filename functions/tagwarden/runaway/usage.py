"""LLM usage into the limits: a Ledger that also counts the usage records written through it.

Wrap the ledger the LLM recorder writes to (`tagwarden.llm.recorder`), and every record it adds
counts towards `tokens` limits and the LLM share of `spend_per_hour` limits, once per `usage_id`;
a crossing sends the runaway alert through the notifier. The records are written first; a
notifier that fails raises after that, so nothing is lost and the caller sees the failure.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tagwarden.ledger.model import UsageRecord
from tagwarden.ledger.ports import Ledger
from tagwarden.lifecycle.ports import Notifier
from tagwarden.runaway.limiter import Limiter


class WatchedLedger:
    def __init__(self, ledger: Ledger, limiter: Limiter, notifier: Notifier | None = None) -> None:
        self.ledger = ledger
        self.limiter = limiter
        self.notifier = notifier
        self.alerts = 0

    def add_usage(self, records: Iterable[UsageRecord]) -> int:
        batch = list(records)
        written = self.ledger.add_usage(batch)
        out = self.limiter.observe_usage(batch)
        self.alerts += len(out.notifications)
        if self.notifier is not None:
            for note in out.notifications:
                self.notifier.send(note)
        return written

    def __getattr__(self, name: str) -> Any:  # everything else is the ledger's own
        return getattr(self.ledger, name)
