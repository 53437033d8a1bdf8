"""`llm-tokens`: split a shared model cost row by each attribution's token cost.

Weight = Σ over the attribution's usage records of tokens x the price table's per-million price,
input, cached input, cache writes and output each at their own price: an agent that sends long
prompts to a cheap model weighs what it costs, not what it counts. Params: `prices` (a price table
path; the shipped one otherwise) and `resources` (resource id -> model key, for ids that do not
name their model, like an application inference profile ARN).

A model the table does not price is an error naming it (add it, or map the resource under
`resources:`), never a guess; when no record's model is priced at all (a bill for a model only you
know), the weights fall back to raw token counts, which the log says.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from tagwarden.ledger.model import UsageKind, UsageRecord
from tagwarden.llm import prices as price_tables
from tagwarden.llm.recorder import CACHE_WRITE, CACHED, INPUT, OUTPUT
from tagwarden.showback.split import Attribution, attribution_key

log = logging.getLogger("tagwarden.llm")
TOKENS = (INPUT, CACHED, CACHE_WRITE, OUTPUT)


class TokenCostPolicy:
    def weights(self, usage: Sequence[UsageRecord], params: Mapping[str, Any]) -> dict[Attribution, float]:
        path = params.get("prices")
        table = price_tables.load(str(path) if path else None)
        if params.get("resources"):
            table = table.with_resources({str(k): str(v) for k, v in dict(params["resources"]).items()})
        records = [r for r in usage if r.kind is UsageKind.LLM]
        unpriced = sorted({r.resource for r in records if table.price(r.resource) is None})
        out: dict[Attribution, float] = {}
        if unpriced and len(unpriced) == len({r.resource for r in records}):
            log.warning("no price for %s in %s: splitting by token counts", ", ".join(unpriced), table.source)
            for r in records:
                amount = sum(float(r.quantities.get(q, 0.0)) for q in TOKENS)
                if amount > 0:
                    key = attribution_key(r.attribution)
                    out[key] = out.get(key, 0.0) + amount
            return out
        if unpriced:
            raise price_tables.PriceError(
                f"{table.source}: no price for {', '.join(repr(m) for m in unpriced)} "
                "(add the model under `models:`, or map the resource under `resources:`; --prices FILE)"
            )
        for r in records:
            cost = table.cost(r)
            if cost > 0:
                key = attribution_key(r.attribution)
                out[key] = out.get(key, 0.0) + cost
        return out
