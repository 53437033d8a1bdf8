"""The ARM port: read tags at any scope and add tags with the Tags API's Merge, through the Azure SDK.

One `ResourceManagementClient` (azure-mgmt-resource 26, api-version 2025-04-01) per subscription,
created on first use and reused for the life of the worker. Production authenticates with
`DefaultAzureCredential` (the Function's managed identity) against the public cloud, or against
`TAGWARDEN_ARM_ENDPOINT` with `TAGWARDEN_ARM_SCOPE`/`{endpoint}/.default` as the token scope. The
local fake and the demo run over plain http with a static bearer token: the SDK's bearer policy
refuses non-TLS URLs, so `StaticBearerPolicy` (a SansIOHTTPPolicy) replaces it there.

Writes: `PATCH {scope}/providers/Microsoft.Resources/tags/default` with operation Merge, which
adds names and updates the values of names already there (names compared case-insensitively) and
never removes a tag. Never Replace, never a whole-set PUT. The SDK models it as a long-running
operation (`begin_update_at_scope`): a 200 settles at once, a 202 is polled through
Azure-AsyncOperation/Location with `_Polling`, whose sleeps go through the injected `sleep` and
stop at `lro_timeout`.

Retries are ours, not the SDK's (its RetryPolicy is switched off so that every sleep goes through
the injectable `sleep` and is bounded): 429 honours Retry-After (capped at `max_retry_after`), 408,
409 other than ScopeLocked, 5xx and connection errors back off exponentially with jitter, up to
`attempts` calls. A write answered 404 is retried for `not_found_window` seconds (ARM reads can lag
the write that fired the event), then it is VANISHED.

Outcomes (tagwarden.tagging): TAGGED; VANISHED; FAILED (transient or unexplained: the enforcer
retries the event); UNSUPPORTED (not retried: retrying cannot help) for a type without tags, tags
over a type's own limits (TYPE_TAGGING), tags over Azure's limits (LIMITS[Provider.AZURE], checked
before any call), and ARM's own 400/405 or a ReadOnly lock (409 ScopeLocked).
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from azure.core.credentials import AccessToken, TokenCredential
from azure.core.exceptions import AzureError, HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import RetryPolicy, SansIOHTTPPolicy
from azure.mgmt.core.polling.arm_polling import ARMPolling
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.resources.models import GenericResource, Tags, TagsPatchResource
from msgspec import Struct

from tagwarden.attribution.limits import LIMITS, tag_value
from tagwarden.azure.normalize.resource_id import parse_resource_id
from tagwarden.channels.retry import retry_after_seconds
from tagwarden.model import Provider, Resource
from tagwarden.tagging import Outcome, TagResult, TagWrite

T = TypeVar("T")

ENDPOINT_ENV = "TAGWARDEN_ARM_ENDPOINT"  # e.g. http://127.0.0.1:PORT for the local fake
TOKEN_ENV = "TAGWARDEN_ARM_TOKEN"  # static bearer token (local fake / demo only)
SCOPE_ENV = "TAGWARDEN_ARM_SCOPE"  # token scope for a non-public cloud endpoint
SUBSCRIPTION_ENV = "AZURE_SUBSCRIPTION_ID"
LOCAL_TOKEN = "tagwarden-local"
# The SDK needs a subscription id to build a client; tags at scope and get_by_id do not use it.
ANY_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
USER_AGENT = "tagwarden"  # shows in the Activity Log's user agent next to our own writes

LIMITS_AZ = LIMITS[Provider.AZURE]
TRANSIENT = frozenset({408, 409, 429, 500, 502, 503, 504})
PERMANENT = frozenset({400, 405})
DESCENDANTS_API = "2020-05-01"  # management groups: descendants
MAX_DESCENDANT_PAGES = 1000  # a bound, never reached by a real tenant's pages
LOCKED = "ScopeLocked"  # 409 from a ReadOnly lock: retrying will not lift it


# --- what each resource type accepts --------------------------------------------------------------


class TypeTagging(Struct, frozen=True):
    """A resource type's own tag rules, where they are stricter than Azure's."""

    max_tags: int  # 0: the type carries no tags
    note: str
    key_forbidden: re.Pattern[str] | None = None  # characters this type refuses in tag names
    key_leading_digit: bool = True  # False: a tag name must not start with a digit


_TAG_SUPPORT = "tag-support: Supports tags = No"
_LIMITATIONS = "tag-resources#limitations"


def _none(*types: str, note: str = _TAG_SUPPORT) -> dict[str, TypeTagging]:
    return {t.lower(): TypeTagging(0, note) for t in types}


# Sources: https://learn.microsoft.com/azure/azure-resource-manager/management/tag-support
# (MicrosoftDocs/azure-docs articles/azure-resource-manager/management/tag-support.md, revision of
# 2020-09-21, "Supports tags" column; the page has since moved to per-service pages) and
# .../management/tag-resources#limitations (revision of 2025-02-06). Only types that users create
# (and so reach us in ResourceWriteSuccess events) are listed; `namespace/*` covers a namespace.
TYPE_TAGGING: Mapping[str, TypeTagging] = {
    **_none(
        "Microsoft.Advisor/*",
        "Microsoft.Billing/*",
        "Microsoft.Blueprint/*",
        "Microsoft.Capacity/*",
        "Microsoft.Consumption/*",
        "Microsoft.Features/*",
        "Microsoft.ManagedServices/*",
        "Microsoft.Management/*",  # management groups
        "Microsoft.Marketplace/*",
        "Microsoft.MarketplaceOrdering/*",
        "Microsoft.PolicyInsights/*",
        "Microsoft.ResourceHealth/*",
        "Microsoft.SecurityInsights/*",
        "Microsoft.Subscription/*",
    ),
    **_none(
        "Microsoft.ClassicCompute/*",
        "Microsoft.ClassicNetwork/*",
        "Microsoft.ClassicStorage/*",
        note="classic (ASM) resources do not support tags",
    ),
    **_none(
        "Microsoft.Authorization/locks",
        "Microsoft.Authorization/policyAssignments",
        "Microsoft.Authorization/policyDefinitions",
        "Microsoft.Authorization/policyExemptions",
        "Microsoft.Authorization/policySetDefinitions",
        "Microsoft.Authorization/roleAssignments",
        "Microsoft.Authorization/roleDefinitions",
        "Microsoft.Insights/diagnosticSettings",
        "Microsoft.Insights/components/linkedStorageAccounts",
        "Microsoft.Insights/components/ProactiveDetectionConfigs",
        "Microsoft.Insights/privateLinkScopes/privateEndpointConnections",
        "Microsoft.Insights/privateLinkScopes/scopedResources",
        "Microsoft.Insights/queryPacks/queries",
        "Microsoft.Network/virtualNetworks/subnets",
        "Microsoft.Network/dnszones/AAAA",
        "Microsoft.Network/dnszones/CAA",
        "Microsoft.Network/dnszones/CNAME",
        "Microsoft.Network/dnszones/MX",
        "Microsoft.Network/dnszones/NS",
        "Microsoft.Network/dnszones/PTR",
        "Microsoft.Network/dnszones/SOA",
        "Microsoft.Network/dnszones/SRV",
        "Microsoft.Network/dnszones/TXT",
        "Microsoft.Network/privateDnsZones/AAAA",
        "Microsoft.Network/privateDnsZones/CNAME",
        "Microsoft.Network/privateDnsZones/MX",
        "Microsoft.Network/privateDnsZones/PTR",
        "Microsoft.Network/privateDnsZones/SOA",
        "Microsoft.Network/privateDnsZones/SRV",
        "Microsoft.Network/privateDnsZones/TXT",
        "Microsoft.Storage/storageAccounts/blobServices",
        "Microsoft.Storage/storageAccounts/fileServices",
        "Microsoft.Storage/storageAccounts/queueServices",
        "Microsoft.Storage/storageAccounts/tableServices",
        "Microsoft.KeyVault/vaults/accessPolicies",
        "Microsoft.KeyVault/vaults/keys",
        "Microsoft.KeyVault/vaults/secrets",
        "Microsoft.Sql/servers/administrators",
        "Microsoft.Sql/servers/firewallRules",
        "Microsoft.Sql/servers/keys",
        "Microsoft.Sql/servers/encryptionProtector",
        "Microsoft.Sql/managedInstances/keys",
        "Microsoft.Web/sites/config",
        "Microsoft.Web/sites/hostNameBindings",
        "Microsoft.Web/sites/slots/hostNameBindings",
        "Microsoft.EventHub/namespaces/authorizationRules",
        "Microsoft.EventHub/namespaces/eventhubs",
        "Microsoft.EventHub/namespaces/eventhubs/authorizationRules",
        "Microsoft.EventHub/namespaces/eventhubs/consumergroups",
        "Microsoft.EventHub/namespaces/networkRuleSets",
        "Microsoft.ServiceBus/namespaces/authorizationRules",
        "Microsoft.ServiceBus/namespaces/queues",
        "Microsoft.ServiceBus/namespaces/topics",
        "Microsoft.ServiceBus/namespaces/topics/subscriptions",
        "Microsoft.ServiceBus/namespaces/topics/subscriptions/rules",
        "Microsoft.Relay/namespaces/hybridConnections",
        "Microsoft.Relay/namespaces/wcfRelays",
        "Microsoft.EventGrid/eventSubscriptions",
        "Microsoft.EventGrid/systemTopics/eventSubscriptions",
        "Microsoft.EventGrid/domains/topics",
        "Microsoft.ContainerRegistry/registries/scopeMaps",
        "Microsoft.ContainerRegistry/registries/tokens",
        "Microsoft.Compute/virtualMachineScaleSets/virtualMachines",
        "Microsoft.Compute/virtualMachineScaleSets/extensions",
        "Microsoft.Compute/restorePointCollections/restorePoints",
        "Microsoft.OperationalInsights/workspaces/dataExports",
        "Microsoft.OperationalInsights/workspaces/dataSources",
        "Microsoft.OperationalInsights/workspaces/linkedServices",
        "Microsoft.OperationalInsights/workspaces/linkedStorageAccounts",
        "Microsoft.Kusto/clusters/databases",
        "Microsoft.Kusto/clusters/principalAssignments",
        "Microsoft.KubernetesConfiguration/extensions",
        "Microsoft.KubernetesConfiguration/sourceControlConfigurations",
        "Microsoft.Maintenance/configurationAssignments",
        "Microsoft.GuestConfiguration/guestConfigurationAssignments",
        "Microsoft.ManagedIdentity/Identities",  # system-assigned; userAssignedIdentities take tags
        "Microsoft.DataFactory/factories/integrationRuntimes",
        "Microsoft.Databricks/workspaces/virtualNetworkPeerings",
        "Microsoft.Cdn/profiles/endpoints/customDomains",
        "Microsoft.Cdn/profiles/endpoints/originGroups",
        "Microsoft.Cdn/profiles/endpoints/origins",
        "Microsoft.Security/pricings",
        "Microsoft.Security/securityContacts",
        "Microsoft.Security/settings",
        "Microsoft.Security/workspaceSettings",
        "Microsoft.Security/autoProvisioningSettings",
        "Microsoft.Resources/deployments/operations",
    ),
    # Types that carry fewer tags, or fewer kinds of tag names (tag-resources#limitations).
    **{
        t.lower(): TypeTagging(15, f"carries at most 15 tags ({_LIMITATIONS})")
        for t in (
            "Microsoft.Automation/automationAccounts",
            "Microsoft.Automation/automationAccounts/runbooks",
            "Microsoft.Automation/automationAccounts/configurations",
            "Microsoft.Cdn/profiles",
            "Microsoft.Cdn/profiles/endpoints",
            "Microsoft.OperationalInsights/workspaces/savedSearches",
        )
    },
    **{
        t.lower(): TypeTagging(
            15,
            "DNS: at most 15 tags; names without spaces, parentheses, non-ASCII characters or a leading "
            f"digit ({_LIMITATIONS})",
            key_forbidden=re.compile(r"[\s()]|[^\x00-\x7f]"),
            key_leading_digit=False,
        )
        for t in (
            "Microsoft.Network/dnszones",
            "Microsoft.Network/dnszones/A",
            "Microsoft.Network/privateDnsZones",
            "Microsoft.Network/privateDnsZones/A",
        )
    },
    "microsoft.network/trafficmanagerprofiles": TypeTagging(
        50,
        f"Traffic Manager: names without spaces, '#', ':' or a leading digit ({_LIMITATIONS})",
        key_forbidden=re.compile(r"[\s#:]"),
        key_leading_digit=False,
    ),
    **{
        t.lower(): TypeTagging(
            50, f"Front Door: names without '#' or ':' ({_LIMITATIONS})", key_forbidden=re.compile(r"[#:]")
        )
        for t in (
            "Microsoft.Network/frontDoors",
            "Microsoft.Network/frontDoorWebApplicationFirewallPolicies",
        )
    },
}

# (type, name) pairs without tags where other resources of the type have them.
_NAMED: Mapping[tuple[str, str], TypeTagging] = {
    ("microsoft.sql/servers/databases", "master"): TypeTagging(
        0, "the master database does not support tags"
    ),
}


def type_tagging(resource_type: str, name: str | None = None) -> TypeTagging | None:
    """The type's own rules, or None when Azure's general limits are all there is."""
    lowered = resource_type.lower()
    if name is not None:
        named = _NAMED.get((lowered, name.lower()))
        if named is not None:
            return named
    return TYPE_TAGGING.get(lowered) or TYPE_TAGGING.get(lowered.split("/", 1)[0] + "/*")


def _type_problem(tags: Mapping[str, str], rules: TypeTagging, resource_type: str) -> str | None:
    for key in tags:
        if rules.key_forbidden is not None and (m := rules.key_forbidden.search(key)):
            return f"tag name {key!r} contains {m.group(0)!r}, which {resource_type} refuses ({rules.note})"
        if not rules.key_leading_digit and key[:1].isdigit():
            return f"tag name {key!r} starts with a digit, which {resource_type} refuses ({rules.note})"
    return None


def _limit_problem(tags: Mapping[str, str], resource_type: str) -> str | None:
    folded: dict[str, str] = {}
    for key, value in tags.items():
        problem = LIMITS_AZ.key_problem(key, resource_type)
        if problem is not None:
            return problem
        problem = LIMITS_AZ.value_problem(value)
        if problem is not None:
            return f"tag {key!r}: {problem}"
        other = folded.setdefault(LIMITS_AZ.fold(key), key)
        if other != key:
            return f"tag names {other!r} and {key!r} are one name to Azure (case-insensitive)"
    return None


# --- authentication for the local fake ------------------------------------------------------------


class StaticToken:
    """A TokenCredential that always answers the same token (local fake and demo only)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        return AccessToken(self._token, int(time.time()) + 3600)


