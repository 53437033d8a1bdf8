"""The `explain` report: the stable JSON contract users script against, and its text rendering.

{"provider", "event_id", "event_name", "actor", "resources", "decisions", "skipped", "mode", "changes"}
"""

from __future__ import annotations

from typing import Any

from tagwarden.attribution.context import Lookups
from tagwarden.cli.normalize import normalize
from tagwarden.decide import decide
from tagwarden.model import CreationEvent, Skipped
from tagwarden.plan import plan
from tagwarden.rules.model import RuleSet


def report(result: CreationEvent | Skipped, rules: RuleSet, lookups: Lookups) -> dict[str, Any]:
    if isinstance(result, Skipped):
        return {
            "provider": result.provider.value if result.provider else None,
            "event_id": result.event_id,
            "event_name": result.event_name,
            "actor": None,
            "resources": [],
            "decisions": [],
            "skipped": result.reason,
            "mode": rules.mode.value,
            "changes": [],
        }
    decisions = decide(result, rules, lookups)
    return {
        "provider": result.provider.value,
        "event_id": result.event_id,
        "event_name": result.event_name,
        "actor": result.actor.to_json(),
        "resources": [r.to_json() for r in result.resources],
        "decisions": [d.to_json() for d in decisions],
        "skipped": None,
        "mode": rules.mode.value,
        "changes": [e.to_json() for e in plan(decisions, rules.mode)],
    }


def explain_events(raw: Any, rules: RuleSet, lookups: Lookups) -> list[dict[str, Any]]:
    """Reports for the events in `raw`; the rules file's `catalogue:` entries teach the AWS reader
    (ValueError when one names a tagger the tagger table lacks)."""
    from tagwarden.aws.catalogue import user

    with user.using(rules.catalogue):
        return [report(r, rules, lookups) for r in normalize(raw)]


def render_text(reports: list[dict[str, Any]]) -> str:
    lines: list[str] = []
    for rep in reports:
        head = f"{rep['provider'] or '?'} {rep['event_name'] or '?'} (event {rep['event_id'] or '?'})"
        if rep["skipped"]:
            lines.append(f"{head}: skipped: {rep['skipped']}")
            continue
        actor = rep["actor"]
        who = actor.get("arn") or actor.get("upn") or actor.get("app_id") or actor.get("object_id") or "?"
        audit = rep["mode"] == "audit"
        mode_note = "audit: nothing would be changed" if audit else "enforce"
        lines.append(f"{head} by {actor['kind']} {who}  [mode {mode_note}]")
        for d in rep["decisions"]:
            lines += _decision_lines(d, "would write" if audit else "write")
    return "\n".join(lines) + "\n"


def _decision_lines(d: dict[str, Any], write: str) -> list[str]:
    res = d["resource"]
    action = f"    action: {d['action']}" + (f"  (rule {d['rule']})" if d["rule"] else "")
    if d["unresolved"]:
        action += f"  -- offline guess: {len(d['unresolved'])} lookup(s) unresolved, see below"
    lines = [f"  {res['type']}  {res['id']}", action]
    if d["exemption"]:
        lines.append(f"    exempt: {d['exemption']}")
    for key, source in d["sources"].items():
        if key in d["tags"]:
            lines.append(f"    {write:<7} {key} = {d['tags'][key]!r}  ({source})")
        else:
            lines.append(f"    keep    {key}  (already on the resource)")
    lines += [f"    missing {p['key']}: {p['reason']}" for p in d["missing"]]
    lines += [f"    invalid {p['key']}: {p['reason']}" for p in d["invalid"]]
    if d["grace_seconds"] is not None:
        lines.append(f"    grace   {d['grace_seconds']}s")
    lines += [f"    unresolved: {u}" for u in d["unresolved"]]
    if d["unresolved"]:
        lines.append("    (answer them with --lookups FILE or --*-tag flags for the real decision)")
    return lines
