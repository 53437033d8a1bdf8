"""What X-Ray tracing (Powertools Tracer, botocore patched) adds to the AWS handler's cold start.

The handler's cold start (import, build the enforcer, one client), in fresh interpreters, with
tracing off (POWERTOOLS_TRACE_DISABLED=true: X-Ray never imported) and on (in a Lambda-like
environment), interleaved in one run. CPU time of each child (user + sys), not wall time: on a
shared machine wall time measures the neighbours. Medians; the added cost is on - off.

    PYTHONPATH=functions .venv/bin/python bench/tracing_bench.py [--repeats 15] [--format json]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "functions" / "tagwarden" / "examples" / "rules.yaml"

COLD_HANDLER = """
from tagwarden.aws import handler
handler.enforcer().clients.get("ec2", "us-east-1")
"""
ENV = {
    "PATH": "/usr/bin",
    "PYTHONPATH": str(ROOT / "functions"),
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    "AWS_DEFAULT_REGION": "us-east-1",
    "TAGWARDEN_RULES_PATH": str(RULES),
    "TAGWARDEN_LEDGER_TABLE": "tagwarden-ledger",
    "LAMBDA_TASK_ROOT": str(ROOT / "functions"),
    "AWS_LAMBDA_FUNCTION_NAME": "tagwarden-enforcer",
    "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9",  # nothing is sent at cold start
}


def cpu_seconds(code: str, env: dict[str, str]) -> float:
    """User + system CPU time of one fresh interpreter running `code`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(repeats: int) -> dict[str, float]:
    off: list[float] = []
    on: list[float] = []
    for _ in range(repeats):  # interleaved: both see the same machine
        off.append(cpu_seconds(COLD_HANDLER, {**ENV, "POWERTOOLS_TRACE_DISABLED": "true"}))
        on.append(cpu_seconds(COLD_HANDLER, {**ENV, "POWERTOOLS_TRACE_DISABLED": "false"}))
    off_ms, on_ms = statistics.median(off) * 1000, statistics.median(on) * 1000
    return {
        "repeats": repeats,
        "tracing_off_cpu_ms": round(off_ms, 1),
        "tracing_on_cpu_ms": round(on_ms, 1),
        "added_cpu_ms": round(on_ms - off_ms, 1),
        "ratio": round(on_ms / off_ms, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args()
    result = measure(args.repeats)
    if args.format == "json":
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>20}: {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
