"""What the demo calls at its end: a showback report for the resources it created.

The demo has no cloud bill, so it writes a small FOCUS file for its resources (`focus_row` makes
the rows) and runs the same local showback as the CLI on it and its ledger.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagwarden.showback.local import duckdb_report
from tagwarden.showback.query import Plan

if TYPE_CHECKING:
    from tagwarden.ledger.ports import Ledger

FOCUS_HEADER = (
    "BilledCost", "EffectiveCost", "BillingCurrency", "ChargePeriodStart", "ChargePeriodEnd", "ProviderName",
    "SubAccountId", "SubAccountName", "ServiceName", "ResourceId", "SkuId", "ChargeDescription", "Tags",
)  # fmt: skip


def focus_row(
    resource_id: str,
    billed: str,
    start: datetime,
    service: str,
    account: str = "123456789012",
    provider: str = "AWS",
    hours: int = 1,
    tags: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """One FOCUS 1.0 row (the columns showback reads); `billed` a decimal string, e.g. "0.0416"."""
    return {
        "BilledCost": billed,
        "EffectiveCost": billed,
        "BillingCurrency": "USD",
        "ChargePeriodStart": start.strftime("%Y-%m-%d %H:%M:%S"),
        "ChargePeriodEnd": (start + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:%S"),
        "ProviderName": provider,
        "SubAccountId": account,
        "SubAccountName": f"demo {account}",
        "ServiceName": service,
        "ResourceId": resource_id,
        "SkuId": "demo",
        "ChargeDescription": f"{service} usage",
        "Tags": json.dumps(dict(tags)) if tags else "",
    }


def write_focus(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=FOCUS_HEADER, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def report_for_demo(
    ledger_path: str | Path | Ledger,
    focus_rows: Sequence[Mapping[str, Any]],
    out_dir: str | Path | None = None,
    by: Sequence[str] = ("Agent-ID", "Outcome-ID"),
) -> dict[str, Any]:
    """The showback report (the JSON contract) for `focus_rows` and the ledger; with `out_dir`, also
    `focus.csv`, `showback.html` and the PNG charts there (their paths under the report's `files`)."""
    folder = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="tagwarden-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    costs = write_focus(focus_rows, folder / "focus.csv")
    report = duckdb_report([str(costs)], [ledger_path], Plan(by=tuple(by)))
    if out_dir is not None:
        from tagwarden.showback.charts import write_html, write_pngs

        html = write_html(report, folder / "showback.html")
        pngs = write_pngs(report, folder / "charts")
        report["files"] = {"focus": str(costs), "html": str(html), "png": [str(p) for p in pngs]}
    return report
