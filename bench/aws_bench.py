"""Benchmark of the AWS enforcer against moto's server (real HTTP on loopback).

    make bench-aws      (or: .venv/bin/python bench/aws_bench.py [--events N])

1. Per event: RunInstances events (1 instance + its ENI each) through the real enforcer, with its
   ledger in a DynamoDB table (as deployed). Every botocore API call is timed (wrapping
   BaseClient._make_api_call); "own" time is the handler's wall time minus its API time:
   normalize, decide, record, plan, logging, metrics. p50 / p99. DynamoDB writes per event are
   counted (the ledger's conditional creates: one per resource on the tag path).
2. Cold start, in fresh interpreters: import the handler module, build the enforcer (rules
   compiled, clients made) and create its first client, as a ratio to `import boto3` plus one
   client creation measured in the same run (noisy machines: compare ratios, not seconds). Wall
   time: the CPU-time figures on both Pythons are `make bench-coldstart`'s.
3. Tag calls per resource for one RunInstances of 100 instances (100 instances + 100 ENIs).
4. Runaway counting (`--runaway`): the same events through two enforcers in one run, alternating
   event by event so both see the same machine noise: the example rules, and the example rules with
   a `limits:` section (two limits per agent, never crossed: the steady hot path) counting in
   DynamoDB. p50 own time of each, their difference, and the DynamoDB calls per event.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "devkit")]  # helpers; test support (devkit/)
from common import cold_medians, percentile  # noqa: E402

RULES = ROOT / "functions" / "tagwarden" / "examples" / "rules.yaml"


def per_event(n: int) -> dict[str, Any]:
    import botocore.client

    from tagwarden.aws.clients import Clients
    from tagwarden.aws.enforcer import build
    from tagwarden.aws.ledger import create_table
    from tagwarden.aws.telemetry import Telemetry
    from tagwarden_testing import events as ev
    from tagwarden_testing.moto_world import agent_role, client, moto_server

    api = [0.0]
    calls: dict[str, int] = {}
    original = botocore.client.BaseClient._make_api_call

    def timed(self: Any, operation: str, params: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(self, operation, params)
        finally:
            api[0] += time.perf_counter() - start
            calls[operation] = calls.get(operation, 0) + 1

    with moto_server():
        agent_role("agent-fleet-support", {"Outcome-ID": "OUT-7001"})
        create_table(client("dynamodb"), "tagwarden-ledger")
        ec2 = client("ec2")
        records = [
            ev.eventbridge(ev.run_instances(identity=ev.assumed_role(), instances=_launch(ec2, 1)))
            for _ in range(n)
        ]
        big_pairs = _launch(ec2, 100)

        import logging
        import os

        from aws_lambda_powertools import Logger

        # Logs are formatted as in Lambda (JSON, every record) but written to /dev/null.
        sink = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the run
        enforcer = build(
            {
                "TAGWARDEN_RULES_PATH": str(RULES),
                "TAGWARDEN_NOT_FOUND_WINDOW": "1",
                "TAGWARDEN_LEDGER_TABLE": "tagwarden-ledger",
            },
            clients=Clients(),
            telemetry=Telemetry(logger=Logger(service="tagwarden-bench", logger_handler=sink)),
        )
        botocore.client.BaseClient._make_api_call = timed  # type: ignore[method-assign]
        try:
            enforcer.handle(records[0])  # warm: principal tags cached, clients created
            totals, owns, apis = [], [], []
            calls.clear()
            for record in records[1:]:
                api[0] = 0.0
                start = time.perf_counter()
                enforcer.handle(record)
                total = time.perf_counter() - start
                totals.append(total * 1000)
                apis.append(api[0] * 1000)
                owns.append((total - api[0]) * 1000)
            ddb = {
                op: calls.get(op, 0)
                for op in ("PutItem", "TransactWriteItems", "GetItem", "DeleteItem", "UpdateItem")
            }
            calls.clear()
            report = enforcer.handle(
                ev.eventbridge(ev.run_instances(identity=ev.assumed_role(), instances=big_pairs))
            )
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
    resources = len(report["events"][0]["resources"])
    tag_calls = calls.get("CreateTags", 0)
    return {
        "events": len(totals),
        "handler_ms_p50": percentile(totals, 50),
        "handler_ms_p99": percentile(totals, 99),
        "own_ms_p50": percentile(owns, 50),
        "own_ms_p99": percentile(owns, 99),
        "api_ms_p50": percentile(apis, 50),
        "api_ms_p99": percentile(apis, 99),
        "dynamodb_calls_per_event": {op: n / len(totals) for op, n in ddb.items() if n},
        "resources_per_event": 2,  # the instance and its ENI: one ledger record each
        "run_instances_100": {
            "resources": resources,
            "CreateTags_calls": tag_calls,
            "tag_calls_per_resource": tag_calls / resources,
            "all_calls": dict(calls),
        },
    }


def _launch(ec2: Any, count: int) -> list[tuple[str, list[str]]]:
    """Instances launched in moto: (instance id, its ENI ids) pairs, as RunInstances returns them."""
    got = ec2.run_instances(ImageId="ami-12c6146b", MinCount=count, MaxCount=count)["Instances"]
    return [(i["InstanceId"], [x["NetworkInterfaceId"] for x in i["NetworkInterfaces"]]) for i in got]


COLD_HANDLER = f"""
import os
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["TAGWARDEN_RULES_PATH"] = {str(RULES)!r}
os.environ["TAGWARDEN_LEDGER_TABLE"] = "tagwarden-ledger"
from tagwarden.aws import handler
e = handler.enforcer()
e.clients.get("ec2", "us-east-1")
"""
# This tree's code, not whatever tagwarden is installed; fake credentials (nothing is called).
ENV = {
    "PATH": "/usr/bin",
    "PYTHONPATH": str(ROOT / "functions"),
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "x",
}
COLD_BARE = """
import boto3
boto3.client("ec2", region_name="us-east-1")
"""


def cold_start(repeats: int) -> dict[str, Any]:
    b, o = cold_medians(
        COLD_BARE,
        COLD_HANDLER,
        repeats,
        ENV,
    )
    sdk_check = subprocess.run(
        [
            sys.executable,
            "-c",
            COLD_HANDLER + "\nimport sys\nprint(sorted(m for m in sys.modules if m.startswith('azure')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    ).stdout.strip()
    return {
        "bare_boto3_plus_client_ms": b * 1000,
        "handler_import_build_client_ms": o * 1000,
        "ratio": o / b,
        "azure_modules_imported": sdk_check,
    }


LIMITS = """
limits:
  checks:
    - {id: burst, per: {tag: Agent-ID}, creates: 1000000, window: 10m, actions: [alert, brake]}
    - {id: spend, per: {tag: Agent-ID}, spend_per_hour: 1000000}
