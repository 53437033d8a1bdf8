"""What a derivation source can see while deciding one resource, and the lookup port behind it.

Lookups that need the cloud (a principal's IAM tags, a resource group's tags, a resource's
current tags) go through `Lookups`; the AWS and Azure adapters implement it, and offline
evaluation (`tagwarden explain`) uses `StaticLookups`. A lookup answers a mapping, or None when it
cannot know (offline, not applicable); a failing call raises so the event can be retried.
Each answer is fetched at most once per event, and only when a source actually needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Protocol

from msgspec import Struct, field

from tagwarden.attribution.limits import LIMITS
from tagwarden.model import Actor, CreationEvent, Provider, Resource


class ResourceGone(RuntimeError):
    """A lookup found the resource itself gone: nothing to decide, nothing to retry."""

    def __init__(self, resource_id: str, detail: str) -> None:
        super().__init__(f"{resource_id}: {detail}")
        self.resource_id = resource_id


class Scope(StrEnum):
    RESOURCE_GROUP = "resource_group"
    SUBSCRIPTION = "subscription"
    ACCOUNT = "account"


class Lookups(Protocol):
    def principal_tags(self, provider: Provider, actor: Actor) -> Mapping[str, str] | None: ...

    def container_tags(self, provider: Provider, scope: Scope, scope_id: str) -> Mapping[str, str] | None: ...

    def resource_tags(self, provider: Provider, resource: Resource) -> Mapping[str, str] | None: ...


class StaticLookups(Struct):
    """Offline answers: from CLI flags or a file. Anything not given is unresolved."""

    principal: Mapping[str, str] | None = None
    containers: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # by scope name or id
    resources: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # by resource id

    def principal_tags(self, provider: Provider, actor: Actor) -> Mapping[str, str] | None:
        return self.principal

    def container_tags(self, provider: Provider, scope: Scope, scope_id: str) -> Mapping[str, str] | None:
        tags = self.containers.get(scope_id)
        if tags is None:
            tags = self.containers.get(str(scope))
        return tags

    def resource_tags(self, provider: Provider, resource: Resource) -> Mapping[str, str] | None:
        return self.resources.get(resource.id)


NO_LOOKUPS = StaticLookups()


class Context:
    """Per-(event, resource) view. Lookup answers are memoised in `cache`, which the caller shares
    across the resources of one event (one principal lookup per event, not per resource)."""

    __slots__ = ("_cache", "event", "limits", "lookups", "marker", "overlay", "resource", "unresolved")

    def __init__(
        self,
        event: CreationEvent,
        resource: Resource,
        lookups: Lookups,
        cache: dict[str, Mapping[str, str] | None] | None = None,
    ) -> None:
        self.event = event
        self.resource = resource
        self.lookups = lookups
        self._cache = {} if cache is None else cache
        self.unresolved: list[str] = []
        self.limits = LIMITS[event.provider]
        # Tags this decision is about to write, visible to request_tag sources (see decide()).
        self.overlay: Mapping[str, str] = {}
        self.marker: str | None = None  # the rules' unallocated value: never a source value

    def _memo(
        self, key: str, what: str, fetch: Callable[[], Mapping[str, str] | None]
    ) -> Mapping[str, str] | None:
        if key in self._cache:
            got = self._cache[key]
        else:
            got = self._cache[key] = fetch()
        if got is None:
            self.unresolved.append(what)
        return got

    def current_tags(self) -> Mapping[str, str] | None:
        """Tags the resource has: those of the create request, or (Azure) read from the resource."""
        if self.resource.request_tags is not None:
            return self.resource.request_tags
        return self._memo(
            f"resource:{self.resource.id}",
            f"current tags of {self.resource.id}",
            lambda: self.lookups.resource_tags(self.event.provider, self.resource),
        )

    def settling(self, key: str, overlay: Mapping[str, str]) -> None:
        """While a tag is settled, its sources see the other tags this decision writes, not its own."""
        self.overlay = {k: v for k, v in overlay.items() if k != key} if overlay else overlay

    def principal_tags(self) -> Mapping[str, str] | None:
        if not self.limits.principals_have_tags:
            return {}  # nothing to look up: absent, not unresolved
        actor = self.event.actor
        who = actor.role_arn or actor.identity or "the caller"
        return self._memo(
            "principal",
            f"tags of principal {who}",
            lambda: self.lookups.principal_tags(self.event.provider, actor),
        )

    def container_tags(self, scope: Scope) -> Mapping[str, str] | None:
        scope_id = self.scope_id(scope)
        if scope_id is None:
            return {}  # not applicable (no resource group on AWS, no account tags on Azure): absent
        return self._memo(
            f"scope:{scope}",
            f"tags of {scope} {scope_id}",
            lambda: self.lookups.container_tags(self.event.provider, scope, scope_id),
        )

    def scope_id(self, scope: Scope) -> str | None:
        """The id of the resource's container at `scope`; None where the cloud has none."""
        ident = SCOPE_IDS.get((self.event.provider, scope))
        return ident(self.event, self.resource) if ident is not None else None


# The containers each cloud has, and how a resource's container id is spelled (a table: adding a
# cloud or a scope is a row, not a branch).
SCOPE_IDS: Mapping[tuple[Provider, Scope], Callable[[CreationEvent, Resource], str | None]] = {
    (Provider.AZURE, Scope.RESOURCE_GROUP): lambda e, r: (
        f"/subscriptions/{e.account}/resourceGroups/{r.resource_group}" if r.resource_group else None
    ),
    (Provider.AZURE, Scope.SUBSCRIPTION): lambda e, r: f"/subscriptions/{e.account}",
    (Provider.AWS, Scope.ACCOUNT): lambda e, r: e.account,
}
