"""Where a tag's value can come from: a registry of source kinds, each a small fetch function.

A rules file lists sources per tag, in order; the first that yields a valid value wins. Adding a
kind means adding a row here (and it appears in the schema, the docs and `explain` output).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from msgspec import Struct

from tagwarden.attribution import paths
from tagwarden.attribution.context import Context, Scope
from tagwarden.attribution.limits import tag_value
from tagwarden.attribution.regex import Match, Pattern
from tagwarden.model import ACTOR_FIELDS

# A fetch answers the raw value, None when the source has nothing, or an Unresolved marker.
Fetch = Callable[[Context], "str | Unresolved | None"]


class Unresolved(Struct, frozen=True):
    what: str


def _tag_from(ctx: Context, tags: Mapping[str, str] | None, key: str, what: str) -> str | Unresolved | None:
    if tags is None:
        return Unresolved(what)
    return tag_value(tags, key, ctx.limits)


def _request_tag(key: str) -> Fetch:
    def fetch(ctx: Context) -> str | Unresolved | None:
        written = tag_value(ctx.overlay, key, ctx.limits)  # another tag this decision writes
        return written if written is not None else _tag_from(ctx, ctx.current_tags(), key, "request tags")

    return fetch


def _principal_tag(key: str) -> Fetch:
    return lambda ctx: _tag_from(ctx, ctx.principal_tags(), key, "principal tags")


def _container_tag(scope: Scope) -> Callable[[str], Fetch]:
    def make(key: str) -> Fetch:
        return lambda ctx: _tag_from(ctx, ctx.container_tags(scope), key, f"{scope} tags")

    return make


def _actor(attr: str) -> Fetch:
    if attr == "kind":
        return lambda ctx: str(ctx.event.actor.kind)
    return lambda ctx: ctx.event.actor.get(attr)


def _event(path: str) -> Fetch:
    paths.compile_path(path)  # validated at load

    def fetch(ctx: Context) -> str | None:
        value = paths.first(ctx.event.raw, path)
        if value is None or isinstance(value, (dict, list)):
            return None
        return str(value).lower() if isinstance(value, bool) else str(value)

    return fetch


_RESOURCE_ATTRS = ("id", "name", "type", "resource_group", "native_id")
_EVENT_ATTRS = ("event_name", "event_source", "event_id", "account", "region", "time", "provider")


def _event_attr(attr: str) -> Fetch:
    def fetch(ctx: Context) -> str | None:
        value = getattr(ctx.event, attr)
        return None if value is None else str(value)

    return fetch


def _resource(attr: str) -> Fetch:
    return lambda ctx: getattr(ctx.resource, attr)


def _default(value: Any) -> Fetch:
    text = str(value)
    return lambda ctx: text


class SourceKind(Struct, frozen=True):
    name: str
    doc: str
    arg_doc: str
    make: Callable[[Any], Fetch]
    choices: tuple[str, ...] = ()  # when the argument is one of a fixed set
    is_path: bool = False
    scalar_arg: bool = False


SOURCE_KINDS: dict[str, SourceKind] = {
    k.name: k
    for k in (
        SourceKind(
            "request_tag",
            "a tag given in the create request (Azure: the resource's current tags)",
            "tag key",
            _request_tag,
        ),
        SourceKind(
            "actor",
            "an attribute of the caller",
            "actor attribute",
            _actor,
            choices=("kind", *ACTOR_FIELDS),
        ),
        SourceKind(
            "principal_tag",
            "a tag on the calling principal (IAM role or user; looked up and cached)",
            "tag key",
            _principal_tag,
        ),
        SourceKind(
            "resource_group_tag",
            "a tag on the Azure resource group of the resource",
            "tag key",
            _container_tag(Scope.RESOURCE_GROUP),
        ),
        SourceKind(
            "subscription_tag",
            "a tag on the Azure subscription",
            "tag key",
            _container_tag(Scope.SUBSCRIPTION),
        ),
        SourceKind(
            "account_tag",
            "a tag on the AWS account (AWS Organizations account tags)",
            "tag key",
            _container_tag(Scope.ACCOUNT),
        ),
        SourceKind(
            "event",
            "a field of the raw event, by dotted path (CloudTrail record / Event Grid event)",
            "dotted path",
            _event,
            is_path=True,
        ),
        SourceKind(
            "event_attr",
            "an attribute of the normalized event",
            "event attribute",
            _event_attr,
            choices=_EVENT_ATTRS,
        ),
        SourceKind(
            "resource",
            "an attribute of the created resource",
            "resource attribute",
            _resource,
            choices=_RESOURCE_ATTRS,
        ),
        SourceKind(
            "default",
            "a fixed value, used when nothing before it applied",
            "value",
            _default,
            scalar_arg=True,
        ),
    )
}


class Source(Struct, frozen=True):
    """A compiled source: fetch, then optional pattern capture, mapping table and case change."""

    kind: str
    arg: str
    fetch: Fetch
    label: str  # "kind:arg" (Source.of), made once at load: it is on the hot path of every decision
    pattern: Pattern | None = None  # RE2: linear time (see attribution.regex)
    mapping: Mapping[str, str] | None = None
    case: str | None = None

    @classmethod
    def of(
        cls,
        kind: str,
        arg: str,
        fetch: Fetch,
        pattern: Pattern | None = None,
        mapping: Mapping[str, str] | None = None,
        case: str | None = None,
    ) -> Source:
        return cls(kind, arg, fetch, f"{kind}:{arg}", pattern, mapping, case)

    def value(self, ctx: Context) -> tuple[str | Unresolved | None, str]:
        """The value and, when there is none, why (for the decision's reasons)."""
        raw = self.fetch(ctx)
        if raw is None or isinstance(raw, Unresolved):
            return raw, "absent" if raw is None else f"unresolved ({raw.what})"
        if raw == ctx.marker:
            return None, "is the unallocated marker"  # never propagate "we don't know" as a value
        value = raw
        if self.pattern is not None:
            m = self.pattern.search(value)
            if m is None:
                return None, f"{value!r} does not match {self.pattern.pattern!r}"
            value = _capture(m)
        if self.mapping is not None:
            mapped = self.mapping.get(value)
            if mapped is None:
                return None, f"{value!r} is not in the mapping table"
            value = mapped
        if self.case == "lower":
            value = value.lower()
        elif self.case == "upper":
            value = value.upper()
        return value, ""


def _capture(m: Match) -> str:
    if "value" in m.re.groupindex:
        return m.group("value") or ""
    if m.re.groups:
        return m.group(1) or ""
    return m.group(0) or ""
