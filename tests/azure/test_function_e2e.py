"""End to end over real HTTP: Event Grid events into the function's code, the real azure-mgmt-resource
client against the local ARM fake, tags read back from the fake.

On Python 3.13 (where azure-functions 2.x installs) the events go through function_app.py's
decorated function as the Functions host would call it; elsewhere through the handler it calls.
"""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tagwarden.azure import handler
from tagwarden.azure.arm import ArmClient
from tagwarden.azure.enforcer import AzureEnforcer, build
from tagwarden_testing.arm_fake import ArmFake, arm_fake

import builders as b
from conftest import EXAMPLE_RULES, ROOT

pytestmark = pytest.mark.e2e

SUB = b.SUBSCRIPTION
SUPPORT_BOT = "11111111-2222-3333-4444-555555555555"  # mapped to Agent-ID support-bot by the rules
OWN_PRINCIPAL = "99990000-0000-0000-0000-00000000f00d"
RG = "rg-agent-customer-support"


@pytest.fixture
def arm() -> Iterator[ArmFake]:
    with arm_fake() as fake:
        fake.add_resource_group(SUB, RG, {"CostCenter": "101"})
        fake.add_resource_group(SUB, "rg-sandbox", {})
        yield fake


def enforcer(fake: ArmFake, tmp_path: Path | None = None, rules: str | None = None) -> AzureEnforcer:
    path = EXAMPLE_RULES
    if rules is not None:
        assert tmp_path is not None
        path = tmp_path / "rules.yaml"
        path.write_text(rules)
    env = {
        "TAGWARDEN_RULES_PATH": str(path),
        "TAGWARDEN_OWN_PRINCIPAL_IDS": OWN_PRINCIPAL,
        "TAGWARDEN_LEDGER": ":memory:",
    }
    return build(env, arm=ArmClient.local(fake.endpoint, sleep=lambda s: None))


def created(
    fake: ArmFake, rg: str, rtype: str, name: str, app_id: str = SUPPORT_BOT, **kw: Any
) -> dict[str, Any]:
    """The resource exists in ARM, and Event Grid reports its write."""
    rid = fake.add_resource(b.resource_id(rg, rtype, name), tags=kw.pop("tags", None))
    return b.eventgrid_write(rid, b.app_claims(app_id), **kw)


def writes(fake: ArmFake) -> list[Any]:
    return [r for r in fake.calls() if r.method in ("PATCH", "PUT", "DELETE") and "/tags/" in r.path.lower()]


