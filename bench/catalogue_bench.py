"""The derived catalogue's cost: cold start and per-event time against a tree without it, in one run.

    .venv/bin/python bench/catalogue_bench.py [--ref 8257cef~1] [--repeats 15]

`--ref` names the git revision to compare with (default: the commit before the derived catalogue);
its `functions/` is unpacked to a temporary directory. Cold start: the Lambda handler's import,
build and first client (bench/aws_bench.py's COLD_HANDLER), fresh interpreters, interleaved.
Per event: normalize_record on a hand-written event and on a derived one (min of 5 x 20,000).
First miss: loading the derived index, the one-time cost the first unknown event pays.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench")]
from aws_bench import COLD_HANDLER, ENV  # noqa: E402

PER_EVENT = """
import json, time, timeit
from tagwarden.aws.normalize.cloudtrail import normalize_record
base = {"awsRegion": "us-east-1", "recipientAccountId": "1", "requestParameters": {"tags": {"a": "b"}}}
hand = {**base, "eventSource": "lambda.amazonaws.com", "eventName": "CreateFunction20150331",
        "responseElements": {"functionArn": "arn:aws:lambda:us-east-1:1:function:f"}}
derived = {**base, "eventSource": "airflow.amazonaws.com", "eventName": "CreateEnvironment",
           "responseElements": {"arn": "arn:aws:airflow:us-east-1:1:environment/x"}}
start = time.perf_counter(); normalize_record(derived); first = time.perf_counter() - start
out = {"first_derived_event_ms": first * 1000}
for name, record in (("hand_written", hand), ("derived", derived)):
    best = min(timeit.repeat(lambda: normalize_record(record), number=20000, repeat=5))
    out[name + "_us"] = best / 20000 * 1e6
print(json.dumps(out))
"""


def unpack(ref: str, into: Path) -> Path:
    archive = ["git", "archive", ref, "functions"]
    data = subprocess.run(archive, cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into / "functions"


def timed(pythonpath: Path, code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env={**ENV, "PYTHONPATH": str(pythonpath)})
    return time.perf_counter() - start


def per_event(pythonpath: Path) -> dict[str, float]:
    env = {**ENV, "PYTHONPATH": str(pythonpath)}
    cmd = [sys.executable, "-c", PER_EVENT]
    out = subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--ref", default="8257cef~1")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before_tree, after_tree = unpack(args.ref, Path(tmp)), ROOT / "functions"
        before, after = [], []
        for _ in range(args.repeats):
            before.append(timed(before_tree, COLD_HANDLER))
            after.append(timed(after_tree, COLD_HANDLER))
        b, a = statistics.median(before), statistics.median(after)
        result = {
            "ref": args.ref,
            "cold_start_before_ms": b * 1000,
            "cold_start_after_ms": a * 1000,
            "cold_start_ratio": a / b,
            "per_event_before": per_event(before_tree),
            "per_event_after": per_event(after_tree),
        }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
