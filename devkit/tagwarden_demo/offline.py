"""The offline demo: sample events -> normalize -> decide -> plan, printed as a table."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from importlib import resources
from typing import TextIO

from tagwarden.attribution.context import Scope
from tagwarden.cli.normalize import normalize
from tagwarden.decide import decide
from tagwarden.model import Actor, Provider, Resource, Skipped
from tagwarden.plan import plan
from tagwarden.rules import load_rules
from tagwarden.rules.model import RuleSet

# What IAM and ARM would answer in the demo's pretend organisation.
PRINCIPAL_TAGS: Mapping[str, Mapping[str, str]] = {
    "agent-fleet-support": {"Outcome-ID": "OUT-7001"},
    "agent-fleet-adhoc": {},
    "sso-developer": {},
}
CONTAINER_TAGS: Mapping[str, Mapping[str, str]] = {
    "rg-agent-customer-support": {"CostCenter": "101", "Outcome-ID": "OUT-4242"},
    "rg-sandbox": {},
}


class DemoDirectory:
    """Lookups answered from the tables above (the Lookups port, offline)."""

    def principal_tags(self, provider: Provider, actor: Actor) -> Mapping[str, str] | None:
        return PRINCIPAL_TAGS.get(actor.role_name or "", {})

    def container_tags(self, provider: Provider, scope: Scope, scope_id: str) -> Mapping[str, str] | None:
        return CONTAINER_TAGS.get(scope_id.rsplit("/", 1)[-1], {})

    def resource_tags(self, provider: Provider, resource: Resource) -> Mapping[str, str] | None:
        return {}  # freshly created Azure resources in the demo carry no tags


def run(out: TextIO = sys.stdout, prefix: str = "") -> int:
    """Decide every sample event whose file name starts with `prefix`."""
    examples = resources.files("tagwarden") / "examples"
    with resources.as_file(examples / "rules.yaml") as path:
        rules: RuleSet = load_rules(path, env={})
    lookups = DemoDirectory()
    rows: list[tuple[str, ...]] = []
    changes = 0
    for item in sorted((examples / "events").iterdir(), key=lambda p: p.name):
        if not item.name.startswith(prefix):
            continue
        for result in normalize(json.loads(item.read_text(encoding="utf-8"))):
            if isinstance(result, Skipped):
                rows.append((item.name, "-", "-", "skipped", result.reason[:60]))
                continue
            decisions = decide(result, rules, lookups)
            changes += len(plan(decisions, rules.mode))
            who = result.actor.session_name or result.actor.app_id or result.actor.upn or "?"
            for d in decisions:
                written = ", ".join(f"{k}={v}" for k, v in d.tags.items() if not k.startswith("tagwarden:"))
                missing = ", ".join(p.key for p in (*d.missing, *d.invalid))
                detail = (written or "-") + (f"  | missing: {missing}" if missing else "")
                rows.append((item.name, d.resource.type, who, d.action.value, detail))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    header = ("event file", "resource type", "creator", "action", "tags written / missing")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=False)]
    for row in (header, *rows):
        out.write("  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4] + "\n")
    mode = rules.mode.value
    out.write(f"\n{len(rows)} rows, {changes} planned changes (mode {mode}, offline: nothing was changed)\n")
    return 0
