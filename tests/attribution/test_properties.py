"""Property-based tests (hypothesis) of derivation and validation.

Random but valid rules files are built as plain dicts, dumped to YAML and loaded through the real
loader; random AWS (CloudTrail RunInstances) and Azure (Event Grid write) events are built with the
shared builders and normalized. Expectations are computed here, from the generated inputs, by a
small independent model of the documented semantics (first valid source wins, overwrite modes,
exemptions, first matching rule) - never by calling the code under test.
"""

from __future__ import annotations

import copy
import fnmatch
import re
from dataclasses import dataclass
from typing import Any

import jsonschema
import msgspec
import pytest
import re2  # the engine tagwarden runs user patterns on (ASCII \w, linear time)
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tagwarden.attribution.context import StaticLookups
from tagwarden.attribution.limits import LIMITS
from tagwarden.cli.normalize import normalize
from tagwarden.decide import decide
from tagwarden.model import Action, CreationEvent, Decision, Provider
from tagwarden.plan import MUTATING, EffectKind, plan
from tagwarden.rules import RulesError, RuleSet, load_rules_text
from tagwarden.rules.model import Mode
from tagwarden.rules.spec import json_schema

import builders

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

MAX_TAGS = 50
UNALLOCATED = "unallocated"
STAMP = "stamp"
EXISTING = "existing"

# --- the rules file ---------------------------------------------------------------------------

TAG_KEYS = ["Agent-ID", "CostCenter", "Outcome-ID", "Owner", "team", "Projet-é", "env"]
OTHER_KEYS = ["Team", "fill-1", "Cost Center"]  # keys a source may read that are not in the catalogue
PATTERNS = [
    r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
    r"^OUT-[0-9]{3,8}$",
    r"[a-z]+",
    r"[0-9]{3}",
    r"\w+",
]
ALLOWED_POOL = ["101", "102", "205", "310", "alpha", "Beta", "OUT-1234", "é"]
DEFAULT_POOL = ["101", "alpha", "OUT-1234", "x", "none", "42", "Beta", "ops team", "é"]
SESSION_PATTERNS = [
    r"^agent-(?P<value>.+)$",
    r"(?P<value>[0-9]+)$",
    r"^([a-z]+)-",
    r"agent",
    r"(?P<value>\w+)@",
]
ROLE_MAP = {"agent-fleet-support": "101", "agent-fleet-research": "205", "dev-role": "alpha"}
ACTIONS = ["tag-unallocated", "notify", "quarantine", "delete"]
SAFE_UNALLOCATED = ["unallocated", "n/a", "UNKNOWN", "to-be-set"]
# Accepted by the loader, but with characters AWS rejects in a tag value.
BAD_UNALLOCATED = ["n/a (unknown)", "unallocated!", "?"]
MARKER = "tagwarden:exempt"

ROLES = ["agent-fleet-support", "agent-fleet-research", "dev-role", "BreakGlass-1", "Admin"]
SESSIONS = ["agent-42", "agent-ü7", "bob@example.com", "agent-", "ci-runner-9", "AGENT-X", "agent-OUT-1234"]
VALUE_POOL = [
    "42",
    "7",
    "OUT-1234",
    "OUT-12",
    "101",
    "205",
    "alpha",
    "Beta",
    "BETA",
    "agent-7",
    "",
    " ",
    "bad value!",
    "naïve",
    "日本",
    "🙂",
    "x" * 300,
    "ops team",
    "a/b",
    "unallocated",
]

# Tag values as they come: often ones a catalogue accepts, often not (empty, too long, unicode, emoji).
values = st.one_of(
    st.sampled_from(ALLOWED_POOL + DEFAULT_POOL), st.sampled_from(VALUE_POOL), st.text(max_size=12)
)


def catalogue_ok(spec: dict[str, Any], value: str) -> bool:
    """The tag's own validation, as the rules file documents it."""
    if "min_length" in spec and len(value) < spec["min_length"]:
        return False
    if "max_length" in spec and len(value) > spec["max_length"]:
        return False
    if "allowed" in spec:
        allowed = [str(a) for a in spec["allowed"]]
        folded = {a.lower() for a in allowed} if spec.get("ignore_case") else set()
        if value not in allowed and value.lower() not in folded:
            return False
    return not ("pattern" in spec and re2.fullmatch(spec["pattern"], value) is None)