"""


def runaway(n: int) -> dict[str, Any]:  # noqa: PLR0915 - one measured scenario, read top to bottom
    import logging
    import os
    import tempfile

    import botocore.client
    from aws_lambda_powertools import Logger

    from tagwarden.aws.clients import Clients
    from tagwarden.aws.enforcer import build
    from tagwarden.aws.telemetry import Telemetry
    from tagwarden.runaway.aws.dynamodb import create_table
    from tagwarden_testing import events as ev
    from tagwarden_testing.moto_world import agent_role, client, moto_server

    api = [0.0]
    calls: dict[str, int] = {}
    original = botocore.client.BaseClient._make_api_call

    def timed(self: Any, operation: str, params: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(self, operation, params)
        finally:
            api[0] += time.perf_counter() - start
            calls[operation] = calls.get(operation, 0) + 1

    with moto_server(), tempfile.TemporaryDirectory() as tmp:
        agent_role("agent-fleet-support", {"Outcome-ID": "OUT-7001"})
        create_table(client("dynamodb"), "runaway")
        ec2 = client("ec2")
        records = []
        for _ in range(n):
            got = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"]
            pairs = [
                (i["InstanceId"], [x["NetworkInterfaceId"] for x in i["NetworkInterfaces"]]) for i in got
            ]
            records.append(ev.eventbridge(ev.run_instances(identity=ev.assumed_role(), instances=pairs)))
        limited = Path(tmp) / "rules.yaml"
        limited.write_text(RULES.read_text() + LIMITS)
        sink = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the run

        def make(rules: Path, **env: str) -> Any:
            return build(
                {"TAGWARDEN_RULES_PATH": str(rules), "TAGWARDEN_NOT_FOUND_WINDOW": "1", **env},
                clients=Clients(),
                telemetry=Telemetry(logger=Logger(service="tagwarden-bench", logger_handler=sink)),
            )

        off, on = make(RULES), make(limited, TAGWARDEN_RUNAWAY_TABLE="runaway")
        assert on.limiter is not None
        assert off.limiter is None
        botocore.client.BaseClient._make_api_call = timed  # type: ignore[method-assign]
        owns: dict[str, list[float]] = {"off": [], "on": []}
        dynamo: dict[str, int] = {}
        import contextlib

        try:
            with contextlib.redirect_stdout(open(os.devnull, "w")):  # EMF documents
                off.handle(records[0])
                on.handle(records[0])
                for record in records[1:]:
                    for name, enforcer in (("off", off), ("on", on)):
                        api[0] = 0.0
                        calls.clear()
                        start = time.perf_counter()
                        enforcer.handle(record)
                        owns[name].append((time.perf_counter() - start - api[0]) * 1000)
                        if name == "on":
                            for op, k in calls.items():
                                if op in (
                                    "TransactWriteItems",
                                    "BatchGetItem",
                                    "PutItem",
                                    "UpdateItem",
                                    "Query",
                                ):
                                    dynamo[op] = dynamo.get(op, 0) + k
        finally:
            botocore.client.BaseClient._make_api_call = original  # type: ignore[method-assign]
    events = len(records) - 1
    p_off, p_on = percentile(owns["off"], 50), percentile(owns["on"], 50)
    return {
        "events": events,
        "own_ms_p50_without_limits": p_off,
        "own_ms_p50_with_limits": p_on,
        "own_ms_p50_change": p_on - p_off,
        "own_ms_p99_without_limits": percentile(owns["off"], 99),
        "own_ms_p99_with_limits": percentile(owns["on"], 99),
        "dynamodb_calls_per_event": {op: k / events for op, k in sorted(dynamo.items())},
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--runaway", action="store_true", help="only the runaway-counting comparison")
    args = parser.parse_args()
    if args.runaway:
        figures = runaway(args.events)
        print(json.dumps(figures, indent=2))
        writes = figures["dynamodb_calls_per_event"].get("TransactWriteItems", 0)
        print("one counting write per event" if writes == 1 else f"COUNTING WRITES PER EVENT: {writes}")
        return 0 if writes == 1 else 1
    result = {
        "python": sys.version.split()[0],
        "per_event": per_event(args.events),
        "cold_start": cold_start(args.repeats),
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "aws.json").write_text(json.dumps(result, indent=2) + "\n")
    ok = result["per_event"]["own_ms_p50"] < 2.0 and result["cold_start"]["ratio"] <= 1.3
    print(
        "goals met"
        if ok
        else "GOALS NOT MET: own time p50 < 2 ms and cold start within 1.3x of boto3 + one client"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
