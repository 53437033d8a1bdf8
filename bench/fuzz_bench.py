"""Fuzz benchmark: mutated events through both real handlers, the full count (default 50,000 per
handler), 0 unexpected exceptions expected.

    .venv/bin/python bench/fuzz_bench.py [--events 50000] [--seed 20261202] [--corpus ../shared/corpus]

AWS: `lambda_handler` against moto in-process (`mock_aws`); Azure: the Function's `handle` with the
real SDK against the ARM fake. Seeds: ../shared/corpus (when present), the example events and the
catalogue's cases (tests/aws/catalogue/catalogue_cases.py). See tagwarden_testing.fuzz for the
mutations and what counts as expected (handled, MalformedEvent, a deliberate retry, an emulator fault).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "devkit")]  # the package; test support (devkit/)
sys.path.insert(0, str(ROOT / "tests"))  # the catalogue cases import the tests' builders


def catalogue_records() -> list[dict[str, Any]]:
    path = ROOT / "tests" / "aws" / "catalogue" / "catalogue_cases.py"
    spec = importlib.util.spec_from_file_location("catalogue_cases_for_fuzz", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return [case.record() for case in module.CASES]


def main() -> int:
    from tagwarden_testing import fuzz

    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=20261202)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    corpus = args.corpus if args.corpus.is_dir() else None
    result: dict[str, Any] = {"events_per_handler": args.events, "seed": args.seed, "corpus": bool(corpus)}
    for name, seeds, world in (
        ("aws", fuzz.aws_seeds(corpus, catalogue_records()), fuzz.aws_handler),
        ("azure", fuzz.azure_seeds(corpus), fuzz.azure_handler),
    ):
        start = time.perf_counter()
        with world() as handle:
            report = fuzz.run(handle, fuzz.fuzzed(seeds, args.events, args.seed))
        result[name] = {
            "seeds": len(seeds),
            "seconds": round(time.perf_counter() - start, 1),
            **report.as_dict(),
        }
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "fuzz.json").write_text(json.dumps(result, indent=2) + "\n")
    unexpected = result["aws"]["unexpected"] + result["azure"]["unexpected"]
    print("goal met: 0 unexpected exceptions" if not unexpected else f"GOAL NOT MET: {unexpected} unexpected")
    return 0 if not unexpected else 1


if __name__ == "__main__":
    raise SystemExit(main())
