from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from tagwarden import showback
from tagwarden.ledger.model import LifecycleState
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.showback.demo import focus_row

from focus_scenario import record


def test_the_demo_gets_a_reconciled_report_with_its_charts(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "ledger.db")
    fn = "arn:aws:lambda:us-east-1:123456789012:function:agent-42-scratch"
    ledger.create(record(fn, {"Agent-ID": "agent-42", "Outcome-ID": "ticket-7"}, state=LifecycleState.GONE))
    ledger.close()
    start = datetime(2026, 12, 1, 10)
    rows = [
        focus_row(fn, "0.0416", start, "AWS Lambda"),
        focus_row("i-0abc", "0.0100", start, "Amazon Elastic Compute Cloud", tags={"Agent-ID": "agent-7"}),
        focus_row("arn:aws:s3:::unknown-bucket", "0.0023", start, "Amazon Simple Storage Service"),
    ]
    report = showback.report_for_demo(tmp_path / "ledger.db", rows, out_dir=tmp_path / "out")
    sources = {s["source"]: Decimal(s["billed_cost"]) for s in report["sources"]}
    assert sources == {
        "bill-tags": Decimal("0.01"),
        "ledger": Decimal("0.0416"),
        "usage-split": 0,
        "unallocated": Decimal("0.0023"),
    }
    assert report["totals"]["reconciled"]
    assert report["unit_economics"]["per_outcome"][0]["outcome"] == "ticket-7"
    assert Path(report["files"]["html"]).stat().st_size > 10_000
    assert len(report["files"]["png"]) == 4
