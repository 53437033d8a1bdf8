"""`make demo`: every scenario in turn, each announced before it starts (some take seconds to set
up: moto's server, the local ARM), then the guardrails the rules generate. Exit 1 if any scenario
ended otherwise than the rules say."""

import os
import sys
import time
from collections.abc import Callable
from importlib import import_module
from pathlib import Path

from tagwarden_demo import DEMO_LEDGER, ledger_path

# (module, what it starts): a scenario is a module of this package with run() -> exit code.
SCENARIOS: tuple[tuple[str, str], ...] = (
    ("aws", "AWS: moto's server on loopback, an agent fleet, EventBridge rules, the Lambda handler"),
    ("lifecycle", "AWS lifecycle: quarantine, release, delete on a simulated clock"),
    ("azure", "Azure: the local ARM over real HTTP and the function's code"),
    ("runaway", "Runaway agents: moto enforcing IAM, an agent in a loop alerted, braked and released"),
    ("showback", "Showback: the ledger above joined with a FOCUS bill for the same resources (DuckDB)"),
)


def main() -> int:
    if not os.environ.get("TAGWARDEN_LEDGER"):  # a fresh demo ledger each run
        for suffix in ("", "-wal", "-shm"):
            Path(DEMO_LEDGER + suffix).unlink(missing_ok=True)
    code = 0
    for number, (name, what) in enumerate(SCENARIOS, 1):
        print(f"==> [{number}/{len(SCENARIOS)}] {what} ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        run: Callable[[], int] = import_module(f"tagwarden_demo.{name}").run
        code |= run()
        took = time.perf_counter() - started
        print(f"==> [{number}/{len(SCENARIOS)}] done in {took:.1f} s\n", file=sys.stderr)
        sys.stdout.flush()
    from importlib import resources

    from tagwarden.guardrails import guardrail_summary
    from tagwarden.rules import load_rules

    with resources.as_file(resources.files("tagwarden") / "examples" / "rules.yaml") as rules:
        print(guardrail_summary(load_rules(rules, env={})))
    path = ledger_path()
    print(f"\nEvery decision is in the ledger {path}: tagwarden ledger show --ledger {path} RESOURCE")
    return code


sys.exit(main())
