"""The `limits:` section: located errors like the rest of the rules, the JSON Schema agreeing with
the loader, and what it compiles to."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from tagwarden.rules import RulesError, load_rules_text
from tagwarden.rules.spec import json_schema
from tagwarden.runaway.model import LimitAction, Measure

HEAD = """version: 1
tags:
  Agent-ID: {sources: [{actor: session_name}]}
defaults: {grace: 6h}
"""


def problems(text: str) -> list[str]:
    with pytest.raises(RulesError) as err:
        load_rules_text(HEAD + text, "rules.yaml", env={})
    return [str(p) for p in err.value.problems]


def test_errors_name_file_line_and_key_path() -> None:
    got = problems(
        """limits:
  checks:
    - id: burst
      per: {tag: AgentID}
      creates: fifty
      window: 10m
    - id: burst
      per: {actor: role}
      tokens: 1000
      window: 1h
      actions: [alert, brake, stop]
    - id: spend
      per: {tag: Agent-ID}
      spend_per_hour: 0
      instance_types: p5.*
      cooldwn: 5m
"""
    )
    assert got == [
        "rules.yaml:8: limits.checks[0].per.tag: 'AgentID' is not in the tag catalogue; did you mean 'Agent-ID'?",
        "rules.yaml:9: limits.checks[0].creates: expected a whole number, got a string ('fifty')",
        "rules.yaml:11: limits.checks[1].id: limit id 'burst' is used twice (also checks[0])",
        "rules.yaml:12: limits.checks[1].per.actor: expected one of arn, account, role_name, role_arn, "
        "session_name, source_identity, user_name, upn, name, app_id, object_id, principal_id, invoked_by; "
        "got 'role'; did you mean 'role_arn'?",
        "rules.yaml:15: limits.checks[1].actions[1]: brake needs a create to act on; a tokens limit can only alert",
        "rules.yaml:15: limits.checks[1].actions[2]: expected one of alert, brake, quarantine-new; got 'stop'",
        "rules.yaml:18: limits.checks[2].spend_per_hour: must be greater than 0, got 0",
        "rules.yaml:20: limits.checks[2].cooldwn: unknown key 'cooldwn'; did you mean 'cooldown'?",
    ]


def test_a_measure_and_a_window_are_required() -> None:
    got = problems(
        "limits:\n  checks:\n    - {id: a, per: {tag: Agent-ID}}\n    - {id: b, per: {tag: Agent-ID}, creates: 5}\n"
    )
    assert got == [
        "rules.yaml:7: limits.checks[0]: expected exactly one measure (creates, spend_per_hour, tokens); got none",
        "rules.yaml:8: limits.checks[1]: missing required key 'window' (a creates limit counts over a window)",
    ]


def test_compiles_with_defaults_and_price_overrides() -> None:
    rs = load_rules_text(
        HEAD
        + """limits:
  cooldown: 5m
  prices: {as_of: "2026-12-01", hourly: {p5.48xlarge: 98.32}}
  checks:
    - {id: gpu, per: [{tag: Agent-ID}, {actor: role_arn}], creates: 4, window: 1h,
       instance_types: ["p*", "g*"], actions: [quarantine-new]}
    - {id: spend, per: {tag: Agent-ID}, spend_per_hour: 250.5, cooldown: 1h}
""",
        env={},
    )
    gpu, spend = rs.limits.checks
    assert gpu.measure is Measure.CREATES and gpu.threshold == 4 and gpu.window == 3600
    assert gpu.actions == {LimitAction.ALERT, LimitAction.QUARANTINE_NEW}  # alert always
    assert [s.label for s in gpu.per] == ["tag:Agent-ID", "actor:role_arn"]
    assert gpu.cooldown == 300 and gpu.grace == 6 * 3600  # the defaults
    assert gpu.instance_types is not None and gpu.instance_types.match("P4D.24xlarge")
    assert spend.measure is Measure.SPEND and spend.window == 3600 and spend.cooldown == 3600
    assert rs.limits.prices.as_of == "2026-12-01" and rs.limits.prices.hourly_for("p5.48xlarge") == 98.32


def test_no_limits_section_means_no_limiter() -> None:
    assert not load_rules_text(HEAD, env={}).limits


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("limits: {checks: [{id: a, per: {tag: Agent-ID}, creates: 5, window: 10m}]}", True),
        ("limits: {checks: [{id: a, per: {tag: Agent-ID}, spend_per_hour: 12.5}]}", True),
        ("limits: {checks: [{id: a, per: {tag: Agent-ID}, creates: 0, window: 10m}]}", False),
        ("limits: {checks: [{id: a, per: {tag: Agent-ID}, creates: 5, tokens: 5, window: 10m}]}", False),
        ("limits: {checks: [{id: a, per: {role: x}, creates: 5, window: 10m}]}", False),
        ("limits: {prices: {hourly: {x: cheap}}}", False),
    ],
)
def test_json_schema_agrees_with_the_loader(text: str, ok: bool) -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    data = yaml.safe_load(HEAD + text)
    assert (list(validator.iter_errors(data)) == []) is ok
    if ok:
        load_rules_text(HEAD + text, env={})
    else:
        with pytest.raises(RulesError):
            load_rules_text(HEAD + text, env={})
