"""The report drawn: PNG charts and one self-contained HTML page (inline SVG, no script, no network).

matplotlib's object API (Figure, no pyplot): no global state, no display needed.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagwarden.showback.query import SOURCES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLORS = {"bill-tags": "#2563eb", "ledger": "#059669", "usage-split": "#9333ea", "unallocated": "#9ca3af"}
LABELS = {
    "bill-tags": "bill tags",
    "ledger": "ledger (tagwarden)",
    "usage-split": "usage split",
    "unallocated": "unallocated",
}
INK, MUTED = "#111827", "#6b7280"


def _f(amount: str | None) -> float:
    return float(Decimal(amount or "0"))


def _money(value: float, small: str = ",.4f") -> str:
    sign, v = ("-" if value < 0 else ""), abs(value)
    if v == 0:
        return "$0"
    if v >= 100:
        return f"{sign}${v:,.0f}"
    return f"{sign}${v:,.2f}" if v >= 0.01 else f"{sign}${v:{small}}"


def _short(text: str, width: int = 42) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    fig.patch.set_facecolor("white")
    return fig


def _style(ax: Any, title: str) -> None:
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold", color=INK, pad=10)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#d1d5db")
    ax.tick_params(colors=MUTED, labelsize=9, length=0)
    ax.grid(axis="x", color="#f3f4f6", linewidth=1)
    ax.set_axisbelow(True)


def _label(ax: Any, x: float, y: float, text: str, color: str) -> None:
    """A value at the end of a bar, a few points to its right (SVG text drops leading spaces)."""
    ax.annotate(
        text,
        (max(x, 0), y),
        xytext=(4, 0),
        textcoords="offset points",
        va="center",
        fontsize=8.5,
        color=color,
    )


def _legend(fig: Figure, ax: Any, **extra: Any) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if extra:
        from matplotlib.patches import Patch

        for label, color in extra.items():
            handles.append(Patch(color=color))
            labels.append(label)
    fig.legend(handles, labels, loc="outside upper right", ncols=4, frameon=False, fontsize=8.5)


def _empty(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", color=MUTED, fontsize=10, transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def spend_by_tags(report: dict[str, Any], limit: int = 12) -> Figure:
    """Horizontal bars per --by group, stacked by where the attribution came from."""
    rows = [r for r in report["by_tags"] if any(v is not None for v in r["tags"].values())][:limit]
    unalloc = _f(report["totals"]["unallocated"]["billed_cost"])
    fig = _figure(8.5, 0.42 * (len(rows) + 1) + 1.4)
    ax = fig.add_subplot()
    _style(ax, f"Spend by {', '.join(report['by'])}")
    if not rows:
        _empty(ax, "nothing attributed yet")
        return fig
    labels = [" / ".join(str(v) if v is not None else "—" for v in r["tags"].values()) for r in rows]
    labels.append("unallocated")
    y = list(range(len(labels)))[::-1]
    left = [0.0] * len(labels)
    for source in SOURCES:
        vals = [_f(r["by_source"].get(source)) for r in rows] + [unalloc if source == "unallocated" else 0.0]
        if not any(vals):
            continue
        ax.barh(y, vals, left=left, color=COLORS[source], label=LABELS[source], height=0.62)
        left = [a + b for a, b in zip(left, vals, strict=True)]
    for yi, total in zip(y, left, strict=True):
        _label(ax, total, yi, _money(total), INK)
    ax.set_yticks(y, [_short(label, 36) for label in labels], fontsize=9, color=INK)
    ax.set_xlim(0, max(left) * 1.18 if max(left) > 0 else 1)
    ax.xaxis.set_major_formatter(_formatter())
    _legend(fig, ax)
    return fig


def over_time(report: dict[str, Any]) -> Figure:
    """Daily spend, stacked: allocated by source at the bottom, unallocated on top."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num

    days = report["daily"]
    fig = _figure(8.5, 3.4)
    ax = fig.add_subplot()
    _style(ax, "Allocated vs unallocated, by day")
    ax.grid(axis="y", color="#f3f4f6", linewidth=1)
    ax.grid(axis="x", visible=False)
    if not days:
        _empty(ax, "no cost rows in the period")
        return fig
    from datetime import date

    x = [float(date2num(date.fromisoformat(str(d["day"])))) for d in days]  # type: ignore[no-untyped-call]
    up = [0.0] * len(days)
    down = [0.0] * len(days)
    for source in SOURCES:
        vals = [_f(d["by_source"].get(source)) for d in days]
        if not any(vals):
            continue
        bottoms = [u if v >= 0 else w for v, u, w in zip(vals, up, down, strict=True)]
        ax.bar(x, vals, bottom=bottoms, width=0.8, color=COLORS[source], label=LABELS[source])
        up = [u + max(v, 0) for u, v in zip(up, vals, strict=True)]
        down = [w + min(v, 0) for w, v in zip(down, vals, strict=True)]
    if any(down):
        ax.axhline(0, color="#9ca3af", linewidth=0.8)
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    ax.yaxis.set_major_formatter(_formatter())
    _legend(fig, ax)
    return fig


