import os
import sys
from pathlib import Path

from tagwarden_demo import DEMO_LEDGER, aws, azure, ledger_path, lifecycle

if not os.environ.get("TAGWARDEN_LEDGER"):  # a fresh demo ledger each run
    for suffix in ("", "-wal", "-shm"):
        Path(DEMO_LEDGER + suffix).unlink(missing_ok=True)
code = aws.run()
print()
code |= lifecycle.run()
print()
code |= azure.run()
print()
from importlib import resources  # noqa: E402

from tagwarden.guardrails import guardrail_summary  # noqa: E402
from tagwarden.rules import load_rules  # noqa: E402

with resources.as_file(resources.files("tagwarden") / "examples" / "rules.yaml") as rules:
    print(guardrail_summary(load_rules(rules, env={})))
path = ledger_path()
print(f"\nEvery decision is in the ledger {path}: tagwarden ledger show --ledger {path} RESOURCE")
sys.exit(code)
