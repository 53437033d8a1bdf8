"""The compiled `limits:` section: what is counted, per whom, over which window, and what happens
when a limit is crossed. Built once per cold start by `tagwarden.rules.limits`."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from msgspec import Struct, field

from tagwarden.model import CreationEvent, Resource
from tagwarden.runaway.prices import PriceTable

if TYPE_CHECKING:  # rules.match is imported by the rules package, which imports this module
    from tagwarden.rules.match import Globs, Matcher


class Measure(StrEnum):
    CREATES = "creates"  # resources created in the window
    SPEND = "spend_per_hour"  # hourly list price of the resources created in the window (+ LLM spend)
    TOKENS = "tokens"  # LLM tokens in the window (usage records)


class LimitAction(StrEnum):
    ALERT = "alert"  # every crossing alerts; listing it alone means alert only
    BRAKE = "brake"  # AWS: a deny-create inline policy on the agent's role, recorded with its undo
    QUARANTINE_NEW = "quarantine-new"  # what the agent creates while over the limit is quarantined


class ScopeSource(Struct, frozen=True):
    """Where the key a limit counts per comes from: a tag of the created resource, or the caller."""

    kind: str  # tag | actor
    arg: str  # tag key | Actor attribute

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.arg}"


class Limit(Struct, frozen=True):
    id: str
    per: tuple[ScopeSource, ...]  # tried in order: the first that gives a value names the agent
    measure: Measure
    threshold: float
    window: int  # seconds
    matchers: tuple[Matcher, ...] = ()
    resource_types: Globs | None = None
    instance_types: Globs | None = None
    actions: frozenset[LimitAction] = frozenset({LimitAction.ALERT})
    cooldown: int = 1800  # seconds before the same level alerts again
    grace: int = 86_400  # quarantine-new: time to attribute before deletion (rules' delete settings)
    description: str = ""

    def matches(self, event: CreationEvent, resource: Resource) -> bool:
        if self.resource_types is not None and not self.resource_types.match(resource.type):
            return False
        return all(m(event, resource) for m in self.matchers)

    @property
    def unit(self) -> str:
        return {Measure.CREATES: "creates", Measure.SPEND: "USD/h", Measure.TOKENS: "tokens"}[self.measure]


class Limits(Struct, frozen=True):
    checks: tuple[Limit, ...] = ()
    prices: PriceTable = field(default_factory=PriceTable)

    def __bool__(self) -> bool:
        return bool(self.checks)