_AWS_VALUE = re.compile(r"[\w\s.:/=+\-@]*")  # AWS: Unicode letters, digits, spaces and _ . : / = + - @


def provider_value_ok(provider: Provider, value: str) -> bool:
    if len(value) > 256:
        return False
    return provider is Provider.AZURE or _AWS_VALUE.fullmatch(value) is not None


@st.composite
def tag_specs(
    draw: st.DrawFn,
    key: str,
    all_keys: list[str],
    overwrite: st.SearchStrategy[str | None],
    self_contained: bool = False,
) -> dict[str, Any]:
    """One catalogue entry. `self_contained`: its request_tag sources never read a value that the same
    decision may write (another catalogue tag, or its own key through a case change)."""
    spec: dict[str, Any] = {}
    required = draw(st.sampled_from([None, True, False]))
    if required is not None:
        spec["required"] = required
    if draw(st.booleans()):
        spec["pattern"] = draw(st.sampled_from(PATTERNS))
    if draw(st.integers(0, 2)) == 0:
        allowed = draw(st.lists(st.sampled_from(ALLOWED_POOL), min_size=1, max_size=4, unique=True))
        if "pattern" in spec:
            allowed = [a for a in allowed if re2.fullmatch(spec["pattern"], a)]
        if allowed:
            spec["allowed"] = allowed
            if draw(st.booleans()):
                spec["ignore_case"] = True
    if draw(st.integers(0, 3)) == 0:
        spec["min_length"] = draw(st.integers(0, 4))
    if draw(st.integers(0, 3)) == 0:
        spec["max_length"] = draw(st.integers(max(1, spec.get("min_length", 1)), 64))
    ow = draw(overwrite)
    if ow is not None:
        spec["overwrite"] = ow

    def case(src: dict[str, Any]) -> dict[str, Any]:
        if draw(st.integers(0, 4)) == 0:
            src["case"] = draw(st.sampled_from(["lower", "upper"]))
        return src

    key_arg = st.sampled_from(all_keys + OTHER_KEYS)
    # Self-contained: a request_tag reads the tag's own key or a key outside the catalogue, under
    # either cloud's comparison (on Azure `Team` is the catalogue's `team`).
    own_arg = st.sampled_from(
        [key, *(k for k in OTHER_KEYS if k.lower() not in {a.lower() for a in all_keys})]
    )
    kinds = st.sampled_from(
        ["request_tag", "session", "role", "principal_tag", "resource_group_tag", "default"]
    )
    sources: list[dict[str, Any]] = []
    for kind in draw(st.lists(kinds, max_size=5)):
        if kind == "session":
            sources.append(
                case({"actor": "session_name", "pattern": draw(st.sampled_from(SESSION_PATTERNS))})
            )
        elif kind == "role":
            sources.append({"actor": "role_name", "map": dict(ROLE_MAP)})
        elif kind == "default":
            ok = [v for v in DEFAULT_POOL if catalogue_ok(spec, v)]
            if ok:
                sources.append({"default": draw(st.sampled_from(ok))})
        elif kind == "request_tag" and self_contained:
            arg = draw(own_arg)
            sources.append({kind: arg} if arg == key else case({kind: arg}))
        else:
            sources.append(case({kind: draw(key_arg)}))
    if sources or draw(st.booleans()):
        spec["sources"] = sources
    return spec


@st.composite
def match_specs(draw: st.DrawFn) -> dict[str, Any]:
    match: dict[str, Any] = {}
    if draw(st.booleans()):
        match["provider"] = draw(st.sampled_from(["aws", "azure", "*", "AWS"]))
    if draw(st.integers(0, 2)) == 0:
        match["role_name"] = draw(st.sampled_from(["agent-*", "Admin", "*", ["dev-*", "BreakGlass*"]]))
    if draw(st.booleans()):
        kinds = ["user", "assumed-role", "app", "managed-identity"]
        match["actor_kind"] = draw(
            st.one_of(st.sampled_from(kinds), st.lists(st.sampled_from(kinds), min_size=1, max_size=3))
        )
    return match


