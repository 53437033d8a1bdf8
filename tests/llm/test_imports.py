"""tagwarden.llm imports no SDK: agent code with only one of them (or none) installed can use it."""

import subprocess
import sys

from conftest import ROOT

BLOCKER = """
import importlib.abc, sys
BLOCKED = ("openai", "boto3", "botocore", "azure", "httpx", "httpx2", "opentelemetry")
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not installed here")
sys.meta_path.insert(0, Block())
import tagwarden.llm, tagwarden.llm.split, tagwarden.llm.importers, tagwarden.llm.prices, tagwarden.llm.cli
from tagwarden.llm import Attribution, Recorder, LlmCall, attributed
from tagwarden.ledger.sqlite import SqliteLedger
rec = Recorder(ledger=SqliteLedger(), spans=True, interval=0.01)
with attributed(agent_id="42") as a:
    rec.record(LlmCall("openai", "gpt-4o-mini", a.tags(), 3, 2, started=1.0, ended=2.0))
assert rec.flush() and rec.stats.written == 1 and rec.stats.spans == 0, rec.stats
print("ok", sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED))
"""


def test_the_package_works_without_any_sdk_installed():
    done = subprocess.run(
        [sys.executable, "-c", BLOCKER],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT / "functions")},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok []"
