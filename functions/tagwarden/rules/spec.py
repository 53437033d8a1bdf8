"""The rules file's shape, written once: the loader validates with it and `tagwarden rules schema`
prints it as JSON Schema. Source kinds and match fields come from their registries."""

from __future__ import annotations

from typing import Any

from tagwarden.attribution.regex import Pattern
from tagwarden.attribution.sources import SOURCE_KINDS
from tagwarden.model import FALLBACK_ACTIONS
from tagwarden.rules.limits import limits_node
from tagwarden.rules.match import MATCH_FIELDS
from tagwarden.rules.schema import (
    Bool,
    Const,
    Duration,
    Enum,
    Field,
    Int,
    ListOf,
    MapOf,
    Node,
    Obj,
    OneOrMany,
    Problem,
    Str,
)

SCHEMA_ID = "https://tagwarden.dev/schema/rules-v1.json"


def _capture_check(rx: Pattern) -> str | None:
    if rx.groups > 1 and "value" not in rx.groupindex:
        return "has several groups: name the one to keep as (?P<value>...)"
    return None


def _source_node() -> Obj:
    fields: dict[str, Field] = {}
    for kind in SOURCE_KINDS.values():
        node: Node
        if kind.choices:
            node = Enum(kind.choices, doc=f"{kind.doc}: {kind.arg_doc}")
        else:
            pattern = r"[^.\[\]]+(?:\[\d*\])*(?:\.[^.\[\]]+(?:\[\d*\])*)*" if kind.is_path else None
            node = Str(
                doc=f"{kind.doc}: {kind.arg_doc}",
                min_length=0 if kind.scalar_arg else 1,
                pattern=pattern,
                pattern_hint="a dotted path such as detail.requestParameters.instanceType" if pattern else "",
                scalar_ok=kind.scalar_arg,
            )
        fields[kind.name] = Field(node)
    fields["pattern"] = Field(
        Str(
            doc="regex applied to the value; keeps the group named `value`, else group 1, else the match",
            regex=True,
            regex_check=_capture_check,
        )
    )
    fields["map"] = Field(
        MapOf(Str(scalar_ok=True), doc="mapping table: the value is looked up here; no entry means no value")
    )
    fields["case"] = Field(Enum(("lower", "upper"), doc="change the case of the value"))
    return Obj(
        fields,
        doc="one place a value can come from",
        exactly_one_of=tuple(SOURCE_KINDS),
        exactly_one_name="source kind",
        # `session_name: ...` instead of `actor: session_name` is the likely slip.
        hints={
            name: f"{kind.name}: {name}"
            for kind in SOURCE_KINDS.values()
            for name in kind.choices
            if name not in SOURCE_KINDS
        },
    )


OVERWRITE = Enum(
    ("never", "invalid", "always"),
    doc="when a tag is already on the resource: keep it (never), replace it if invalid, or always derive",
)


def _tag_node() -> Obj:
    return Obj(
        {
            "required": Field(Bool(doc="a resource without this tag is unattributed"), default=True),
            "description": Field(Str()),
            "sources": Field(ListOf(_source_node(), doc="tried in order; the first valid value wins")),
            "pattern": Field(Str(doc="the value must fully match this regex", regex=True)),
            "allowed": Field(
                ListOf(Str(scalar_ok=True), min_items=1, unique=True, doc="the only accepted values")
            ),
            "ignore_case": Field(Bool(doc="compare `allowed` values case-insensitively"), default=False),
            "min_length": Field(Int(minimum=0, maximum=256)),
            "max_length": Field(Int(minimum=1, maximum=256)),
            "overwrite": Field(OVERWRITE),
        },
        doc="a tag in the catalogue",
    )


def _glob_list(doc: str) -> OneOrMany:
    return OneOrMany(Str(min_length=1, scalar_ok=True), doc=f"{doc} (glob, or a list of globs)")


def _check_grace(value: dict[str, Any], path: Any, out: list[Problem]) -> None:
    if "grace" in value and value.get("on_missing") not in ("quarantine", "delete", None):
        out.append(((*path, "grace"), "a grace period only applies to quarantine and delete"))


def _rule_node() -> Obj:
    return Obj(
        {
            "id": Field(
                Str(
                    min_length=1,
                    pattern=r"[A-Za-z0-9][A-Za-z0-9_.:-]*",
                    pattern_hint="an id of letters, digits and _ . : -",
                ),
                required=True,
            ),
            "description": Field(Str()),
            "match": Field(
                Obj(
                    {name: Field(_glob_list(f.doc)) for name, f in MATCH_FIELDS.items()},
                    doc="all fields must match; none means every event",
                ),
            ),
            "require": Field(
                ListOf(
                    Str(min_length=1),
                    unique=True,
                    doc="the tags this rule requires (default: every required tag)",
                )
            ),
            "on_missing": Field(ACTION, required=True),
            "grace": Field(
                Duration(doc="time to fix the tags before a quarantined or delete-marked resource is deleted")
            ),
        },
        doc="first matching rule wins",
        extra_check=_check_grace,
    )


ACTION = Enum(
    tuple(a.value for a in FALLBACK_ACTIONS), doc="what happens when a required tag is missing or invalid"
)


