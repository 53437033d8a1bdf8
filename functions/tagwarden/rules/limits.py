"""The `limits:` section of the rules file (runaway agents): its shape, its cross-checks and its
compilation into `tagwarden.runaway.model.Limits`.

Kept apart from spec.py and loader.py, which call in here through three small hooks: the spec
node, `check_limits` (problems located like every other) and `compile_limits`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tagwarden.model import ACTOR_FIELDS
from tagwarden.rules.durations import parse_duration
from tagwarden.rules.errors import KeyPath, did_you_mean
from tagwarden.rules.match import MATCH_FIELDS, Matcher, compile_globs
from tagwarden.rules.schema import (
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
from tagwarden.runaway.model import Limit, LimitAction, Limits, Measure, ScopeSource
from tagwarden.runaway.prices import shipped

DEFAULT_COOLDOWN = "30m"
DEFAULT_SPEND_WINDOW = "1h"
MEASURES = tuple(m.value for m in Measure)


@dataclass
class Num(Node):
    """A number (whole or not), e.g. a price or a spend rate."""

    doc: str = ""
    minimum: float = 0.0
    exclusive: bool = False  # the minimum itself is not allowed

    def check(self, value: Any, path: KeyPath, out: list[Problem]) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            out.append((path, f"expected a number, got {value!r}"))
            return
        if value < self.minimum or (self.exclusive and value == self.minimum):
            word = "greater than" if self.exclusive else "at least"
            out.append((path, f"must be {word} {self.minimum:g}, got {value}"))

    def json_schema(self) -> dict[str, Any]:
        key = "exclusiveMinimum" if self.exclusive else "minimum"
        return self._with_doc({"type": "number", key: self.minimum})


def _glob_list(doc: str) -> OneOrMany:
    return OneOrMany(Str(min_length=1, scalar_ok=True), doc=f"{doc} (glob, or a list of globs)")


def _per_node() -> OneOrMany:
    source = Obj(
        {
            "tag": Field(Str(min_length=1, doc="a tag of the created resource, as the rules derived it")),
            "actor": Field(Enum(ACTOR_FIELDS, doc="an attribute of the caller")),
        },
        doc="where the key counted per comes from",
        exactly_one_of=("tag", "actor"),
        exactly_one_name="scope kind",
    )
    return OneOrMany(source, doc="tried in order: the first that gives a value names the agent")


def _check_one(value: dict[str, Any], path: KeyPath, out: list[Problem]) -> None:
    measure = next((m for m in MEASURES if m in value), None)
    window = parse_duration(value.get("window")) if "window" in value else None
    if "window" in value and window == 0:
        out.append(((*path, "window"), "must be longer than 0 seconds"))
    if measure in (Measure.CREATES, Measure.TOKENS) and "window" not in value:
        out.append((path, f"missing required key 'window' (a {measure} limit counts over a window)"))
    if measure == Measure.TOKENS:
        actions = value.get("actions")
        for i, action in enumerate(actions if isinstance(actions, list) else []):
            if action in (LimitAction.BRAKE, LimitAction.QUARANTINE_NEW):
                out.append(
                    (
                        (*path, "actions", i),
                        f"{action} needs a create to act on; a tokens limit can only alert",
                    )
                )
        for key in ("resource_types", "instance_types"):
            if key in value:
                out.append(((*path, key), "only creates and spend_per_hour limits filter by type"))


def limits_node() -> Obj:
    check = Obj(
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
                    doc="which creates this limit watches: all fields must match; none means every create",
                )
            ),
            "per": Field(_per_node(), required=True),
            "creates": Field(Int(minimum=1, doc="at most this many resources created in the window")),
            "spend_per_hour": Field(
                Num(
                    exclusive=True,
                    doc="at most this estimated USD per hour for what was created in the window "
                    "(and LLM usage), from the price table",
                )
            ),
            "tokens": Field(Int(minimum=1, doc="at most this many LLM tokens in the window (usage records)")),
            "window": Field(
                Duration(doc="the sliding window counted over (spend_per_hour: default 1h)"),
            ),
            "resource_types": Field(_glob_list("count only resources of these types")),
            "instance_types": Field(
                _glob_list("count only resources of these instance types (from the create request)")
            ),
            "actions": Field(
                ListOf(
                    Enum(tuple(a.value for a in LimitAction), doc="what a crossing does"),
                    min_items=1,
                    unique=True,
                    doc="alert always; brake and quarantine-new act in mode enforce",
                ),
                default=["alert"],
            ),
            "cooldown": Field(Duration(doc="an alert for the same level repeats after this (default 30m)")),
            "grace": Field(
                Duration(doc="quarantine-new: time to fix before deletion (default: defaults.grace)")
            ),
        },
        doc="one limit",
        exactly_one_of=MEASURES,
        exactly_one_name="measure",
        extra_check=_check_one,
    )
    price = Num(doc="USD")
    prices = Obj(
        {
            "as_of": Field(Str(min_length=1, scalar_ok=True, doc="the date your prices are from")),
            "hourly": Field(MapOf(price, doc="instance type or resource type (glob) -> USD per hour")),
            "model_unit_hourly": Field(
                MapOf(price, doc="Bedrock model id (glob) -> USD per provisioned model unit and hour")
            ),
        },
        doc="entries over the shipped price table (tagwarden/runaway/prices.yaml)",
    )
    return Obj(
        {
            "cooldown": Field(Duration(doc="default cool-down between alerts"), default=DEFAULT_COOLDOWN),
            "prices": Field(prices),
            "checks": Field(ListOf(check, doc="each limit is judged on its own")),
        },
        doc="runaway agents: limits on what an agent creates, spends or uses per window",
    )


def check_limits(data: Mapping[str, Any], out: list[Problem]) -> None:
    """Cross-checks against the rest of the file: unique ids, tag keys that exist in the catalogue."""
    limits = data.get("limits")
    if not isinstance(limits, dict) or not isinstance(limits.get("checks"), list):
        return
    tags = data.get("tags") if isinstance(data.get("tags"), dict) else {}
    assert isinstance(tags, dict)
    seen: dict[str, int] = {}
    for i, check in enumerate(limits["checks"]):
        if not isinstance(check, dict):
            continue
        cid = check.get("id")
        if isinstance(cid, str):
            if cid in seen:
                out.append(
                    (
                        ("limits", "checks", i, "id"),
                        f"limit id {cid!r} is used twice (also checks[{seen[cid]}])",
                    )
                )
            seen.setdefault(cid, i)
        per = check.get("per")
        for j, source in enumerate(per if isinstance(per, list) else [per]):
            key = source.get("tag") if isinstance(source, dict) else None
            if isinstance(key, str) and tags and key not in tags:
                where: KeyPath = (
                    "limits",
                    "checks",
                    i,
                    "per",
                    *((j,) if isinstance(per, list) else ()),
                    "tag",
                )
                out.append((where, f"{key!r} is not in the tag catalogue{did_you_mean(key, tags)}"))


def _globs(value: Any) -> Any:
    if value is None:
        return None
    return compile_globs([str(p) for p in (value if isinstance(value, list) else [value])])


def compile_limits(raw: Mapping[str, Any] | None, default_grace: int) -> Limits:
    if not raw:
        return Limits()  # no limits: the price table is not even read
    cooldown = parse_duration(raw.get("cooldown", DEFAULT_COOLDOWN)) or 0
    checks = []
    for c in raw.get("checks") or []:
        measure = next(Measure(m) for m in MEASURES if m in c)
        per = c["per"] if isinstance(c["per"], list) else [c["per"]]
        window = parse_duration(c.get("window", DEFAULT_SPEND_WINDOW))
        assert window  # validated
        checks.append(
            Limit(
                id=c["id"],
                per=tuple(ScopeSource(*next(iter(p.items()))) for p in per),
                measure=measure,
                threshold=float(c[measure.value]),
                window=window,
                matchers=tuple(
                    Matcher(MATCH_FIELDS[name], _globs(pats)) for name, pats in (c.get("match") or {}).items()
                ),
                resource_types=_globs(c.get("resource_types")),
                instance_types=_globs(c.get("instance_types")),
                actions=frozenset(LimitAction(a) for a in c.get("actions", ["alert"])) | {LimitAction.ALERT},
                cooldown=parse_duration(c["cooldown"]) or 0 if "cooldown" in c else cooldown,
                grace=parse_duration(c["grace"]) or 0 if "grace" in c else default_grace,
                description=c.get("description", ""),
            )
        )
    prices = shipped().merged(raw["prices"]) if raw.get("prices") else shipped()
    return Limits(checks=tuple(checks), prices=prices)