class StaticBearerPolicy(SansIOHTTPPolicy[Any, Any]):
    """Adds `Authorization: Bearer <token>` to every request, over http too (the SDK's
    BearerTokenCredentialPolicy refuses non-TLS URLs, which the local fake is)."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self._header = f"Bearer {token}"

    def on_request(self, request: PipelineRequest[Any]) -> None:
        request.http_request.headers["Authorization"] = self._header


# --- retries --------------------------------------------------------------------------------------


class Retry(Struct, frozen=True):
    attempts: int = 5  # calls per operation, the first included
    base_delay: float = 0.5  # first backoff (seconds, before jitter)
    max_delay: float = 8.0  # longest backoff
    max_retry_after: float = 30.0  # a longer Retry-After is cut to this
    not_found_window: float = 10.0  # how long a write keeps retrying a 404 before VANISHED
    lro_interval: float = 2.0  # LRO polling interval when ARM gives no Retry-After
    lro_timeout: float = 60.0  # total LRO polling sleep before giving up (FAILED)


DEFAULT_RETRY = Retry()


class ArmCallFailed(RuntimeError):
    """An ARM call failed after its retries (or with an error retrying cannot fix)."""

    def __init__(self, status: int | None, code: str, message: str, attempts: int) -> None:
        super().__init__(f"{code}: {message}" + (f" (HTTP {status})" if status else ""))
        self.status = status
        self.code = code
        self.message = message
        self.attempts = attempts

    @property
    def permanent(self) -> bool:
        return self.status in PERMANENT or self.code == LOCKED

    @property
    def transient(self) -> bool:
        if self.code == LOCKED:
            return False
        return self.status is None or self.status in TRANSIENT


class _LroTimeout(Exception):
    pass


class _Polling(ARMPolling):
    """ARM's LRO polling, sleeping through the injected `sleep`, within a total budget."""

    def __init__(
        self,
        interval: float,
        *,
        sleep: Callable[[float], None],
        budget: float,
        max_delay: float,
        path_format_arguments: dict[str, str],
    ) -> None:
        super().__init__(interval, path_format_arguments=path_format_arguments)
        self._tw_sleep = sleep
        self._tw_budget = budget
        self._tw_max = max_delay

    def _sleep(self, delay: float) -> None:
        delay = min(delay, self._tw_max)
        if delay > self._tw_budget:
            raise _LroTimeout(
                f"the operation was still running after the polling budget ({delay}s more asked)"
            )
        self._tw_budget -= delay
        self._tw_sleep(delay)


