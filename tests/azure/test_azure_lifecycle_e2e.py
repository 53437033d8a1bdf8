"""The Azure lifecycle end to end over real HTTP: Event Grid events into the enforcer, the timer's
sweeps into the sweeper, the real azure-mgmt-resource SDK against the local ARM fake, and a local
http.server playing the Teams Workflows webhook.

create (a VM by an app nobody knows, in a group without tags) -> event -> quarantined (VM
deallocated, marker tags) -> tags fixed by a person -> sweep -> released (VM running, the marker
removed with a Tags API Delete and nothing else); create -> quarantine -> deadline -> deleted; dry
runs change nothing; the protect tag is never deleted; a person's tag write releases at once.
Time is a controllable clock; no sleep is real.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from azure.mgmt.resource.resources import ResourceManagementClient
from msgspec.structs import replace

from tagwarden.azure import handler
from tagwarden.azure.arm import ArmClient, StaticBearerPolicy, StaticToken
from tagwarden.azure.enforcer import AzureEnforcer, build, build_sweeper, notifier, subscriptions
from tagwarden.azure.notify import QueueNotifier
from tagwarden.azure.quarantine import ACTIONS, ROWS, AzureQuarantiner
from tagwarden.azure.sweeper import AzureSweeper, SweepIncomplete
from tagwarden.channels.webhook import TeamsNotifier
from tagwarden.lifecycle.fanout import Fanout
from tagwarden.lifecycle.ports import Status
from tagwarden.model import Resource
from tagwarden.rules import load_rules
from tagwarden_testing.arm_fake import ArmFake, Request, arm_fake

import builders as b
from conftest import EXAMPLE_RULES, ROOT

pytestmark = pytest.mark.e2e

SUB = b.SUBSCRIPTION
RG = "rg-sandbox"  # no tags: nothing to inherit
UNKNOWN_APP = "0ddba11-0000-0000-0000-00000000beef"  # in no mapping: nothing attributes it
OWN_PRINCIPAL = "99990000-0000-0000-0000-00000000f00d"
VM_TYPE = "Microsoft.Compute/virtualMachines"
NIC_TYPE = "Microsoft.Network/networkInterfaces"
T0 = 1_800_000_000.0
HOUR = 3600.0
MARKER = {
    "tagwarden:quarantine",
    "tagwarden:deadline",
    "tagwarden:reason",
    "tagwarden:undo",
}
FIXED = {"Agent-ID": "support-bot", "CostCenter": "101", "Outcome-ID": "OUT-1234"}


def rules_text(lifecycle: str = "") -> str:
    """The example rules, with the Azure agents rule quarantining for one hour."""
    text = EXAMPLE_RULES.read_text()
    old = "    on_missing: tag-unallocated\n"
    assert text.count(old) == 1
    text = text.replace(old, "    on_missing: quarantine\n    grace: 1h\n")
    return text + (f"\nlifecycle:\n{lifecycle}" if lifecycle else "")


# --- the world ------------------------------------------------------------------------------------


@dataclass
class Teams:
    url: str = ""
    cards: list[dict[str, Any]] = field(default_factory=list)

    def texts(self) -> list[str]:
        """Every card's text blocks and facts, one string per card."""
        out = []
        for card in self.cards:
            content = card["attachments"][0]["content"]
            parts: list[str] = []
            for block in content["body"]:
                parts += [str(block.get("text", ""))]
                parts += [str(i.get("text", "")) for i in block.get("items", [])]
                parts += [f"{f['title']}: {f['value']}" for f in block.get("facts", [])]
            out.append("\n".join(p for p in parts if p))
        return out


@pytest.fixture
def teams() -> Iterator[Teams]:
    state = Teams()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.cards.append(json.loads(self.rfile.read(length)))
            self.send_response(202)  # what Workflows answers
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/workflows/abc/triggers/manual/run?sig=secret"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake() -> Iterator[ArmFake]:
    with arm_fake() as f:
        f.add_resource_group(SUB, RG, {})
        yield f


@dataclass
class World:
    fake: ArmFake
    teams: Teams
    enforcer: AzureEnforcer
    sweeper: AzureSweeper
    now: list[float]

    def create(
        self, name: str, rtype: str = VM_TYPE, tags: dict[str, str] | None = None, **props: Any
    ) -> str:
        """The resource exists in ARM and Event Grid reports its write by the unknown app."""
        rid = self.fake.add_resource(b.resource_id(RG, rtype, name), tags=tags, properties=props or None)
        self.enforcer.handle(b.eventgrid_write(rid, b.app_claims(UNKNOWN_APP)))
        return rid

    def sweep(self, after: float = 0.0) -> dict[str, Any]:
        self.now[0] += after
        self.fake.clear_log()
        return self.sweeper.run()


