"""Semantic checks on a rules file: what the shape alone cannot say (cross-references, the clouds'
tag limits, values a tag would reject).

Each check is a small function in `CHECKS` (or, for one catalogue tag, in `TAG_CHECKS`) that yields
(key path, message) problems; the loader turns the paths into lines. A new section of the rules
file adds its checks to these tables. Checks run only on parts whose shape is right, so one pass
reports every problem without tripping over a broken value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from tagwarden.attribution.limits import LIMITS, TagLimits
from tagwarden.attribution.regex import compile_user
from tagwarden.rules.compile import compile_tag
from tagwarden.rules.errors import KeyPath, did_you_mean
from tagwarden.rules.schema import Problem


@dataclass(frozen=True, slots=True)
class Doc:
    """The document under check and where its shape is broken."""

    data: dict[str, Any]
    broken: set[KeyPath]  # paths of shape errors, cut to 3 levels

    def ok(self, path: KeyPath) -> bool:
        """True when no shape error lies at or below `path` (paths are compared on 3 levels)."""
        return not any(b[: len(path)] == path[:3] for b in self.broken)

    @property
    def tags(self) -> dict[str, Any]:
        tags = self.data.get("tags")
        return tags if isinstance(tags, dict) else {}

    @property
    def rules(self) -> list[Any]:
        rules = self.data.get("rules")
        return rules if isinstance(rules, list) else []


Check = Callable[[Doc], Iterator[Problem]]
TagCheck = Callable[[str, dict[str, Any]], Iterator[Problem]]  # (key, its spec) of a well-formed tag


def semantic_problems(data: dict[str, Any], broken: set[KeyPath]) -> list[Problem]:
    """Every check's problems, in table order (the order messages on one key path are listed in)."""
    doc = Doc(data, broken)
    return [problem for check in CHECKS for problem in check(doc)]


def _per_cloud(problem_of: Callable[[TagLimits], str | None]) -> Iterator[str]:
    """`problem (cloud)` for each cloud whose limits reject something."""
    for provider, limits in LIMITS.items():
        if (msg := problem_of(limits)) is not None:
            yield f"{msg} ({provider.value})"


# --- one catalogue tag --------------------------------------------------------------------------------


def _key_accepted(key: str, spec: dict[str, Any]) -> Iterator[Problem]:
    for msg in _per_cloud(lambda limits: limits.key_problem(key)):
        yield ("tags", key), msg


def _lengths_ordered(key: str, spec: dict[str, Any]) -> Iterator[Problem]:
    if "min_length" in spec and "max_length" in spec and spec["min_length"] > spec["max_length"]:
        yield ("tags", key, "min_length"), "is greater than max_length"


def _defaults_valid(key: str, spec: dict[str, Any]) -> Iterator[Problem]:
    """A plain `default` (no map, no pattern) is written as is: it must pass the tag's own checks."""
    probe = compile_tag(key, {**spec, "sources": []})
    for i, src in enumerate(spec.get("sources", [])):
        plain_default = "default" in src and "map" not in src and "pattern" not in src
        if plain_default and (msg := probe.problem(str(src["default"]))) is not None:
            yield ("tags", key, "sources", i, "default"), f"the default is not a valid {key}: {msg}"


def _allowed_match_pattern(key: str, spec: dict[str, Any]) -> Iterator[Problem]:
    pattern = compile_user(spec["pattern"]) if spec.get("pattern") else None  # what enforces it: RE2
    for i, value in enumerate(spec.get("allowed", [])):
        if pattern is not None and not pattern.fullmatch(str(value)):
            yield ("tags", key, "allowed", i), f"{value!r} does not match the tag's own pattern"


TAG_CHECKS: tuple[TagCheck, ...] = (_key_accepted, _lengths_ordered, _defaults_valid, _allowed_match_pattern)


def _each_tag(doc: Doc) -> Iterator[Problem]:
    for key, spec in doc.tags.items():
        if doc.ok(("tags", key)):
            for check in TAG_CHECKS:
                yield from check(key, spec)


# --- across the file ----------------------------------------------------------------------------------


def _keys_distinct_on_azure(doc: Doc) -> Iterator[Problem]:
    by_name: dict[str, str] = {}
    for key in doc.tags:
        other = by_name.setdefault(key.lower(), key)
        if other != key:
            yield (
                ("tags", key),
                f"{key!r} and {other!r} are one tag on Azure, which ignores case in tag names",
            )


def _named_rules(doc: Doc) -> Iterator[tuple[int, dict[str, Any]]]:
    """(index, rule) for the rules that are mappings with a string id."""
    for i, rule in enumerate(doc.rules):
        if isinstance(rule, dict) and isinstance(rule.get("id"), str):
            yield i, rule


def _rule_ids_unique(doc: Doc) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for i, rule in _named_rules(doc):
        rid = rule["id"]
        if rid in seen:
            yield ("rules", i, "id"), f"rule id {rid!r} is used twice (also rules[{seen[rid]}])"
        seen.setdefault(rid, i)


def _required_tags_known(doc: Doc) -> Iterator[Problem]:
    tags = doc.tags
    for i, rule in _named_rules(doc):
        require = rule.get("require")
        for j, key in enumerate(require if isinstance(require, list) else []):
            if isinstance(key, str) and tags and key not in tags:
                yield (
                    ("rules", i, "require", j),
                    f"{key!r} is not in the tag catalogue{did_you_mean(key, tags)}",
                )


def _unallocated_accepted(doc: Doc) -> Iterator[Problem]:
    unallocated = doc.data.get("unallocated_value")
    if isinstance(unallocated, str) and doc.ok(("unallocated_value",)):
        for msg in _per_cloud(lambda limits: limits.value_problem(unallocated)):
            yield ("unallocated_value",), msg


def _stamp_keys_accepted(doc: Doc) -> Iterator[Problem]:
    stamp = doc.data.get("stamp")
    if isinstance(stamp, dict) and doc.ok(("stamp",)):
        key = stamp.get("prefix", "tagwarden:") + "created-at"
        for msg in _per_cloud(lambda limits: limits.key_problem(key)):
            yield ("stamp", "prefix"), f"stamp keys would be rejected: {msg}"


def _catalogue_entries_distinct(doc: Doc) -> Iterator[Problem]:
    entries = doc.data.get("catalogue")
    seen: dict[tuple[Any, Any], int] = {}
    for i, entry in enumerate(entries if isinstance(entries, list) else []):
        if not isinstance(entry, dict) or not doc.ok(("catalogue", i)):
            continue
        key = (entry.get("event_source"), entry.get("event_name"))
        if key in seen:
            yield ("catalogue", i), f"{key[0]} {key[1]} is defined twice (also catalogue[{seen[key]}])"
        seen.setdefault(key, i)


CHECKS: tuple[Check, ...] = (
    _each_tag,
    _keys_distinct_on_azure,
    _rule_ids_unique,
    _required_tags_known,
    _unallocated_accepted,
    _stamp_keys_accepted,
    _catalogue_entries_distinct,
)