def _retry_after(exc: HttpResponseError) -> float | None:
    response: Any = exc.response
    if response is None:
        return None
    headers = response.headers
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        raw = headers.get(name)
        if raw:
            try:
                return max(0.0, float(raw) / 1000.0)
            except ValueError:
                pass
    return retry_after_seconds(headers.get("Retry-After") or headers.get("retry-after"))


def _failure(exc: Exception, attempts: int) -> ArmCallFailed:
    if isinstance(exc, HttpResponseError):
        code = (exc.error.code if exc.error is not None else None) or (exc.reason or "HttpError")
        message = (exc.error.message if exc.error is not None else None) or str(exc.message or exc)
        return ArmCallFailed(exc.status_code, str(code), str(message), attempts)
    return ArmCallFailed(None, type(exc).__name__, str(exc), attempts)


# --- the client -----------------------------------------------------------------------------------


class ArmClient:
    def __init__(
        self,
        credential: TokenCredential,
        *,
        endpoint: str | None = None,
        authentication_policy: SansIOHTTPPolicy[Any, Any] | None = None,
        credential_scopes: Sequence[str] | None = None,
        default_subscription: str | None = None,
        retry: Retry = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        connection_timeout: float = 5.0,
        read_timeout: float = 30.0,
    ) -> None:
        self.endpoint = (endpoint or "https://management.azure.com").rstrip("/")
        self.retry = retry
        self._sleep = sleep
        self._credential = credential
        self._default_sub = default_subscription or ANY_SUBSCRIPTION
        self._options: dict[str, Any] = {
            "retry_policy": RetryPolicy.no_retries(),  # ours, see _retrying
            "polling_interval": retry.lro_interval,
            "connection_timeout": connection_timeout,
            "read_timeout": read_timeout,
            "user_agent": USER_AGENT,
        }
        if endpoint:
            self._options["base_url"] = self.endpoint
        if authentication_policy is not None:
            self._options["authentication_policy"] = authentication_policy
        if credential_scopes:
            self._options["credential_scopes"] = list(credential_scopes)
        self._clients: dict[str, ResourceManagementClient] = {}
        self._lock = threading.Lock()

    @classmethod
    def local(cls, endpoint: str, token: str = LOCAL_TOKEN, **kwargs: Any) -> ArmClient:
        """A client for the local fake (or any ARM over http) with a static bearer token."""
        return cls(
            StaticToken(token), endpoint=endpoint, authentication_policy=StaticBearerPolicy(token), **kwargs
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> ArmClient:
        """TAGWARDEN_ARM_ENDPOINT (+ TAGWARDEN_ARM_TOKEN) for the local fake; otherwise
        DefaultAzureCredential (managed identity, AZURE_CLIENT_ID for a user-assigned one, read by
        azure-identity from the process environment) against the public cloud or the endpoint."""
        env = os.environ if env is None else env
        endpoint = (env.get(ENDPOINT_ENV) or "").strip().rstrip("/")
        token = env.get(TOKEN_ENV) or None
        kwargs.setdefault("default_subscription", env.get(SUBSCRIPTION_ENV) or None)
        if endpoint and (token or endpoint.startswith("http://")):
            return cls.local(endpoint, token or LOCAL_TOKEN, **kwargs)
        from azure.identity import DefaultAzureCredential

        scope = env.get(SCOPE_ENV) or (f"{endpoint}/.default" if endpoint else None)
        return cls(
            DefaultAzureCredential(),
            endpoint=endpoint or None,
            credential_scopes=[scope] if scope else None,
            **kwargs,
        )

    def client(self, subscription: str | None = None) -> ResourceManagementClient:
        sub = subscription or self._default_sub
        found = self._clients.get(sub)
        if found is None:
            with self._lock:
                found = self._clients.get(sub)
                if found is None:
                    found = ResourceManagementClient(self._credential, sub, **self._options)
                    self._clients[sub] = found
        return found

    def close(self) -> None:
        with self._lock:
            for c in self._clients.values():
                c.close()
            self._clients.clear()

    def __enter__(self) -> ArmClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- reads -----------------------------------------------------------------------------

    def get_tags(self, scope: str) -> dict[str, str] | None:
        """The tags at a scope (subscription, resource group, resource); None when it does not
        exist. Raises ArmCallFailed when ARM cannot answer."""
        found, _ = self._read(lambda: self.client().tags.get_at_scope(scope))
        if found is None:
            return None
        props = found.properties
        return dict((props.tags if props is not None else None) or {})

    def resource_group_tags(self, subscription: str, resource_group: str) -> dict[str, str] | None:
        """A resource group's tags (its name compared case-insensitively); None when it is gone."""
        found, _ = self._read(lambda: self.client(subscription).resource_groups.get(resource_group))
        return None if found is None else dict(found.tags or {})

    def subscription_tags(self, subscription: str) -> dict[str, str] | None:
        return self.get_tags(f"/subscriptions/{subscription}")

    def get_resource(self, resource_id: str, api_version: str) -> GenericResource | None:
        """The resource (id, name, type, location, tags, ...) at the provider's api-version."""
        found, _ = self._read(lambda: self.client().resources.get_by_id(resource_id, api_version=api_version))
        return found

    def group_subscriptions(self, group: str) -> frozenset[str]:
        """The ids (lowercase) of every subscription under management group `group`, at any depth:
        `GET /providers/Microsoft.Management/managementGroups/{group}/descendants` (api-version
        2020-05-01), every page (nextLink). Raises ArmCallFailed when ARM cannot answer, a 404
        (no such group, or no right to read it) included: never an empty answer on a failure."""
        from urllib.parse import quote

        from azure.core.rest import HttpRequest

        url: str | None = (
            f"/providers/Microsoft.Management/managementGroups/{quote(group, safe='')}/descendants"
            f"?api-version={DESCENDANTS_API}"
        )
        found: set[str] = set()
        pages = 0
        while url and pages < MAX_DESCENDANT_PAGES:
            pages += 1
            request = HttpRequest("GET", url)

            def page(request: HttpRequest = request) -> Any:
                response = self.client().send_request(request)
                response.raise_for_status()
                return response.json()

            body, _ = self._retrying(page)
            for entry in body.get("value") or ():
                sub = _descendant_subscription(entry)
                if sub:
                    found.add(sub)
            url = body.get("nextLink") or None
        if url:
            raise ArmCallFailed(None, "TooManyPages", f"{group}: over {MAX_DESCENDANT_PAGES} pages", pages)
        return frozenset(found)

    def _read(self, fn: Callable[[], T]) -> tuple[T | None, int]:
        try:
            return self._retrying(fn)
        except ArmCallFailed as exc:
            if exc.status == 404:
                return None, exc.attempts
            raise

    # --- writes ----------------------------------------------------------------------------

    def write(self, writes: Sequence[TagWrite], region: str | None = None) -> list[TagResult]:
        """The TagWriter port: each write merged in turn, one result per write, in order."""
        return [self.merge_tags(w.resource, w.tags) for w in writes]

    def merge_tags(
        self,
        target: Resource | str,
        tags: Mapping[str, str],
        *,
        current: Mapping[str, str] | None = None,
    ) -> TagResult:
        """Add `tags` to the resource (or resource group, or subscription) with a Merge.

        `current`, when the caller knows the resource's tags, lets the 50-tag limit be checked
        before the call and drops tags already there with the same value. Types with a lower
        limit have their tags read first when `current` is not given. Never raises for ARM errors.
        """
        resource = _as_resource(target)
        wanted = dict(tags)

        def result(
            outcome: Outcome, error: str | None = None, calls: int = 0, attempts: int = 0
        ) -> TagResult:
            return TagResult(resource, outcome, wanted, calls=calls, error=error, attempts=attempts)

        try:
            rid = parse_resource_id(resource.id)
        except ValueError as exc:
            return result(Outcome.UNSUPPORTED, f"NotAnArmId: {exc}")
        rtype = resource.type or rid.type
        rules = type_tagging(rtype, rid.name)
        if rules is not None and rules.max_tags == 0:
            return result(Outcome.UNSUPPORTED, f"Untaggable: {rtype}: {rules.note}")
        if not wanted:
            return result(Outcome.TAGGED)
        problem = _limit_problem(wanted, rtype)
        if problem is not None:
            return result(Outcome.UNSUPPORTED, f"InvalidTag: {problem}")
        if rules is not None and (problem := _type_problem(wanted, rules, rtype)) is not None:
            return result(Outcome.UNSUPPORTED, f"TypeLimit: {problem}")
        max_tags = min(LIMITS_AZ.max_tags, rules.max_tags if rules is not None else LIMITS_AZ.max_tags)

        calls = 0
        if current is None and max_tags < LIMITS_AZ.max_tags:
            try:
                found, calls = self._read(lambda: self.client().tags.get_at_scope(resource.id))
            except ArmCallFailed as exc:
                return result(Outcome.FAILED, str(exc), calls=exc.attempts, attempts=exc.attempts)
            if found is None:
                return result(Outcome.VANISHED, "ResourceNotFound: reading its tags", calls, calls)
            current = dict((found.properties.tags if found.properties is not None else None) or {})
        if current is not None:
            wanted = {k: v for k, v in wanted.items() if tag_value(current, k, LIMITS_AZ) != v}
            if not wanted:
                return result(Outcome.TAGGED, calls=calls, attempts=0)
            total = len({LIMITS_AZ.fold(k) for k in current} | {LIMITS_AZ.fold(k) for k in wanted})
        else:
            total = len(wanted)
        if total > max_tags:
            why = f"{rtype} would have {total} tags, it carries at most {max_tags}"
            kind = "TypeLimit" if max_tags < LIMITS_AZ.max_tags else "TooManyTags"
            return result(Outcome.UNSUPPORTED, f"{kind}: {why}", calls=calls)

        body = TagsPatchResource(operation="Merge", properties=Tags(tags=wanted))
        try:
            _, attempts = self._retrying(
                lambda: self._merge(resource.id, body), not_found_window=self.retry.not_found_window
            )
        except ArmCallFailed as exc:
            calls += exc.attempts
            if exc.status == 404:
                return result(Outcome.VANISHED, str(exc), calls, exc.attempts)
            outcome = Outcome.UNSUPPORTED if exc.permanent else Outcome.FAILED
            return result(outcome, str(exc), calls, exc.attempts)
        return result(Outcome.TAGGED, calls=calls + attempts, attempts=attempts)

    def _merge(self, scope: str, body: TagsPatchResource) -> None:
        polling = _Polling(
            self.retry.lro_interval,
            sleep=self._sleep,
            budget=self.retry.lro_timeout,
            max_delay=self.retry.max_retry_after,
            path_format_arguments={"endpoint": self.endpoint},
        )
        poller = self.client().tags.begin_update_at_scope(scope, body, polling=polling)
        poller.result()

    def _retrying(self, fn: Callable[[], T], *, not_found_window: float = 0.0) -> tuple[T, int]:
        """fn's answer and the calls it took; raises ArmCallFailed when retries run out or cannot help."""
        attempt, waited_404, delay = 0, 0.0, self.retry.base_delay
        while True:
            attempt += 1
            try:
                return fn(), attempt
            except (HttpResponseError, ServiceRequestError, ServiceResponseError) as exc:
                failure = _failure(exc, attempt)
                retry_after = _retry_after(exc) if isinstance(exc, HttpResponseError) else None
            except _LroTimeout as exc:
                raise ArmCallFailed(None, "OperationTimeout", str(exc), attempt) from exc
            except AzureError as exc:  # anything else the SDK raises: not worth a retry here
                raise _failure(exc, attempt) from exc
            pause: float | None = None
            if attempt < self.retry.attempts:
                if failure.status == 404:
                    if waited_404 < not_found_window:
                        pause = min(_jitter(delay), not_found_window - waited_404)
                        waited_404 += pause
                elif failure.transient:
                    if retry_after is not None and failure.status in (429, 503):
                        pause = min(retry_after, self.retry.max_retry_after)
                    else:
                        pause = _jitter(delay)
            if pause is None:
                raise failure
            self._sleep(pause)
            delay = min(delay * 2, self.retry.max_delay)


def _jitter(delay: float) -> float:
    return random.uniform(delay / 2, delay)


def _as_resource(target: Resource | str) -> Resource:
    if isinstance(target, Resource):
        return target
    try:
        rid = parse_resource_id(target)
    except ValueError:
        return Resource(id=target, type="")
    return Resource(
        id=target, type=rid.type, name=rid.full_name, resource_group=rid.resource_group, native_id=target
    )


def _descendant_subscription(entry: Any) -> str | None:
    """The subscription id of one descendant entry (type `/subscriptions` in the API's examples,
    `Microsoft.Management/managementGroups/subscriptions` in some versions), else None (a group)."""
    if not isinstance(entry, Mapping):
        return None
    kind = str(entry.get("type") or "").lower()
    rid = str(entry.get("id") or "")
    if not kind.endswith("/subscriptions") or not rid.lower().startswith("/subscriptions/"):
        return None
    return rid.split("/")[2].lower() or None
