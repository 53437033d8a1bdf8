"""Dividing one amount by weights so the parts add up exactly: the largest-remainder method, in decimal.

Pure functions. Amounts are `Decimal`s; weights are the policy's floats, turned into exact decimals
before any arithmetic, so a split is reproducible and never loses or creates a fraction of a cent.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import TypeVar

K = TypeVar("K")


def largest_remainder(amount: Decimal, weights: Mapping[K, float], quantum: Decimal) -> dict[K, Decimal]:
    """Split `amount` in proportion to `weights`, in whole `quantum`s, summing exactly to `amount`.

    Each part gets the floor of its ideal share in quanta; the whole quanta left over go one each to
    the largest remainders (ties by the order of `weights`, which callers keep sorted); an amount that
    is not a whole number of quanta leaves a rest smaller than one quantum, which goes to the next
    part in that order. No part is more than one quantum from its exact share. Negative amounts
    (credits) split as their absolute value, negated. Weights that are not positive take nothing;
    with no positive weight the result is empty.
    """
    positive = {k: Decimal(w) for k, w in weights.items() if w > 0}
    if not positive:
        return {}
    sign = -1 if amount < 0 else 1
    with localcontext() as ctx:
        ctx.prec = 80
        units = abs(amount) / quantum  # may be fractional
        total_weight = sum(positive.values(), Decimal(0))
        ideal = {k: units * w / total_weight for k, w in positive.items()}
        floors = {k: v.to_integral_value(rounding=ROUND_FLOOR) for k, v in ideal.items()}
        left = units - sum(floors.values(), Decimal(0))  # 0 <= left < number of parts
        whole = int(left.to_integral_value(rounding=ROUND_FLOOR))
        order = sorted(positive, key=lambda k: ideal[k] - floors[k], reverse=True)  # stable: ties keep order
        for k in order[:whole]:
            floors[k] += 1
        parts = {k: floors[k] * quantum for k in positive}
        rest = abs(amount) - sum(parts.values(), Decimal(0))  # less than one quantum
        if rest:
            parts[order[whole]] += rest
        return {k: sign * v for k, v in parts.items()}