@st.composite
def rules_dicts(
    draw: st.DrawFn,
    overwrite: st.SearchStrategy[str | None] | None = None,
    unallocated: st.SearchStrategy[str] | None = None,
    self_contained: bool = False,
) -> dict[str, Any]:
    if overwrite is None:
        overwrite = st.sampled_from([None, "never", "invalid", "always"])
    keys = draw(st.lists(st.sampled_from(TAG_KEYS), min_size=1, max_size=4, unique=True))
    data: dict[str, Any] = {"version": 1}
    if draw(st.booleans()):
        data["mode"] = draw(st.sampled_from(["audit", "enforce"]))
    uval = draw(unallocated or st.sampled_from(SAFE_UNALLOCATED))
    if uval != "unallocated" or draw(st.booleans()):
        data["unallocated_value"] = uval
    if draw(st.booleans()):
        stamp: dict[str, Any] = {}
        for name in ("creator", "created_at", "rule", "event_id"):
            if draw(st.booleans()):
                stamp[name] = draw(st.booleans())
        if draw(st.booleans()):
            stamp["prefix"] = draw(st.sampled_from(["tagwarden:", "tw-", "x:"]))
        data["stamp"] = stamp
    data["tags"] = {k: draw(tag_specs(k, keys, overwrite, self_contained)) for k in keys}
    if draw(st.booleans()):
        defaults: dict[str, Any] = {"on_missing": draw(st.sampled_from(ACTIONS))}
        if draw(st.booleans()):
            defaults["grace"] = draw(st.sampled_from(["24h", "1h30m", 600]))
        data["defaults"] = defaults
    rules = []
    for i in range(draw(st.integers(0, 3))):
        rule: dict[str, Any] = {"id": f"rule-{i}"}
        match = draw(match_specs())
        if match:
            rule["match"] = match
        if draw(st.integers(0, 2)) == 0:
            rule["require"] = draw(st.lists(st.sampled_from(keys), unique=True, max_size=len(keys)))
        rule["on_missing"] = draw(st.sampled_from(ACTIONS))
        if rule["on_missing"] in ("quarantine", "delete") and draw(st.booleans()):
            rule["grace"] = draw(st.sampled_from(["4h", "7d", 3600]))
        rules.append(rule)
    if rules or draw(st.booleans()):
        data["rules"] = rules
    ex: dict[str, Any] = {}
    if draw(st.integers(0, 3)) == 0:
        ex["marker_tag"] = {"key": MARKER, **({"value": "true"} if draw(st.booleans()) else {})}
    if draw(st.integers(0, 7)) == 0:
        ex["resource_types"] = ["AWS::EC2::NetworkInterface"]
    if ex:
        data["exemptions"] = ex
    return data


