"""The one question every enforcer asks: for this create event, what does each resource get?

Pure: the event, the compiled rules and a lookup port in, decisions out. Lookups are only made
when a source needs them (the first valid source wins, so later ones are never fetched).
"""

from __future__ import annotations

from collections.abc import Mapping

from msgspec import Struct, field

from tagwarden.attribution.context import NO_LOOKUPS, Context, Lookups
from tagwarden.attribution.limits import LIMITS, TagLimits, fit_value, tag_value
from tagwarden.attribution.sources import Unresolved
from tagwarden.model import Action, CreationEvent, Decision, Resource, TagProblem
from tagwarden.rules.model import Overwrite, Rule, RuleSet, TagSpec

EXISTING = "existing"  # source label of a tag already on the resource
UNALLOCATED = "unallocated"  # source label of the marker value
STAMP = "stamp"  # source label of the creator/created-at/rule tags


def decide(event: CreationEvent, rules: RuleSet, lookups: Lookups = NO_LOOKUPS) -> tuple[Decision, ...]:
    cache: dict[str, Mapping[str, str] | None] = {}  # lookups shared by the event's resources
    return tuple(decide_resource(event, resource, rules, lookups, cache) for resource in event.resources)


def decide_resource(
    event: CreationEvent,
    resource: Resource,
    rules: RuleSet,
    lookups: Lookups = NO_LOOKUPS,
    cache: dict[str, Mapping[str, str] | None] | None = None,
) -> Decision:
    ctx = Context(event, resource, lookups, cache)
    ctx.marker = rules.unallocated_value
    exemption = _exemption(ctx, rules)
    if exemption is not None:
        return Decision(
            resource=resource,
            action=Action.SKIP,
            rule=None,
            exemption=exemption,
            reasons=(f"exempt: {exemption}",),
            unresolved=tuple(dict.fromkeys(ctx.unresolved)),
        )

    rule = rules.rule_for(event, resource)
    limits = LIMITS[event.provider]
    case = _Case(
        ctx,
        rules,
        rule,
        limits,
        current={limits.fold(k): v for k, v in (ctx.current_tags() or {}).items()},
        required=(
            set(rule.require)
            if rule.require is not None
            else {k for k, t in rules.tags.items() if t.required}
        ),
    )
    derived = _settle(case)
    _drop_over_limit(case, derived)
    action = _action(case, derived)
    _add_stamps(case, derived, _stamps(case))
    if action is Action.TAG and not derived.writes:
        action = Action.NONE

    return Decision(
        resource=resource,
        action=action,
        rule=rule.id,
        tags=derived.writes,
        sources=derived.sources,
        missing=tuple(derived.missing),
        invalid=tuple(derived.invalid),
        grace_seconds=rule.grace_seconds if action in (Action.QUARANTINE, Action.DELETE) else None,
        reasons=tuple(derived.reasons),
        unresolved=tuple(dict.fromkeys(ctx.unresolved)),
    )


class _Case(Struct, frozen=True):
    """What one resource's decision reads: the event context, the rules and the rule that matched,
    the cloud's limits, the resource's tags (keys folded as the cloud compares them) and the tags
    the rule requires."""

    ctx: Context
    rules: RuleSet
    rule: Rule
    limits: TagLimits
    current: Mapping[str, str]
    required: set[str]


class _Derived(Struct):
    """What the decision writes and why, built up step by step."""

    writes: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    missing: list[TagProblem] = field(default_factory=list)
    invalid: list[TagProblem] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def _settle(case: _Case) -> _Derived:
    """Derive the tags; when a tag's sources read tags this same decision writes (request_tag on
    another catalogue key), derive until nothing changes, so that a second pass writes nothing."""
    overlay: dict[str, str] = {}
    for _ in range(len(case.rules.tags) + 1):
        derived = _derive(case, overlay)
        if not case.rules.reads_own_tags or derived.writes == overlay:
            return derived
        overlay = dict(derived.writes)
    derived.reasons.append("derivation did not settle: tags that read each other disagree")
    return derived


def _derive(case: _Case, overlay: Mapping[str, str]) -> _Derived:
    ctx, rules, rule, limits = case.ctx, case.rules, case.rule, case.limits
    out = _Derived(
        reasons=[
            f"rule {rule.id} matched" if rule is not rules.default_rule else "no rule matched: defaults apply"
        ]
    )
    for key, spec in rules.tags.items():
        ctx.settling(key, overlay)
        have = case.current.get(limits.fold(key))
        value, label, problem, notes = _settle_tag(ctx, spec, have, limits, rules.unallocated_value)
        if value is not None:
            out.sources[key] = label
            if label != EXISTING:
                out.writes[key] = value
            passed = f" (passed over: {'; '.join(notes)})" if notes else ""
            out.reasons.append(f"{key} = {value!r} from {label}{passed}")
            continue
        if problem is None or key not in case.required:
            if notes:
                out.reasons.append(f"{key} (optional): not derived ({'; '.join(notes)})")
            continue
        kind, why = problem
        (out.invalid if kind == "invalid" else out.missing).append(TagProblem(key, why))
        out.reasons.append(f"{key}: {kind}: {why}")
    return out


def _drop_over_limit(case: _Case, derived: _Derived) -> None:
    """Take back the writes the cloud's tag count has no room for; a required one becomes missing."""
    have, most = len(case.current), case.limits.max_tags
    for key in _over_limit(derived.writes, case.current, case.limits):
        del derived.writes[key]
        del derived.sources[key]
        derived.reasons.append(f"{key}: not written, the resource already has {have} of {most} tags")
        if key in case.required:
            derived.missing.append(TagProblem(key, f"no room: the resource has {have} of {most} tags"))


