"""IAM (and Organizations) answers for the attribution core's Lookups port, cached per container.

Principal tags are read with iam:ListRoleTags / iam:ListUserTags for the role behind an
assumed-role session or for the IAM user. A principal that no longer exists has no tags; any
other failure raises LookupFailed, so the event is retried instead of being decided on a guess
(a wrong "unattributed" could quarantine a resource).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from tagwarden.attribution.context import Scope
from tagwarden.aws.clients import Clients
from tagwarden.model import Actor, Provider, Resource

# What the lookups call in the event's account (a member role grants these; tests check the calls).
IAM_ACTIONS: tuple[str, ...] = ("iam:ListRoleTags", "iam:ListUserTags", "tag:GetResources")


class LookupFailed(RuntimeError):
    """A lookup the rules need could not be answered; the event should be retried."""


def _paged_tags(call: Any, **kwargs: Any) -> dict[str, str]:
    tags: dict[str, str] = {}
    while True:
        page = call(**kwargs)
        tags.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
        if not page.get("IsTruncated"):
            return tags
        kwargs["Marker"] = page["Marker"]


class IamLookups:
    def __init__(
        self,
        clients: Clients,
        account_tags: bool = False,
        organizations: Clients | None = None,
        principals: Callable[[str], Clients | None] | None = None,
    ) -> None:
        self._clients = clients  # the event's account
        self._org_clients = organizations or clients  # Organizations answers in the hub (or local) account
        # Organization mode: the clients of the account a principal lives in (its ARN's), None for
        # an account we may not enter; one account only: `clients` for every principal.
        self._principal_clients = principals
        self.account_tags = account_tags
        self._principals: dict[str, Mapping[str, str]] = {}
        self._accounts: dict[str, Mapping[str, str] | None] = {}
        self.calls = 0  # API calls made, for tests and the benchmark

    def principal_tags(self, provider: Provider, actor: Actor) -> Mapping[str, str] | None:
        if actor.role_arn:
            key, kind, name = actor.role_arn, "role", actor.role_arn.rsplit("/", 1)[-1]
        elif actor.user_name and actor.arn and ":user/" in actor.arn:
            key, kind, name = actor.arn, "user", actor.user_name
        else:
            return {}  # root, services, federated users: no principal to read tags from
        cached = self._principals.get(key)
        if cached is not None:
            return cached
        clients = self._clients_of(key)
        if clients is None:
            return {}  # a principal of an account outside the allowed ones: its tags cannot be read
        iam = clients.get("iam")
        self.calls += 1
        try:
            if kind == "role":
                tags = _paged_tags(iam.list_role_tags, RoleName=name)
            else:
                tags = _paged_tags(iam.list_user_tags, UserName=name)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "NoSuchEntity":
                tags = {}  # deleted since the call: it has no tags to give
            else:
                raise LookupFailed(f"cannot read tags of {kind} {name}: {code}: {exc}") from exc
        except (BotoCoreError, ResponseParserError) as exc:  # a dropped connection, a garbled answer
            raise LookupFailed(f"cannot read tags of {kind} {name}: {type(exc).__name__}: {exc}") from exc
        self._principals[key] = tags
        return tags

    def _clients_of(self, principal_arn: str) -> Clients | None:
        if self._principal_clients is None:
            return self._clients
        account = principal_arn.split(":")[4] if principal_arn.count(":") >= 5 else ""
        return self._principal_clients(account) if account else self._clients

    def container_tags(self, provider: Provider, scope: Scope, scope_id: str) -> Mapping[str, str] | None:
        if scope is not Scope.ACCOUNT or not self.account_tags:
            return None
        if scope_id not in self._accounts:
            org = self._org_clients.get("organizations")
            self.calls += 1
            try:
                page = org.list_tags_for_resource(ResourceId=scope_id)
                self._accounts[scope_id] = {t["Key"]: t["Value"] for t in page.get("Tags", [])}
            except ClientError as exc:
                raise LookupFailed(f"cannot read tags of account {scope_id}: {exc}") from exc
        return self._accounts[scope_id]

    def resource_tags(self, provider: Provider, resource: Resource) -> Mapping[str, str] | None:
        return None  # CloudTrail events carry the request's tags


class RgtaTags:
    """A resource's live tags through the tagging API: the enforcer reads them before a
    quarantine, so a retried event never quarantines twice (which would lose the undo token)."""

    def __init__(self, clients: Clients, region: str | None = None) -> None:
        self.clients = clients
        self.region = region

    def many(self, resources: Sequence[Resource]) -> dict[str, Mapping[str, str] | None]:
        """The live tags of many resources: one GetResources per 100 ARNs of a region (what the
        API takes), not one per resource. A resource the API does not list keeps its request tags."""
        by_region: dict[str | None, list[Resource]] = {}
        for r in resources:
            if r.id.startswith("arn:"):
                by_region.setdefault(r.id.split(":")[3] or self.region, []).append(r)
        out: dict[str, Mapping[str, str] | None] = {}
        for region, group in by_region.items():
            client = self.clients.get("resourcegroupstaggingapi", region or None)
            for start in range(0, len(group), 100):
                chunk = group[start : start + 100]
                found = {
                    item["ResourceARN"]: {t["Key"]: t["Value"] for t in item.get("Tags", [])}
                    for item in client.get_resources(ResourceARNList=[r.id for r in chunk]).get(
                        "ResourceTagMappingList", []
                    )
                }
                out.update((r.id, found.get(r.id, r.request_tags)) for r in chunk)
        return out

    def __call__(self, resource: Resource) -> Mapping[str, str] | None:
        region = (resource.id.split(":")[3] if resource.id.startswith("arn:") else "") or self.region
        page = self.clients.get("resourcegroupstaggingapi", region or None).get_resources(
            ResourceARNList=[resource.id]
        )
        for item in page.get("ResourceTagMappingList", []):
            return {t["Key"]: t["Value"] for t in item.get("Tags", [])}
        return resource.request_tags
