"""One deployment serving many subscriptions: the real azure-mgmt-resource client against the local
ARM fake holding two subscriptions, one enforcer, each event acted on in its own subscription."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tagwarden.azure.arm import ArmClient
from tagwarden.azure.enforcer import AzureEnforcer, build, build_sweeper
from tagwarden_testing.arm_fake import ArmFake, arm_fake

import builders as b
from conftest import EXAMPLE_RULES

pytestmark = pytest.mark.e2e

SUB_A = "aaaaaaaa-1111-2222-3333-444444444444"
SUB_B = "bbbbbbbb-1111-2222-3333-444444444444"
OUTSIDE = "cccccccc-1111-2222-3333-444444444444"
RG = "rg-agents"


@pytest.fixture
def arm() -> Iterator[ArmFake]:
    with arm_fake() as fake:
        fake.add_resource_group(SUB_A, RG, {"CostCenter": "101"})
        fake.add_resource_group(SUB_B, RG, {"CostCenter": "205"})
        fake.add_resource_group(OUTSIDE, RG, {"CostCenter": "310"})
        yield fake


def enforcer(fake: ArmFake, subscriptions: str = f"{SUB_A},{SUB_B}") -> AzureEnforcer:
    env = {"TAGWARDEN_LEDGER": os.environ["TAGWARDEN_LEDGER"], "TAGWARDEN_RULES_PATH": str(EXAMPLE_RULES), "TAGWARDEN_SUBSCRIPTIONS": subscriptions}
    return build(env, arm=ArmClient.local(fake.endpoint, sleep=lambda s: None))


def created(fake: ArmFake, sub: str, name: str) -> dict[str, Any]:
    rid = fake.add_resource(b.resource_id(RG, "Microsoft.Compute/virtualMachines", name, subscription=sub))
    return b.eventgrid_write(rid, b.app_claims("11111111-2222-3333-4444-555555555555"))


def test_one_enforcer_tags_in_each_events_own_subscription(arm: ArmFake) -> None:
    e = enforcer(arm)
    a, bb = created(arm, SUB_A, "vm-a"), created(arm, SUB_B, "vm-b")
    for event in (a, bb):
        assert e.handle(event)["events"][0]["skipped"] is None
    tags_a = arm.tags_of(a["data"]["resourceUri"]) or {}
    tags_b = arm.tags_of(bb["data"]["resourceUri"]) or {}
    assert tags_a["CostCenter"] == "101" and tags_b["CostCenter"] == "205"  # each its own group's
    writes = [r.path.lower() for r in arm.calls("PATCH", "/tags/")]
    assert any(f"/subscriptions/{SUB_A}/" in p for p in writes)
    assert any(f"/subscriptions/{SUB_B}/" in p for p in writes)


def test_a_subscription_not_served_is_skipped_with_a_reason(arm: ArmFake) -> None:
    e = enforcer(arm)
    event = created(arm, OUTSIDE, "vm-c")
    arm.clear_log()
    report = e.handle(event)["events"][0]
    assert report["kind"] == "foreign-account"
    assert OUTSIDE in report["skipped"]
    assert arm.tags_of(event["data"]["resourceUri"]) == {}
    assert arm.calls() == []  # nothing read or written there


def test_listing_is_case_insensitive_and_one_subscription_still_works(arm: ArmFake) -> None:
    e = enforcer(arm, SUB_A.upper())
    event = created(arm, SUB_A, "vm-a")
    assert e.handle(event)["events"][0]["skipped"] is None
    assert e.handle(created(arm, SUB_B, "vm-b"))["events"][0]["kind"] == "foreign-account"


def test_the_sweeper_covers_every_listed_subscription() -> None:
    env = {"TAGWARDEN_LEDGER": os.environ["TAGWARDEN_LEDGER"], "TAGWARDEN_RULES_PATH": str(EXAMPLE_RULES), "TAGWARDEN_SUBSCRIPTIONS": f"{SUB_A}, {SUB_B}"}
    with arm_fake() as fake:
        sweeper = build_sweeper(env, arm=ArmClient.local(fake.endpoint, sleep=lambda s: None))
    assert sweeper.subscriptions == (SUB_A, SUB_B)
