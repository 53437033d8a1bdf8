"""Read a rules file: YAML with positions, ${ENV} substitution, schema validation, semantic checks,
then compile. Every problem in the file is reported at once, each with file, line and key path."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tagwarden.attribution.limits import LIMITS
from tagwarden.attribution.sources import SOURCE_KINDS, Source
from tagwarden.model import Action
from tagwarden.rules.envsubst import substitute
from tagwarden.rules.errors import KeyPath, RulesError, RulesProblem, did_you_mean
from tagwarden.rules.match import MATCH_FIELDS, Matcher, compile_globs
from tagwarden.rules.model import (
    Exemptions,
    Lifecycle,
    Mode,
    Notifications,
    Overwrite,
    Rule,
    RuleSet,
    Stamp,
    TagSpec,
)
from tagwarden.rules.schema import Problem, parse_duration
from tagwarden.rules.spec import SPEC
from tagwarden.rules.yamlpos import Located, load_located

DEFAULT_ON_MISSING = "notify"
DEFAULT_GRACE = "24h"


def load_rules(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> RuleSet:
    """Load and compile a rules file; raises RulesError listing every problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError([RulesProblem(str(path), None, (), f"cannot read the file: {exc}")]) from exc
    return load_rules_text(text, str(path), env)


def load_rules_text(text: str, filename: str = "<rules>", env: Mapping[str, str] | None = None) -> RuleSet:
    located, problems = load_located(text, filename)
    if problems:
        raise RulesError(problems)
    if located.data is None:
        raise RulesError(
            [RulesProblem(filename, 1, (), "the file is empty; expected a mapping with version and tags")]
        )

    env_errors: list[tuple[KeyPath, str]] = []
    data = substitute(located.data, os.environ if env is None else env, (), env_errors)
    found: list[Problem] = list(env_errors)
    SPEC.check(data, (), found)
    if isinstance(data, dict):
        # Cross-checks run on the parts whose shape is right, so one pass reports everything.
        broken = {path[:3] for path, _ in found}
        _semantic_checks(data, broken, found)
    if found:
        raise RulesError([_locate(located, filename, path, msg) for path, msg in found])
    return _compile(data, filename)


def _locate(located: Located, filename: str, path: KeyPath, msg: str) -> RulesProblem:
    return RulesProblem(filename, located.line_of(path), path, msg)


def _ok(broken: set[KeyPath], path: KeyPath) -> bool:
    """True when no shape error lies at or below `path` (paths are compared on 3 levels)."""
    return not any(b[: len(path)] == path[:3] for b in broken)


def _semantic_checks(data: dict[str, Any], broken: set[KeyPath], out: list[Problem]) -> None:
    """What the shape alone cannot say: cross-references, limits, values a tag would reject."""
    tags = data.get("tags") if isinstance(data.get("tags"), dict) else {}
    assert isinstance(tags, dict)
    for key, spec in tags.items():
        if not _ok(broken, ("tags", key)):
            continue
        for provider, limits in LIMITS.items():
            if (msg := limits.key_problem(key)) is not None:
                out.append((("tags", key), f"{msg} ({provider.value})"))
        if "min_length" in spec and "max_length" in spec and spec["min_length"] > spec["max_length"]:
            out.append((("tags", key, "min_length"), "is greater than max_length"))
        probe = _compile_tag(key, {**spec, "sources": []})
        for i, src in enumerate(spec.get("sources", [])):
            plain_default = "default" in src and "map" not in src and "pattern" not in src
            if plain_default and (msg := probe.problem(str(src["default"]))) is not None:
                out.append(
                    (("tags", key, "sources", i, "default"), f"the default is not a valid {key}: {msg}")
                )
        for i, value in enumerate(spec.get("allowed", [])):
            if spec.get("pattern") and not re.fullmatch(spec["pattern"], str(value)):
                out.append((("tags", key, "allowed", i), f"{value!r} does not match the tag's own pattern"))

    by_name: dict[str, str] = {}
    for key in tags:
        other = by_name.setdefault(key.lower(), key)
        if other != key:
            out.append(
                (
                    ("tags", key),
                    f"{key!r} and {other!r} are one tag on Azure, which ignores case in tag names",
                )
            )

    seen: dict[str, int] = {}
    rules = data.get("rules") if isinstance(data.get("rules"), list) else []
    assert isinstance(rules, list)
    for i, rule in enumerate(rules):
        if not isinstance(rule, dict) or not isinstance(rule.get("id"), str):
            continue
        rid = rule["id"]
        if rid in seen:
            out.append((("rules", i, "id"), f"rule id {rid!r} is used twice (also rules[{seen[rid]}])"))
        seen.setdefault(rid, i)
        require = rule.get("require")
        for j, key in enumerate(require if isinstance(require, list) else []):
            if isinstance(key, str) and tags and key not in tags:
                out.append(
                    (
                        ("rules", i, "require", j),
                        f"{key!r} is not in the tag catalogue{did_you_mean(key, tags)}",
                    )
                )

    unallocated = data.get("unallocated_value")
    if isinstance(unallocated, str) and _ok(broken, ("unallocated_value",)):
        for provider, limits in LIMITS.items():
            if (msg := limits.value_problem(unallocated)) is not None:
                out.append((("unallocated_value",), f"{msg} ({provider.value})"))

    stamp = data.get("stamp")
    if isinstance(stamp, dict) and _ok(broken, ("stamp",)):
        prefix = stamp.get("prefix", "tagwarden:")
        for provider, limits in LIMITS.items():
            if (msg := limits.key_problem(prefix + "created-at")) is not None:
                out.append((("stamp", "prefix"), f"stamp keys would be rejected: {msg} ({provider.value})"))


