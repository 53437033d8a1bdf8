"""Runaway agents on Azure end to end: Event Grid events into the enforcer, the real SDK against the
local ARM fake, a local Teams webhook; counts in the worker's store (the Azure Table store has its
own tests against Azurite). Azure's chosen action: alert (no brake,
see README) and quarantine-new: an agent app creating VMs past its limit gets one alert saying no
brake is applied, and every VM it creates while over the limit is deallocated and marked at once.
A second agent under its limit is untouched."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tagwarden.azure.arm import ArmClient
from tagwarden.azure.enforcer import build
from tagwarden_testing.arm_fake import arm_fake

import builders as b

pytestmark = pytest.mark.e2e
SUB = b.SUBSCRIPTION
RG = "rg-agents"
RUNAWAY_APP = "11111111-0000-0000-0000-00000000a11a"
CALM_APP = "22222222-0000-0000-0000-00000000ca1b"
VM = "Microsoft.Compute/virtualMachines"
RULES = f"""
version: 1
mode: enforce
tags:
  Agent-ID:
    sources: [{{actor: app_id, map: {{"{RUNAWAY_APP}": planner, "{CALM_APP}": summariser}}}}]
rules:
  - {{id: agents, on_missing: notify}}
limits:
  checks:
    - id: vm-burst
      match: {{resource_type: "{VM}"}}
      per: {{tag: Agent-ID}}
      creates: 3
      window: 10m
      actions: [alert, brake, quarantine-new]
      grace: 1h
"""


@pytest.fixture
def cards() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/workflows/x/run?sig=secret", got
    finally:
        server.shutdown()
        server.server_close()


def texts(card: dict[str, Any]) -> str:
    body = card["attachments"][0]["content"]["body"]
    parts = [str(x.get("text", "")) for block in body for x in [block, *block.get("items", [])]]
    return "\n".join(parts)


def test_agent_over_its_vm_limit_is_alerted_once_and_its_new_vms_quarantined(
    cards: tuple[str, list[dict[str, Any]]], tmp_path: Path
) -> None:
    url, got = cards
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    with arm_fake() as fake:
        fake.add_resource_group(SUB, RG, {})
        env = {"TAGWARDEN_LEDGER": os.environ["TAGWARDEN_LEDGER"], "TAGWARDEN_RULES_PATH": str(rules), "TAGWARDEN_TEAMS_WEBHOOK_URL": url}
        enforcer = build(env, arm=ArmClient.local(fake.endpoint, sleep=lambda s: None))

        def create(app: str, name: str) -> str:
            rid = fake.add_resource(b.resource_id(RG, VM, name))
            enforcer.handle(b.eventgrid_write(rid, b.app_claims(app)))
            return rid

        planner = [create(RUNAWAY_APP, f"planner-{i}") for i in range(6)]
        calm = [create(CALM_APP, f"summariser-{i}") for i in range(3)]

    runaway = [c for c in got if "Runaway agent" in texts(c)]
    assert len(runaway) == 1  # the 4th VM crossed 3 per 10 minutes; no storm after it
    text = texts(runaway[0])
    assert "Agent-ID=planner" in text and "limit vm-burst" in text
    assert "This cloud has no brake: alert only" in text
    assert [fake.power_of(vm) for vm in planner] == ["running"] * 3 + ["deallocated"] * 3
    for vm in planner[3:]:
        tags = fake.tags_of(vm) or {}
        assert tags["Agent-ID"] == "planner" and tags["tagwarden:quarantine"] == "quarantined"
    assert [fake.power_of(vm) for vm in calm] == ["running"] * 3  # under its limit: untouched
    assert all("tagwarden:quarantine" not in (fake.tags_of(vm) or {}) for vm in calm)