def build_spec() -> Obj:
    return Obj(
        {
            "version": Field(Const(1, doc="rules file format version"), required=True),
            "mode": Field(
                Enum(("audit", "enforce"), doc="audit decides and reports, changes nothing"), default="audit"
            ),
            "unallocated_value": Field(
                Str(
                    min_length=1,
                    max_length=256,
                    doc="value written for a tag that could not be derived (tag-unallocated)",
                ),
                default="unallocated",
            ),
            "stamp": Field(
                Obj(
                    {
                        "prefix": Field(Str(min_length=1, max_length=64), default="tagwarden:"),
                        "creator": Field(Bool(doc="the caller's ARN / UPN / app id"), default=True),
                        "created_at": Field(Bool(doc="the event time"), default=True),
                        "rule": Field(Bool(doc="the id of the rule that decided"), default=True),
                        "event_id": Field(Bool(doc="the event id, for tracing"), default=False),
                    },
                    doc="extra tags recording who created the resource and how it was decided",
                )
            ),
            "tags": Field(
                MapOf(
                    _tag_node(), key=Str(min_length=1, max_length=128), min_items=1, doc="the tag catalogue"
                ),
                required=True,
            ),
            "defaults": Field(
                Obj(
                    {
                        "on_missing": Field(ACTION, default="notify"),
                        "grace": Field(Duration(), default="24h"),
                    },
                    doc="the rule applied when none matches, and the default grace period",
                )
            ),
            "rules": Field(ListOf(_rule_node(), doc="matched in order, first match wins")),
            "exemptions": Field(
                Obj(
                    {
                        "principals": Field(
                            ListOf(
                                Str(min_length=1),
                                doc="callers never acted on (globs over ARN, UPN, app id, object id)",
                            )
                        ),
                        "resource_types": Field(
                            ListOf(Str(min_length=1), doc="resource types never acted on (globs)")
                        ),
                        "marker_tag": Field(
                            Obj(
                                {
                                    "key": Field(Str(min_length=1), required=True),
                                    "value": Field(Str(scalar_ok=True)),
                                },
                                doc="a resource carrying this tag (with this value, if given) is exempt",
                            )
                        ),
                    }
                )
            ),
            "notifications": Field(
                Obj(
                    {
                        "sns_topic_arn": Field(Str()),
                        "teams_webhook_url": Field(Str()),
                        "storage_queue": Field(Str()),
                    },
                    doc="where notifications go (usually ${ENV_VAR} references)",
                )
            ),
            "catalogue": Field(_catalogue_node()),
            "lifecycle": Field(
                Obj(
                    {
                        "dry_run": Field(
                            Bool(doc="plan and notify every action, change nothing (no tags, no quarantine)"),
                            default=False,
                        ),
                        "delete_dry_run": Field(
                            Bool(
                                doc="deletions are planned and notified, not carried out, until set to false"
                            ),
                            default=True,
                        ),
                        "max_deletions_per_sweep": Field(
                            Int(minimum=0, maximum=1000, doc="a sweep deletes at most this many resources"),
                            default=10,
                        ),
                        "protect_tag": Field(
                            Str(min_length=1, doc="a resource with this tag is never quarantined or deleted"),
                            default="tagwarden:protect",
                        ),
                    },
                    doc="quarantine, grace period, release and delete: the safety settings",
                )
            ),
            "limits": Field(limits_node()),
        },
        doc="tagwarden attribution rules",
    )


_PATH = r"[^.\[\]]+(?:\[\d*\])*(?:\.[^.\[\]]+(?:\[\d*\])*)*"


def _catalogue_node() -> ListOf:
    """User-defined create events: where the created resource is in a record the catalogue lacks."""
    path_hint = "a dotted path such as responseElements.vault.vaultArn"
    return ListOf(
        Obj(
            {
                "event_source": Field(
                    Str(
                        pattern=r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com",
                        pattern_hint="an event source such as qldb.amazonaws.com",
                    ),
                    required=True,
                ),
                "event_name": Field(
                    Str(pattern=r"[A-Z][A-Za-z0-9]*", pattern_hint="an eventName such as CreateLedger"),
                    required=True,
                ),
                "id_path": Field(
                    Str(
                        pattern=rf"responseElements\.{_PATH}",
                        pattern_hint=f"a path under responseElements (what the service answered, never what "
                        f"the caller sent), {path_hint}",
                        doc="path to the created resource's ARN in the record",
                    ),
                    required=True,
                ),
                "resource_type": Field(
                    Str(
                        pattern=r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+",
                        pattern_hint="a resource type such as AWS::QLDB::Ledger",
                    ),
                    required=True,
                ),
                "tags_path": Field(
                    Str(
                        pattern=_PATH,
                        pattern_hint="a dotted path such as requestParameters.tags",
                        doc="the request's tags",
                    )
                ),
                "tagger": Field(
                    Str(
                        pattern=r"[a-z0-9][a-z0-9:-]*",
                        pattern_hint="a tagger name such as rgta",
                        doc="the tag operation: rgta (the Resource Groups Tagging API) or a tagger's name",
                    ),
                    default="rgta",
                ),
            },
            doc="one create event the catalogue lacks",
        ),
        doc="create events the built-in catalogue lacks, so they can be identified without a release",
    )


SPEC = build_spec()


def json_schema() -> dict[str, Any]:
    schema = SPEC.json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "tagwarden rules",
        **schema,
    }
