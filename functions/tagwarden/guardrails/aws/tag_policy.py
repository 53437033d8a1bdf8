"""An AWS Organizations tag policy: the catalogue's key casing and allowed values; blocking
(`enforced_for`) only where a deny that applies to every caller agrees with the rules."""

from __future__ import annotations

from typing import Any

from tagwarden.guardrails import actions as tables
from tagwarden.guardrails.aws.options import TAG_POLICY_LIMIT, TAG_POLICY_MAX
from tagwarden.guardrails.aws.packing import minified
from tagwarden.guardrails.aws.preventable import Coverage
from tagwarden.guardrails.common import DoesNotFit, Verdict, applies_on, blanket_verdict
from tagwarden.model import Action, Provider
from tagwarden.rules.model import Rule, RuleSet, TagSpec


def tag_policies(rules: RuleSet, cov: Coverage) -> tuple[list[dict[str, Any]], list[str]]:
    """The tag policy documents (split to fit the size limit) and notes on what they cannot say."""
    notes: list[str] = []
    enforceable = _enforceable_types(rules, cov)
    unallocated = any(r.on_missing is Action.TAG_UNALLOCATED for r in _aws_rules(rules))
    entries = {
        key.lower(): _entry(key, spec, rules, enforceable, unallocated, notes)
        for key, spec in rules.tags.items()
    }
    return _documents(entries), notes


def _enforceable_types(rules: RuleSet, cov: Coverage) -> list[str]:
    """The tag policy resource types of the catalogue's created types, less the exempt ones."""
    exempt_rx = rules.exemptions.resource_types
    return sorted(
        {
            t
            for e in cov.events
            for c in e.created
            if not (exempt_rx is not None and exempt_rx.match(c))
            and (t := tables.tag_policy_type(tables.iam_action(e.source, e.event).action.split(":")[0], c))
        }
    )


def _entry(
    key: str, spec: TagSpec, rules: RuleSet, enforceable: list[str], unallocated: bool, notes: list[str]
) -> dict[str, Any]:
    body: dict[str, Any] = {"tag_key": {"@@assign": key}}
    verdict = blanket_verdict(rules, Provider.AWS, key) if spec.required else Verdict(False, "optional tag")
    values = sorted(spec.allowed) if spec.allowed is not None else None
    if values is not None and verdict.deny and unallocated:
        values = sorted({*values, rules.unallocated_value})
    if values is not None:
        body["tag_value"] = {"@@assign": values}
        if spec.allowed_folded is not None:
            notes.append(f"{key}: tag policies compare values with their case; the rules ignore it")
    if verdict.deny and enforceable:
        body["enforced_for"] = {"@@assign": enforceable}
    else:
        notes.append(f"tag policy for {key}: reporting only ({verdict.reason})")
    return body


def _documents(entries: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The entries in as few documents of at most TAG_POLICY_LIMIT characters as it takes."""
    docs: list[dict[str, Any]] = [{"tags": {}}]
    for key, body in entries.items():
        candidate = {"tags": {**docs[-1]["tags"], key: body}}
        if len(minified(candidate)) > TAG_POLICY_LIMIT and docs[-1]["tags"]:
            docs.append({"tags": {key: body}})
        else:
            docs[-1] = candidate
        if len(minified(docs[-1])) > TAG_POLICY_LIMIT:
            raise DoesNotFit(f"tag policy for {key} alone is over {TAG_POLICY_LIMIT:,} characters")
    if len(docs) > TAG_POLICY_MAX:
        raise DoesNotFit(f"the tag policy needs {len(docs)} documents, more than {TAG_POLICY_MAX}")
    return docs


def _aws_rules(rules: RuleSet) -> list[Rule]:
    return [r for r in (*rules.rules, rules.default_rule) if applies_on(r, Provider.AWS)]
