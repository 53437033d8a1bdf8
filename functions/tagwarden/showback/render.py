"""The report as a terminal table or CSV (JSON is the report itself, see report.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from tagwarden.showback.query import SOURCES


def _cents(amount: str) -> str:
    return f"{Decimal(amount):,.2f}"


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    right = [h.endswith(("cost", "share", "rows", "outcomes", "per outcome")) for h in headers]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)
        )

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)]) + "\n"


def table(report: dict[str, Any], limit: int = 15) -> str:
    """The headline figures: totals, sources, spend by the --by keys, top unallocated, unit cost."""
    t = report["totals"]
    out = io.StringIO()
    period = report["period"]
    out.write(
        f"Showback {period['first_charge'] or ''} .. {period['last_charge'] or ''}  "
        f"({t['rows']} cost rows, {report['currency'] or '?'}; engine {report['engine']})\n\n"
    )
    out.write(
        _table(
            ["source", "billed cost", "effective cost", "rows", "share"],
            [
                [
                    s["source"],
                    _cents(s["billed_cost"]),
                    _cents(s["effective_cost"]),
                    str(s["rows"]),
                    f"{s['share']:.1%}",
                ]
                for s in report["sources"]
            ]
            + [["total", _cents(t["billed_cost"]), _cents(t["effective_cost"]), str(t["rows"]), "100.0%"]],
        )
    )
    share = report["unallocated_share"]
    out.write(
        f"unallocated: {share['before_ledger']:.1%} with the bill's tags alone, "
        f"{share['after_ledger']:.1%} after the ledger; reconciled: {'yes' if t['reconciled'] else 'NO'}\n\n"
    )
    by = report["by"]
    rows = [
        [
            *(str(r["tags"][k] if r["tags"][k] is not None else "-") for k in by),
            _cents(r["billed_cost"]),
            str(r["rows"]),
            ", ".join(s for s in SOURCES if s in r["by_source"]),
        ]
        for r in report["by_tags"][:limit]
    ]
    out.write(_table([*by, "billed cost", "rows", "from"], rows))
    if len(report["by_tags"]) > limit:
        out.write(f"... {len(report['by_tags']) - limit} more groups (--format json for all)\n")
    out.write("\n")
    labels: dict[str, tuple[str, Callable[[dict[str, Any]], str]]] = {
        "provider": ("by_provider", lambda r: str(r["provider"])),
        "account": (
            "by_account",
            lambda r: f"{r['provider']} {r['account']} {r['account_name'] or ''}".strip(),
        ),
        "service": ("by_service", lambda r: f"{r['provider']} {r['service']}"),
    }
    for title, (key, label) in labels.items():
        rows = [
            [
                label(r),
                _cents(r["billed_cost"]),
                _cents(r["by_source"].get("unallocated", "0")),
                str(r["rows"]),
            ]
            for r in report[key][:8]
        ]
        if rows:
            out.write(_table([title, "billed cost", "unallocated cost", "rows"], rows))
            if len(report[key]) > 8:
                out.write(f"... {len(report[key]) - 8} more\n")
            out.write("\n")
    top = report["top_unallocated"][:10]
    if top:
        out.write("Top unallocated resources\n")
        out.write(
            _table(
                ["resource", "service", "billed cost", "creator"],
                [
                    [
                        _short(r["resource_id"] or "(no resource id)"),
                        r["service"] or "",
                        _cents(r["billed_cost"]),
                        r["creator"] or ("in ledger, no tags" if r["in_ledger"] else "unknown"),
                    ]
                    for r in top
                ],
            )
        )
        out.write("\n")
    ue = report["unit_economics"]
    if ue and ue["outcomes"]:
        out.write(
            f"Unit economics: {ue['outcomes']} {ue['outcome_key']} values, "
            f"{_cents(ue['billed_cost'])} in all, "
            f"{Decimal(ue['cost_per_outcome']):,.4f} per outcome\n"
        )
    for w in report["warnings"]:
        out.write(f"warning: {w}\n")
    return out.getvalue()


def _short(text: str, width: int = 64) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def csv_text(report: dict[str, Any]) -> str:
    """One row per (breakdown, group): breakdown,key,value,billed_cost,effective_cost,rows,source..."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            "breakdown",
            "group",
            "billed_cost",
            "effective_cost",
            "rows",
            *(f"{s}_billed_cost" for s in SOURCES),
        ]
    )

    def emit(name: str, group: str, r: dict[str, Any]) -> None:
        w.writerow(
            [
                name,
                group,
                r["billed_cost"],
                r["effective_cost"],
                r["rows"],
                *(r.get("by_source", {}).get(s, "0") for s in SOURCES),
            ]
        )

    for s in report["sources"]:
        w.writerow(
            [
                "source",
                s["source"],
                s["billed_cost"],
                s["effective_cost"],
                s["rows"],
                *(s["billed_cost"] if x == s["source"] else "0" for x in SOURCES),
            ]
        )
    for r in report["by_tags"]:
        emit("tags", ";".join(f"{k}={'' if v is None else v}" for k, v in r["tags"].items()), r)
    for r in report["by_provider"]:
        emit("provider", str(r["provider"]), r)
    for r in report["by_account"]:
        emit("account", f"{r['provider']}/{r['account']}", r)
    for r in report["by_service"]:
        emit("service", f"{r['provider']}/{r['service']}", r)
    for r in report["daily"]:
        emit("day", str(r["day"]), r)
    for r in report["top_unallocated"]:
        emit(
            "unallocated_resource",
            str(r["resource_id"]),
            {**r, "by_source": {"unallocated": r["billed_cost"]}},
        )
    return out.getvalue()
