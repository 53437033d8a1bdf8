from __future__ import annotations

from tagwarden.ledger.model import UsageKind, UsageRecord
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.lifecycle.ports import Notification
from tagwarden.runaway.limiter import Limiter
from tagwarden.runaway.sqlite import SqliteRunawayStore
from tagwarden.runaway.usage import WatchedLedger

from runaway_helpers import rules

TOKENS = """
version: 1
tags: {Agent-ID: {}}
limits:
  checks: [{id: tokens, per: {tag: Agent-ID}, tokens: 10000, window: 1h}]
"""


def test_usage_written_through_the_ledger_counts_once_and_alerts() -> None:
    sent: list[Notification] = []

    class Collect:
        def send(self, message: Notification) -> None:
            sent.append(message)

    ledger = SqliteLedger()
    limiter = Limiter(rules(TOKENS).limits, SqliteRunawayStore(), clock=lambda: 2_000_000_000.0)
    watched = WatchedLedger(ledger, limiter, Collect())
    records = [
        UsageRecord(f"u{i}", UsageKind.LLM, 1_999_999_000.0, "bedrock", "anthropic.claude-3-haiku",
                    {"Agent-ID": "42"}, {"input_tokens": 4000.0, "output_tokens": 1000.0})
        for i in range(3)
    ]  # fmt: skip
    assert watched.add_usage(records[:2]) == 2 and sent == []  # 10,000 tokens: within the limit
    assert watched.add_usage(records) == 1  # the ledger writes the new one; the limiter counts it once
    assert [n.extra["value"] for n in sent] == [15000]
    assert len(list(watched.usage())) == 3  # the rest is the ledger's own
