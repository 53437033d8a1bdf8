"""examples/llm_agent.py runs end to end: two agents, two concurrent tasks each, both stand-ins."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tagwarden.ledger.sqlite import SqliteLedger

from conftest import ROOT

SCRIPT = ROOT / "examples" / "llm_agent.py"
PROFILE = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/support-bot"
# list prices per million tokens (input, output), as in the shipped table
PRICES = {"gpt-4o-mini": (0.15, 0.60), "gpt-4.1": (2.00, 8.00), "bedrock": (0.25, 1.25)}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    ledger = tmp_path_factory.mktemp("example") / "ledger.db"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'functions'}{os.pathsep}{ROOT / 'devkit'}"}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--ledger", str(ledger), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), ledger


def test_every_request_carried_its_own_tasks_attribution(run):
    summary, _ = run
    assert summary["calls"] == 16
    ids = summary["sent"]["openai"]
    assert len(ids) == 8
    for sid in ids:
        agent, task = sid.removeprefix("agent_id:").split("|task_id:")
        assert task.startswith("OUT-1" if agent == "support-bot" else "OUT-2")
    assert sorted({s.split("|")[1] for s in ids}) == [
        "task_id:OUT-1001",
        "task_id:OUT-1002",
        "task_id:OUT-2001",
        "task_id:OUT-2002",
    ]
    metas = summary["sent"]["bedrock"]
    assert len(metas) == 8
    for meta in metas:
        assert meta["task_id"].startswith("OUT-1" if meta["agent_id"] == "support-bot" else "OUT-2")
        assert meta["cost_center"] == ("101" if meta["agent_id"] == "support-bot" else "205")
    assert summary["stats"]["hook_errors"] == 0 and summary["stats"]["failed"] == 0


def test_the_ledger_holds_each_call_and_the_shares_are_token_costs(run):
    summary, path = run
    ledger = SqliteLedger(path)
    records = list(ledger.usage())
    ledger.close()
    assert len(records) == 16
    cost: dict[tuple[str, str], float] = {}
    for r in records:
        agent, outcome = r.attribution["Agent-ID"], r.attribution["Outcome-ID"]
        assert outcome.startswith("OUT-1" if agent == "support-bot" else "OUT-2")
        if r.platform == "bedrock":
            assert r.resource == (
                PROFILE if agent == "support-bot" else "anthropic.claude-3-haiku-20240307-v1:0"
            )
        p_in, p_out = PRICES["bedrock" if r.platform == "bedrock" else r.resource]
        key = (r.platform, f"{agent}/{outcome}")
        cost[key] = (
            cost.get(key, 0.0)
            + (r.quantities["input_tokens"] * p_in + r.quantities["output_tokens"] * p_out) / 1e6
        )
    for platform in ("openai", "bedrock"):
        total = sum(v for (p, _), v in cost.items() if p == platform)
        got = summary["platforms"][platform]
        assert set(got) == {who for p, who in cost if p == platform}
        for who, row in got.items():
            assert row["share"] == pytest.approx(cost[(platform, who)] / total, abs=1e-6)
    # the research agent sends four times the context to a dearer model: most of the OpenAI bill
    assert got["research-agent/OUT-2001"]["share"] > got["support-bot/OUT-1001"]["share"]
    assert summary["platforms"]["openai"]["research-agent/OUT-2001"]["share"] > 0.4
