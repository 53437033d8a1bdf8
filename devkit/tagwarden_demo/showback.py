"""The demo's last scene: who spent the money. The ledger the AWS and Azure scenes wrote, joined
with a small FOCUS bill for the same resources (the demo has no real bill, so it writes one: an
hour of each resource at list-like prices), including the one that vanished before it was tagged
and one row whose bill tags already name its owner. Writes the HTML report and PNG charts."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from tagwarden_demo import ledger_path

OUT = Path(".tagwarden/showback")
# What an hour of each type costs in the demo's bill (USD): rough list prices, for the picture.
HOURLY = {
    "AWS::EC2::Instance": "0.0416",
    "AWS::EC2::Volume": "0.0110",
    "AWS::S3::Bucket": "0.0023",
    "AWS::OpenSearchServerless::Collection": "0.2400",
    "AWS::Lambda::Function": "0.0031",
    "AWS::DynamoDB::Table": "0.0125",
    "AWS::SQS::Queue": "0.0004",
    "AWS::SNS::Topic": "0.0002",
}
DEFAULT_HOURLY = "0.0100"
# created outside tagwarden's sight: no ledger record, no bill tags
UNKNOWN = "arn:aws:ec2:us-east-1:123456789012:instance/i-0nobodyknows0000"


def run(out: TextIO = sys.stdout) -> int:
    from tagwarden.ledger.sqlite import SqliteLedger
    from tagwarden.showback import report_for_demo
    from tagwarden.showback.demo import focus_row

    ledger = SqliteLedger(ledger_path())
    records = [r for r in ledger.scan() if r.provider == "aws" and r.type != "AWS::EC2::NetworkInterface"]
    ledger.close()
    start = datetime(2026, 12, 1, 10, tzinfo=UTC)
    rows = [
        focus_row(r.resource_id, HOURLY.get(r.type, DEFAULT_HOURLY), start, r.type.split("::")[1], hours=1)
        for r in records
    ]
    rows.append(focus_row(UNKNOWN, "0.0832", start, "EC2", hours=2))
    report = report_for_demo(ledger_path(), rows, OUT, by=("Agent-ID",))
    totals = report["totals"]
    out.write("Showback (the ledger joined with a FOCUS bill for the demo's resources)\n\n")
    for group in report["by_tags"]:
        tags = ", ".join(f"{k}={v}" for k, v in group["tags"].items() if v) or "(unallocated)"
        out.write(f"  {group['billed_cost']:>10} USD  {tags}\n")
    allocated, unallocated = totals["allocated"]["billed_cost"], totals["unallocated"]["billed_cost"]
    out.write(
        f"\nallocated {allocated} + unallocated {unallocated} = {totals['billed_cost']} USD"
        f" (reconciled: {totals['reconciled']})\n"
        f"report: {report['files']['html']} ; charts: {Path(report['files']['png'][0]).parent}\n"
    )
    return 0 if totals["reconciled"] else 1
