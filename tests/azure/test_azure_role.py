"""The Azure lifecycle's custom role, measured: the lifecycle end to end on the ARM fake
(quarantine, release after a person fixes the tags, delete at the deadline with the NIC it leaves),
every request recorded, each mapped to its ARM operation; every write must be in the custom role
of infra/azure/modules/subscription-roles.bicep (tags writes: Tag Contributor; reads: Reader), and
the role must hold nothing the lifecycle does not call."""

from __future__ import annotations

import os
import re
from pathlib import Path

from test_azure_lifecycle_e2e import (
    FIXED,
    HOUR,
    NIC_TYPE,
    OWN_PRINCIPAL,
    RG,
    SUB,
    T0,
    UNKNOWN_APP,
    person_merges,
    rules_text,
    vm_profile,
)

from tagwarden.azure.arm import ArmClient
from tagwarden.azure.enforcer import build, build_sweeper
from tagwarden.azure.quarantine import ACTIONS
from tagwarden_testing.arm_fake import Request, arm_fake

import builders as b
from conftest import ROOT

ROLE_FILE = ROOT / "infra" / "azure" / "modules" / "subscription-roles.bicep"
GROUP_ROLE_FILE = ROOT / "infra" / "azure" / "policy" / "join-subscriptions.bicep"
TAG_CONTRIBUTOR = ("Microsoft.Resources/tags/",)


def operation(request: Request) -> str:
    """The ARM operation (RBAC action) a request needs, from its method and path."""
    path = request.path.rstrip("/")
    if "/providers/microsoft.resources/tags/" in path.lower():
        return "Microsoft.Resources/tags/" + ("read" if request.method == "GET" else "write")
    parts = path.split("/providers/")[-1].split("/")
    namespace, rtype, rest = parts[0], parts[1], parts[3:]
    while len(rest) >= 2:  # child resources: type/name pairs
        rtype += "/" + rest[0]
        rest = rest[2:]
    if rest:  # an action or a sub-read (instanceView)
        suffix = "read" if request.method == "GET" else "action"
        return f"{namespace}/{rtype}/{rest[0]}/{suffix}"
    verb = {"GET": "read", "DELETE": "delete"}.get(request.method, "write")
    return f"{namespace}/{rtype}/{verb}"


def role_actions() -> set[str]:
    text = ROLE_FILE.read_text()
    block = text[text.index("actions: [") : text.index("notActions")]
    return set(re.findall(r"'([^']+)'", block))


def test_the_custom_role_holds_exactly_the_writes_the_lifecycle_makes(tmp_path: Path) -> None:
    with arm_fake() as fake:
        fake.add_resource_group(SUB, RG, {})
        path = tmp_path / "rules.yaml"
        path.write_text(rules_text("  delete_dry_run: false\n"))
        env = {
            "TAGWARDEN_LEDGER": os.environ["TAGWARDEN_LEDGER"], "TAGWARDEN_RULES_PATH": str(path),
            "TAGWARDEN_OWN_PRINCIPAL_IDS": OWN_PRINCIPAL,
            "TAGWARDEN_SUBSCRIPTIONS": SUB,
            "TAGWARDEN_MARKER_KEY": "k",
        }
        arm = ArmClient.local(fake.endpoint, sleep=lambda s: None)
        now = [T0]
        enforcer, sweeper = build(env, arm=arm), build_sweeper(env, arm=arm)
        enforcer.clock = sweeper.clock = lambda: now[0]

        def create(name: str, rtype: str = "Microsoft.Compute/virtualMachines", **props: object) -> str:
            rid = fake.add_resource(b.resource_id(RG, rtype, name), properties=props or None)
            enforcer.handle(b.eventgrid_write(rid, b.app_claims(UNKNOWN_APP)))
            return rid

        nic = create("nic-doomed", NIC_TYPE)
        create("vm-doomed", **vm_profile("vm-doomed", nic=nic))
        fixed = create("vm-fixed", **vm_profile("vm-fixed"))
        person_merges(fake, fixed, FIXED)
        now[0] += 60
        sweeper.run()  # releases vm-fixed
        now[0] += 2 * HOUR
        sweeper.run()  # deletes vm-doomed, then its NIC
        recorded = {operation(r) for r in fake.calls() if r.status < 400}

    writes = {op for op in recorded if not op.endswith("/read")}
    granted = role_actions()
    assert {
        "Microsoft.Compute/virtualMachines/deallocate/action",
        "Microsoft.Compute/virtualMachines/start/action",
        "Microsoft.Compute/virtualMachines/delete",
        "Microsoft.Network/networkInterfaces/delete",
    } <= writes
    unexplained = {op for op in writes if op not in granted and not op.startswith(TAG_CONTRIBUTOR)}
    assert not unexplained, f"writes the Bicep roles do not grant: {sorted(unexplained)}"
    assert granted <= writes, f"the custom role holds actions the lifecycle never calls: {granted - writes}"
    assert granted == {a for a in ACTIONS if not a.endswith("/read")}


def group_role_reads() -> set[str]:
    """The reads the management group's app role names (besides its */read)."""
    text = GROUP_ROLE_FILE.read_text()
    block = text[text.index("resource appRole") : text.index("resource joinDefinition")]
    block = "\n".join(line.split("//")[0] for line in block.splitlines())  # comments out
    return {a for a in re.findall(r"'([^']+)'", block) if a.endswith("/read") and a != "*/read"}


def test_the_group_role_names_exactly_the_reads_the_membership_gate_makes() -> None:
    group, member = "mg-agents", "bbbbbbbb-1111-2222-3333-444444444444"
    with arm_fake() as fake:
        fake.add_resource_group(member, RG, {})
        fake.set_management_group(group, [member])
        env = {
            "TAGWARDEN_LEDGER": os.environ["TAGWARDEN_LEDGER"],
            "TAGWARDEN_RULES_PATH": str(ROOT / "functions" / "tagwarden" / "examples" / "rules.yaml"),
            "TAGWARDEN_MANAGEMENT_GROUP": group,
        }
        arm = ArmClient.local(fake.endpoint, sleep=lambda s: None)
        sweeper = build_sweeper(env, arm=arm)
        assert sweeper.gate is not None and sweeper.gate.allows(member)
        recorded = {operation(r) for r in fake.calls() if r.status < 400}
    assert recorded == {"Microsoft.Management/managementGroups/descendants/read"}
    assert group_role_reads() == recorded
