"""Runaway tests: a small rule set with limits, and RunInstances events as CloudTrail logs them."""

from __future__ import annotations

from tagwarden.aws.normalize import READER
from tagwarden.decide import decide
from tagwarden.model import CreationEvent, Decision
from tagwarden.normalize import route
from tagwarden.rules import load_rules_text
from tagwarden.rules.model import RuleSet

import builders as b

RULES = """
version: 1
mode: enforce
tags:
  Agent-ID:
    sources:
      - request_tag: Agent-ID
      - actor: session_name
        pattern: '^agent-(?P<value>.+)$'
rules:
  - id: agents
    match: {role_name: "agent-*"}
    on_missing: notify
limits:
  cooldown: 10m
  checks:
    - id: burst
      match: {role_name: "agent-*"}
      per: {tag: Agent-ID}
      creates: 50
      window: 10m
      actions: [alert, brake]
    - id: gpu
      per: {tag: Agent-ID}
      creates: 2
      window: 1h
      instance_types: ["p*", "g*"]
      actions: [alert, quarantine-new]
      grace: 2h
    - id: spend
      per: {tag: Agent-ID}
      spend_per_hour: 100
"""


def rules(text: str = RULES) -> RuleSet:
    return load_rules_text(text, "rules.yaml", env={})


def run_instances(
    n: int = 1,
    session: str = "agent-42",
    role: str = "agent-fleet-support",
    instance_type: str = "t3.micro",
    event_id: str | None = None,
    start: int = 1,
    tags: dict[str, str] | None = None,
) -> CreationEvent:
    instances = [
        (f"i-{session.encode().hex()[:6]}{i:011x}", [f"eni-{i:017x}"]) for i in range(start, start + n)
    ]
    record = b.run_instances(identity=b.assumed_role(role, session), instances=instances, tags=tags)
    record["requestParameters"]["instanceType"] = instance_type
    if event_id:
        record["eventID"] = event_id
    (event,) = route(record, READER)
    assert isinstance(event, CreationEvent)
    return event


def decisions(event: CreationEvent, rs: RuleSet) -> tuple[Decision, ...]:
    return decide(event, rs)


def tags_of(d: Decision) -> dict[str, str]:
    return {**(d.resource.request_tags or {}), **d.tags}