def dump(data: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def load(data: dict[str, Any]) -> RuleSet:
    return load_rules_text(dump(data), "gen.yaml", env={})


# --- events -----------------------------------------------------------------------------------


@dataclass
class World:
    """One normalized event plus what the test knows about it (the inputs it was built from)."""

    provider: Provider
    event: CreationEvent
    lookups: StaticLookups
    current: dict[str, dict[str, str] | None]  # by resource id; None: the resource's tags are unknown
    actor_kind: str
    role_name: str | None
    session_name: str | None
    principal: dict[str, str] | None
    rg_tags: dict[str, str] | None


@st.composite
def tag_sets(draw: st.DrawFn, keys: list[str]) -> dict[str, str]:
    tags = {k: draw(values) for k in draw(st.lists(st.sampled_from(keys), unique=True))}
    if draw(st.integers(0, 5)) == 0:
        tags[MARKER] = draw(st.sampled_from(["true", "false"]))
    filler = draw(st.sampled_from([0, 0, 0, 2, 45, 47, 48, 49, 50]))
    for i in range(min(filler, MAX_TAGS - len(tags))):
        tags[f"fill-{i}"] = "x"
    return tags


def optional_tags(keys: list[str]) -> st.SearchStrategy[dict[str, str] | None]:
    return st.one_of(st.none(), st.dictionaries(st.sampled_from(keys), values, max_size=4))


@st.composite
def aws_worlds(draw: st.DrawFn, keys: list[str]) -> World:
    tags = draw(tag_sets(keys + OTHER_KEYS))
    role = session = None
    if draw(st.integers(0, 3)) > 0:
        role = draw(st.sampled_from(ROLES))
        session = draw(
            st.one_of(st.sampled_from(SESSIONS), st.text(alphabet="abz09-_=,.@éA", min_size=2, max_size=20))
        )
        identity, kind = builders.assumed_role(role=role, session=session), "assumed-role"
    else:
        identity, kind = builders.iam_user(draw(st.sampled_from(["alice", "bob.ops"]))), "user"
    count = draw(st.integers(1, 2))
    [event] = normalize(builders.run_instances(count=count, tags=tags, identity=identity))
    assert isinstance(event, CreationEvent)
    assert event.actor.kind == kind and event.actor.session_name == session
    current: dict[str, dict[str, str] | None] = {}
    for r in event.resources:  # the request's tag specification is for the instances only
        current[r.id] = dict(tags) if r.type == "AWS::EC2::Instance" else {}
        assert r.request_tags == current[r.id]
    principal = draw(optional_tags(keys + OTHER_KEYS))
    return World(
        Provider.AWS, event, StaticLookups(principal=principal), current, kind, role, session, principal, None
    )


@st.composite
def azure_worlds(draw: st.DrawFn, keys: list[str]) -> World:
    rg = draw(st.sampled_from(["rg-agents", "rg-Ops"]))
    rtype = draw(st.sampled_from(["Microsoft.Compute/virtualMachines", "Microsoft.Storage/storageAccounts"]))
    rid = builders.resource_id(rg, rtype, draw(st.sampled_from(["vm1", "stagent01"])))
    if draw(st.booleans()):
        kind, claims, ptype = (
            "app",
            builders.app_claims(draw(st.sampled_from(["app-1", "app-2"]))),
            "ServicePrincipal",
        )
    else:
        kind, claims, ptype = "user", builders.user_claims("alice@contoso.com"), "User"
    [event] = normalize(builders.eventgrid_write(rid, claims=claims, principal_type=ptype))
    assert isinstance(event, CreationEvent)
    assert event.actor.kind == kind
    current = one_per_name(draw(st.one_of(st.none(), tag_sets(keys + OTHER_KEYS))))
    rg_tags = one_per_name(draw(optional_tags(keys + OTHER_KEYS)))
    principal = one_per_name(draw(optional_tags(keys + OTHER_KEYS)))
    scope = f"/subscriptions/{event.account}/resourceGroups/{rg}"
    lookups = StaticLookups(
        principal=principal,
        containers={} if rg_tags is None else {scope: rg_tags},
        resources={} if current is None else {rid: current},
    )
    [resource] = event.resources
    return World(Provider.AZURE, event, lookups, {resource.id: current}, kind, None, None, principal, rg_tags)


@dataclass
class Scenario:
    data: dict[str, Any]
    rules: RuleSet
    world: World


@st.composite
def scenarios(
    draw: st.DrawFn,
    overwrite: st.SearchStrategy[str | None] | None = None,
    unallocated: st.SearchStrategy[str] | None = None,
    provider: st.SearchStrategy[Provider] | None = None,
    self_contained: bool = False,
) -> Scenario:
    data = draw(rules_dicts(overwrite, unallocated, self_contained))
    keys = list(data["tags"])
    prov = draw(provider or st.sampled_from(list(Provider)))
    world = draw(aws_worlds(keys) if prov is Provider.AWS else azure_worlds(keys))
    return Scenario(data, load(data), world)


# --- the independent model --------------------------------------------------------------------

SOURCE_KINDS = ("request_tag", "actor", "principal_tag", "resource_group_tag", "default")


def get_tag(tags: dict[str, str] | None, key: str, provider: Provider) -> str | None:
    """A tag's value as the cloud sees it: Azure compares tag names case-insensitively."""
    if tags is None:
        return None
    if key in tags or provider is Provider.AWS:
        return tags.get(key)
    return next((v for k, v in tags.items() if k.lower() == key.lower()), None)


def fold(keys: Any, provider: Provider) -> set[str]:
    return {k.lower() for k in keys} if provider is Provider.AZURE else set(keys)


def one_per_name(tags: dict[str, str] | None) -> dict[str, str] | None:
    """Azure holds one tag per case-insensitive name."""
    if tags is None:
        return None
    out: dict[str, str] = {}
    for k, v in tags.items():
        if k.lower() not in {o.lower() for o in out}:
            out[k] = v
    return out


def label_of(src: dict[str, Any]) -> str:
    kind = next(k for k in SOURCE_KINDS if k in src)
    return f"{kind}:{src[kind]}"


def source_value(src: dict[str, Any], world: World, rid: str, marker: str) -> str | None:
    current = world.current[rid]
    raw: str | None
    if "request_tag" in src:
        raw = get_tag(current, src["request_tag"], world.provider)
    elif "actor" in src:
        raw = {"session_name": world.session_name, "role_name": world.role_name}[src["actor"]]
    elif "principal_tag" in src:  # Entra principals carry no tags: absent on Azure
        principal = world.principal if world.provider is Provider.AWS else None
        raw = get_tag(principal, src["principal_tag"], world.provider)
    elif "resource_group_tag" in src:
        tags = world.rg_tags if world.provider is Provider.AZURE else None
        raw = get_tag(tags, src["resource_group_tag"], world.provider)
    else:
        raw = str(src["default"])
    if raw is None or raw == marker:
        return None
    if "pattern" in src:  # searched; keeps the group named `value`, else group 1, else the match
        m = re2.search(src["pattern"], raw)
        if m is None:
            return None
        if "value" in m.re.groupindex:
            raw = m.group("value") or ""
        elif m.re.groups:
            raw = m.group(1) or ""
        else:
            raw = m.group(0)
    if "map" in src:
        raw = src["map"].get(raw)
        if raw is None:
            return None
    if src.get("case") == "lower":
        raw = raw.lower()
    elif src.get("case") == "upper":
        raw = raw.upper()
    return raw


def expected_outcome(
    key: str, spec: dict[str, Any], world: World, rid: str, marker: str
) -> tuple[str, str] | None:
    """(value, source label) the tag should end up with, or None when nothing valid is available."""
    have = get_tag(world.current[rid], key, world.provider)
    if have == marker:
        have = None  # our own "unallocated" mark: still missing, and any real value replaces it
    overwrite = spec.get("overwrite", "never")
    if have is not None:
        ok = catalogue_ok(spec, have)
        if ok and overwrite != "always":
            return have, EXISTING
        if not ok and overwrite == "never":
            return None
    for src in spec.get("sources", []):
        value = source_value(src, world, rid, marker)
        if value is None or not catalogue_ok(spec, value) or not provider_value_ok(world.provider, value):
            continue
        return (have, EXISTING) if value == have else (value, label_of(src))
    if have is not None and catalogue_ok(spec, have):
        return have, EXISTING
    return None


def _glob(patterns: str | list[str], value: str | None) -> bool:
    pats = patterns if isinstance(patterns, list) else [patterns]
    return value is not None and any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in pats)