def _action(case: _Case, derived: _Derived) -> Action:
    """TAG when everything is settled, else the rule's on_missing (marking the gaps if it says so)."""
    if not (derived.missing or derived.invalid):
        return Action.TAG
    action = case.rule.on_missing
    if action is Action.TAG_UNALLOCATED:
        _mark_unallocated(case, derived)
    derived.reasons.append(f"unattributed: action {action.value} from rule {case.rule.id}")
    return action


def _mark_unallocated(case: _Case, derived: _Derived) -> None:
    """Write the unallocated marker on each missing tag that is not marked yet, while there is room."""
    fold, marker, current = case.limits.fold, case.rules.unallocated_value, case.current
    for gap in derived.missing:
        if current.get(fold(gap.key)) == marker:
            derived.sources[gap.key] = UNALLOCATED  # already marked: nothing to write again
        elif len(set(current) | {fold(k) for k in derived.writes} | {fold(gap.key)}) <= case.limits.max_tags:
            derived.writes[gap.key] = marker
            derived.sources[gap.key] = UNALLOCATED


def _add_stamps(case: _Case, derived: _Derived, stamps: Mapping[str, str]) -> None:
    """The stamp tags, all of them or none: they are written only when they all fit."""
    if stamps and _over_limit({**derived.writes, **stamps}, case.current, case.limits):
        derived.reasons.append(
            f"stamp tags not written: the resource would exceed {case.limits.max_tags} tags"
        )
    else:
        derived.writes.update(stamps)
        derived.sources.update(dict.fromkeys(stamps, STAMP))


Outcome = tuple[str | None, str, tuple[str, str] | None, list[str]]


def _settle_tag(ctx: Context, spec: TagSpec, have: str | None, limits: TagLimits, marker: str) -> Outcome:
    """(value, source label, problem, notes): a value to keep or write, or why there is none."""
    if have == marker:
        # Our own "unallocated" mark: the tag is still missing, and any real value replaces it.
        found, label, problem, passed = _settle_tag(ctx, spec, None, limits, marker)
        if problem is not None:
            problem = (problem[0], f"marked {marker!r}; {problem[1]}")
        return found, label, problem, passed
    if have is not None and (kept := _judge_present(spec, have)) is not None:
        return kept
    return _from_sources(ctx, spec, have, limits)


def _judge_present(spec: TagSpec, have: str) -> Outcome | None:
    """The outcome decided by the present value and the overwrite mode alone, or None: ask the sources."""
    bad = spec.problem(have)
    if bad is None and spec.overwrite is not Overwrite.ALWAYS:
        return have, EXISTING, None, []
    if bad is not None and spec.overwrite is Overwrite.NEVER:
        return None, "", ("invalid", f"present value {bad} (overwrite: never)"), []
    return None


def _from_sources(ctx: Context, spec: TagSpec, have: str | None, limits: TagLimits) -> Outcome:
    """The first source with a valid value wins; `have` is kept when a source gives it again."""
    notes: list[str] = []
    rejected: list[str] = []
    for source in spec.sources:
        got, why = source.value(ctx)
        if got is None or isinstance(got, Unresolved):
            notes.append(f"{source.label} {why}")
            continue
        bad = spec.problem(got) or limits.value_problem(got)
        if bad is not None:
            rejected.append(f"{source.label} gave {bad}")
            continue
        if got == have:
            return have, EXISTING, None, rejected
        return got, source.label, None, rejected
    return _no_source(spec, have, notes, rejected)


def _no_source(spec: TagSpec, have: str | None, notes: list[str], rejected: list[str]) -> Outcome:
    """No source gave a valid value: keep a valid present one, else say why the tag has none."""
    if have is not None and spec.problem(have) is None:
        return have, EXISTING, None, []  # overwrite: always, but nothing better was found
    if have is not None:
        return None, "", ("invalid", f"present value {spec.problem(have)}; no source gave a valid one"), notes
    if rejected:
        return None, "", ("invalid", "; ".join(rejected + notes)), notes
    if not spec.sources:
        return None, "", ("missing", "not in the request and no sources configured"), notes
    return None, "", ("missing", "no source had a value: " + "; ".join(notes)), notes


def _exemption(ctx: Context, rules: RuleSet) -> str | None:
    ex = rules.exemptions
    event, resource = ctx.event, ctx.resource
    if ex.principals is not None and ex.principals(event, resource):
        return f"principal {event.actor.identity} is exempt"
    if ex.resource_types is not None and ex.resource_types.match(resource.type):
        return f"resource type {resource.type} is exempt"
    if ex.marker_key is not None:
        value = tag_value(ctx.current_tags(), ex.marker_key, ctx.limits)
        if value is not None and (ex.marker_value is None or value == ex.marker_value):
            return f"resource carries the exemption tag {ex.marker_key}"
    return None


def _stamps(case: _Case) -> dict[str, str]:
    event, rule, rules, limits = case.ctx.event, case.rule, case.rules, case.limits
    stamp = rules.stamp
    if stamp is None:
        return {}
    wanted = {
        "creator": stamp.creator and event.actor.identity,
        "created-at": stamp.created_at and event.time,
        "rule": stamp.rule and rule.id,
        "event-id": stamp.event_id and event.event_id,
    }
    out: dict[str, str] = {}
    for name, value in wanted.items():
        key = stamp.prefix + name
        if value and limits.fold(key) not in case.current:
            out[key] = fit_value(str(value), limits)
    return out


def _over_limit(writes: Mapping[str, str], current: Mapping[str, str], limits: TagLimits) -> list[str]:
    """Keys of `writes` (last first) that do not fit within the cloud's tag count (`current` is folded)."""
    new = [k for k in writes if limits.fold(k) not in current]
    room = max(limits.max_tags - len(current), 0)
    return new[room:][::-1] if len(new) > room else []
