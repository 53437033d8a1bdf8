"""Showback over 1,000,000 synthetic FOCUS rows and 100,000 ledger records: wall time and peak memory.

The data is generated first (not timed): hourly rows over 30 days for 200,000 resources (AWS ARNs,
EC2 instance ids and lower-cased Azure ids), a fifth with an Agent-ID in the bill's Tags, 5% shared
Bedrock rows split by 20,000 usage records; the ledger knows 100,000 of the resources (ARM-cased
Azure ids, EC2 instance ARNs). Each measured run is a fresh interpreter doing what
`tagwarden showback --format json` does; it reports its own time and peak RSS (VmHWM).

    python bench/showback_bench.py [--rows 1000000] [--ledger 100000]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "functions"))

CONFIG = """shared:
  - name: bedrock
    match: {ServiceName: Amazon Bedrock}
    resource: bedrock-profile
    policy: quantity
    params: {quantity: input_tokens}
"""


def generate(folder: Path, rows: int, ledger: int) -> dict[str, Path]:
    import duckdb

    from tagwarden.ledger.export import write_jsonl
    from tagwarden.ledger.model import ResourceRecord, UsageKind, UsageRecord
    from tagwarden.ledger.sqlite import SqliteLedger

    resources = ledger * 2
    con = duckdb.connect()
    con.execute(f"""
CREATE TABLE focus AS
WITH r AS (SELECT range AS i, hash(range) AS h FROM range({rows}))
SELECT
  CAST((h % 100000) / 1e6 AS DECIMAL(38, 10)) AS BilledCost,
  CAST((h % 100000) / 1.2e6 AS DECIMAL(38, 10)) AS EffectiveCost,
  TIMESTAMP '2024-09-01' + to_hours(CAST(i % 720 AS INTEGER)) AS ChargePeriodStart,
  TIMESTAMP '2024-09-01' + to_hours(CAST(i % 720 AS INTEGER) + 1) AS ChargePeriodEnd,
  CASE WHEN i % 20 = 0 THEN 'Amazon Bedrock' WHEN i % 10 < 7 THEN 'Amazon Elastic Compute Cloud'
       ELSE 'Microsoft.Storage' END AS ServiceName,
  CASE WHEN i % 10 < 7 THEN 'AWS' ELSE 'Microsoft' END AS ProviderName,
  'acct-' || CAST(i % 40 AS VARCHAR) AS SubAccountId,
  'Account ' || CAST(i % 40 AS VARCHAR) AS SubAccountName,
  'USD' AS BillingCurrency,
  'SKU' || CAST(h % 50 AS VARCHAR) AS SkuId,
  'usage' AS ChargeDescription,
  CASE WHEN i % 20 = 0 THEN 'arn:aws:bedrock:us-east-1:1:application-inference-profile/p'
       WHEN i % 10 < 4 THEN 'arn:aws:lambda:us-east-1:1:function:fn-'
            || CAST((i * 7) % {resources} AS VARCHAR)
       WHEN i % 10 < 7 THEN 'i-' || CAST((i * 7) % {resources} AS VARCHAR)
       ELSE '/subscriptions/s1/resourcegroups/rg/providers/microsoft.storage/storageaccounts/sa'
            || CAST((i * 7) % {resources} AS VARCHAR) END AS ResourceId,
  CASE WHEN i % 5 = 1 THEN '{{"Agent-ID": "bill-agent-' || CAST(h % 50 AS VARCHAR) || '", "team": "x"}}'
       WHEN i % 5 = 2 THEN '{{"team": "y"}}' END AS Tags