@pytest.fixture
def world_for(fake: ArmFake, teams: Teams, tmp_path: Path) -> Any:
    def make(lifecycle: str = "") -> World:
        path = tmp_path / "rules.yaml"
        path.write_text(rules_text(lifecycle))
        env = {
            "TAGWARDEN_RULES_PATH": str(path),
            "TAGWARDEN_OWN_PRINCIPAL_IDS": OWN_PRINCIPAL,
            "TAGWARDEN_TEAMS_WEBHOOK_URL": teams.url,
            "TAGWARDEN_SUBSCRIPTIONS": SUB,
            "TAGWARDEN_LEDGER": str(tmp_path / "ledger.sqlite"),
        }
        arm = ArmClient.local(fake.endpoint, sleep=lambda s: None)
        now = [T0]
        sweeper = build_sweeper(env, arm=arm)
        sweeper.clock = lambda: now[0]
        enforcer = build(env, arm=arm, release=sweeper.release_now)  # as the handler wires them
        enforcer.clock = lambda: now[0]
        return World(fake, teams, enforcer, sweeper, now)

    return make


def person_merges(fake: ArmFake, scope: str, tags: dict[str, str]) -> None:
    """Someone fixes the tags: a Tags API Merge straight to ARM, as `az tag update` does."""
    body = json.dumps({"operation": "Merge", "properties": {"tags": tags}}).encode()
    request = urllib.request.Request(
        f"{fake.endpoint}{scope}/providers/Microsoft.Resources/tags/default?api-version=2025-04-01",
        data=body,
        method="PATCH",
        headers={"Authorization": "Bearer someone", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 200


def changes(fake: ArmFake) -> list[Request]:
    return [r for r in fake.calls() if r.method != "GET"]


def vm_profile(name: str, nic: str | None = None, os_delete: str = "Delete") -> dict[str, Any]:
    disk = b.resource_id(RG, "Microsoft.Compute/disks", f"{name}-osdisk")
    props: dict[str, Any] = {
        "storageProfile": {
            "osDisk": {"name": f"{name}-osdisk", "deleteOption": os_delete, "managedDisk": {"id": disk}}
        }
    }
    if nic:
        props["networkProfile"] = {
            "networkInterfaces": [{"id": nic, "properties": {"deleteOption": "Detach"}}]
        }
    return props


# --- quarantine -> fix -> release ---------------------------------------------------------------


@pytest.mark.parametrize("hidden", [False, True], ids=["listed-with-tags", "listed-without-tags"])
def test_quarantined_then_released_when_a_person_fixes_the_tags(world_for: Any, hidden: bool) -> None:
    w: World = world_for()
    w.fake.tag_filter_hides_tags = hidden  # ARM may list tag-filtered resources without their tags
    vm = w.create("vm-unknown", **vm_profile("vm-unknown"))

    # quarantined: deallocated, marked with the deadline, the undo token and the rule
    assert w.fake.power_of(vm) == "deallocated"
    tags = w.fake.tags_of(vm)
    assert tags is not None
    assert tags["tagwarden:quarantine"] == "quarantined"
    assert tags["tagwarden:deadline"] == "2027-01-15T09:00:00Z"  # T0 + 1h
    assert tags["tagwarden:undo"] == "power=running"
    assert tags["tagwarden:rule"] == "agents-azure"
    assert {"Agent-ID", "CostCenter", "Outcome-ID"} <= set(tags["tagwarden:reason"].split())
    (card,) = w.teams.texts()
    assert "Quarantined: vm-unknown" in card
    assert f"az tag update --resource-id {vm} --operation Merge --tags" in card
    assert "Agent-ID=<value>" in card and "Outcome-ID=<value>" in card
    assert "Add the tags before 2027-01-15T09:00:00Z." in card
    assert "sig=secret" not in json.dumps(w.teams.cards)  # the URL's secret never travels in a card

    # still unattributed: left, nothing changed
    (row,) = w.sweep(after=60)["resources"]
    assert (row["verdict"], row["reason"]) == ("leave", "within the grace period")
    assert changes(w.fake) == []
    assert len(w.teams.cards) == 1

    # a person fixes the tags; the next sweep releases
    person_merges(w.fake, vm, {**FIXED, "Owner": "dana"})
    before = w.fake.tags_of(vm)
    assert before is not None
    (row,) = w.sweep(after=60)["resources"]
    assert (row["verdict"], row["status"], row["marker_removed"]) == ("release", "done", True)
    assert w.fake.power_of(vm) == "running"
    after = w.fake.tags_of(vm)
    assert after == {k: v for k, v in before.items() if k not in MARKER}  # the marker only
    assert after["tagwarden:rule"] == "agents-azure" and after["Owner"] == "dana"
    tag_writes = [r for r in changes(w.fake) if "/tags/" in r.path.lower()]
    (delete,) = tag_writes
    assert delete.method == "PATCH" and delete.body["operation"] == "Delete"
    assert delete.body["properties"]["tags"] == {k: before[k] for k in MARKER}
    assert [r.method for r in changes(w.fake) if r.path.endswith("/start")] == ["POST"]
    released = w.teams.texts()[-1]
    assert "Released from quarantine: vm-unknown" in released
    assert "az tag update" not in released  # nothing left to fix

    # and the next sweep finds nothing
    assert w.sweep(after=60)["resources"] == []


def test_a_vm_stopped_before_the_quarantine_is_left_deallocated_on_release(world_for: Any) -> None:
    w: World = world_for()
    vm = w.fake.add_resource(b.resource_id(RG, VM_TYPE, "vm-stopped"), power="stopped")
    w.enforcer.handle(b.eventgrid_write(vm, b.app_claims(UNKNOWN_APP)))
    assert w.fake.power_of(vm) == "deallocated"
    assert w.fake.tags_of(vm)["tagwarden:undo"] == "power=stopped"  # type: ignore[index]
    person_merges(w.fake, vm, FIXED)
    (row,) = w.sweep()["resources"]
    assert row["status"] == "done" and "left deallocated" in row["detail"]
    assert w.fake.power_of(vm) == "deallocated"
    assert not MARKER & set(w.fake.tags_of(vm) or {})


# --- quarantine -> deadline -> delete -----------------------------------------------------------


def test_deleted_at_the_deadline_with_what_it_leaves_named(world_for: Any) -> None:
    w: World = world_for("  delete_dry_run: false\n")
    nic = w.create("nic-unknown", NIC_TYPE)
    vm = w.create("vm-doomed", **vm_profile("vm-doomed", nic=nic))
    w.fake.add_resource(b.resource_id(RG, "Microsoft.Compute/disks", "vm-doomed-osdisk"))
    w.fake.add_resource(nic, tags=w.fake.tags_of(nic), properties={"virtualMachine": {"id": vm}})  # attached
    assert w.fake.tags_of(nic)["tagwarden:quarantine"] == "quarantined"  # type: ignore[index]
    assert "tagwarden:undo" not in (w.fake.tags_of(nic) or {})  # marked only

    rows = w.sweep(after=HOUR - 1)["resources"]
    assert {r["verdict"] for r in rows} == {"leave"}
    assert changes(w.fake) == []

    rows = w.sweep(after=2)["resources"]  # past the deadline
    assert [(r["type"], r["verdict"], r["status"]) for r in rows] == [
        (VM_TYPE, "delete", "done"),  # VMs first: their NICs detach
        (NIC_TYPE, "delete", "done"),
    ]
    assert not w.fake.exists(vm) and not w.fake.exists(nic)
    assert not w.fake.exists(b.resource_id(RG, "Microsoft.Compute/disks", "vm-doomed-osdisk"))
    assert "vm-doomed-osdisk goes with it" in rows[0]["detail"]
    assert "left: NIC nic-unknown" in rows[0]["detail"]
    deletes = [r for r in changes(w.fake) if r.method == "DELETE"]
    assert [(r.path.rsplit("/", 2)[-2], r.api_version) for r in deletes] == [
        ("virtualMachines", "2024-07-01"),
        ("networkInterfaces", "2024-05-01"),
    ]
    deleted = [t for t in w.teams.texts() if t.startswith("Deleted")]
    assert len(deleted) == 2 and any("vm-doomed" in t for t in deleted)


def test_types_without_a_delete_are_left_for_a_person_once(world_for: Any) -> None:
    w: World = world_for("  delete_dry_run: false\n")
    disk = w.create("disk-unknown", "Microsoft.Compute/disks")
    (row,) = w.sweep(after=2 * HOUR)["resources"]
    assert (row["verdict"], row["status"]) == ("delete", "unsupported")
    assert "holds data" in row["detail"] and row["marker_removed"] is True
    assert w.fake.exists(disk)
    assert [r.method for r in changes(w.fake)] == ["PATCH"]  # the marker's Delete, nothing else
    assert w.sweep(after=HOUR)["resources"] == []  # said once, not swept again


def test_a_resource_deleted_by_someone_else_is_vanished(world_for: Any) -> None:
    w: World = world_for("  delete_dry_run: false\n")
    vm = w.create("vm-gone")
    w.fake.delete_resource(vm)
    (row,) = w.sweep(after=2 * HOUR)["resources"]  # the ledger's record finds it gone
    assert (row["verdict"], row["status"]) == ("gone", "vanished")
    record = w.sweeper.ledger.get("azure", vm)
    assert record is not None and record.state.value == "gone"
    assert w.sweep()["resources"] == []  # and never again
    result = w.sweeper.quarantiner.delete(Resource(vm, VM_TYPE, "vm-gone"), dry_run=False)
    assert result.status is Status.VANISHED


# --- dry runs -------------------------------------------------------------------------------------


def test_dry_run_changes_nothing(world_for: Any) -> None:
    w: World = world_for("  dry_run: true\n")
    w.fake.clear_log()
    vm = w.create("vm-dry")
    assert w.fake.power_of(vm) == "running"
    assert w.fake.tags_of(vm) == {}
    assert changes(w.fake) == []
    (card,) = w.teams.texts()
    assert card.startswith("DRY RUN") and "would deallocate VM vm-dry" in card

    # a marker on a resource the ledger does not know (hand-written, copied): never swept
    from tagwarden.ledger.model import LifecycleState, ResourceRecord
    from tagwarden.lifecycle.marker import Keys, marker_tags

    rid = b.resource_id(RG, VM_TYPE, "vm-marked")
    forged = ResourceRecord(
        "azure", rid, SUB, None, VM_TYPE, "vm-marked", "e", "write", "2026-01-01T00:00:00Z",
        state=LifecycleState.QUARANTINED, deadline=0.0, rule="agents-azure",
    )  # fmt: skip
    w.fake.add_resource(rid, tags=marker_tags(forged, Keys.with_prefix()), power="deallocated")
    assert w.sweep(after=2 * HOUR)["resources"] == []
    assert w.fake.exists(rid) and changes(w.fake) == []


def test_delete_dry_run_is_the_default(world_for: Any) -> None:
    w: World = world_for()  # the example rules say nothing: delete_dry_run stays true
    vm = w.create("vm-planned")
    (row,) = w.sweep(after=2 * HOUR)["resources"]
    assert (row["verdict"], row["status"]) == ("delete", "dry-run")
    assert "would delete VM vm-planned" in row["detail"]
    assert w.fake.exists(vm)
    assert changes(w.fake) == []  # that it was notified is the ledger's, not a tag
    record = w.sweeper.ledger.get("azure", vm)
    assert record is not None and record.notified_at == w.now[0]
    assert w.teams.texts()[-1].startswith("DRY RUN")


# --- protection -----------------------------------------------------------------------------------


def test_the_protect_tag_is_never_deallocated_nor_deleted(world_for: Any) -> None:
    w: World = world_for("  delete_dry_run: false\n")
    # set by the creator in the create request: the creator's word, not trusted
    precious = w.create("vm-precious", tags={"tagwarden:protect": "true"})
    assert w.fake.power_of(precious) == "deallocated"
    record = w.enforcer.ledger.get("azure", precious)
    assert record is not None and dict(record.ignored) == {"tagwarden:protect": "true"}
    # protected by a person after its quarantine: left in quarantine, never deleted
    later = w.create("vm-later")
    person_merges(w.fake, later, {"tagwarden:protect": "true"})
    rows = {r["resource"]: r for r in w.sweep(after=30 * 24 * HOUR)["resources"]}
    assert (rows[later]["verdict"], rows[later]["reason"]) == (
        "leave",
        "not deleted: protected by the tag tagwarden:protect",
    )
    assert w.fake.exists(later)
    assert rows[precious]["verdict"] == "delete" and not w.fake.exists(precious)


# --- release on tag writes ------------------------------------------------------------------------


def test_a_tag_write_by_a_person_releases_at_once(world_for: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    w: World = world_for()
    vm = w.create("vm-fixed")
    monkeypatch.setattr(handler, "_ENFORCER", w.enforcer)
    monkeypatch.setattr(handler, "_SWEEPER", w.sweeper)
    tags_scope = vm + "/providers/Microsoft.Resources/tags/default"
    operation = "Microsoft.Resources/tags/write"

    # our own marker write coming back: nothing is even read
    w.fake.clear_log()
    own = b.app_claims("f00d-app", object_id=OWN_PRINCIPAL)
    (report,) = handler.handle(b.eventgrid_write(tags_scope, own, operation=operation))["events"]
    assert report["kind"] == "own-call" and w.fake.calls() == []

    # a person adds some of the tags: still unattributed, left
    person_merges(w.fake, vm, {"Agent-ID": "support-bot"})
    (report,) = handler.handle(b.eventgrid_write(tags_scope, b.user_claims(), operation=operation))["events"]
    assert [(r["verdict"], r["reason"]) for r in report["resources"]] == [
        ("leave", "within the grace period")
    ]
    assert w.fake.power_of(vm) == "deallocated"

    # and the rest: released at once, no sweep needed
    person_merges(w.fake, vm, FIXED)
    event = b.as_cloudevent(b.eventgrid_write(tags_scope, b.user_claims(), operation=operation))
    (report,) = handler.handle([event])["events"]
    assert report["kind"] == "tag-change"
    assert [(r["verdict"], r["status"]) for r in report["resources"]] == [("release", "done")]
    assert w.fake.power_of(vm) == "running"
    assert not MARKER & set(w.fake.tags_of(vm) or {})
    assert "Released from quarantine: vm-fixed" in w.teams.texts()[-1]

    # tags written on something we never marked: read, nothing else
    other = w.fake.add_resource(b.resource_id(RG, VM_TYPE, "vm-other"))
    other_scope = other + "/providers/Microsoft.Resources/tags/default"
    (report,) = handler.handle(b.eventgrid_write(other_scope, b.user_claims(), operation=operation))["events"]
    assert report["resources"] == [] and report["skipped"]


def test_a_planned_delete_is_notified_once(world_for: Any) -> None:
    w: World = world_for()  # delete_dry_run: true
    vm = w.create("vm-planned-once")
    (row,) = w.sweep(after=2 * HOUR)["resources"]
    assert row["status"] == "dry-run"
    record = w.sweeper.ledger.get("azure", vm)
    assert record is not None and record.notified_at == w.now[0]
    cards = len(w.teams.cards)
    (row,) = w.sweep(after=HOUR)["resources"]
    assert (row["verdict"], row["status"]) == ("delete", None)
    assert len(w.teams.cards) == cards and changes(w.fake) == []
    person_merges(w.fake, vm, FIXED)
    (row,) = w.sweep()["resources"]
    assert row["verdict"] == "release" and row["marker_removed"] is True
    assert not {*MARKER, "tagwarden:dry-run-notified"} & set(w.fake.tags_of(vm) or {})


# --- failures -------------------------------------------------------------------------------------


def test_a_failing_deallocate_is_notified_as_failed(world_for: Any) -> None:
    w: World = world_for()
    vm = w.fake.add_resource(b.resource_id(RG, VM_TYPE, "vm-stuck"))
    w.fake.fail(10, status=500, methods=["POST"])
    w.enforcer.handle(b.eventgrid_write(vm, b.app_claims(UNKNOWN_APP)))
    assert w.fake.power_of(vm) == "running"
    tags = w.fake.tags_of(vm) or {}
    # the undo token was recorded before the attempt: the retry keeps it
    assert tags["tagwarden:quarantine"] == "quarantine-pending" and tags["tagwarden:undo"] == "power=running"
    assert w.teams.texts()[-1].startswith("Action failed")
    # ARM works again: the next sweep deallocates it and seals the marker as quarantined
    w.fake._faults.clear()
    w.sweep()
    assert w.fake.power_of(vm) == "deallocated"
    tags = w.fake.tags_of(vm) or {}
    assert tags["tagwarden:quarantine"] == "quarantined" and tags["tagwarden:undo"] == "power=running"


def test_a_resource_that_cannot_be_read_fails_the_sweep_after_the_others(
    world_for: Any, fake: ArmFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tagwarden.azure.arm import ArmCallFailed

    w: World = world_for()
    vm = w.create("vm-a")
    other = b.resource_id(RG, VM_TYPE, "vm-b").replace(SUB, "00000000-dead-0000-0000-000000000000")
    record = w.enforcer.ledger.get("azure", vm)
    assert record is not None
    w.enforcer.ledger.create(replace(record, resource_id=other, version=1))
    person_merges(fake, vm, FIXED)
    real = w.sweeper.arm.get_tags

    def get_tags(rid: str) -> Any:
        if rid == other:
            raise ArmCallFailed(403, "AuthorizationFailed", "no access to that subscription", 1)
        return real(rid)

    monkeypatch.setattr(w.sweeper.arm, "get_tags", get_tags)
    with pytest.raises(SweepIncomplete, match="AuthorizationFailed"):
        w.sweep()
    assert fake.power_of(vm) == "running"  # the readable one was swept


# --- wiring ---------------------------------------------------------------------------------------


def test_handler_sweep_and_the_timer_function(world_for: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    w: World = world_for()
    vm = w.create("vm-timer")
    person_merges(w.fake, vm, FIXED)
    monkeypatch.setattr(handler, "_SWEEPER", w.sweeper)
    if importlib.util.find_spec("azure.functions") is None:
        result = handler.sweep()
    else:
        spec = importlib.util.spec_from_file_location("function_app", ROOT / "function_app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        (fn,) = [f for f in module.app.get_functions() if f.get_function_name() == "tagwarden_sweeper"]
        assert "%TAGWARDEN_SWEEP_SCHEDULE%" in fn.get_raw_bindings()[0]
        fn.get_user_function()(None)
        result = {"resources": w.sweeper.last}
    assert [r["verdict"] for r in result["resources"]] == ["release"]
    assert w.fake.power_of(vm) == "running"


def test_notifier_channels_from_the_settings() -> None:
    pytest.importorskip("azure.storage.queue", reason="the queue channel needs azure-storage-queue")
    rules = load_rules(EXAMPLE_RULES, env={})
    assert notifier({}, rules) is None
    both = notifier(
        {
            "TAGWARDEN_TEAMS_WEBHOOK_URL": "https://example.invalid/workflows/x?sig=s",
            "TAGWARDEN_NOTIFY_QUEUE_URL": "https://stacc.queue.core.windows.net/tagwarden-notifications",
        },
        rules,
    )
    assert isinstance(both, Fanout)
    assert [(n, type(c)) for n, c in both.channels] == [("teams", TeamsNotifier), ("queue", QueueNotifier)]
    queue = dict(both.channels)["queue"]
    assert isinstance(queue, QueueNotifier) and queue.queue_name == "tagwarden-notifications"
    local = notifier(
        {
            "TAGWARDEN_NOTIFY_QUEUE_CONNECTION": "UseDevelopmentStorage=true",
            "TAGWARDEN_NOTIFY_QUEUE_NAME": "q",
        },
        rules,
    )
    assert isinstance(local, Fanout) and [n for n, _ in local.channels] == ["queue"]


def test_an_unresolved_key_vault_reference_is_logged_not_fatal() -> None:
    rules = load_rules(EXAMPLE_RULES, env={})
    logged: list[tuple[str, str, dict[str, Any]]] = []

    class Log:
        def log(self, level: str, message: str, **fields: Any) -> None:
            logged.append((level, message, fields))

    unresolved = {"TAGWARDEN_TEAMS_WEBHOOK_URL": "@Microsoft.KeyVault(SecretUri=https://kv/secrets/t)"}
    assert notifier(unresolved, rules, Log()) is None  # type: ignore[arg-type]
    assert logged and "Key Vault" in logged[0][2]["error"]


def test_subscriptions_setting() -> None:
    assert subscriptions({"TAGWARDEN_SUBSCRIPTIONS": " a, b ,a", "AZURE_SUBSCRIPTION_ID": "c"}) == ("a", "b")
    assert subscriptions({"AZURE_SUBSCRIPTION_ID": "c"}) == ("c",)
    with pytest.raises(RuntimeError, match="TAGWARDEN_SUBSCRIPTIONS"):
        subscriptions({})


def test_the_table() -> None:
    assert ROWS["microsoft.compute/virtualmachines"].quarantine is not None
    assert ROWS["microsoft.network/publicipaddresses"].delete is None
    assert all(
        a.startswith(("Microsoft.Compute/virtualMachines/", "Microsoft.Network/networkInterfaces/"))
        for a in ACTIONS
    )


def test_quarantine_of_other_types_and_bad_undo(fake: ArmFake) -> None:
    q = AzureQuarantiner(ArmClient.local(fake.endpoint, sleep=lambda s: None))
    pip = Resource(
        b.resource_id(RG, "Microsoft.Network/publicIPAddresses", "pip"), "Microsoft.Network/publicIPAddresses"
    )
    assert q.quarantine(pip, dry_run=False).status is Status.MARKED_ONLY
    assert q.quarantine(pip, dry_run=True).status is Status.DRY_RUN
    assert q.release(pip, "", dry_run=False).status is Status.DONE
    assert q.release(pip, "power=running", dry_run=False).status is Status.FAILED
    assert q.delete(pip, dry_run=False).status is Status.UNSUPPORTED
    vm = fake.add_resource(b.resource_id(RG, VM_TYPE, "vm-x"))
    bad = q.release(Resource(vm, VM_TYPE, "vm-x"), "power=sideways", dry_run=False)
    assert bad.status is Status.FAILED and "BadUndo" in bad.detail
    assert fake.calls("POST") == []


def test_a_long_deallocate_is_accepted_not_failed(fake: ArmFake) -> None:
    sleeps: list[float] = []
    from tagwarden.azure.arm import Retry

    arm = ArmClient.local(fake.endpoint, sleep=sleeps.append, retry=Retry(lro_interval=5, lro_timeout=12))
    vm = fake.add_resource(b.resource_id(RG, VM_TYPE, "vm-slow"))
    fake.action_polls = 10
    result = AzureQuarantiner(arm).quarantine(Resource(vm, VM_TYPE, "vm-slow"), dry_run=False)
    assert result.status is Status.DONE and result.undo == "power=running"
    assert "accepted, ARM still running it" in result.detail
    assert sleeps == [5, 5]  # the budget, never more
    assert fake.power_of(vm) == "deallocating"


# --- the fake's listing, as the SDK reads it ---------------------------------------------------------


def test_fake_lists_by_tag_in_pages_and_groups(fake: ArmFake) -> None:
    fake.page_size = 2
    for i in range(5):
        fake.add_resource(b.resource_id(RG, VM_TYPE, f"vm{i}"), tags={"Team": "x"} if i % 2 == 0 else {})
    fake.add_resource_group(SUB, "rg-marked", {"tagwarden:quarantine": "quarantined"})
    sdk = ResourceManagementClient(
        StaticToken("t"), SUB, base_url=fake.endpoint, authentication_policy=StaticBearerPolicy("t")
    )
    found = list(sdk.resources.list(filter="tagName eq 'team'"))
    assert [r.name for r in found] == ["vm0", "vm2", "vm4"] and found[0].tags == {"Team": "x"}
    assert len(fake.calls("GET", "/resources")) == 2  # two pages
    assert [g.name for g in sdk.resource_groups.list(filter="tagName eq 'tagwarden:quarantine'")] == [
        "rg-marked"
    ]
    assert [r.name for r in sdk.resources.list(filter="tagName eq 'Team' and tagValue eq 'y'")] == []
    with pytest.raises(Exception, match="InvalidFilterInQueryString"):
        list(sdk.resources.list(filter="substringof('vm', name)"))
    sdk.resources.begin_delete_by_id(b.resource_id(RG, VM_TYPE, "nope"), api_version="2024-07-01").result()
    assert fake.calls("DELETE")[-1].status == 204


# --- the attacks of issue 10, on Azure ------------------------------------------------------------


def test_a_rule_no_longer_quarantining_releases_instead_of_deleting(world_for: Any, tmp_path: Path) -> None:
    w: World = world_for("  delete_dry_run: false\n")
    vm = w.create("vm-rule-changed")
    assert w.fake.power_of(vm) == "deallocated"
    relaxed = tmp_path / "relaxed.yaml"  # the example's own rule: tag-unallocated, no quarantine
    relaxed.write_text(EXAMPLE_RULES.read_text() + "lifecycle:\n  delete_dry_run: false\n")
    env = {"TAGWARDEN_RULES_PATH": str(relaxed), "TAGWARDEN_SUBSCRIPTIONS": SUB}
    sweeper = build_sweeper(env, arm=w.sweeper.arm, ledger=w.sweeper.ledger)
    sweeper.clock = lambda: w.now[0] + 2 * HOUR  # past the deadline
    (row,) = sweeper.run()["resources"]
    assert (row["verdict"], row["status"]) == ("release", "done") and "now say tag-unallocated" in row[
        "reason"
    ]
    assert w.fake.exists(vm) and w.fake.power_of(vm) == "running"


def test_an_enforcer_clock_behind_cannot_shorten_the_grace(world_for: Any) -> None:
    w: World = world_for("  delete_dry_run: false\n")
    w.enforcer.clock = lambda: T0 - 10 * HOUR  # the enforcer's host is 10 h behind
    rid = w.fake.add_resource(b.resource_id(RG, VM_TYPE, "vm-skewed"))
    event = b.eventgrid_write(rid, b.app_claims(UNKNOWN_APP))
    event["eventTime"] = "2027-01-15T08:00:00Z"  # T0, as Event Grid stamps it
    w.enforcer.handle(event)
    (row,) = w.sweep(after=60)["resources"]
    assert (row["verdict"], row["reason"]) == ("leave", "within the grace period")
    (row,) = w.sweep(after=HOUR)["resources"]
    assert row["verdict"] == "delete" and not w.fake.exists(rid)


def test_a_copied_marker_never_moves_a_deletion_to_another_resource(world_for: Any) -> None:
    w: World = world_for("  delete_dry_run: false\n")
    vm = w.create("vm-marked-for-real")
    marker = {k: v for k, v in (w.fake.tags_of(vm) or {}).items() if k.startswith("tagwarden:")}
    other = w.fake.add_resource(b.resource_id(RG, VM_TYPE, "vm-innocent"), tags=marker)
    rows = w.sweep(after=2 * HOUR)["resources"]
    assert [r["resource"] for r in rows] == [vm]
    assert w.fake.exists(other) and not w.fake.exists(vm)


# --- deleted and created again under the same id --------------------------------------------------


def write(w: World, rid: str, at: float) -> dict[str, Any]:
    """Event Grid's ResourceWriteSuccess for `rid`, stamped by ARM at `at`, handled."""
    event = b.eventgrid_write(rid, b.app_claims(UNKNOWN_APP), event_time=b.at(at, fraction=True))
    (report,) = w.enforcer.handle(event)["events"]
    return {**report, "raw": event}


def deleted(w: World, rid: str, at: float) -> dict[str, Any]:
    """Someone deletes `rid` outside tagwarden; Event Grid's ResourceDeleteSuccess, handled."""
    w.fake.delete_resource(rid)
    when = b.at(at, fraction=True)
    event = b.eventgrid_delete(rid, b.user_claims(), event_time=when, principal_type="User")
    (report,) = w.enforcer.handle(event)["events"]
    return report


def test_released_then_deleted_then_created_again_untagged_is_quarantined_again(world_for: Any) -> None:
    w: World = world_for()
    rid = w.fake.add_resource(b.resource_id(RG, VM_TYPE, "vm-reborn"))
    first = write(w, rid, T0)
    assert w.fake.power_of(rid) == "deallocated"
    person_merges(w.fake, rid, FIXED)
    (row,) = w.sweep(after=60)["resources"]
    assert (row["verdict"], row["status"]) == ("release", "done")
    assert w.fake.power_of(rid) == "running"

    # the original write, replayed after the release: nothing is quarantined again
    assert w.enforcer.handle(first["raw"])["events"][0]["kind"] == "duplicate"
    assert w.fake.power_of(rid) == "running"

    # deleted outside tagwarden: the delete event closes the record
    report = deleted(w, rid, T0 + HOUR)
    (closed,) = report["resources"]
    assert (closed["ledger"], closed["previous"], closed["state"]) == ("closed", "released", "gone")
    record = w.enforcer.ledger.get("azure", rid)
    assert record is not None and record.state.value == "gone" and "alice@contoso.com" in record.detail
    cards = len(w.teams.cards)

    # created again under the same name, untagged: a new VM, quarantined with its own grace
    w.now[0] = T0 + 2 * HOUR
    w.fake.add_resource(rid)
    again = write(w, rid, T0 + 2 * HOUR)
    (row,) = again["resources"]
    assert (row["ledger"], row["state"]) == ("renewed", "quarantined")
    assert w.fake.power_of(rid) == "deallocated"
    assert w.fake.tags_of(rid)["tagwarden:deadline"] == "2027-01-15T11:00:00Z"  # type: ignore[index]
    assert len(w.teams.cards) == cards + 1 and "Quarantined: vm-reborn" in w.teams.texts()[-1]

    # the first write, replayed now, is older than the new record: stale, nothing written
    assert w.enforcer.handle(first["raw"])["events"][0]["kind"] == "duplicate"
    assert w.fake.power_of(rid) == "deallocated"


def test_an_update_of_a_released_resource_stays_known(world_for: Any) -> None:
    """Event Grid reports every PUT: a later write of a known id that was not deleted is an update."""
    w: World = world_for()
    rid = w.fake.add_resource(b.resource_id(RG, VM_TYPE, "vm-updated"))
    write(w, rid, T0)
    person_merges(w.fake, rid, FIXED)
    w.sweep(after=60)
    released = w.enforcer.ledger.get("azure", rid)
    assert released is not None and released.state.value == "released"
    w.fake.add_resource(rid, tags={})  # someone's PUT replaces the VM's tags with none
    (row,) = write(w, rid, T0 + HOUR)["resources"]
    assert (row["ledger"], row["state"]) == ("known", "released")
    assert w.fake.power_of(rid) == "running"
    assert w.enforcer.ledger.get("azure", rid) == released


def test_a_delete_of_what_tagwarden_deleted_is_harmless(world_for: Any) -> None:
    w: World = world_for("  delete_dry_run: false\n")
    rid = w.fake.add_resource(b.resource_id(RG, VM_TYPE, "vm-doomed-twice"))
    write(w, rid, T0)
    (row,) = w.sweep(after=2 * HOUR)["resources"]
    assert (row["verdict"], row["status"]) == ("delete", "done")
    event = b.eventgrid_delete(rid, b.app_claims(OWN_PRINCIPAL), event_time=b.at(T0 + 2 * HOUR, True))
    (report,) = w.enforcer.handle(event)["events"]
    assert [(r["previous"], r["state"]) for r in report["resources"]] == [("deleted", "gone")]
    again = w.enforcer.handle(event)["events"][0]  # Event Grid delivers at least once
    assert again["kind"] == "duplicate" and "already gone" in again["skipped"]
    unknown = b.eventgrid_delete(b.resource_id(RG, VM_TYPE, "never-seen"))
    assert "not in the ledger" in w.enforcer.handle(unknown)["events"][0]["skipped"]
    assert w.sweep(after=HOUR)["resources"] == []


def test_a_late_delete_of_an_earlier_resource_never_closes_the_new_record(world_for: Any) -> None:
    """Delete and create again, the delete delivered last (Event Grid retries): the record is the
    new VM's, whose write ARM stamped after the delete, so the delete leaves it alone."""
    w: World = world_for()
    rid = w.fake.add_resource(b.resource_id(RG, VM_TYPE, "vm-late"))
    write(w, rid, T0)
    record = w.enforcer.ledger.get("azure", rid)
    assert record is not None
    from tagwarden.ledger.state import advance

    w.enforcer.ledger.update(advance(record, record.state.GONE))  # e.g. found vanished by a sweep
    w.fake.add_resource(rid)
    w.now[0] = T0 + 2 * HOUR
    assert write(w, rid, T0 + 2 * HOUR)["resources"][0]["ledger"] == "renewed"
    late = b.eventgrid_delete(rid, b.user_claims(), event_time=b.at(T0 + HOUR, fraction=True))
    report = w.enforcer.handle(late)["events"][0]
    assert "older than the record's event" in report["skipped"]
    renewed = w.enforcer.ledger.get("azure", rid)
    assert renewed is not None and renewed.state.value == "quarantined"
