from __future__ import annotations

import json

import pytest

from tagwarden.runaway.metrics import OTHER, CardinalityGuard


def test_guard_keeps_the_first_agents_and_folds_the_rest() -> None:
    guard = CardinalityGuard(limit=2)
    assert [guard.label(a) for a in ("a", "b", "c", "a", "d", "b")] == ["a", "b", OTHER, "a", OTHER, "b"]


def test_aws_rate_is_an_emf_metric_with_a_bounded_agent_dimension(capsys: pytest.CaptureFixture[str]) -> None:
    from tagwarden.aws.telemetry import Telemetry

    telemetry = Telemetry()
    telemetry.agents = CardinalityGuard(limit=1)
    telemetry.rate("burst", "Agent-ID=42", 51.0, "creates")
    telemetry.rate("burst", "Agent-ID=7", 3.0, "creates")
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"AgentRate"' in line]
    assert [(d["agent"], d["limit"], d["AgentRate"]) for d in docs] == [
        ("Agent-ID=42", "burst", [51.0]),
        (OTHER, "burst", [3.0]),
    ]
    (directive,) = docs[0]["_aws"]["CloudWatchMetrics"]
    assert sorted(directive["Dimensions"][0]) == ["agent", "limit", "service"]
