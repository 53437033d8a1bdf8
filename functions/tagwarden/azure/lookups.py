"""ARM answers for the attribution core's Lookups port: resource group, subscription and resource tags.

Make one `ArmLookups` per invocation (the enforcer's lookups factory is called once per delivery),
or call `clear()`: answers are cached for that long, so an event with many resources in one
resource group reads the group's tags once, and a later event sees tags changed since.

What each lookup answers:
- container_tags(RESOURCE_GROUP, "/subscriptions/{s}/resourceGroups/{rg}"): the group's tags.
  container_tags(SUBSCRIPTION, "/subscriptions/{s}"): the subscription's tags (tags at scope).
  ACCOUNT, or another provider: None (not something Azure has).
- resource_tags: the resource's current tags, read with the Tags API (Event Grid events do not
  carry them). A type that carries no tags (arm.TYPE_TAGGING) answers {} without a call.
- principal_tags: None. Entra ID users, groups and service principals are directory objects, not
  ARM resources: they have no ARM tags, and reading their directory attributes would need Microsoft
  Graph permissions this function does not hold. (A managed identity is an ARM resource, but the
  token names it only by object id.) Rules that want the caller's team use other sources.

Gone or unknown is never answered with an empty mapping: `{}` would read as "has no tags" and
could mark a resource unattributed on a guess. A resource (or its resource group) that no longer
exists raises ResourceVanished, a ResourceGone: the core Enforcer records the event's resources
as vanished, decides nothing and does not retry. Any other failure (after arm.py's own retries)
raises LookupFailed so the event is retried.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tagwarden.attribution.context import ResourceGone, Scope
from tagwarden.azure.arm import ArmCallFailed, ArmClient, type_tagging
from tagwarden.azure.normalize.resource_id import parse_resource_id
from tagwarden.model import Actor, Provider, Resource


class LookupFailed(RuntimeError):
    """A lookup the rules need could not be answered; the event should be retried."""


class ResourceVanished(ResourceGone):
    """The resource (or the resource group holding it) no longer exists: the core Enforcer records
    the event's resources as vanished and does not retry it."""


class ArmLookups:
    def __init__(self, arm: ArmClient) -> None:
        self._arm = arm
        self._cache: dict[str, Mapping[str, str]] = {}
        self.calls = 0  # lookups that went to ARM (cache misses), for tests and telemetry

    def clear(self) -> None:
        self._cache.clear()

    def principal_tags(self, provider: Provider, actor: Actor) -> Mapping[str, str] | None:
        return None  # Entra ID principals carry no ARM tags (see the module docstring)

    def container_tags(self, provider: Provider, scope: Scope, scope_id: str) -> Mapping[str, str] | None:
        if provider is not Provider.AZURE:
            return None
        if scope is Scope.RESOURCE_GROUP:
            try:
                rid = parse_resource_id(scope_id)
            except ValueError as exc:
                raise LookupFailed(f"not a resource group id: {scope_id!r}") from exc
            if rid.subscription is None or rid.resource_group is None:
                raise LookupFailed(f"not a resource group id: {scope_id!r}")
            sub, rg = rid.subscription, rid.resource_group
            return self._cached(
                f"rg:{sub}/{rg}".lower(),
                lambda: self._arm.resource_group_tags(sub, rg),
                on_missing=lambda: ResourceVanished(scope_id, "the resource group no longer exists"),
            )
        if scope is Scope.SUBSCRIPTION:
            sub = scope_id.rstrip("/").rsplit("/", 1)[-1]
            return self._cached(
                f"sub:{sub}".lower(),
                lambda: self._arm.subscription_tags(sub),
                # A subscription we cannot find is one we cannot read: not a vanished resource.
                on_missing=lambda: LookupFailed(f"subscription {sub} not found (or not readable)"),
            )
        return None

    def resource_tags(self, provider: Provider, resource: Resource) -> Mapping[str, str] | None:
        if provider is not Provider.AZURE:
            return None
        if resource.request_tags is not None:
            return resource.request_tags
        rules = type_tagging(resource.type, resource.name.rsplit("/", 1)[-1] if resource.name else None)
        if rules is not None and rules.max_tags == 0:
            return {}  # the type has no tags to read
        return self._cached(
            f"res:{resource.id}".lower(),
            lambda: self._arm.get_tags(resource.id),
            on_missing=lambda: ResourceVanished(resource.id, "the resource no longer exists"),
        )

    def _cached(
        self,
        key: str,
        fetch: Callable[[], dict[str, str] | None],
        on_missing: Callable[[], Exception],
    ) -> Mapping[str, str]:
        found = self._cache.get(key)
        if found is not None:
            return found
        self.calls += 1
        try:
            tags = fetch()
        except ArmCallFailed as exc:
            raise LookupFailed(f"cannot read tags ({key}): {exc}") from exc
        if tags is None:
            raise on_missing()
        self._cache[key] = tags
        return tags
