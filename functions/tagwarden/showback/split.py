"""How one shared cost row is split across the attributions that used it (the contract).

A cost row of a shared thing (a Bedrock model, an OpenAI project, a vector index used by many
tenants) is divided by weights computed from the ledger's usage records for that thing in the
row's charge period. Policies live with what they measure (tagwarden.llm, tagwarden.vector) and
are found here by name, imported only when a report names them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from tagwarden.ledger.model import UsageRecord

# A usage record's attribution as a hashable key: its (tag key, value) pairs, sorted.
Attribution = tuple[tuple[str, str], ...]


def attribution_key(attribution: Mapping[str, str]) -> Attribution:
    return tuple(sorted(attribution.items()))


class SplitPolicy(Protocol):
    def weights(self, usage: Sequence[UsageRecord], params: Mapping[str, Any]) -> dict[Attribution, float]:
        """Non-negative weights per attribution (they need not sum to 1; showback normalises).
        Empty when nothing measured applies: the row then stays unallocated, never guessed.
        `params` are the config entry's, plus `period_start` / `period_end` (epoch seconds): the
        cost row's charge window, unless the entry sets them."""


class QuantityPolicy:
    """Weights by one measured quantity (params: `quantity`, e.g. `input_tokens` or `queries`)."""

    def weights(self, usage: Sequence[UsageRecord], params: Mapping[str, Any]) -> dict[Attribution, float]:
        name = str(params.get("quantity", ""))
        out: dict[Attribution, float] = {}
        for record in usage:
            amount = float(record.quantities.get(name, 0.0))
            if amount > 0:
                key = attribution_key(record.attribution)
                out[key] = out.get(key, 0.0) + amount
        return out


# name -> "module:attribute" of a SplitPolicy; imported on first use.
POLICIES: dict[str, str] = {
    "quantity": "tagwarden.showback.split:QuantityPolicy",
    "llm-tokens": "tagwarden.llm.split:TokenCostPolicy",
    "vector-blend": "tagwarden.vector.split:BlendPolicy",
}


def policy(name: str) -> SplitPolicy:
    try:
        target = POLICIES[name]
    except KeyError:
        raise ValueError(f"unknown split policy {name!r}; known: {', '.join(sorted(POLICIES))}") from None
    module, _, attr = target.partition(":")
    made: SplitPolicy = getattr(importlib.import_module(module), attr)()
    return made