def top_unallocated(report: dict[str, Any], limit: int = 10) -> Figure:
    rows = report["top_unallocated"][:limit]
    fig = _figure(8.5, 0.42 * max(len(rows), 1) + 1.2)
    ax = fig.add_subplot()
    _style(ax, "Top unallocated resources")
    if not rows:
        _empty(ax, "nothing unallocated")
        return fig
    y = list(range(len(rows)))[::-1]
    vals = [_f(r["billed_cost"]) for r in rows]
    colors = ["#f59e0b" if r["in_ledger"] else COLORS["unallocated"] for r in rows]
    ax.barh(y, vals, color=colors, height=0.62)
    for yi, r, v in zip(y, rows, vals, strict=True):
        who = r["creator"] or ("in ledger" if r["in_ledger"] else "creator unknown")
        _label(ax, v, yi, f"{_money(v)} · {_short(who, 40)}", MUTED)
    ax.set_yticks(y, [_short(r["resource_id"] or f"(no id) {r['service']}", 34) for r in rows], fontsize=8.5)
    ax.set_xlim(0, max(vals) * 1.9 if max(vals) > 0 else 1)
    ax.xaxis.set_major_formatter(_formatter())
    _legend(
        fig, ax, **{"in the ledger (creator known)": "#f59e0b", "unknown to tagwarden": COLORS["unallocated"]}
    )
    return fig


def cost_per_outcome(report: dict[str, Any], limit: int = 12) -> Figure:
    ue = report.get("unit_economics") or {}
    rows = (ue.get("per_outcome") or [])[:limit]
    fig = _figure(8.5, 0.42 * max(len(rows), 1) + 1.2)
    ax = fig.add_subplot()
    _style(ax, f"Cost per {ue.get('outcome_key') or 'outcome'}")
    if not rows:
        _empty(ax, "no outcomes attributed")
        return fig
    y = list(range(len(rows)))[::-1]
    vals = [_f(r["billed_cost"]) for r in rows]
    ax.barh(y, vals, color="#0ea5e9", height=0.62)
    for yi, v in zip(y, vals, strict=True):
        _label(ax, v, yi, _money(v), INK)
    avg = _f(ue.get("cost_per_outcome"))
    ax.axvline(avg, color="#f97316", linestyle="--", linewidth=1.2, label=f"mean {_money(avg)} per outcome")
    ax.set_yticks(y, [_short(str(r["outcome"]), 30) for r in rows], fontsize=9)
    ax.set_xlim(0, max(vals) * 1.2 if max(vals) > 0 else 1)
    ax.xaxis.set_major_formatter(_formatter())
    _legend(fig, ax)
    return fig


def _formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: _money(v, small=",.2f"))


CHARTS: dict[str, Callable[[dict[str, Any]], Figure]] = {
    "spend-by-tags": spend_by_tags,
    "over-time": over_time,
    "top-unallocated": top_unallocated,
    "cost-per-outcome": cost_per_outcome,
}


