"""`tagwarden replay` over a 1,000,000-record CloudTrail log: records/s and peak memory.

The log is synthetic but shaped like CloudTrail's: gzipped `{"Records": [...]}` files of 10,000
records each (CloudTrail writes many small files), one in ten a create (RunInstances, CreateBucket,
CreateFunction by agents and people), the rest reads and failed calls, as in real trails. The
replay runs as a subprocess (the real console entry point), so its peak RSS is measured alone.

    python bench/replay_bench.py [--records N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "devkit")]
sys.path.insert(0, str(ROOT / "tests"))

import builders as b  # noqa: E402 - the tests' one home of event builders

PER_FILE = 10_000


def templates() -> list[dict[str, Any]]:
    agent = b.assumed_role("agent-fleet-support", "agent-42")
    adhoc = b.assumed_role("agent-fleet-adhoc", "agent-77")
    read = b.cloudtrail("DescribeInstances", "ec2.amazonaws.com", {}, None, agent)
    read["readOnly"] = True
    creates = [
        b.run_instances(identity=agent, tags={"CostCenter": "101", "Outcome-ID": "OUT-7001"}),
        b.create_bucket("scratch", identity=adhoc),
        b.create_function("fmt", identity=b.iam_user("alice")),
    ]
    failed = b.run_instances(identity=agent, error_code="AccessDenied")
    # one in ten a create, like a busy trail; the rest reads (most of any trail) and failures
    return [creates[i % 3] if i % 10 == 0 else failed if i % 10 == 5 else read for i in range(30)]


def write_log(folder: Path, records: int) -> None:
    pool = templates()
    for start in range(0, records, PER_FILE):
        batch = [dict(pool[(start + i) % len(pool)], eventID=f"e-{start + i}") for i in range(PER_FILE)]
        day = 1 + (start // PER_FILE) % 28
        path = folder / f"AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/{day:02d}/log-{start:08d}.json.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(json.dumps({"Records": batch}).encode(), compresslevel=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        t0 = time.perf_counter()
        write_log(folder, args.records)
        print(f"wrote {args.records:,} records in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        cmd = [
            sys.executable,
            "-m",
            "tagwarden.cli.main",
            "replay",
            str(folder),
            "--format",
            "json",
            "--rules",
            str(ROOT / "functions/tagwarden/examples/rules.yaml"),
        ]
        env = {"PYTHONPATH": str(ROOT / "functions"), "PATH": "/usr/bin:/bin"}
        start = time.perf_counter()
        done = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - start
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    totals = json.loads(done.stdout)
    result = {
        "records": totals["events"],
        "creates": totals["creates"],
        "seconds": round(seconds, 1),
        "records_per_s": round(totals["events"] / seconds),
        "peak_rss_mib": round(peak_mib),
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results" / "replay.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
