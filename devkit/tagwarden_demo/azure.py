"""The Azure demo: agent identities create resources in resource groups of a local ARM (the fake,
real HTTP, the real azure-mgmt-resource client); each write is delivered as Event Grid would
deliver it to the function's code, which tags it from the rules, inheriting from the resource
group where the rules say so. Prints what happened, and fails if anything did not go as expected.
"""

from __future__ import annotations

import io
import logging
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any, TextIO

from tagwarden_demo import ledger_path
from tagwarden_testing import events as ev
from tagwarden_testing.arm_fake import ArmFake, arm_fake
from tagwarden_testing.env import environ

SUB = ev.SUBSCRIPTION
GROUPS = {
    "rg-agent-customer-support": {"CostCenter": "101"},  # "Strategy B": the group carries the cost center
    "rg-research": {"CostCenter": "205", "Outcome-ID": "OUT-9001"},
    "rg-sandbox": {},
}
SUPPORT_BOT = "11111111-2222-3333-4444-555555555555"  # the example rules map these app ids to Agent-IDs
RESEARCH_AGENT = "66666666-7777-8888-9999-000000000000"
UNKNOWN_APP = "abababab-0000-0000-0000-000000000000"
OWN = "99990000-0000-0000-0000-00000000f00d"


@dataclass
class Step:
    who: str
    what: str
    event: Callable[[ArmFake], dict[str, Any]]  # creates the resource in ARM, returns its Event Grid event
    expect: str  # action, or "skipped:<kind>"
    before: Callable[[ArmFake, dict[str, Any]], None] | None = None


def _create(
    rg: str,
    rtype: str,
    name: str,
    claims: dict[str, Any],
    tags: dict[str, str] | None = None,
    principal_type: str = "ServicePrincipal",
) -> Callable[[ArmFake], dict[str, Any]]:
    def make(fake: ArmFake) -> dict[str, Any]:
        rid = fake.add_resource(ev.resource_id(rg, rtype, name), tags=tags)
        return ev.eventgrid_write(rid, claims, principal_type=principal_type)

    return make


def steps() -> list[Step]:
    bot, research, unknown = (
        ev.app_claims(SUPPORT_BOT),
        ev.app_claims(RESEARCH_AGENT),
        ev.app_claims(UNKNOWN_APP),
    )
    alice = ev.user_claims("alice@contoso.com", "Alice")
    return [
        Step(
            "support-bot",
            "VM (inherits CostCenter)",
            _create("rg-agent-customer-support", "Microsoft.Compute/virtualMachines", "vm-support-1", bot),
            "tag-unallocated",
        ),
        Step(
            "support-bot",
            "Azure OpenAI account",
            _create(
                "rg-agent-customer-support",
                "Microsoft.CognitiveServices/accounts",
                "oai-support",
                bot,
                {"Outcome-ID": "OUT-4242"},
            ),
            "tag",
        ),
        Step(
            "research-agent",
            "AI Search service (vector store)",
            _create("rg-research", "Microsoft.Search/searchServices", "search-research", research),
            "tag",
        ),
        Step(
            "research-agent",
            "storage account (throttled once)",
            _create("rg-research", "Microsoft.Storage/storageAccounts", "stresearch01", research),
            "tag",
            before=lambda fake, e: fake.throttle(1, retry_after=1),
        ),
        Step(
            "unknown app",
            "VM in a sandbox",
            _create("rg-sandbox", "Microsoft.Compute/virtualMachines", "vm-mystery", unknown),
            "tag-unallocated",
        ),
        Step(
            "alice",
            "disk created by a person",
            _create("rg-sandbox", "Microsoft.Compute/disks", "disk-alice", alice, principal_type="User"),
            "notify",
        ),
        Step(
            "support-bot",
            "public IP deleted at once",
            _create("rg-agent-customer-support", "Microsoft.Network/publicIPAddresses", "pip-gone", bot),
            "vanished",
            before=lambda fake, e: fake.delete_resource(e["data"]["resourceUri"]),
        ),
    ]


def run(out: TextIO = sys.stdout) -> int:
    logging.getLogger("tagwarden.azure").propagate = False  # the table says it; records go to a buffer
    log = io.StringIO()
    logging.getLogger("tagwarden.azure").addHandler(logging.StreamHandler(log))
    rules = resources.files("tagwarden") / "examples" / "rules.yaml"
    rows: list[tuple[str, ...]] = []
    problems: list[str] = []
    with (
        arm_fake() as fake,
        resources.as_file(rules) as rules_file,
        environ(
            TAGWARDEN_RULES_PATH=str(rules_file),
            TAGWARDEN_ARM_ENDPOINT=fake.endpoint,
            TAGWARDEN_OWN_PRINCIPAL_IDS=OWN,
            TAGWARDEN_LEDGER=ledger_path(),
        ),
    ):
        for rg, tags in GROUPS.items():
            fake.add_resource_group(SUB, rg, tags)
        from tagwarden.azure import handler

        handler._ENFORCER = None
        first: dict[str, Any] | None = None
        for step in steps():
            event = step.event(fake)
            first = first or event
            created = time.time()
            if step.before:
                step.before(fake, event)
            report = handler.handle([event])["events"][0]
            for res in report["resources"]:
                ms = f"{(res['tagged_at'] - created) * 1000:.0f} ms" if res.get("tagged_at") else "-"
                got = res["outcome"] if step.expect == "vanished" else res["action"]
                if got != step.expect:
                    problems.append(f"{step.what}: got {got}, expected {step.expect}")
                now = fake.tags_of(res["resource"]) or {}
                shown = ", ".join(f"{k}={v}" for k, v in now.items() if not k.startswith("tagwarden:"))
                rows.append((step.who, step.what, res["action"], res["outcome"], shown or "-", ms))
        assert first is not None
        rid = first["data"]["resourceUri"]
        writes_before = len(fake.calls("PATCH"))
        echoes = [
            (
                "our own tag write comes back",
                ev.eventgrid_write(
                    rid + "/providers/Microsoft.Resources/tags/default",
                    ev.app_claims("tagwarden", object_id=OWN),
                    operation="Microsoft.Resources/tags/write",
                ),
            ),
            ("same deployment's second event", {**first, "id": str(uuid.uuid4())}),
            ("an update later, tags in place", ev.eventgrid_write(rid, ev.app_claims(SUPPORT_BOT))),
        ]
        for what, event in echoes:
            report = handler.handle([event])["events"][0]
            outcome = report.get("skipped") or ", ".join(r["outcome"] for r in report["resources"])
            rows.append(
                ("-", what, report.get("kind") or report["resources"][0]["action"], outcome, "-", "-")
            )
        if len(fake.calls("PATCH")) != writes_before:
            problems.append("an echo of our own write caused another write")
        handler._ENFORCER = None  # it points at this run's ARM fake
    _print(out, rows, problems, log.getvalue())
    return 1 if problems else 0


def _print(out: TextIO, rows: list[tuple[str, ...]], problems: list[str], log: str) -> None:
    head = ("creator", "what", "action", "outcome", "tags on the resource now", "create->tag")
    table = [head, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    out.write(
        "Azure (local ARM over real HTTP, azure-mgmt-resource): Event Grid events -> the function's code\n\n"
    )
    for r in table:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() + "\n")
    records = [line for line in log.splitlines() if line.startswith("{")]
    out.write(
        f"\n{len(records)} structured log records. Tag writes use the Tags API with operation Merge only.\n"
    )
    if problems:
        out.write("\nPROBLEMS:\n" + "".join(f"  - {p}\n" for p in problems))
    else:
        out.write("Every resource ended as the rules say.\n")
