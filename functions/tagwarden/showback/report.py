"""A showback run: the engine's aggregates plus the usage splits, merged into one report (plain data).

The report is the JSON contract of `tagwarden showback --format json` (README, "## Showback").
Money is exact: Decimals inside, decimal strings in JSON. The four sources' amounts must add up to
the totals read straight from the costs, or `reconciled` is false (and the CLI exits 5).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tagwarden.ledger.model import UsageRecord
from tagwarden.showback.allocate import largest_remainder
from tagwarden.showback.engine import Engine
from tagwarden.showback.query import DIMENSIONS, SOURCES, Plan
from tagwarden.showback.sources import usage_records
from tagwarden.showback.split import Attribution, policy

SCHEMA = "tagwarden.showback/1"
ZERO = Decimal(0)
TAG_SETS = ("tags", "outcomes")  # the breakdowns a split divides
PER_UNIT = Decimal("1e-10")  # unit costs are quotients: shown to 10 places


@dataclass(slots=True)
class Acc:
    billed: Decimal = ZERO
    effective: Decimal = ZERO
    rows: int = 0
    by_source: dict[str, Decimal] = field(default_factory=dict)
    name: str | None = None

    def add(self, source: str, billed: Decimal, effective: Decimal, rows: int) -> None:
        self.billed += billed
        self.effective += effective
        self.rows += rows
        self.by_source[source] = self.by_source.get(source, ZERO) + billed


Cube = dict[str, dict[tuple[Any, ...], Acc]]


def run(engine: Engine, plan: Plan) -> dict[str, Any]:
    """Answer the plan on the engine; returns the report (see README for the contract)."""
    total = engine.rows(plan.totals_source())[0]
    engine.prepare(plan)
    sets = _distinct(plan.set_columns())
    ids = plan.grouping_ids()
    dims = [*DIMENSIONS, *plan.tag_columns]
    cube: Cube = {name: defaultdict(Acc) for name in sets}
    buckets: dict[str, Acc] = {s: Acc() for s in SOURCES}
    for row in engine.rows(plan.aggregate_source()):
        source, values, gid = row[0], dict(zip(dims, row[1 : 1 + len(dims)], strict=True)), row[1 + len(dims)]
        account_name, billed, effective, n = row[2 + len(dims) :]
        name = ids[gid]
        if name == "buckets":
            buckets[source].add(source, billed or ZERO, effective or ZERO, n)
            continue
        acc = cube[name][tuple(values[c] for c in sets[name])]
        acc.add(source, billed or ZERO, effective or ZERO, n)
        if name == "account":
            acc.name = account_name
    top = {
        (r[0], r[1], r[2], r[3]): {
            "creator": r[4],
            "ledger_state": r[5],
            "ledger_resource_id": r[6],
            "acc": _acc("unallocated", r[7], r[8], r[9]),
        }
        for r in engine.rows(plan.top_unallocated_source())
    }
    disagree = engine.rows(plan.disagreements_source())[0]
    _split(engine, plan, cube, buckets, top)
    if "outcomes" not in cube:  # the outcome key is a --by key: the same grouping
        cube["outcomes"] = cube["tags"]
    return _report(engine.name, plan, total, buckets, cube, top, disagree)


def _distinct(sets: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    return {k: v for k, v in sets.items() if not (k == "outcomes" and v == sets["tags"])}


def _acc(source: str, billed: Decimal | None, effective: Decimal | None, n: int) -> Acc:
    acc = Acc()
    acc.add(source, billed or ZERO, effective or ZERO, n)
    return acc


# -- usage splits ------------------------------------------------------------------------------
def _split(engine: Engine, plan: Plan, cube: Cube, buckets: dict[str, Acc], top: dict[Any, Any]) -> None:
    """Shared rows: per charge window, weights from the usage records, the window's sum split once.

    Provider / account / service / day breakdowns take the rows' amounts as they are (a split does
    not change them); only the tag breakdowns take the split parts. A window nobody measured stays
    unallocated.
    """
    rows = engine.rows(plan.split_rows_source())
    if not rows:
        return
    wanted = {plan.shared[r[10]].usage_resource(r[0]) for r in rows} - {None}
    usage = _Usage(usage_records(engine.rows(plan.usage_source(sorted(str(w) for w in wanted)))))
    sets = _distinct(plan.set_columns())
    plain = [n for n in sets if n not in TAG_SETS]
    untagged = dict.fromkeys(plan.tag_columns)
    weights_of: dict[tuple[Any, ...], dict[Attribution, float]] = {}
    windows: dict[tuple[Any, ...], Acc] = {}
    for row in rows:
        resource_id, provider, account, account_name, service, day, start, end = row[:8]
        billed, effective = row[8] or ZERO, row[9] or ZERO
        idx, creator, state, n = row[10:14]
        entry = plan.shared[idx]
        res = entry.usage_resource(resource_id)
        key = (idx, res, start, end)
        if key not in weights_of:
            found = usage.between(res, _epoch(start), _epoch(end)) if res else []
            # the row's charge window, for policies that weigh time (storage held over the period)
            params = {"period_start": _epoch(start), "period_end": _epoch(end), **entry.params}
            weights = policy(entry.policy).weights(found, params) if found else {}
            weights_of[key] = dict(sorted(weights.items()))
        dims = {"provider": provider, "account": account, "service": service, "day": day, **untagged}
        if not weights_of[key]:  # nothing measured: unallocated, never guessed
            buckets["unallocated"].add("unallocated", billed, effective, n)
            _add(cube, sets, list(sets), "unallocated", dims, billed, effective, n, account_name)
            item = top.setdefault(
                (resource_id, provider, account, service),
                {"creator": creator, "ledger_state": state, "ledger_resource_id": None, "acc": Acc()},
            )
            item["acc"].add("unallocated", billed, effective, n)
            continue
        buckets["usage-split"].add("usage-split", billed, effective, n)
        _add(cube, sets, plain, "usage-split", dims, billed, effective, n, account_name)
        windows.setdefault(key, Acc()).add("usage-split", billed, effective, n)
    keys = plan.keys
    for key, window in windows.items():
        weights = weights_of[key]
        quantum = plan.shared[key[0]].quantum
        b_parts = largest_remainder(window.billed, weights, quantum)
        e_parts = largest_remainder(window.effective, weights, quantum)
        for attribution in weights:
            tags = dict(attribution)
            dims = {f"t_{i}": tags.get(k) for i, k in enumerate(keys)}
            _add(
                cube,
                sets,
                TAG_SETS,
                "usage-split",
                dims,
                b_parts[attribution],
                e_parts[attribution],
                window.rows,
            )


def _add(
    cube: Cube,
    sets: Mapping[str, Sequence[str]],
    names: Sequence[str],
    source: str,
    dims: Mapping[str, Any],
    billed: Decimal,
    effective: Decimal,
    rows: int,
    account_name: str | None = None,
) -> None:
    for name in names:
        if name not in sets or name == "buckets":
            continue
        acc = cube[name][tuple(dims[c] for c in sets[name])]
        acc.add(source, billed, effective, rows)
        if name == "account" and acc.name is None:
            acc.name = account_name


class _Usage:
    """Usage records by resource, sorted by time, for window look-ups."""

    def __init__(self, records: Any) -> None:
        self._by: dict[str, list[UsageRecord]] = defaultdict(list)
        for r in records:
            self._by[r.resource].append(r)
        self._times = {k: [r.time for r in v] for k, v in self._by.items()}

    def between(self, resource: str, start: float, end: float) -> list[UsageRecord]:
        times = self._times.get(resource)
        if not times:
            return []
        return self._by[resource][bisect.bisect_left(times, start) : bisect.bisect_left(times, end)]


def _epoch(value: datetime) -> float:
    return value.replace(tzinfo=UTC).timestamp() if value.tzinfo is None else value.timestamp()


# -- the report --------------------------------------------------------------------------------
def money(value: Decimal | None) -> str:
    d = (value or ZERO).normalize()
    return format(d, "f") if d else "0"


def _share(part: Decimal, whole: Decimal) -> float:
    return round(float(part / whole), 6) if whole else 0.0


def _amounts(acc: Acc) -> dict[str, Any]:
    return {
        "billed_cost": money(acc.billed),
        "effective_cost": money(acc.effective),
        "rows": acc.rows,
        "by_source": {s: money(acc.by_source[s]) for s in SOURCES if s in acc.by_source},
    }


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, (date, datetime)) else str(value)


def _report(
    engine: str,
    plan: Plan,
    total: tuple[Any, ...],
    buckets: dict[str, Acc],
    cube: Cube,
    top: dict[Any, Any],
    disagree: tuple[Any, ...],
) -> dict[str, Any]:
    t_billed, t_effective, t_rows, currencies, currency, invalid, first, last = total
    t_billed, t_effective, t_rows = t_billed or ZERO, t_effective or ZERO, t_rows or 0
    allocated = Acc()
    for s in ("bill-tags", "ledger", "usage-split"):
        allocated.add(s, buckets[s].billed, buckets[s].effective, buckets[s].rows)
    unalloc = buckets["unallocated"]
    reconciled = (
        allocated.billed + unalloc.billed == t_billed
        and allocated.effective + unalloc.effective == t_effective
        and allocated.rows + unalloc.rows == t_rows
    )
    keys = plan.keys
    by = len(plan.by)

    def rows_of(name: str, label: Any) -> list[dict[str, Any]]:
        items = sorted(cube[name].items(), key=lambda kv: (-kv[1].billed, str(kv[0])))
        return [{**label(k, acc), **_amounts(acc)} for k, acc in items]

    warnings = []
    if currencies and currencies > 1:
        warnings.append(f"{currencies} billing currencies are summed together; filter the input by currency")
    if invalid:
        warnings.append(f"{invalid} cost rows have Tags that are not a JSON object; their tags were ignored")
    if disagree[0]:
        warnings.append(
            f"{disagree[0]} cost rows ({money(disagree[1])}) of {disagree[2]} resources carry bill tags that "
            "differ from the ledger's attribution (bill tags win; see ledger_disagreements)"
        )
    return {
        "schema": SCHEMA,
        "engine": engine,
        "by": list(plan.by),
        "outcome_key": plan.outcome_key,
        "period": {
            "from": _iso(plan.since),
            "to": _iso(plan.until),
            "first_charge": _iso(first),
            "last_charge": _iso(last),
        },
        "currency": currency,
        "totals": {
            "billed_cost": money(t_billed),
            "effective_cost": money(t_effective),
            "rows": t_rows,
            "allocated": {k: v for k, v in _amounts(allocated).items() if k != "by_source"},
            "unallocated": {k: v for k, v in _amounts(unalloc).items() if k != "by_source"},
            "reconciled": reconciled,
        },
        "unallocated_share": {
            "before_ledger": _share(t_billed - buckets["bill-tags"].billed, t_billed),
            "after_ledger": _share(unalloc.billed, t_billed),
        },
        "sources": [
            {
                "source": s,
                "billed_cost": money(buckets[s].billed),
                "effective_cost": money(buckets[s].effective),
                "rows": buckets[s].rows,
                "share": _share(buckets[s].billed, t_billed),
            }
            for s in SOURCES
        ],
        "by_tags": rows_of("tags", lambda k, _a: {"tags": dict(zip(plan.by, k, strict=True))}),
        "by_provider": rows_of("provider", lambda k, _a: {"provider": k[0]}),
        "by_account": rows_of(
            "account", lambda k, a: {"provider": k[0], "account": k[1], "account_name": a.name}
        ),
        "by_service": rows_of("service", lambda k, _a: {"provider": k[0], "service": k[1]}),
        "daily": sorted(rows_of("day", lambda k, _a: {"day": _iso(k[0])}), key=lambda r: str(r["day"])),
        "top_unallocated": _top(top, plan.top),
        "unit_economics": _unit_economics(plan, cube["outcomes"], keys, by),
        "ledger_disagreements": {
            "rows": disagree[0] or 0,
            "billed_cost": money(disagree[1]),
            "resources": disagree[2] or 0,
        },
        "warnings": warnings,
    }


def _top(top: dict[Any, Any], n: int) -> list[dict[str, Any]]:
    items = sorted(top.items(), key=lambda kv: (-kv[1]["acc"].billed, str(kv[0])))[:n]
    return [
        {
            "resource_id": k[0],
            "provider": k[1],
            "account": k[2],
            "service": k[3],
            "billed_cost": money(v["acc"].billed),
            "effective_cost": money(v["acc"].effective),
            "rows": v["acc"].rows,
            "in_ledger": v["ledger_resource_id"] is not None,
            "creator": v["creator"],
            "ledger_state": v["ledger_state"],
        }
        for k, v in items
    ]


def _unit_economics(
    plan: Plan, outcomes: dict[tuple[Any, ...], Acc], keys: Sequence[str], by: int
) -> dict[str, Any] | None:
    """Cost per outcome: per Outcome-ID value, and per group of the other --by keys (outcomes counted)."""
    if not plan.outcome_key:
        return None
    o = list(keys).index(plan.outcome_key)
    others = [i for i in range(by) if i != o]
    per_outcome: dict[str, Acc] = defaultdict(Acc)
    groups: dict[tuple[Any, ...], tuple[Acc, set[str]]] = {}
    for k, acc in outcomes.items():
        if k[o] is None:
            continue
        for s, amount in acc.by_source.items():
            per_outcome[k[o]].by_source[s] = per_outcome[k[o]].by_source.get(s, ZERO) + amount
        per_outcome[k[o]].billed += acc.billed
        per_outcome[k[o]].effective += acc.effective
        per_outcome[k[o]].rows += acc.rows
        g = tuple(k[i] for i in others)
        gacc, seen = groups.setdefault(g, (Acc(), set()))
        gacc.billed += acc.billed
        gacc.effective += acc.effective
        gacc.rows += acc.rows
        seen.add(k[o])
    total = sum((a.billed for a in per_outcome.values()), ZERO)
    count = len(per_outcome)
    return {
        "outcome_key": plan.outcome_key,
        "outcomes": count,
        "billed_cost": money(total),
        "cost_per_outcome": money((total / count).quantize(PER_UNIT)) if count else None,
        "per_outcome": [
            {"outcome": name, **_amounts(acc)}
            for name, acc in sorted(per_outcome.items(), key=lambda kv: (-kv[1].billed, kv[0]))
        ],
        "by_group": [
            {
                "tags": {keys[i]: g[j] for j, i in enumerate(others)},
                "outcomes": len(seen),
                "billed_cost": money(acc.billed),
                "cost_per_outcome": money((acc.billed / len(seen)).quantize(PER_UNIT)),
            }
            for g, (acc, seen) in sorted(groups.items(), key=lambda kv: (-kv[1][0].billed, str(kv[0])))
        ],
    }
