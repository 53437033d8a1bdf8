"""What one create event counts towards each limit: pure, over the event and the decisions.

A resource counts for a limit when the limit's match, type filters and instance-type filters fit;
its agent is the first `per` source that gives a value. Network interfaces that come with an
instance (lifecycle.act.FOLLOWS_PARENT) are not creates of their own. Exempt resources never count.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from tagwarden.attribution.paths import first
from tagwarden.lifecycle.act import FOLLOWS_PARENT
from tagwarden.model import Action, CreationEvent, Decision, Resource
from tagwarden.runaway.model import Limit, Limits, Measure, ScopeSource
from tagwarden.runaway.prices import PriceTable

TagsOf = Callable[[Decision], Mapping[str, str]]

# Where a create request names the instance type (and how many), per resource type. Data, not
# branches: add a row to price or filter a new type.
INSTANCE_TYPE: Mapping[str, tuple[str, str | None]] = {
    "AWS::EC2::Instance": ("requestParameters.instanceType", None),
    "AWS::SageMaker::NotebookInstance": ("requestParameters.instanceType", None),
    "AWS::SageMaker::TrainingJob": (
        "requestParameters.resourceConfig.instanceType",
        "requestParameters.resourceConfig.instanceCount",
    ),
    "AWS::SageMaker::EndpointConfig": (
        "requestParameters.productionVariants[].instanceType",
        "requestParameters.productionVariants[].initialInstanceCount",
    ),
}
# Priced per provisioned unit of a model: (model id path, units path).
MODEL_UNITS: Mapping[str, tuple[str, str]] = {
    "AWS::Bedrock::ProvisionedModelThroughput": ("requestParameters.modelId", "requestParameters.modelUnits"),
}


@dataclass(frozen=True, slots=True)
class Counted:
    resource: Resource
    instance_type: str | None
    hourly: float | None  # estimated USD per hour; None: not in the price table


@dataclass(frozen=True, slots=True)
class Observation:
    """One limit's share of one event, for one agent."""

    limit: Limit
    scope: str  # the agent, e.g. "Agent-ID=42"
    amount: float  # creates, or USD per hour
    resources: tuple[Counted, ...]
    principal: str | None  # what a brake acts on: the calling role's ARN


def event_time(event: CreationEvent, now: float) -> float:
    """The event's own time (a redelivery lands in the same window), never later than now."""
    try:
        t = datetime.fromisoformat(event.time.replace("Z", "+00:00")).timestamp()
    except (AttributeError, ValueError):
        return now
    return min(t, now)


def principal_of(event: CreationEvent) -> str | None:
    """The role (or user) whose permissions made the call: what a brake attaches to."""
    return event.actor.role_arn or event.actor.arn or event.actor.object_id or event.actor.app_id


# Where a tag's value came from when the caller wrote it: a request tag, or a tag already on the
# resource (the request put it there). Anyone may write those, so they never lead to a brake.
CLAIMED_SOURCES = ("existing", "request_tag")
CLAIMED = " (named by the request)"


def scope_of(
    per: Sequence[ScopeSource],
    event: CreationEvent,
    tags: Callable[[], Mapping[str, str]],
    sources: Mapping[str, str] | None = None,
) -> str | None:
    """The agent a create counts for. A tag value the create request itself supplied is counted
    apart (the scope gets the CLAIMED suffix): a caller writing another agent's Agent-ID must not
    push that agent over its limit and into a brake."""
    folded: dict[str, str] | None = None
    for source in per:
        claimed = False
        if source.kind == "tag":
            folded = folded if folded is not None else {k.lower(): v for k, v in tags().items()}
            value = folded.get(source.arg.lower())
            origin = {k.lower(): v for k, v in (sources or {}).items()}.get(source.arg.lower())
            claimed = origin is None or origin.startswith(CLAIMED_SOURCES)
        else:
            value = event.actor.get(source.arg)
        if value:
            return f"{source.arg}={value}" + (CLAIMED if claimed else "")
    return None


def describe(event: CreationEvent, resource: Resource, prices: PriceTable) -> Counted:
    raw = event.raw
    itype: str | None = None
    count = 1.0
    if (paths := INSTANCE_TYPE.get(resource.type)) is not None:
        found = first(raw, paths[0])
        itype = str(found) if found else None
        if paths[1] is not None and isinstance(n := first(raw, paths[1]), (int, float)) and n > 0:
            count = float(n)
    if (units := MODEL_UNITS.get(resource.type)) is not None:
        model, n = first(raw, units[0]), first(raw, units[1])
        unit_price = prices.model_unit(str(model)) if model else None
        if unit_price is not None and isinstance(n, (int, float)):
            return Counted(resource, None, unit_price * float(n))
    price = prices.hourly_for(itype, resource.type)
    return Counted(resource, itype, None if price is None else price * count)


def observe(
    event: CreationEvent, decisions: Sequence[Decision], limits: Limits, tags_of: TagsOf
) -> list[Observation]:
    counted = [d for d in decisions if d.action is not Action.SKIP]
    if len(counted) > 1:
        counted = [d for d in counted if d.resource.type not in FOLLOWS_PARENT] or counted
    if not counted or not limits:
        return []
    described = {d.resource.id: describe(event, d.resource, limits.prices) for d in counted}
    tags: dict[str, Mapping[str, str]] = {}  # read only for limits counted per tag (Azure: an ARM read)

    def tags_for(d: Decision) -> Mapping[str, str]:
        if d.resource.id not in tags:
            tags[d.resource.id] = tags_of(d)
        return tags[d.resource.id]

    out: list[Observation] = []
    for limit in limits.checks:
        if limit.measure is Measure.TOKENS:
            continue  # counted from usage records (Limiter.observe_usage)
        groups: dict[str, list[Counted]] = {}
        for d in counted:
            c = described[d.resource.id]
            if not limit.matches(event, d.resource):
                continue
            if limit.instance_types is not None and not (
                c.instance_type and limit.instance_types.match(c.instance_type)
            ):
                continue
            scope = scope_of(limit.per, event, functools.partial(tags_for, d), d.sources)
            if scope is not None:
                groups.setdefault(scope, []).append(c)
        for scope, items in groups.items():
            amount = (
                float(len(items)) if limit.measure is Measure.CREATES else sum(c.hourly or 0.0 for c in items)
            )
            out.append(Observation(limit, scope, amount, tuple(items), principal_of(event)))
    return out


def member_key(event_id: str, resource_ids: Iterable[str]) -> str:
    """One event's identity for counting: its id and what it created (a redelivery has both)."""
    digest = hashlib.sha256("\n".join(sorted(resource_ids)).encode()).hexdigest()[:16]
    return f"{event_id}#{digest}"
