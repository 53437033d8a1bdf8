"""Benchmark of the pure core: normalize + decide throughput over the corpus, and cold import time.

    make bench            (or: .venv/bin/python bench/core_bench.py [--seconds N])

Throughput is measured on one core (this process, no threads). Events are the corpus files
(../shared/corpus) plus the shipped examples, pre-parsed from JSON so that only our code is timed;
each pass normalizes every event and decides every create event with the example rules and
offline lookups. Cold import is measured in fresh interpreters, as a ratio to a bare interpreter
start, since machines here are noisy: compare ratios within one run, not seconds across runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
CORE_MODULES = "tagwarden.normalize, tagwarden.decide, tagwarden.rules, tagwarden.plan"
FORBIDDEN = ("boto3", "botocore", "azure")


def load_events() -> list[Any]:
    files = sorted(p for p in CORPUS.rglob("*.json")) if CORPUS.is_dir() else []
    files += sorted((ROOT / "functions" / "tagwarden" / "examples" / "events").glob("*.json"))
    events = []
    for path in files:
        try:
            events.append(json.loads(path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
    return events


def throughput(events: list[Any], seconds: float) -> dict[str, float]:
    from tagwarden.attribution.context import StaticLookups
    from tagwarden.cli.normalize import normalize
    from tagwarden.decide import decide
    from tagwarden.model import CreationEvent
    from tagwarden.rules import load_rules

    rules = load_rules(ROOT / "functions" / "tagwarden" / "examples" / "rules.yaml", env={})
    lookups = StaticLookups(
        principal={"Outcome-ID": "OUT-1"}, containers={"resource_group": {"CostCenter": "101"}}
    )

    def one_pass() -> tuple[int, int]:
        n_events = n_decided = 0
        for raw in events:
            for result in normalize(raw):
                n_events += 1
                if isinstance(result, CreationEvent):
                    decide(result, rules, lookups)
                    n_decided += 1
        return n_events, n_decided

    n_events, n_decided = one_pass()  # warm-up, and the counts
    rates = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        one_pass()
        rates.append(n_events / (time.perf_counter() - start))
    # Creates alone: the expensive path (skips are cheap), measured separately.
    creates = [raw for raw in events if any(isinstance(r, CreationEvent) for r in normalize(raw))]
    create_rates = []
    deadline = time.perf_counter() + seconds / 2
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for raw in creates:
            for result in normalize(raw):
                decide(result, rules, lookups)  # type: ignore[arg-type]
        create_rates.append(len(creates) / (time.perf_counter() - start))
    return {
        "events_per_pass": n_events,
        "creates_per_pass": n_decided,
        "events_per_second_median": statistics.median(rates),
        "creates_per_second_median": statistics.median(create_rates),
        "us_per_create_event": 1e6 / statistics.median(create_rates),
    }


def cold_import(repeats: int) -> dict[str, Any]:
    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - start

    bare = [run("pass") for _ in range(repeats)]
    core = [run(f"import {CORE_MODULES}") for _ in range(repeats)]
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, {CORE_MODULES}; print(','.join(sorted(m for m in sys.modules "
            f"if m.split('.')[0] in {FORBIDDEN!r})))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    bare_s, core_s = statistics.median(bare), statistics.median(core)
    return {
        "bare_interpreter_ms": bare_s * 1000,
        "core_import_ms": core_s * 1000,
        "core_import_extra_ms": (core_s - bare_s) * 1000,
        "ratio_to_bare": core_s / bare_s,
        "cloud_sdks_imported_by_core": check.stdout.strip() or "none",
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    events = load_events()
    result = {
        "python": sys.version.split()[0],
        "throughput": throughput(events, args.seconds),
        "cold_import": cold_import(args.repeats),
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "core.json").write_text(json.dumps(result, indent=2) + "\n")
    ok = (
        result["throughput"]["events_per_second_median"] >= 20_000
        and result["cold_import"]["cloud_sdks_imported_by_core"] == "none"
    )
    print("goals met" if ok else "GOALS NOT MET: >= 20,000 events/s and no cloud SDK imported by the core")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