def invoke(event: dict[str, Any], e: AzureEnforcer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Deliver one event as the Functions host does (3.13), or through the handler it calls."""
    monkeypatch.setattr(handler, "_ENFORCER", e)
    if importlib.util.find_spec("azure.functions") is None:
        return handler.handle(event)
    import azure.functions as func

    spec = importlib.util.spec_from_file_location("function_app", ROOT / "function_app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    (fn,) = [f for f in module.app.get_functions() if f.get_function_name() == "tagwarden_resource_write"]
    grid = func.EventGridEvent(
        id=event["id"],
        data=event["data"],
        topic=event["topic"],
        subject=event["subject"],
        event_type=event["eventType"],
        event_time=None,
        data_version=event["dataVersion"],
    )
    fn.get_user_function()(grid)
    return e.results[-1] if e.results else {}


def test_vm_in_tagged_resource_group_inherits_cost_center(
    arm: ArmFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    e = enforcer(arm)
    event = created(arm, RG, "Microsoft.Compute/virtualMachines", "vm-agent-1")
    invoke(event, e, monkeypatch)
    tags = arm.tags_of(event["data"]["resourceUri"])
    assert tags is not None
    assert tags["CostCenter"] == "101"  # from the resource group
    assert tags["Agent-ID"] == "support-bot"  # app id through the mapping table
    assert tags["Outcome-ID"] == "unallocated"  # rule agents-azure: tag-unallocated
    assert tags["tagwarden:creator"] == SUPPORT_BOT


@pytest.mark.parametrize(
    ("rtype", "name"),
    [
        ("Microsoft.CognitiveServices/accounts", "oai-support"),
        ("Microsoft.Search/searchServices", "search-support"),
    ],
)
def test_ai_services_by_an_agent_get_its_agent_id(
    arm: ArmFake, monkeypatch: pytest.MonkeyPatch, rtype: str, name: str
) -> None:
    e = enforcer(arm)
    event = created(arm, "rg-sandbox", rtype, name)
    invoke(event, e, monkeypatch)
    tags = arm.tags_of(event["data"]["resourceUri"])
    assert tags is not None and tags["Agent-ID"] == "support-bot"
    assert tags["CostCenter"] == "unallocated"  # the sandbox group has none


def test_merge_only_existing_tags_kept(arm: ArmFake) -> None:
    e = enforcer(arm)
    event = created(
        arm, RG, "Microsoft.Storage/storageAccounts", "stagent1", tags={"Owner": "ml-team", "env": "dev"}
    )
    e.handle(event)
    tags = arm.tags_of(event["data"]["resourceUri"])
    assert tags is not None and tags["Owner"] == "ml-team" and tags["env"] == "dev"
    assert [w.method for w in writes(arm)] == ["PATCH"]
    assert all(w.body["operation"] == "Merge" for w in writes(arm))


def test_update_with_tags_present_does_nothing(arm: ArmFake) -> None:
    e = enforcer(arm)
    complete = {"Agent-ID": "support-bot", "CostCenter": "101", "Outcome-ID": "OUT-1234"}
    event = created(arm, RG, "Microsoft.Compute/disks", "disk1", tags=complete)
    (report,) = e.handle(event)["events"]
    assert report["resources"][0]["action"] == "tag"  # only the stamps were missing
    arm.clear_log()
    (again,) = e.handle(
        {**event, "id": str(uuid.uuid4()), "data": {**event["data"], "correlationId": "later"}}
    )["events"]
    assert again["resources"][0]["action"] == "none"
    assert writes(arm) == []


def test_tag_write_event_does_nothing(arm: ArmFake) -> None:
    e = enforcer(arm)
    vm = arm.add_resource(b.resource_id(RG, "Microsoft.Compute/virtualMachines", "vm2"))
    event = b.eventgrid_write(
        vm + "/providers/Microsoft.Resources/tags/default", operation="Microsoft.Resources/tags/write"
    )
    (report,) = e.handle(event)["events"]
    assert report["kind"] == "tag-write"
    assert arm.calls() == []  # not even a read


def test_loop_guard_our_writes_fed_back_cause_nothing(arm: ArmFake) -> None:
    e = enforcer(arm)
    event = created(arm, RG, "Microsoft.Compute/virtualMachines", "vm3")
    e.handle(event)
    first = len(writes(arm))
    assert first == 1
    rid = event["data"]["resourceUri"]
    own = b.app_claims("f00d-app", object_id=OWN_PRINCIPAL)
    echoes = [
        # what our Merge produces: a tag write by the function's own identity (filtered by the
        # event subscription too), and, for some providers, a resource write by the same identity
        b.eventgrid_write(
            rid + "/providers/Microsoft.Resources/tags/default",
            own,
            operation="Microsoft.Resources/tags/write",
        ),
        b.eventgrid_write(rid, own),
        # and if a write by someone else arrives later, the tags are there: nothing to write
        b.eventgrid_write(rid, b.app_claims(SUPPORT_BOT)),
    ]
    reports = [e.handle(x)["events"][0] for x in echoes]
    assert [r.get("kind") for r in reports[:2]] == ["own-call", "own-call"]
    later = reports[2]["resources"][0]
    assert later["tags"] == {} and later["outcome"] == "nothing-to-write"  # still unallocated, already marked
    assert len(writes(arm)) == first


def test_deployment_pair_acts_once(arm: ArmFake) -> None:
    e = enforcer(arm)
    event = created(arm, RG, "Microsoft.Network/publicIPAddresses", "pip1")
    twin = {**event, "id": str(uuid.uuid4())}  # same correlationId and resource: the pair
    e.handle(event)
    assert e.handle(twin)["events"][0]["kind"] == "duplicate"
    assert len(writes(arm)) == 1


def test_unattributable_resource_goes_to_the_rules_action(arm: ArmFake, tmp_path: Path) -> None:
    rules = EXAMPLE_RULES.read_text().replace(
        "    on_missing: tag-unallocated\n", "    on_missing: quarantine\n    grace: 2h\n", 1
    )
    e = enforcer(arm, tmp_path, rules)
    event = created(
        arm, "rg-sandbox", "Microsoft.Compute/virtualMachines", "vm-unknown", app_id="unknown-app"
    )
    (report,) = e.handle(event)["events"]
    (res,) = report["resources"]
    assert res["action"] == "quarantine"
    assert set(res["missing"]) == {"Agent-ID", "CostCenter", "Outcome-ID"}


def test_throttling_survived(arm: ArmFake) -> None:
    e = enforcer(arm)
    event = created(arm, RG, "Microsoft.Compute/virtualMachines", "vm4")
    arm.throttle(2, retry_after=1)
    (report,) = e.handle(event)["events"]
    assert report["resources"][0]["outcome"] == "tagged"
    assert [r.status for r in writes(arm)].count(429) == 2
    assert arm.tags_of(event["data"]["resourceUri"])["CostCenter"] == "101"  # type: ignore[index]


def test_long_running_merge_is_polled(arm: ArmFake) -> None:
    e = enforcer(arm)
    event = created(arm, RG, "Microsoft.Compute/virtualMachines", "vm5")
    arm.long_running(1, polls=2)
    (report,) = e.handle(event)["events"]
    assert report["resources"][0]["outcome"] == "tagged"
    assert arm.tags_of(event["data"]["resourceUri"])["Agent-ID"] == "support-bot"  # type: ignore[index]


def test_resource_deleted_before_we_read_it_is_vanished(arm: ArmFake) -> None:
    e = enforcer(arm)
    event = created(arm, RG, "Microsoft.Compute/virtualMachines", "vm-gone")
    arm.delete_resource(event["data"]["resourceUri"])
    (report,) = e.handle(event)["events"]
    assert report["resources"][0]["outcome"] == "vanished"
    assert writes(arm) == []


def test_cloudevents_schema_too(arm: ArmFake) -> None:
    e = enforcer(arm)
    event = created(arm, RG, "Microsoft.Compute/virtualMachines", "vm6")
    (report,) = e.handle([b.as_cloudevent(event)])["events"]
    assert report["resources"][0]["outcome"] == "tagged"


def test_function_app_imports_no_boto3() -> None:
    import subprocess
    import sys

    code = (
        "import sys; sys.path.insert(0, 'functions'); import tagwarden.azure.handler; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