def write_pngs(report: dict[str, Any], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, draw in CHARTS.items():
        path = folder / f"{name}.png"
        draw(report).savefig(path, format="png")
        out.append(path)
    return out


def _svg(fig: Figure) -> str:
    from matplotlib import rc_context

    buf = io.StringIO()
    with rc_context({"svg.fonttype": "none"}):  # text stays text: smaller, selectable, the browser's font
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: inline in HTML


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
  margin:0;background:#f9fafb;color:#111827}
main{max-width:980px;margin:0 auto;padding:28px 24px 48px}
h1{font-size:22px;margin:0 0 4px} .sub{color:#6b7280;font-size:13px;margin-bottom:20px}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin-bottom:18px}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:14px 16px}
.k{font-size:12px;color:#6b7280;text-transform:uppercase;letter-spacing:.04em}
.v{font-size:26px;font-weight:700;margin:4px 0} .s{font-size:12px;color:#6b7280}
.chart{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:8px;margin-bottom:14px}
.chart svg{width:100%;height:auto;display:block}
table{width:100%;border-collapse:collapse;background:#fff;font-size:13px;border:1px solid #e5e7eb}
th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #f3f4f6} th{color:#6b7280;font-weight:600}
td.n{text-align:right;font-variant-numeric:tabular-nums}
td.id{font-family:ui-monospace,monospace;font-size:12px}
h2{font-size:15px;margin:22px 0 8px}
"""


def html_report(report: dict[str, Any]) -> str:
    """One HTML page with headline figures, the four charts as inline SVG and the top unallocated table."""
    t = report["totals"]
    share = report["unallocated_share"]
    ue = report.get("unit_economics") or {}
    total = _f(t["billed_cost"])
    allocated = _f(t["allocated"]["billed_cost"])
    cards = [
        ("Billed cost", _money(total), f"{t['rows']:,} cost rows · {report['currency'] or ''}"),
        ("Allocated", _money(allocated), f"{(allocated / total if total else 0):.1%} of the bill"),
        (
            "Unallocated",
            f"{share['after_ledger']:.1%}",
            f"was {share['before_ledger']:.1%} with the bill's tags alone",
        ),
        (
            "Cost per outcome",
            _money(_f(ue.get("cost_per_outcome"))) if ue.get("outcomes") else "—",
            f"{ue.get('outcomes', 0)} {ue.get('outcome_key') or 'outcomes'}",
        ),
    ]
    e = html.escape
    card_html = "".join(
        f'<div class="card"><div class="k">{e(k)}</div><div class="v">{e(v)}</div>'
        f'<div class="s">{e(s)}</div></div>'
        for k, v, s in cards
    )
    rows = "".join(
        f"<tr><td class='id' title='{e(r['resource_id'] or '')}'>"
        f"{e(_short(r['resource_id'] or '(no id)', 70))}</td>"
        f"<td>{e(r['service'] or '')}</td><td class='n'>{e(_money(_f(r['billed_cost'])))}</td>"
        f"<td>{e(r['creator'] or ('in the ledger' if r['in_ledger'] else 'unknown to tagwarden'))}</td></tr>"
        for r in report["top_unallocated"][:20]
    )
    period = report["period"]
    charts = "".join(f'<section class="chart">{_svg(draw(report))}</section>' for draw in CHARTS.values())
    reconciled = "reconciled to the cent" if t["reconciled"] else "NOT RECONCILED"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tagwarden showback</title>
<style>
{_CSS}</style></head><body><main>
<h1>Who spent the money</h1>
<div class="sub">{e(str(period["first_charge"] or "")[:10])} → {e(str(period["last_charge"] or "")[:10])} ·
by {e(", ".join(report["by"]))} · {e(reconciled)} · engine {e(report["engine"])}</div>
<div class="cards">{card_html}</div>
{charts}
<h2>Top unallocated resources</h2>
<table><thead><tr><th>resource</th><th>service</th><th>billed</th><th>creator</th></tr></thead>
<tbody>{rows}</tbody></table>
</main></body></html>
"""


def write_html(report: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html_report(report), encoding="utf-8")
    return path