FROM r""")
    out = {"parquet": folder / "focus.parquet", "csv": folder / "focus.csv.gz"}
    con.execute(f"COPY focus TO '{out['parquet']}' (FORMAT parquet)")
    con.execute(f"COPY focus TO '{out['csv']}' (FORMAT csv, HEADER, COMPRESSION gzip)")
    con.close()

    records = []
    for n in range(ledger):
        k = n * 2  # half of the resources: every second id
        kind = n % 3
        rid = (
            f"arn:aws:lambda:us-east-1:1:function:fn-{k}"
            if kind == 0
            else f"arn:aws:ec2:us-east-1:1:instance/i-{k}"
            if kind == 1
            else f"/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa{k}"
        )
        records.append(
            ResourceRecord(
                provider="azure" if kind == 2 else "aws",
                resource_id=rid,
                account="1",
                region="us-east-1",
                type="t",
                name=None,
                event_id=f"e{n}",
                event_name="Create",
                event_time="2024-09-01T00:00:00Z",
                actor={"kind": "assumed-role", "arn": f"arn:aws:sts::1:assumed-role/agent/{n % 100}"},
                tags={"Agent-ID": f"agent-{n % 200}", "Outcome-ID": f"outcome-{n % 5000}"} if n % 10 else {},
                sources={},
                recorded_at=1725148800.0,
            )
        )
    usage = [
        UsageRecord(
            usage_id=f"u{n}",
            kind=UsageKind.LLM,
            time=1725148800.0 + (n * 130) % (720 * 3600),
            platform="bedrock",
            resource="bedrock-profile",
            attribution={"Agent-ID": f"agent-{n % 200}", "Outcome-ID": f"outcome-{n % 5000}"},
            quantities={"input_tokens": float(100 + n % 900)},
            source="sdk-hook",
        )
        for n in range(20000)
    ]
    out["jsonl"] = folder / "ledger.jsonl"
    with out["jsonl"].open("w", encoding="utf-8") as fh:
        write_jsonl([*records, *usage], fh)
    # The SQLite ledger, filled in one transaction (its schema made by SqliteLedger itself).
    out["sqlite"] = folder / "ledger.db"
    SqliteLedger(out["sqlite"]).close()
    db = sqlite3.connect(out["sqlite"])
    db.executemany(
        "INSERT INTO resources VALUES (?, ?, ?, ?, ?)",
        [(r.provider, r.resource_id, r.state.value, r.version, json.dumps(r.to_json())) for r in records],
    )
    db.executemany(
        "INSERT INTO usage VALUES (?, ?, ?)", [(u.usage_id, u.time, json.dumps(u.to_json())) for u in usage]
    )
    db.commit()
    db.close()
    (folder / "showback.yaml").write_text(CONFIG, encoding="utf-8")
    out["config"] = folder / "showback.yaml"
    return out


CHILD = """
import json, sys, time
start = time.perf_counter()
sys.path.insert(0, {functions!r})
from tagwarden.showback.config import load_config
from tagwarden.showback.local import duckdb_report
from tagwarden.showback.query import Plan
plan = Plan(by=("Agent-ID", "Outcome-ID"), shared=load_config({config!r}).shared)
report = duckdb_report([{costs!r}], [{ledger!r}], plan)
text = json.dumps(report)
seconds = time.perf_counter() - start
import resource
usage = resource.getrusage(resource.RUSAGE_SELF)
# VmHWM, not ru_maxrss: after fork + exec, ru_maxrss still counts the parent's memory at the fork
status = open("/proc/self/status").read()
peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps({{"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime, "peak_rss_mib": peak,
                  "rows": report["totals"]["rows"],
                  "reconciled": report["totals"]["reconciled"],
                  "sources": {{s["source"]: s["rows"] for s in report["sources"]}},
                  "json_bytes": len(text)}}))
"""


def measure(costs: Path, ledger: Path, config: Path) -> dict[str, object]:
    code = CHILD.format(
        functions=str(ROOT / "functions"), config=str(config), costs=str(costs), ledger=str(ledger)
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds_with_interpreter"] = time.perf_counter() - start
    return result


NAMES = {
    "parquet": "focus.parquet",
    "csv": "focus.csv.gz",
    "jsonl": "ledger.jsonl",
    "sqlite": "ledger.db",
    "config": "showback.yaml",
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--ledger", type=int, default=100_000)
    parser.add_argument(
        "--data", type=Path, help="generate into, or reuse, this folder (default: a temporary one)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="showback-bench-") as tmp:
        folder = args.data or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if all((folder / n).exists() for n in NAMES.values()):
            files = {k: folder / n for k, n in NAMES.items()}
        else:
            files = generate(folder, args.rows, args.ledger)
        print(
            f"data ready in {time.perf_counter() - t0:.1f} s: "
            + ", ".join(f"{k} {os.path.getsize(v) / 2**20:.1f} MiB" for k, v in files.items()),
            file=sys.stderr,
        )
        load = os.getloadavg()[0]
        results = {
            "parquet+jsonl": measure(files["parquet"], files["jsonl"], files["config"]),
            "csv.gz+sqlite": measure(files["csv"], files["sqlite"], files["config"]),
        }
    summary = {
        "rows": args.rows,
        "ledger_records": args.ledger,
        "cpus": os.cpu_count(),
        "load_average_1m_before": load,
        "results": results,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "showback.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
