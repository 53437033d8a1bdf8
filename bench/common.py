"""Measuring helpers shared by the benchmarks (ratios within one run: machines here are noisy)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Mapping


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def cold_medians(
    baseline: str, ours: str, repeats: int, env: Mapping[str, str] | None = None
) -> tuple[float, float]:
    """Median wall seconds of two scripts, each in fresh interpreters, interleaved so that both see
    the same machine noise."""

    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=dict(env) if env is not None else None)
        return time.perf_counter() - start

    a, b = [], []
    for _ in range(repeats):
        a.append(run(baseline))
        b.append(run(ours))
    return statistics.median(a), statistics.median(b)