def expected_rule(data: dict[str, Any], world: World) -> dict[str, Any]:
    fields = {"provider": world.provider.value, "role_name": world.role_name, "actor_kind": world.actor_kind}
    for rule in data.get("rules", []):
        if all(_glob(p, fields[name]) for name, p in rule.get("match", {}).items()):
            return rule
    return {"id": "(default)", "on_missing": data.get("defaults", {}).get("on_missing", "notify")}


def expected_exempt(data: dict[str, Any], world: World, rid: str, rtype: str) -> bool:
    ex = data.get("exemptions", {})
    if any(_glob(p, rtype) for p in ex.get("resource_types", [])):
        return True
    marker = ex.get("marker_tag")
    if marker is None:
        return False
    have = get_tag(world.current[rid], marker["key"], world.provider)
    return have is not None and ("value" not in marker or have == marker["value"])


def required_keys(data: dict[str, Any], rule: dict[str, Any]) -> set[str]:
    if "require" in rule:
        return set(rule["require"])
    return {k for k, spec in data["tags"].items() if spec.get("required", True)}


def decide_all(sc: Scenario) -> tuple[Decision, ...]:
    return decide(sc.world.event, sc.rules, sc.world.lookups)


# --- properties -------------------------------------------------------------------------------


@SETTINGS
@given(scenarios())
def test_written_tags_fit_the_cloud_and_the_catalogue(sc: Scenario) -> None:
    limits = LIMITS[sc.world.provider]
    for d in decide_all(sc):
        for key, value in d.tags.items():
            assert limits.key_problem(key, d.resource.type) is None, (key, d.reasons)
            assert limits.value_problem(value) is None, (key, value, d.reasons)
            label = d.sources[key]
            if label not in (UNALLOCATED, STAMP):
                assert sc.rules.tags[key].problem(value) is None, (key, value, label)
                assert catalogue_ok(sc.data["tags"][key], value), (key, value, label)
        existing = fold(sc.world.current[d.resource.id] or {}, sc.world.provider)
        assert len(existing | fold(d.tags, sc.world.provider)) <= MAX_TAGS, d.reasons


