"""Compile a validated rules document into the RuleSet the enforcers read: regexes compiled, globs
joined, durations parsed, defaults filled in. Runs only on data the shape and semantic checks passed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from msgspec.structs import replace

from tagwarden.attribution.regex import compile_user
from tagwarden.attribution.sources import SOURCE_KINDS, Source
from tagwarden.model import Action
from tagwarden.rules.durations import parse_duration
from tagwarden.rules.errors import RulesError, RulesProblem
from tagwarden.rules.match import MATCH_FIELDS, Matcher, compile_globs
from tagwarden.rules.model import (
    CatalogueEntry,
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
from tagwarden.runaway.model import Limits

DEFAULT_ON_MISSING = "notify"
DEFAULT_GRACE = "24h"
MODE_ENV = "TAGWARDEN_MODE"  # the deployment's mode (template / Bicep parameter): overrides the file's


def compile_source(src: dict[str, Any]) -> Source:
    kind_name = next(k for k in SOURCE_KINDS if k in src)
    kind = SOURCE_KINDS[kind_name]
    arg = src[kind_name]
    mapping = {str(k): str(v) for k, v in src["map"].items()} if "map" in src else None
    return Source.of(
        kind=kind_name,
        arg=str(arg),
        fetch=kind.make(arg),
        pattern=compile_user(src["pattern"]) if "pattern" in src else None,
        mapping=mapping,
        case=src.get("case"),
    )


def compile_tag(key: str, spec: dict[str, Any]) -> TagSpec:
    allowed = frozenset(str(v) for v in spec["allowed"]) if "allowed" in spec else None
    return TagSpec(
        key=key,
        required=spec.get("required", True),
        sources=tuple(compile_source(s) for s in spec.get("sources", [])),
        pattern=compile_user(spec["pattern"]) if "pattern" in spec else None,
        allowed=allowed,
        allowed_folded=frozenset(v.lower() for v in allowed) if allowed and spec.get("ignore_case") else None,
        min_length=spec.get("min_length"),
        max_length=spec.get("max_length"),
        overwrite=Overwrite(spec.get("overwrite", "never")),
        description=spec.get("description", ""),
    )


def compile_rule(rule: dict[str, Any], default_grace: int) -> Rule:
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


def compile_rules(data: dict[str, Any], filename: str) -> RuleSet:
    defaults = data.get("defaults") or {}
    default_grace = parse_duration(defaults.get("grace", DEFAULT_GRACE))
    assert default_grace is not None  # validated
    tags = {k: compile_tag(k, v) for k, v in data["tags"].items()}
    return RuleSet(
        source=filename,
        mode=Mode(data.get("mode", "audit")),
        tags=tags,
        rules=tuple(compile_rule(r, default_grace) for r in data.get("rules", [])),
        default_rule=compile_rule(
            {"id": "(default)", "on_missing": defaults.get("on_missing", DEFAULT_ON_MISSING)}, default_grace
        ),
        exemptions=_exemptions(data.get("exemptions") or {}),
        stamp=_stamp(data.get("stamp")),
        unallocated_value=data.get("unallocated_value", "unallocated"),
        notifications=Notifications(**(data.get("notifications") or {})),
        lifecycle=Lifecycle(**(data.get("lifecycle") or {})),
        limits=_limits(data.get("limits"), default_grace),
        reads_own_tags=_reads_own_tags(tags),
        catalogue=tuple(_catalogue_entry(e) for e in data.get("catalogue") or ()),
    )


def _limits(raw: dict[str, Any] | None, default_grace: int) -> Limits:
    if not raw:  # most files: the limits machinery (and the price table) is not loaded at all
        return Limits()
    from tagwarden.rules.limits import compile_limits

    return compile_limits(raw, default_grace)


def deployment_mode(rules: RuleSet, explicit: bool, env: Mapping[str, str]) -> RuleSet:
    """The deployment's TAGWARDEN_MODE wins over the file (deployed stacks default to audit, so
    a rules file saying enforce acts only once the operator says so too); no mode anywhere is audit,
    with a warning. `explicit`: the file has a `mode:`."""
    override = env.get(MODE_ENV, "")
    if override:
        try:
            mode = Mode(override.strip().lower())
        except ValueError:
            msg = f"{MODE_ENV}={override!r}: expected audit or enforce"
            raise RulesError([RulesProblem(rules.source, None, ("mode",), msg)]) from None
        return replace(rules, mode=mode)
    if explicit:
        return rules
    warning = "mode is not set, so the rules only report (audit); write `mode: audit` or `mode: enforce`"
    return replace(rules, warnings=(*rules.warnings, warning))


def _catalogue_entry(entry: dict[str, Any]) -> CatalogueEntry:
    return CatalogueEntry(
        event_source=entry["event_source"],
        event_name=entry["event_name"],
        id_path=entry["id_path"],
        resource_type=entry["resource_type"],
        tags_path=entry.get("tags_path"),
        tagger=entry.get("tagger", "rgta"),
    )


def _exemptions(ex: dict[str, Any]) -> Exemptions:
    marker = ex.get("marker_tag") or {}
    return Exemptions(
        principals=Matcher(MATCH_FIELDS["actor"], compile_globs(ex["principals"]))
        if ex.get("principals")
        else None,
        resource_types=compile_globs(ex["resource_types"]) if ex.get("resource_types") else None,
        marker_key=marker.get("key"),
        marker_value=str(marker["value"]) if "value" in marker else None,
    )


def _stamp(stamp: dict[str, Any] | None) -> Stamp | None:
    if stamp is None:
        return None
    return Stamp(
        prefix=stamp.get("prefix", "tagwarden:"),
        creator=stamp.get("creator", True),
        created_at=stamp.get("created_at", True),
        rule=stamp.get("rule", True),
        event_id=stamp.get("event_id", False),
    )


def _reads_own_tags(tags: dict[str, TagSpec]) -> bool:
    """Whether some tag's sources read another catalogue tag from the resource (request_tag)."""
    folded = {k.lower() for k in tags}
    return any(
        src.kind == "request_tag" and src.arg.lower() in folded and src.arg.lower() != key.lower()
        for key, spec in tags.items()
        for src in spec.sources
    )
