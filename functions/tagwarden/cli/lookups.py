"""The offline lookups file for `explain` and `replay`: checked like a rules file, per principal.

    principals:                # tags of each calling principal: role ARN, user ARN, Azure app id
      arn:aws:iam::111122223333:role/agent-fleet-support: {CostCenter: "101"}
      "arn:aws:iam::*:role/agent-*": {Team: agents}     # globs: the first match wins
    principal_tags: {CostCenter: "205"}                 # any principal not listed above
    containers:                # tags of resource groups / subscriptions / accounts, by id or scope
      /subscriptions/0000/resourceGroups/rg-agents: {CostCenter: "101"}
      account: {Owner: platform}
    resources:                 # tags already on a resource, by id ("*": any)
      arn:aws:s3:::my-bucket: {Agent-ID: "7"}

Unknown keys and tag names the rules do not know are errors with their line, like a rules file.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from typing import Any

from msgspec import field

from tagwarden.attribution.context import Scope, StaticLookups
from tagwarden.model import Actor, Provider, Resource
from tagwarden.rules.errors import RulesError, RulesProblem, did_you_mean

TOP_KEYS = ("principals", "principal_tags", "containers", "resources")
SCOPES = tuple(str(s) for s in Scope)


class FileLookups(StaticLookups):
    """StaticLookups with per-principal tags (exact ARN or id first, then globs in file order)."""

    principals: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def principal_tags(self, provider: Provider, actor: Actor) -> Mapping[str, str] | None:
        ids = [v for v in (actor.role_arn, actor.arn, actor.app_id, actor.object_id, actor.upn) if v]
        for value in ids:
            if value in self.principals:
                return self.principals[value]
        for pattern, tags in self.principals.items():
            if any(fnmatch.fnmatchcase(value, pattern) for value in ids):
                return tags
        return self.principal

    def resource_tags(self, provider: Provider, resource: Resource) -> Mapping[str, str] | None:
        return self.resources.get(resource.id, self.resources.get("*"))


def parse(text: str, filename: str, tag_names: Iterable[str]) -> FileLookups:
    """Parse and check a lookups file; RulesError lists every problem with its line."""
    from tagwarden.rules.yamlpos import load_located

    located, problems = load_located(text, filename)
    if problems:
        raise RulesError(problems)
    data = located.data if located.data is not None else {}
    found: list[tuple[tuple[str | int, ...], str]] = []
    known = set(tag_names)
    if not isinstance(data, dict):
        raise RulesError([RulesProblem(filename, 1, (), f"expected a mapping with {', '.join(TOP_KEYS)}")])
    for key in data:
        if key not in TOP_KEYS:
            found.append(((key,), f"unknown key {key!r}{did_you_mean(str(key), TOP_KEYS)}"))
    principal = _tags(data.get("principal_tags"), ("principal_tags",), known, found)
    nested = {
        name: _nested(data.get(name), name, known, found)
        for name in ("principals", "containers", "resources")
    }
    if found:
        raise RulesError([RulesProblem(filename, located.line_of(path), path, msg) for path, msg in found])
    return FileLookups(
        principal=principal if "principal_tags" in data else None,
        containers=nested["containers"],
        resources=nested["resources"],
        principals=nested["principals"],
    )


def _nested(
    value: Any, name: str, known: set[str], found: list[tuple[tuple[str | int, ...], str]]
) -> dict[str, Mapping[str, str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        found.append(((name,), "expected a mapping of id -> tags"))
        return {}
    out: dict[str, Mapping[str, str]] = {}
    for ident, tags in value.items():
        out[str(ident)] = _tags(tags, (name, str(ident)), known, found)
    return out


def _tags(
    value: Any, path: tuple[str, ...], known: set[str], found: list[tuple[tuple[str | int, ...], str]]
) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        found.append((path, "expected a mapping of tag name -> value"))
        return {}
    out: dict[str, str] = {}
    for key, tag_value in value.items():
        if known and key not in known:
            found.append(
                ((*path, key), f"tag {key!r} is not in the rules' tags{did_you_mean(str(key), known)}")
            )
            continue
        if isinstance(tag_value, (dict, list)) or tag_value is None:
            found.append(((*path, key), "expected a tag value (a string)"))
            continue
        out[str(key)] = str(tag_value)
    return out