@SETTINGS
@given(scenarios())
def test_every_required_tag_is_settled_or_reported(sc: Scenario) -> None:
    w = sc.world
    rule = expected_rule(sc.data, w)
    for d in decide_all(sc):
        if expected_exempt(sc.data, w, d.resource.id, d.resource.type):
            assert d.action is Action.SKIP and not d.tags and d.exemption
            continue
        assert d.action is not Action.SKIP
        assert d.rule == rule["id"]
        required = required_keys(sc.data, rule)
        settled = {k for k, label in d.sources.items() if label not in (UNALLOCATED, STAMP)}
        problems = [*d.missing, *d.invalid]
        problem_keys = [p.key for p in problems]
        assert len(problem_keys) == len(set(problem_keys)), problems  # each listed once
        assert all(p.reason.strip() for p in problems), problems
        assert set(problem_keys) <= required, (problem_keys, required)  # optional tags never count
        for key in required:
            assert (key in settled) != (key in problem_keys), (key, d.sources, problems, d.reasons)
        if d.attributed:
            assert d.action in (Action.TAG, Action.NONE)
            assert (d.action is Action.NONE) == (not d.tags)
        else:
            assert d.action == Action(rule["on_missing"])
        for key, label in d.sources.items():
            if label == UNALLOCATED:
                assert d.action is Action.TAG_UNALLOCATED and key in {p.key for p in d.missing}
                assert d.tags[key] == sc.rules.unallocated_value


@SETTINGS
@given(scenarios(self_contained=True))
def test_first_valid_source_in_order_wins(sc: Scenario) -> None:
    """(With sources that read only the resource's own tags: tags that read each other are settled
    together, which test_second_pass_rewrites_nothing_when_tags_read_each_other covers.)"""
    w = sc.world
    for d in decide_all(sc):
        if d.action is Action.SKIP:
            continue
        for key, spec in sc.data["tags"].items():
            want = expected_outcome(key, spec, w, d.resource.id, sc.rules.unallocated_value)
            label = d.sources.get(key)
            got = (d.tags.get(key), label)
            if want is None:
                assert label in (None, UNALLOCATED), (key, got, d.reasons)
                if label == UNALLOCATED and key in d.tags:
                    assert d.tags[key] == sc.rules.unallocated_value
                elif label == UNALLOCATED:  # the resource had no room left for the marker
                    assert any(r.startswith(f"{key}: not written") for r in d.reasons), d.reasons
            elif want[1] == EXISTING:
                assert label == EXISTING and key not in d.tags, (key, want, got, d.reasons)
            elif key in d.tags:
                assert (d.tags[key], label) == want, (key, want, got, d.reasons)
            else:  # derived, but the resource has no room left for it
                assert label is None, (key, want, got)
                assert any(r.startswith(f"{key}: not written") for r in d.reasons), d.reasons


@SETTINGS
@given(scenarios())
def test_audit_never_plans_a_change_and_enforce_writes_exactly_the_tags(sc: Scenario) -> None:
    decisions = decide_all(sc)
    audit = plan(decisions, Mode.AUDIT)
    assert not [e for e in audit if e.kind in MUTATING]
    enforce = plan(decisions, Mode.ENFORCE)
    for d in decisions:
        writes = [e for e in enforce if e.kind is EffectKind.WRITE_TAGS and e.resource == d.resource]
        if d.tags:
            assert len(writes) == 1 and dict(writes[0].tags) == dict(d.tags)
        else:
            assert not writes
    written = {e.resource.id for e in enforce if e.kind is EffectKind.WRITE_TAGS}
    assert written == {d.resource.id for d in decisions if d.tags}


