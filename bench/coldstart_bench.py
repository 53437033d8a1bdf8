"""Cold start of both functions against their bare floors, as CPU time, in one run.

    make bench-coldstart    (or: .venv/bin/python bench/coldstart_bench.py [--repeats 12]
                             [--python /path/to/python3.13 ...] [--base /path/to/other/functions])

Every figure is a fresh interpreter running one script: the floor (`import boto3` + one client;
import azure-mgmt-resource + its client) and the function's cold start (import the handler, build
the enforcer as its first event does, create the client that event uses). Scripts are interleaved
round by round, so all of them see the same machine noise. The figure compared is the child's CPU
time (user + sys from os.wait4): on a shared machine wall time measures the neighbours as much as
the code. Wall time is reported beside it. Medians (and minimums: noise only ever adds, so the
least disturbed run is the other honest figure); the goal is handler / floor <= 1.10. Each script
ends with os._exit: the function's process lives on after its cold start, so interpreter teardown
(which grows with everything imported) is counted for neither side.

`--python` repeats the whole run under each interpreter (both clouds deploy 3.13); it needs the
SDKs installed there (boto3, aws-lambda-powertools, PyYAML, google-re2, azure-mgmt-resource,
azure-identity, azure-data-tables, azure-storage-queue). `--base` adds the handlers of another
tree (e.g. a checkout of the previous commit) to the same rounds. The AWS handler runs with
Powertools tracing disabled (the floor comparison); `aws_handler_traced` is the same with tracing
on, so the tracer's own cost is its difference (equal while no Tracer is wired in).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "functions" / "tagwarden" / "examples" / "rules.yaml"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

AWS_FLOOR = """
import boto3
boto3.client("ec2", region_name="us-east-1")
"""
AWS_FLOOR_LEDGER = AWS_FLOOR + """boto3.client("dynamodb", region_name="us-east-1")
"""
AWS_HANDLER = """
from tagwarden.aws import handler
e = handler.enforcer()
e.clients.get("ec2", "us-east-1")
"""
AZURE_FLOOR = f"""
from azure.core.credentials import AccessToken
from azure.mgmt.resource.resources import ResourceManagementClient
class T:
    def get_token(self, *a, **k): return AccessToken("x", 2**31)
