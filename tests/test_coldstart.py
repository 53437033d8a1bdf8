"""The collector paused for a cold start (tagwarden.coldstart), and resumed by both handlers."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tagwarden import coldstart

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def collector() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    coldstart.settled()
    gc.enable() if enabled else gc.disable()


@pytest.mark.usefixtures("collector")
def test_begin_pauses_and_settled_freezes_then_resumes() -> None:
    frozen = gc.get_freeze_count()
    kept = [[] for _ in range(1000)]  # objects made during the start
    coldstart.begin()
    assert not gc.isenabled()
    more = [{} for _ in range(1000)]
    coldstart.settled()
    assert gc.isenabled()
    assert gc.get_freeze_count() >= frozen + len(kept) + len(more)
    coldstart.settled()  # every later invocation: nothing
    assert gc.isenabled()


@pytest.mark.usefixtures("collector")
def test_a_collector_someone_else_paused_stays_paused() -> None:
    gc.disable()
    coldstart.begin()
    coldstart.settled()
    assert not gc.isenabled()


# In a fresh interpreter (a handler's import happens once per process): paused from the import to
# the end of the first invocation, even one that fails, then running.
PROBE = """
import gc, json, sys
out = {}
if sys.argv[1] == "aws":
    from tagwarden.aws import handler
    out["after_import"] = gc.isenabled()
    try:
        handler.lambda_handler({"detail": "not an event"}, None)
    except Exception as exc:
        out["error"] = type(exc).__name__
else:
    from tagwarden.azure import handler
    out["after_import"] = gc.isenabled()
    try:
        handler.handle({"no": "event grid"})
    except Exception as exc:
        out["error"] = type(exc).__name__
out["after_event"] = gc.isenabled()
out["frozen"] = gc.get_freeze_count()
print(json.dumps(out))
"""


@pytest.mark.parametrize(
    ("cloud", "rules", "error"),
    [
        ("aws", True, "MalformedEvent"),  # built, then the event is refused
        ("aws", False, "RuntimeError"),  # the start itself fails: no rules file
        ("azure", True, "MalformedEvent"),
        ("azure", False, "RuntimeError"),
    ],
)
def test_each_handler_resumes_the_collector_after_its_first_event(
    cloud: str, rules: bool, error: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join((str(ROOT / "functions"), str(ROOT / "devkit"))),
        "TAGWARDEN_LEDGER": str(tmp_path / "ledger.sqlite"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    env.pop("TAGWARDEN_RULES_PATH", None)
    if rules:
        env["TAGWARDEN_RULES_PATH"] = str(ROOT / "functions" / "tagwarden" / "examples" / "rules.yaml")
    done = subprocess.run(
        [sys.executable, "-c", PROBE, cloud], env=env, capture_output=True, text=True, check=True
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["after_import"] is False
    assert out["error"] == error
    assert out["after_event"] is True
    assert out["frozen"] > 10_000  # the modules, classes and tables the start built
