"""`vector-blend`: a shared index's cost row split by a blend of storage share and query share.

    weight(t) = s * S(t) / sum(S) + q * Q(t) / sum(Q)          (s + q normalised to 1)

S(t) is tenant t's time-weighted average of its storage snapshots over the period (a step
function: each collection run's level holds until the next run; a tenant absent from a run held
nothing then). Q(t) is the queries (or read units) t made in the period. A part with nothing
measured hands its weight to the other; with nothing measured at all the result is empty and the
row stays unallocated. Tenants with no usage get nothing. Vectors stamped with no tenant keep
their share under the empty attribution: it is reported, never spread over the tenants.

params (all optional): `storage` (0.5), `queries` (0.5), `storage_quantity` (`vectors` | `bytes`),
`query_quantity` (`queries` | `read_units`), `by` (attribution keys to group by, default
[`tenant_id`]), `period_start` / `period_end` (epoch seconds or ISO 8601, UTC when no offset is
given; without them, as when showback passes the usage of one charge period, the last snapshot
holds for one mean interval between snapshots).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from tagwarden.ledger.model import UsageKind, UsageRecord
from tagwarden.showback.split import Attribution
from tagwarden.vector.stamp import TENANT

DEFAULTS: Mapping[str, Any] = {
    "storage": 0.5,
    "queries": 0.5,
    "storage_quantity": "vectors",
    "query_quantity": "queries",
    "by": (TENANT,),
}


def _seconds(value: object) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, datetime):
        return value.timestamp()
    text = str(value).strip().replace("Z", "+00:00")
    try:
        return float(text)
    except ValueError:
        moment = datetime.fromisoformat(text)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()  # FOCUS times are UTC


def _fraction(params: Mapping[str, Any], name: str) -> float:
    value = float(params.get(name, DEFAULTS[name]))
    if not value >= 0:  # also refuses NaN
        raise ValueError(f"vector-blend: '{name}' must be a number >= 0, got {params.get(name)!r}")
    return value


def _shares(totals: Mapping[Attribution, float]) -> dict[Attribution, float]:
    whole = sum(totals.values())
    return {k: v / whole for k, v in totals.items() if v > 0} if whole > 0 else {}


def storage_levels(
    snapshots: Sequence[UsageRecord],
    quantity: str,
    by: Sequence[str],
    start: float | None = None,
    end: float | None = None,
) -> dict[Attribution, float]:
    """Time-weighted average of each group's storage over the period."""
    runs: dict[float, dict[Attribution, float]] = {}
    for record in snapshots:
        key = _group(record.attribution, by)
        level = runs.setdefault(record.time, {})
        level[key] = level.get(key, 0.0) + float(record.quantities.get(quantity, 0.0))
    if not runs:
        return {}
    times = sorted(runs)
    spans = [b - a for a, b in itertools.pairwise(times)]
    mean = (times[-1] - times[0]) / (len(times) - 1) if len(times) > 1 else 1.0
    spans.append(end - times[-1] if end is not None and end > times[-1] else mean)
    if start is not None and start < times[0]:
        spans[0] += times[0] - start  # the first level is the best knowledge of the period's start
    if sum(spans) <= 0:  # all snapshots at one instant and no period given: weigh them alike
        spans = [1.0] * len(times)
    total = sum(spans)
    out: dict[Attribution, float] = {}
    for at, span in zip(times, spans, strict=True):
        for key, value in runs[at].items():
            out[key] = out.get(key, 0.0) + value * span / total
    return out


def _group(attribution: Mapping[str, str], by: Sequence[str]) -> Attribution:
    return tuple(sorted((k, attribution[k]) for k in by if attribution.get(k)))


class BlendPolicy:
    def weights(self, usage: Sequence[UsageRecord], params: Mapping[str, Any]) -> dict[Attribution, float]:
        s, q = _fraction(params, "storage"), _fraction(params, "queries")
        if s + q <= 0:
            raise ValueError("vector-blend: 'storage' + 'queries' must be > 0")
        raw_by = params.get("by", DEFAULTS["by"])
        by = (raw_by,) if isinstance(raw_by, str) else tuple(raw_by)
        start, end = _seconds(params.get("period_start")), _seconds(params.get("period_end"))

        def inside(record: UsageRecord) -> bool:
            return (start is None or record.time >= start) and (end is None or record.time < end)

        snapshots = [r for r in usage if r.kind is UsageKind.VECTOR_STORAGE and inside(r)]
        level = str(params.get("storage_quantity", DEFAULTS["storage_quantity"]))
        storage = _shares(storage_levels(snapshots, level, by, start, end))
        quantity = str(params.get("query_quantity", DEFAULTS["query_quantity"]))
        flows: dict[Attribution, float] = {}
        for record in usage:
            if record.kind is UsageKind.VECTOR_QUERY and inside(record):
                key = _group(record.attribution, by)
                flows[key] = flows.get(key, 0.0) + float(record.quantities.get(quantity, 0.0))
        queries = _shares(flows)

        s = s if storage else 0.0  # a part with nothing measured hands its weight to the other
        q = q if queries else 0.0
        if s + q == 0:
            return {}
        out: dict[Attribution, float] = {}
        for part, weight in ((storage, s), (queries, q)):
            for key, share in part.items():
                out[key] = out.get(key, 0.0) + share * weight / (s + q)
        return out
