"""Benchmark of the Azure function against the local ARM fake (real HTTP on loopback).

    make bench-azure      (or: .venv/bin/python bench/azure_bench.py [--events N])

1. Per event: ResourceWriteSuccess events for new VMs in a tagged resource group, through the
   handler the function calls. Each ARM round trip is timed (wrapping the ArmClient methods the
   enforcer uses); "own" time is the handler's wall time minus that. p50 / p99.
2. Cold start, in fresh interpreters: import the handler and build the enforcer (rules compiled,
   ARM client created), as a ratio to importing azure-mgmt-resource and creating its client in the
   same run. (On Python 3.13 `import function_app` adds azure-functions; the handler import is
   lazy inside the function, so the host indexes the app without it.) Wall time: the CPU-time
   figures on both Pythons, with the deployed ledger, are `make bench-coldstart`'s.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
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
    from tagwarden.azure import arm as arm_module
    from tagwarden.azure.arm import ArmClient
    from tagwarden.azure.enforcer import build
    from tagwarden.azure.telemetry import Telemetry
    from tagwarden_testing import events as ev
    from tagwarden_testing.arm_fake import arm_fake

    api = [0.0]
    calls = [0]

    def timed(fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                api[0] += time.perf_counter() - start
                calls[0] += 1

        return wrapper

    sink = logging.getLogger("tagwarden.bench")
    sink.addHandler(logging.NullHandler())
    sink.propagate = False
    with arm_fake() as fake:
        fake.add_resource_group(ev.SUBSCRIPTION, "rg-agent-customer-support", {"CostCenter": "101"})
        events = []
        for i in range(n + 1):
            rid = fake.add_resource(
                ev.resource_id("rg-agent-customer-support", "Microsoft.Compute/virtualMachines", f"vm{i}")
            )
            events.append(ev.eventgrid_write(rid, ev.app_claims("11111111-2222-3333-4444-555555555555")))
        arm = ArmClient.local(fake.endpoint)
        env = {"TAGWARDEN_RULES_PATH": str(RULES), "TAGWARDEN_LEDGER": ":memory:"}  # the ledger in memory
        enforcer = build(env, arm=arm, telemetry=Telemetry(sink))
        for name in ("get_tags", "resource_group_tags", "subscription_tags", "write"):
            setattr(arm, name, timed(getattr(arm, name)))
        enforcer.write = arm.write
        enforcer.handle(events[0])  # warm: connection pool, clients
        totals, owns, apis, per_event_calls = [], [], [], []
        for event in events[1:]:
            api[0], calls[0] = 0.0, 0
            start = time.perf_counter()
            enforcer.handle(event)
            total = time.perf_counter() - start
            totals.append(total * 1000)
            apis.append(api[0] * 1000)
            owns.append((total - api[0]) * 1000)
            per_event_calls.append(calls[0])
        requests = len(fake.calls())
    del arm_module
    return {
        "events": len(totals),
        "handler_ms_p50": percentile(totals, 50),
        "handler_ms_p99": percentile(totals, 99),
        "own_ms_p50": percentile(owns, 50),
        "own_ms_p99": percentile(owns, 99),
        "arm_ms_p50": percentile(apis, 50),
        "arm_ms_p99": percentile(apis, 99),
        "arm_calls_per_event": statistics.median(per_event_calls),
        "http_requests_total": requests,
    }


COLD_HANDLER = f"""
import os
os.environ["TAGWARDEN_RULES_PATH"] = {str(RULES)!r}
os.environ["TAGWARDEN_ARM_ENDPOINT"] = "http://127.0.0.1:9"
os.environ["TAGWARDEN_LEDGER"] = ":memory:"  # local (bench/coldstart_bench.py: the deployed one too)
from tagwarden.azure import handler
e = handler.enforcer()
e.arm.client("00000000-0000-0000-0000-000000000000")
"""
COLD_BARE = """
from azure.core.credentials import AccessToken
from azure.mgmt.resource.resources import ResourceManagementClient
class T:
    def get_token(self, *a, **k): return AccessToken("x", 2**31)
ResourceManagementClient(T(), "00000000-0000-0000-0000-000000000000")
"""


def cold_start(repeats: int) -> dict[str, Any]:
    b, o = cold_medians(COLD_BARE, COLD_HANDLER, repeats)
    boto = subprocess.run(
        [
            sys.executable,
            "-c",
            COLD_HANDLER
            + "\nimport sys\nprint(sorted(m for m in sys.modules if m.startswith(('boto3', 'botocore'))))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {
        "bare_sdk_plus_client_ms": b * 1000,
        "handler_import_build_ms": o * 1000,
        "ratio": o / b,
        "boto_modules_imported": boto,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=8)
    args = parser.parse_args()
    result = {
        "python": sys.version.split()[0],
        "per_event": per_event(args.events),
        "cold_start": cold_start(args.repeats),
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "azure.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
