"""The compiled rule set: what the loader produces and the attribution core reads.

Everything here is built once per cold start: regexes and globs compiled, durations parsed.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING

from msgspec import Struct, field

from tagwarden.attribution.regex import Pattern
from tagwarden.attribution.sources import Source
from tagwarden.model import Action, CreationEvent, Resource
from tagwarden.rules.match import Globs, Matcher

if TYPE_CHECKING:  # imported only when a rules file has limits (rules.compile)
    from tagwarden.runaway.model import Limits


class Mode(StrEnum):
    AUDIT = "audit"  # decide and report; change nothing
    ENFORCE = "enforce"


class Overwrite(StrEnum):
    NEVER = "never"  # a tag already on the resource is left as it is, valid or not
    INVALID = "invalid"  # replace a present value that fails validation
    ALWAYS = "always"  # the sources win over what the resource has


class TagSpec(Struct, frozen=True):
    key: str
    required: bool
    sources: tuple[Source, ...]
    pattern: Pattern | None = None  # RE2: linear time (see rules.regex)
    allowed: frozenset[str] | None = None
    allowed_folded: frozenset[str] | None = None  # lower-cased, when ignore_case
    min_length: int | None = None
    max_length: int | None = None
    overwrite: Overwrite = Overwrite.NEVER
    description: str = ""

    def problem(self, value: str) -> str | None:
        """Why a value is not acceptable for this tag, or None."""
        if self.min_length is not None and len(value) < self.min_length:
            return f"{value!r} is shorter than {self.min_length} characters"
        if self.max_length is not None and len(value) > self.max_length:
            return f"{value!r} is longer than {self.max_length} characters"
        if self.allowed is not None:
            ok = value in self.allowed or (
                self.allowed_folded is not None and value.lower() in self.allowed_folded
            )
            if not ok:
                return f"{value!r} is not one of the allowed values"
        if self.pattern is not None and not self.pattern.fullmatch(value):
            return f"{value!r} does not match {self.pattern.pattern!r}"
        return None


class Rule(Struct, frozen=True):
    id: str
    matchers: tuple[Matcher, ...]
    on_missing: Action
    grace_seconds: int | None
    require: tuple[str, ...] | None  # None: every tag marked required
    description: str = ""

    def matches(self, event: CreationEvent, resource: Resource) -> bool:
        return all(m(event, resource) for m in self.matchers)


class Stamp(Struct, frozen=True):
    prefix: str
    creator: bool
    created_at: bool
    rule: bool
    event_id: bool


class Exemptions(Struct, frozen=True):
    principals: Matcher | None
    resource_types: Globs | None
    marker_key: str | None
    marker_value: str | None


class Notifications(Struct, frozen=True):
    sns_topic_arn: str | None = None
    teams_webhook_url: str | None = None
    storage_queue: str | None = None


class Lifecycle(Struct, frozen=True):
    """Safety settings for destructive actions; the defaults are the careful ones."""

    dry_run: bool = False
    delete_dry_run: bool = True  # deletion is opt-in: switch it off once the notifications look right
    max_deletions_per_sweep: int = 10
    protect_tag: str = "tagwarden:protect"


class CatalogueEntry(Struct, frozen=True):
    """A create event the operator teaches the reader (the rules file's `catalogue:` section).

    It only says where the created resource is; what happens to it is still the rules' decision.
    Provider readers consult these after their own catalogue: a user entry never overrides one."""

    event_source: str  # e.g. quantumledger.amazonaws.com
    event_name: str  # e.g. CreateVault
    id_path: str  # dotted path to the created resource's id (ARN) under responseElements
    resource_type: str  # e.g. AWS::QuantumLedger::Vault
    tags_path: str | None = None  # dotted path to the request's tags
    tagger: str = "rgta"  # the tag operation: a tagger name of the provider's table


class RuleSet(Struct, frozen=True):
    source: str  # file name, for messages
    mode: Mode
    tags: Mapping[str, TagSpec]
    rules: tuple[Rule, ...]
    default_rule: Rule
    exemptions: Exemptions
    stamp: Stamp | None
    unallocated_value: str
    notifications: Notifications = field(default_factory=Notifications)
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    limits: Limits | None = None  # runaway agents (tagwarden.runaway): None when the file has none
    # Some tag's sources read a catalogue tag from the resource (request_tag: <catalogue key>),
    # so one decision must derive until it settles (see tagwarden.decide).
    reads_own_tags: bool = False
    catalogue: tuple[CatalogueEntry, ...] = ()  # user-defined create events (CatalogueEntry)
    # Things worth saying that are not errors (`rules check` prints them), e.g. mode left implicit.
    warnings: tuple[str, ...] = ()

    def rule_for(self, event: CreationEvent, resource: Resource) -> Rule:
        for rule in self.rules:
            if rule.matches(event, resource):
                return rule
        return self.default_rule
