"""Decisions to records: what the enforcer writes, and what a replay writes (never a live state)."""

from __future__ import annotations

import hashlib

from tagwarden.attribution.context import StaticLookups
from tagwarden.cli.normalize import normalize
from tagwarden.decide import decide
from tagwarden.ledger.model import LIVE_STATES, LifecycleState
from tagwarden.ledger.records import initial_state, new_record, record_for, rules_hash
from tagwarden.rules.model import RuleSet

import builders as b


def test_rules_hash_is_the_sha256_of_the_text() -> None:
    assert rules_hash("version: 1\n") == hashlib.sha256(b"version: 1\n").hexdigest()


def test_a_replayed_quarantine_is_recorded_but_never_live(example_rules: RuleSet) -> None:
    (event,) = normalize(b.eventbridge(b.run_instances(tags={"Owner": "x"})))
    decisions = decide(event, example_rules, StaticLookups())
    instance = next(d for d in decisions if d.resource.type == "AWS::EC2::Instance")
    assert instance.action.value == "quarantine"
    replayed = record_for(event, instance, rules_digest="d", now=5.0)
    assert replayed.state is LifecycleState.ACTIVE and replayed.state not in LIVE_STATES
    assert replayed.action == "quarantine" and replayed.tags["Owner"] == "x" and replayed.version == 1
    live = new_record(
        event,
        instance,
        state=initial_state(instance, lifecycle_on=True, protected=False),
        now=5.0,
        rules_digest="d",
    )
    assert live.state is LifecycleState.QUARANTINE_INTENT and live.correlation_id == event.correlation_id