@SETTINGS
@given(st.one_of(scenarios(overwrite=st.sampled_from([None, "never"])), scenarios()))
def test_never_overwrite_keeps_present_tags(sc: Scenario) -> None:
    for d in decide_all(sc):
        current = sc.world.current[d.resource.id] or {}
        # A tag holding the unallocated marker counts as missing: replacing it is the point.
        marker = sc.rules.unallocated_value
        present = fold({k: v for k, v in current.items() if v != marker}, sc.world.provider)
        for key in (k for k in d.tags if fold([k], sc.world.provider) & present):
            # Only a catalogue tag that allows it replaces a present value; stamps and the
            # unallocated marker never land on a key the resource already has.
            assert key in sc.data["tags"], (key, d.sources)
            assert sc.data["tags"][key].get("overwrite", "never") != "never", (key, d.sources, d.reasons)
            assert d.sources[key] not in (UNALLOCATED, STAMP, EXISTING)


def _after(world: World, d: Decision) -> tuple[CreationEvent, StaticLookups]:
    """The event as a second pass would see it: the resource carrying existing | written tags."""
    written = fold(d.tags, world.provider)
    kept = {
        k: v
        for k, v in (world.current[d.resource.id] or {}).items()
        if not fold([k], world.provider) & written
    }
    tags = {**kept, **d.tags}
    if world.provider is Provider.AWS:
        resource = msgspec.structs.replace(d.resource, request_tags=tags)
        lookups = world.lookups
    else:
        resource = d.resource
        lookups = msgspec.structs.replace(world.lookups, resources={d.resource.id: tags})
    return msgspec.structs.replace(world.event, resources=(resource,)), lookups


def check_second_pass(sc: Scenario) -> None:
    first = decide_all(sc)
    assert first == decide_all(sc)
    for d in first:
        event, lookups = _after(sc.world, d)
        [again] = decide(event, sc.rules, lookups)
        assert again == decide(event, sc.rules, lookups)[0]
        rewritten = {k: (d.tags[k], again.tags[k]) for k in set(d.tags) & set(again.tags)}
        assert not rewritten, (rewritten, d.reasons, again.reasons)
        assert again.action in (Action.NONE, Action.SKIP) or not again.attributed, (again.tags, again.reasons)


@SETTINGS
@given(scenarios(self_contained=True))
def test_deciding_is_deterministic_and_a_second_pass_rewrites_nothing(sc: Scenario) -> None:
    check_second_pass(sc)


def aws_scenario(data: dict[str, Any], tags: dict[str, str] | None = None) -> Scenario:
    """A fixed scenario: an IAM user's RunInstances with these request tags, no lookups."""
    tags = tags or {}
    [event] = normalize(builders.run_instances(tags=tags, identity=builders.iam_user()))
    assert isinstance(event, CreationEvent)
    current: dict[str, dict[str, str] | None] = {
        r.id: dict(tags) if r.type == "AWS::EC2::Instance" else {} for r in event.resources
    }
    world = World(Provider.AWS, event, StaticLookups(), current, "user", None, None, None, None)
    return Scenario(data, load(data), world)


# `team` is derived (default), and `Owner` (overwrite: always) reads it with request_tag before its
# own default: decide must write Owner=ops at once, or a second pass would rewrite it (a regression
# test: before decide settled such tags together, pass 1 wrote Owner=alpha).
CROSS_REFERENCE = aws_scenario(
    {
        "version": 1,
        "tags": {
            "team": {"sources": [{"default": "ops"}]},
            "Owner": {"overwrite": "always", "sources": [{"request_tag": "team"}, {"default": "alpha"}]},
        },
    }
)


@SETTINGS
@example(sc=CROSS_REFERENCE)
@given(scenarios())
def test_second_pass_rewrites_nothing_when_tags_read_each_other(sc: Scenario) -> None:
    check_second_pass(sc)


# --- the rules file itself ------------------------------------------------------------------

