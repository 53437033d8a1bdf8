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
    """A running collector and no pending pause (a handler imported at collection time leaves one
    until its first event), and the same after the test."""
    coldstart.settled()
    gc.enable()
    yield
    coldstart.settled()
    gc.enable()


@pytest.mark.usefixtures("collector")
def test_begin_pauses_and_settled_freezes_then_resumes() -> None:
    frozen = gc.get_freeze_count()
    kept = [[] for _ in range(1000)]  # objects made during the start
    coldstart.begin()
    assert not gc.isenabled()
    more = [[] for _ in range(1000)]  # lists are tracked by the collector (empty dicts are not)
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


@pytest.fixture
def entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder on the import path for made-up entry modules, and no trace of them after."""
    # not syspath_prepend: it imports pkg_resources' fixups when another test loaded pkg_resources
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    yield tmp_path
    for name in ("broken_entry", "fine_entry"):
        sys.modules.pop(name, None)


@pytest.mark.usefixtures("collector")
def test_an_entry_module_that_fails_to_import_leaves_the_collector_running(entries: Path) -> None:
    (entries / "broken_entry.py").write_text(
        "from tagwarden import coldstart\ncoldstart.begin()\nimport no_such_module_anywhere\n"
    )
    with pytest.raises(ModuleNotFoundError):
        coldstart.entry("broken_entry")
    assert gc.isenabled()
    (entries / "fine_entry.py").write_text("from tagwarden import coldstart\ncoldstart.begin()\n")
    assert coldstart.entry("fine_entry").__name__ == "fine_entry"
    assert not gc.isenabled()  # paused until its first invocation ends


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


SWEEPER = """
import gc, json, sys
from importlib import import_module
handler = import_module(f"tagwarden.{sys.argv[1]}.handler")
before = gc.isenabled()
try:
    handler.sweeper()
    built = True
except Exception:
    built = False
print(json.dumps({"before": before, "after": gc.isenabled(), "built": built}))
"""


@pytest.mark.parametrize("cloud", ["aws", "azure"])
def test_a_sweeper_resumes_the_collector_once_built_before_it_sweeps(cloud: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join((str(ROOT / "functions"), str(ROOT / "devkit"))),
        "TAGWARDEN_LEDGER": str(tmp_path / "ledger.sqlite"),
        "TAGWARDEN_RULES_PATH": str(ROOT / "functions" / "tagwarden" / "examples" / "rules.yaml"),
        "TAGWARDEN_SUBSCRIPTIONS": "00000000-0000-0000-0000-000000000000",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", SWEEPER, cloud], env=env, capture_output=True, text=True, check=True
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out == {"before": False, "after": True, "built": True}