def _compile_source(src: dict[str, Any]) -> Source:
    kind_name = next(k for k in SOURCE_KINDS if k in src)
    kind = SOURCE_KINDS[kind_name]
    arg = src[kind_name]
    mapping = {str(k): str(v) for k, v in src["map"].items()} if "map" in src else None
    return Source(
        kind=kind_name,
        arg=str(arg),
        fetch=kind.make(arg),
        pattern=re.compile(src["pattern"]) if "pattern" in src else None,
        mapping=mapping,
        case=src.get("case"),
    )


def _compile_tag(key: str, spec: dict[str, Any]) -> TagSpec:
    allowed = frozenset(str(v) for v in spec["allowed"]) if "allowed" in spec else None
    return TagSpec(
        key=key,
        required=spec.get("required", True),
        sources=tuple(_compile_source(s) for s in spec.get("sources", [])),
        pattern=re.compile(spec["pattern"]) if "pattern" in spec else None,
        allowed=allowed,
        allowed_folded=frozenset(v.lower() for v in allowed) if allowed and spec.get("ignore_case") else None,
        min_length=spec.get("min_length"),
        max_length=spec.get("max_length"),
        overwrite=Overwrite(spec.get("overwrite", "never")),
        description=spec.get("description", ""),
    )


def _compile_rule(rule: dict[str, Any], default_grace: int) -> Rule:
    matchers = tuple(
        Matcher(
            MATCH_FIELDS[name], compile_globs([str(p) for p in (pats if isinstance(pats, list) else [pats])])
        )
        for name, pats in (rule.get("match") or {}).items()
    )
    action = Action(rule["on_missing"])
    grace = parse_duration(rule["grace"]) if "grace" in rule else default_grace
    return Rule(
        id=rule["id"],
        matchers=matchers,
        on_missing=action,
        grace_seconds=grace if action in (Action.QUARANTINE, Action.DELETE) else None,
        require=tuple(rule["require"]) if "require" in rule else None,
        description=rule.get("description", ""),
    )


def _compile(data: dict[str, Any], filename: str) -> RuleSet:
    defaults = data.get("defaults") or {}
    default_grace = parse_duration(defaults.get("grace", DEFAULT_GRACE))
    assert default_grace is not None  # validated
    ex = data.get("exemptions") or {}
    marker = ex.get("marker_tag") or {}
    stamp = data.get("stamp")
    tags = {k: _compile_tag(k, v) for k, v in data["tags"].items()}
    folded = {k.lower() for k in tags}
    return RuleSet(
        source=filename,
        mode=Mode(data.get("mode", "audit")),
        tags=tags,
        rules=tuple(_compile_rule(r, default_grace) for r in data.get("rules", [])),
        default_rule=_compile_rule(
            {"id": "(default)", "on_missing": defaults.get("on_missing", DEFAULT_ON_MISSING)}, default_grace
        ),
        exemptions=Exemptions(
            principals=Matcher(MATCH_FIELDS["actor"], compile_globs(ex["principals"]))
            if ex.get("principals")
            else None,
            resource_types=compile_globs(ex["resource_types"]) if ex.get("resource_types") else None,
            marker_key=marker.get("key"),
            marker_value=str(marker["value"]) if "value" in marker else None,
        ),
        stamp=None
        if stamp is None
        else Stamp(
            prefix=stamp.get("prefix", "tagwarden:"),
            creator=stamp.get("creator", True),
            created_at=stamp.get("created_at", True),
            rule=stamp.get("rule", True),
            event_id=stamp.get("event_id", False),
        ),
        unallocated_value=data.get("unallocated_value", "unallocated"),
        notifications=Notifications(**(data.get("notifications") or {})),
        lifecycle=Lifecycle(**(data.get("lifecycle") or {})),
        reads_own_tags=any(
            src.kind == "request_tag" and src.arg.lower() in folded and src.arg.lower() != key.lower()
            for key, spec in tags.items()
            for src in spec.sources
        ),
    )
