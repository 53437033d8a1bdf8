"""Subscriptions joining by management group: the real azure-mgmt-resource pipeline against the
local ARM fake's descendants endpoint, one enforcer and one sweeper serving the listed
subscriptions and every subscription under TAGWARDEN_MANAGEMENT_GROUP."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_azure_lifecycle_e2e import HOUR, OWN_PRINCIPAL, T0, UNKNOWN_APP, rules_text, vm_profile

from tagwarden.azure.arm import ArmCallFailed, ArmClient
from tagwarden.azure.enforcer import AzureEnforcer, build, build_sweeper, subscriptions
from tagwarden.azure.members import MembershipUnknown, SubscriptionGate
from tagwarden.azure.sweeper import AzureSweeper
from tagwarden.azure.telemetry import Telemetry
from tagwarden_testing.arm_fake import ArmFake, arm_fake

import builders as b
from conftest import EXAMPLE_RULES

pytestmark = pytest.mark.e2e

LISTED = "aaaaaaaa-1111-2222-3333-444444444444"
JOINED = "bbbbbbbb-1111-2222-3333-444444444444"  # under the group, in no list
NESTED = "dddddddd-1111-2222-3333-444444444444"  # under a child group of it
OUTSIDE = "cccccccc-1111-2222-3333-444444444444"
GROUP = "mg-agents"
RG = "rg-agents"
DESCENDANTS = "/managementgroups/mg-agents/descendants"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def arm() -> Iterator[ArmFake]:
    with arm_fake() as fake:
        for sub, cost in ((LISTED, "101"), (JOINED, "205"), (NESTED, "102"), (OUTSIDE, "310")):
            fake.add_resource_group(sub, RG, {"CostCenter": cost})
        fake.set_management_group(GROUP, [JOINED])
        fake.set_management_group("mg-agents-eu", [NESTED], parent=GROUP)
        fake.set_management_group("mg-other", [OUTSIDE])
        yield fake


def env(**extra: str) -> dict[str, str]:
    return {
        "TAGWARDEN_LEDGER": os.environ["TAGWARDEN_LEDGER"],
        "TAGWARDEN_RULES_PATH": str(EXAMPLE_RULES),
        "TAGWARDEN_SUBSCRIPTIONS": LISTED,
        "TAGWARDEN_MANAGEMENT_GROUP": GROUP,
        **extra,
    }


def enforcer(fake: ArmFake, clock: Clock | None = None, **extra: str) -> AzureEnforcer:
    built = build(env(**extra), arm=ArmClient.local(fake.endpoint, sleep=lambda s: None))
    if clock is not None:
        gate(built.read).clock = clock
    return built


def gate(reader: Any) -> SubscriptionGate:
    """The gate inside the enforcer's gated reader (its closure's `allows`)."""
    for cell in reader.read.__closure__ or ():
        owner = getattr(cell.cell_contents, "__self__", None)
        if isinstance(owner, SubscriptionGate):
            return owner
    raise AssertionError("the reader is not gated")


def created(fake: ArmFake, sub: str, name: str) -> dict[str, Any]:
    rid = fake.add_resource(b.resource_id(RG, "Microsoft.Compute/virtualMachines", name, subscription=sub))
    return b.eventgrid_write(rid, b.app_claims("11111111-2222-3333-4444-555555555555"))


def tagged(fake: ArmFake, event: dict[str, Any]) -> dict[str, str]:
    return fake.tags_of(event["data"]["resourceUri"]) or {}


# --- the enforcer ---------------------------------------------------------------------------------


def test_a_subscription_under_the_group_is_tagged_without_being_listed(arm: ArmFake) -> None:
    e = enforcer(arm)
    joined, nested, listed = (
        created(arm, JOINED, "vm-j"),
        created(arm, NESTED, "vm-n"),
        created(arm, LISTED, "vm-l"),
    )
    for event in (joined, nested, listed):
        assert e.handle(event)["events"][0]["skipped"] is None
    assert tagged(arm, joined)["CostCenter"] == "205"
    assert tagged(arm, nested)["CostCenter"] == "102"  # a child group's subscription is a descendant
    assert tagged(arm, listed)["CostCenter"] == "101"  # the list still works beside the group
    assert len(arm.calls("GET", DESCENDANTS)) == 1  # one answer for the whole group, then cached


def test_a_subscription_outside_the_group_is_skipped_as_foreign(arm: ArmFake) -> None:
    e = enforcer(arm)
    event = created(arm, OUTSIDE, "vm-c")
    arm.clear_log()
    report = e.handle(event)["events"][0]
    assert report["kind"] == "foreign-account" and OUTSIDE in report["skipped"]
    assert tagged(arm, event) == {}
    assert [r.path.lower() for r in arm.calls()] == [f"/providers/microsoft.management{DESCENDANTS}"]


def test_the_cache_bounds_arm_calls_and_a_new_member_joins_at_once(arm: ArmFake) -> None:
    clock = Clock()
    e = enforcer(arm, clock)
    for n in range(10):
        e.handle(created(arm, JOINED, f"vm-j{n}"))
        assert e.handle(created(arm, OUTSIDE, f"vm-o{n}"))["events"][0]["kind"] == "foreign-account"
    assert len(arm.calls("GET", DESCENDANTS)) == 2  # the first answer, one re-ask for OUTSIDE's miss

    arm.set_management_group("mg-other", [])
    arm.set_management_group(GROUP, [JOINED, OUTSIDE])  # OUTSIDE moves in: asked again within the TTL
    clock.now += 60
    assert e.handle(created(arm, OUTSIDE, "vm-late"))["events"][0]["kind"] == "foreign-account"
    assert len(arm.calls("GET", DESCENDANTS)) == 2  # its miss was asked once this TTL: no call

    newcomer = "eeeeeeee-1111-2222-3333-444444444444"
    arm.add_resource_group(newcomer, RG, {"CostCenter": "310"})
    arm.set_management_group(GROUP, [JOINED, OUTSIDE, newcomer])
    event = created(arm, newcomer, "vm-new")
    assert e.handle(event)["events"][0]["skipped"] is None  # joined without waiting for the TTL
    assert tagged(arm, event)["CostCenter"] == "310"
    assert len(arm.calls("GET", DESCENDANTS)) == 3
    assert e.handle(created(arm, OUTSIDE, "vm-now"))["events"][0]["skipped"] is None  # that answer holds it

    clock.now += 900
    e.handle(created(arm, JOINED, "vm-after-ttl"))
    assert len(arm.calls("GET", DESCENDANTS)) == 4  # asked again once the TTL is over


def test_the_descendants_are_read_page_by_page(arm: ArmFake) -> None:
    many = [f"{n:08x}-0000-0000-0000-000000000000" for n in range(7)]
    arm.set_management_group(GROUP, many)
    arm.page_size = 3
    found = ArmClient.local(arm.endpoint, sleep=lambda s: None).group_subscriptions(GROUP)
    assert found == frozenset([*many, NESTED])  # groups themselves are not members
    assert len(arm.calls("GET", DESCENDANTS)) == 3  # 9 entries (8 subscriptions, 1 group), 3 a page


def test_a_failing_membership_call_never_acts_and_the_event_is_retried(arm: ArmFake) -> None:
    clock = Clock()
    e = enforcer(arm, clock)
    arm.fail(20, 500)  # past the client's retries
    event = created(arm, JOINED, "vm-j")
    with pytest.raises(MembershipUnknown, match=JOINED):
        e.handle(event)
    calls = len(arm.calls())
    with pytest.raises(MembershipUnknown):  # within the back-off: no new ARM call
        e.handle(event)
    assert len(arm.calls()) == calls
    arm.clear_faults()
    listed = created(arm, LISTED, "vm-l")
    assert e.handle(listed)["events"][0]["skipped"] is None  # listed subscriptions need no answer
    assert tagged(arm, event) == {} and arm.calls("PATCH", f"/subscriptions/{JOINED}/") == []

    clock.now += 31  # the retry, once ARM answers again
    assert e.handle(event)["events"][0]["skipped"] is None
    assert tagged(arm, event)["CostCenter"] == "205"


def test_an_unknown_group_is_a_failure_not_an_empty_group(arm: ArmFake) -> None:
    e = enforcer(arm, TAGWARDEN_MANAGEMENT_GROUP="mg-typo")
    with pytest.raises(MembershipUnknown, match="NotFound"):
        e.handle(created(arm, JOINED, "vm-j"))
    with pytest.raises(ArmCallFailed):
        ArmClient.local(arm.endpoint, sleep=lambda s: None).group_subscriptions("mg-typo")


def test_the_group_alone_needs_no_list() -> None:
    assert subscriptions({"TAGWARDEN_MANAGEMENT_GROUP": GROUP}) == ()
    assert SubscriptionGate.from_env({}, lambda g: frozenset()) is None
    only = SubscriptionGate.from_env({"TAGWARDEN_MANAGEMENT_GROUP": GROUP}, lambda g: frozenset({"x"}))
    assert only is not None and only.allows("X") and not only.allows("y")
    listed = SubscriptionGate.from_env({"TAGWARDEN_SUBSCRIPTIONS": "A"}, lambda g: frozenset({"x"}))
    assert listed is not None and listed.allows("a") and not listed.allows("x")  # no group: no call
    assert listed.calls == 0


# --- the sweeper ----------------------------------------------------------------------------------


def world(arm: ArmFake, tmp_path: Path) -> tuple[AzureEnforcer, AzureSweeper, list[float], Clock]:
    arm.add_resource_group(JOINED, "rg-sandbox", {})  # nothing to inherit: quarantined
    path = tmp_path / "rules.yaml"
    path.write_text(rules_text("  delete_dry_run: false\n"))
    settings = env(TAGWARDEN_RULES_PATH=str(path), TAGWARDEN_OWN_PRINCIPAL_IDS=OWN_PRINCIPAL)
    client = ArmClient.local(arm.endpoint, sleep=lambda s: None)
    now, clock = [T0], Clock()
    sweeper = build_sweeper(settings, arm=client)
    enforcer = build(settings, arm=client, release=sweeper.release_now)
    sweeper.clock = enforcer.clock = lambda: now[0]
    assert sweeper.gate is not None
    sweeper.gate.clock = clock
    return enforcer, sweeper, now, clock


def quarantined_vm(arm: ArmFake, e: AzureEnforcer) -> str:
    rid = b.resource_id("rg-sandbox", "Microsoft.Compute/virtualMachines", "vm-doomed", subscription=JOINED)
    arm.add_resource(rid, properties=vm_profile("vm-doomed"))
    e.handle(b.eventgrid_write(rid, b.app_claims(UNKNOWN_APP)))
    assert (arm.tags_of(rid) or {}).get("tagwarden:quarantine") == "quarantined"
    return rid


def test_a_subscription_that_left_the_group_is_not_swept_destructively(
    arm: ArmFake, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    e, sweeper, now, clock = world(arm, tmp_path)
    vm = quarantined_vm(arm, e)
    sweeper.run()  # the group's answer cached: JOINED is a member
    arm.set_management_group(GROUP, [])  # it leaves the group
    clock.now += 900  # the TTL is over
    now[0] += 2 * HOUR  # past the deadline
    arm.clear_log()
    with caplog.at_level(logging.INFO, logger="tagwarden.azure"):
        rows = sweeper.run()["resources"]
    assert [(r["verdict"], r["left"]) for r in rows] == [("leave", "not-member")]
    assert JOINED in rows[0]["reason"]
    assert arm.exists(vm) and [r for r in arm.calls() if r.method != "GET"] == []
    assert '"metric": "SweepDeferred", "value": 1, "kind": "not-member"' in caplog.text

    arm.set_management_group(GROUP, [JOINED])  # back in: the next sweep after the TTL deletes it
    clock.now += 900
    rows = sweeper.run()["resources"]
    assert [(r["verdict"], r["status"]) for r in rows] == [("delete", "done")]
    assert not arm.exists(vm)


def test_a_sweep_that_cannot_tell_membership_leaves_the_records(arm: ArmFake, tmp_path: Path) -> None:
    e, sweeper, now, clock = world(arm, tmp_path)
    vm = quarantined_vm(arm, e)
    clock.now += 900
    now[0] += 2 * HOUR
    arm.clear_log()
    arm.fail(20, 503)
    rows = sweeper.run()["resources"]
    assert [(r["verdict"], r["left"]) for r in rows] == [("leave", "unverified")]
    assert arm.exists(vm) and [r for r in arm.calls() if r.method != "GET"] == []


def test_the_sweep_deferred_metric() -> None:
    records: list[str] = []

    class Sink(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record.getMessage())

    logger = logging.getLogger("tagwarden.test.members")
    logger.addHandler(Sink())
    Telemetry(logger).count_deferred("not-member", 3)
    assert records == ['{"metric": "SweepDeferred", "value": 3, "kind": "not-member"}']
