from __future__ import annotations

from tagwarden.attribution.context import StaticLookups
from tagwarden.cli.normalize import normalize
from tagwarden.decide import decide
from tagwarden.model import Action
from tagwarden.plan import MUTATING, EffectKind, plan
from tagwarden.rules.model import Mode, RuleSet

import builders as b


def decisions(rules: RuleSet, record: dict) -> tuple:  # type: ignore[type-arg]
    (event,) = normalize(record)
    return decide(event, rules, StaticLookups(principal={}))  # type: ignore[arg-type]


def test_enforce_plans_writes_and_action_effects(example_rules: RuleSet) -> None:
    ds = decisions(example_rules, b.run_instances(identity=b.assumed_role("agent-fleet-x", "agent-1")))
    assert {d.action for d in ds} == {Action.QUARANTINE}
    kinds = [e.kind for e in plan(ds, Mode.ENFORCE)]
    assert kinds == [EffectKind.WRITE_TAGS, EffectKind.QUARANTINE, EffectKind.NOTIFY] * 2
    quarantine = [e for e in plan(ds, Mode.ENFORCE) if e.kind is EffectKind.QUARANTINE]
    assert all(e.grace_seconds == 4 * 3600 for e in quarantine)


def test_audit_reports_only(example_rules: RuleSet) -> None:
    ds = decisions(example_rules, b.run_instances(identity=b.assumed_role("agent-fleet-x", "agent-1")))
    effects = plan(ds, Mode.AUDIT)
    assert effects and all(e.kind is EffectKind.REPORT for e in effects)
    assert not any(e.kind in MUTATING for e in effects)
    assert effects[0].detail.startswith("would quarantine and write")


def test_skip_and_none_plan_nothing(example_rules: RuleSet) -> None:
    exempt = decisions(example_rules, b.run_instances(identity=b.assumed_role("BreakGlass", "x")))
    assert plan(exempt, Mode.ENFORCE) == () and plan(exempt, Mode.AUDIT) == ()
