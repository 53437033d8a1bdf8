"""Benchmark: one RunInstances creating N instances (default 1,000), tagged and quarantined by the
real enforcer against moto in-process (`mock_aws`). Goal: under 10 s for 1,000.

    .venv/bin/python bench/scale_bench.py [--instances 1000] [--peer 200]

The enforcer is warm (clients created, principal tags cached: a container's second event). Every
API call is counted through botocore's `before-call` hook. `--peer N` also runs N instances through
the per-resource path (the quarantiner's `quarantine` one resource at a time, one tag call in flight)
and reports the ratio in the same run, since the machines here are noisy.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "devkit")]  # the package; test support (devkit/)
RULES = ROOT / "functions" / "tagwarden" / "examples" / "rules.yaml"


class _OneByOne:
    """The quarantiner without its batch method: what `quarantine_all` falls back to."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def quarantine(self, resource: Any, *, dry_run: bool) -> Any:
        return self.inner.quarantine(resource, dry_run=dry_run)

    def release(self, resource: Any, undo: str, *, dry_run: bool) -> Any:
        return self.inner.release(resource, undo, dry_run=dry_run)

    def delete(self, resource: Any, *, dry_run: bool) -> Any:
        return self.inner.delete(resource, dry_run=dry_run)


def run(n: int, batched: bool) -> dict[str, Any]:
    import boto3
    from aws_lambda_powertools import Logger
    from moto import mock_aws

    from tagwarden.aws.clients import Clients
    from tagwarden.aws.enforcer import build
    from tagwarden.aws.taggers import write
    from tagwarden.aws.telemetry import Telemetry
    from tagwarden_testing import events as ev

    os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1")
    with mock_aws():
        boto3.client("iam").create_role(RoleName="agent-fleet-adhoc", AssumeRolePolicyDocument="{}")
        ec2 = boto3.client("ec2", region_name="us-east-1")
        identity = ev.assumed_role(role="agent-fleet-adhoc", session="agent-13")

        def event(count: int) -> dict[str, Any]:
            got = ec2.run_instances(ImageId="ami-12c6146b", MinCount=count, MaxCount=count)["Instances"]
            pairs = [
                (i["InstanceId"], [x["NetworkInterfaceId"] for x in i["NetworkInterfaces"]]) for i in got
            ]
            return ev.eventbridge(ev.run_instances(identity=identity, instances=pairs))

        calls: collections.Counter[str] = collections.Counter()
        session = boto3.session.Session()
        session.events.register("before-call", lambda model, **_: calls.update([model.name]))
        sink = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the run
        env = {
            "TAGWARDEN_RULES_PATH": str(RULES),
            "TAGWARDEN_NOT_FOUND_WINDOW": "0",
            "TAGWARDEN_LEDGER": str(Path(tempfile.mkdtemp()) / "ledger.sqlite"),
        }
        # One logger name per run (Powertools keeps one formatter per name); metrics flushed every
        # 100 values are printed: both go nowhere.
        telemetry = Telemetry(logger=Logger(service=f"scale-{n}-{batched}", logger_handler=sink))
        enforcer = build(env, clients=Clients(session), telemetry=telemetry)
        if not batched:
            enforcer.recorder.quarantiner = _OneByOne(enforcer.recorder.quarantiner)
            write.CONCURRENCY = 1
        with contextlib.redirect_stdout(sink.stream):
            enforcer.handle(event(2))  # warm: clients created, the role's tags cached
            big = event(n)
            calls.clear()
            start = time.perf_counter()
            report = enforcer.handle(big)
            seconds = time.perf_counter() - start
        write.CONCURRENCY = 16
        states = collections.Counter(
            i["State"]["Name"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
        )
    actions = collections.Counter(r["action"] for r in report["events"][0]["resources"])
    return {"instances": n, "seconds": round(seconds, 2), "calls": dict(calls), "actions": dict(actions),
            "instance_states": dict(states)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--peer", type=int, default=0, help="also run N instances one by one")
    args = parser.parse_args()
    result: dict[str, Any] = {"python": sys.version.split()[0], "batched": run(args.instances, True)}
    if args.peer:
        peer_batched = run(args.peer, True)
        peer_single = run(args.peer, False)
        result["peer"] = {
            "instances": args.peer,
            "batched_seconds": peer_batched["seconds"],
            "one_by_one_seconds": peer_single["seconds"],
            "one_by_one_calls": peer_single["calls"],
            "speedup": round(peer_single["seconds"] / peer_batched["seconds"], 1),
        }
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "scale.json").write_text(json.dumps(result, indent=2) + "\n")
    ok = args.instances < 1000 or result["batched"]["seconds"] < 10.0
    print("goal met" if ok else "GOAL NOT MET: 1,000 instances quarantined in under 10 s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