VALIDATOR = jsonschema.Draft202012Validator(json_schema())


def _schema_names(node: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        names |= set(node.get("properties", {}))
        for v in node.values():
            names |= _schema_names(v)
    elif isinstance(node, list):
        for v in node:
            names |= _schema_names(v)
    return names


KNOWN_NAMES = _schema_names(json_schema())


def schema_keys(data: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    """(path of the mapping, key) for every key the schema names (not tag names, not map tables)."""
    out: list[tuple[tuple[Any, ...], str]] = [((), k) for k in data]
    for section in ("stamp", "defaults", "exemptions"):
        out += [((section,), k) for k in data.get(section, {})]
    if "marker_tag" in data.get("exemptions", {}):
        out += [(("exemptions", "marker_tag"), k) for k in data["exemptions"]["marker_tag"]]
    for tag, spec in data["tags"].items():
        out += [(("tags", tag), k) for k in spec]
        for i, src in enumerate(spec.get("sources", [])):
            out += [(("tags", tag, "sources", i), k) for k in src]
    for i, rule in enumerate(data.get("rules", [])):
        out += [(("rules", i), k) for k in rule]
        out += [(("rules", i, "match"), k) for k in rule.get("match", {})]
    return out


def typos(word: str) -> list[str]:
    dropped = [word[:i] + word[i + 1 :] for i in range(len(word))]
    swapped = [word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)]
    return sorted({t for t in dropped + swapped if t and t not in KNOWN_NAMES})


def _rename(data: dict[str, Any], path: tuple[Any, ...], old: str, new: str) -> dict[str, Any]:
    out = copy.deepcopy(data)
    parent: Any = out
    for part in path:
        parent = parent[part]
    items = list(parent.items())
    parent.clear()
    parent.update((new if k == old else k, v) for k, v in items)
    return out


@SETTINGS
@given(rules_dicts(), st.data())
def test_rules_files_round_trip_and_typos_are_located(data: dict[str, Any], draw: st.DataObject) -> None:
    load(data)  # loads without error
    VALIDATOR.validate(data)  # and the published JSON Schema agrees

    path, key = draw.draw(st.sampled_from(schema_keys(data)), label="key")
    typo = draw.draw(st.sampled_from(typos(key)), label="typo")
    bad = _rename(data, path, key, typo)
    assert not VALIDATOR.is_valid(bad)
    text = dump(bad)
    with pytest.raises(RulesError) as info:
        load_rules_text(text, "gen.yaml", env={})
    lines = text.splitlines()
    named = [p for p in info.value.problems if p.path == (*path, typo)]
    assert named, str(info.value)
    for p in named:
        assert repr(typo) in p.message and p.line is not None, str(p)
        assert typo in lines[p.line - 1], (p.line, lines[p.line - 1])
        assert f"gen.yaml:{p.line}: " in str(info.value)


# --- edge cases and known gaps ---------------------------------------------------------------


@pytest.mark.parametrize("value", BAD_UNALLOCATED)
def test_an_unallocated_value_the_cloud_refuses_is_rejected(value: str) -> None:
    """Property 1 only holds for the marker value because the loader refuses one AWS would reject."""
    text = dump({"version": 1, "unallocated_value": value, "tags": {"CostCenter": {}}})
    with pytest.raises(RulesError) as info:
        load_rules_text(text, "gen.yaml", env={})
    [problem] = info.value.problems
    assert problem.path == ("unallocated_value",) and problem.line == 2, str(problem)


@pytest.mark.parametrize("overwrite", [None, "never"])
def test_never_overwrite_ignores_key_case_on_azure(overwrite: str | None) -> None:
    spec: dict[str, Any] = {"sources": [{"default": "101"}]}
    if overwrite:
        spec["overwrite"] = overwrite
    rules = load({"version": 1, "tags": {"CostCenter": spec}})
    rid = builders.resource_id("rg-agents", "Microsoft.Compute/virtualMachines", "vm1")
    [event] = normalize(builders.eventgrid_write(rid))
    assert isinstance(event, CreationEvent)
    [d] = decide(event, rules, StaticLookups(resources={rid: {"costcenter": "999"}}))
    assert {k.lower() for k in d.tags}.isdisjoint({"costcenter"}), d.tags