ResourceManagementClient(T(), {SUBSCRIPTION!r})
"""
AZURE_FLOOR_LEDGER = AZURE_FLOOR + """from azure.data.tables import TableClient
from azure.identity import DefaultAzureCredential
TableClient(
    endpoint="https://devstore.table.core.windows.net", table_name="t", credential=DefaultAzureCredential()
)
"""
AZURE_HANDLER = f"""
from tagwarden.azure import handler
e = handler.enforcer()
e.arm.client({SUBSCRIPTION!r})
"""

# What the deployed functions have in their environment (nothing is called: fake credentials, a
# closed port), with the packaged example rules. The ledgers: the deployed ones (DynamoDB; Azure
# Table Storage with the app's managed identity, which imports azure-identity and azure-data-tables),
# each compared with a floor that makes the same SDK clients; and, for the Azure figure the issue
# names (azure-mgmt-resource + its client alone), a local SQLite ledger (stdlib sqlite3).
BASE_ENV = {
    "PATH": "/usr/bin",
    "TAGWARDEN_RULES_PATH": str(RULES),
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
    "TAGWARDEN_LEDGER_TABLE": "tagwarden-ledger",
    "TAGWARDEN_ARM_ENDPOINT": "http://127.0.0.1:9",
    "TAGWARDEN_LEDGER_TABLE_ENDPOINT": "https://devstore.table.core.windows.net",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
SQLITE_ENV = {
    **{k: v for k, v in BASE_ENV.items() if not k.startswith("TAGWARDEN_LEDGER_TABLE")},
    "TAGWARDEN_LEDGER": "/tmp/tagwarden-coldstart-bench.sqlite",
}
# (floor, handler) pairs whose CPU-time ratio is the result
RATIOS = {
    "aws": ("aws_floor", "aws_handler"),
    "aws_with_ledger_client": ("aws_floor_ledger", "aws_handler"),
    "azure": ("azure_floor", "azure_handler_sqlite"),
    "azure_deployed_ledger": ("azure_floor_ledger", "azure_handler"),
}


def scenarios(functions: Path, base: Path | None) -> dict[str, tuple[str, dict[str, str]]]:
    env = {**BASE_ENV, "PYTHONPATH": str(functions)}
    sqlite = {**SQLITE_ENV, "PYTHONPATH": str(functions)}
    traced = {k: v for k, v in env.items() if k != "POWERTOOLS_TRACE_DISABLED"}
    out = {
        "aws_floor": (AWS_FLOOR, env),
        "aws_floor_ledger": (AWS_FLOOR_LEDGER, env),
        "aws_handler": (AWS_HANDLER, env),
        "aws_handler_traced": (AWS_HANDLER, traced),
        "azure_floor": (AZURE_FLOOR, env),
        "azure_floor_ledger": (AZURE_FLOOR_LEDGER, env),
        "azure_handler_sqlite": (AZURE_HANDLER, sqlite),
        "azure_handler": (AZURE_HANDLER, env),
    }
    if base is not None:
        out["aws_handler_base"] = (AWS_HANDLER, {**env, "PYTHONPATH": str(base)})
        out["azure_handler_sqlite_base"] = (AZURE_HANDLER, {**sqlite, "PYTHONPATH": str(base)})
    return out


# Every script ends the process at once: a function's process goes on to serve events (interpreter
# teardown, which grows with what was imported, is never part of its cold start).
EXIT = "\nimport os\nos._exit(0)\n"


def run_once(python: str, code: str, env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one fresh interpreter running `code`, teardown left out."""
    start = time.perf_counter()
    proc = subprocess.Popen([python, "-c", code + EXIT], env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{python} failed ({proc.returncode}) on:\n{code}")
    return usage.ru_utime + usage.ru_stime, wall


def measure(python: str, repeats: int, functions: Path, base: Path | None) -> dict[str, Any]:
    runs = scenarios(functions, base)
    for code, env in runs.values():  # warm the bytecode caches and the page cache
        run_once(python, code, env)
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    wall: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for i in range(repeats):
        for name in names[i % len(names) :] + names[: i % len(names)]:  # rotate the order per round
            c, w = run_once(python, *runs[name])
            cpu[name].append(c * 1000)
            wall[name].append(w * 1000)
    med = {name: statistics.median(v) for name, v in cpu.items()}
    low = {name: min(v) for name, v in cpu.items()}  # the least disturbed run: noise only ever adds
    result: dict[str, Any] = {
        "python": subprocess.run(
            [python, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True,
            text=True,
            check=True,
        ).stdout.strip(),
        "repeats": repeats,
        "cpu_ms_median": {k: round(v, 1) for k, v in med.items()},
        "wall_ms_median": {k: round(statistics.median(v), 1) for k, v in wall.items()},
        "cpu_ms_min": {k: round(v, 1) for k, v in low.items()},
        "ratio_cpu": {name: round(med[h] / med[f], 3) for name, (f, h) in RATIOS.items()},
        "ratio_cpu_min": {name: round(low[h] / low[f], 3) for name, (f, h) in RATIOS.items()},
        "tracer_cpu_ms": round(med["aws_handler_traced"] - med["aws_handler"], 1),
    }
    if base is not None:
        for key, fig in (("ratio_cpu", med), ("ratio_cpu_min", low)):
            result[key]["aws_base"] = round(fig["aws_handler_base"] / fig["aws_floor"], 3)
            result[key]["azure_base"] = round(fig["azure_handler_sqlite_base"] / fig["azure_floor"], 3)
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=12)
    parser.add_argument("--python", action="append", help="interpreter(s) to run; default: this one")
    parser.add_argument("--base", type=Path, help="another tree's functions/ folder, measured beside")
    parser.add_argument("--goal", type=float, default=1.10)
    args = parser.parse_args()
    pythons = args.python or [sys.executable]
    results = [measure(p, args.repeats, ROOT / "functions", args.base) for p in pythons]
    print(json.dumps(results, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "coldstart.json").write_text(json.dumps(results, indent=2) + "\n")
    missed = [
        f"{r['python']} {cloud} {ratio}x"
        for r in results
        for cloud, ratio in r["ratio_cpu"].items()
        if not cloud.endswith("_base") and ratio > args.goal
    ]
    print(f"GOAL ({args.goal}x) NOT MET: {', '.join(missed)}" if missed else f"within {args.goal}x")
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
