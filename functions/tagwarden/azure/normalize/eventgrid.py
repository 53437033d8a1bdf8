"""Event Grid resource event (Event Grid schema or CloudEvents 1.0) -> CreationEvent.

A ResourceWriteSuccess fires on creates, on updates and on tag writes alike, so a write is read
as "a resource that may lack tags"; the decision then only acts when a required tag is missing.
Deletes, actions, failures, tag writes and deployments are skipped with their reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tagwarden.azure.normalize.resource_id import parse_resource_id
from tagwarden.model import Actor, ActorKind, CreationEvent, Provider, Resource, SkipKind, Skipped
from tagwarden.normalize.errors import MalformedEvent

WRITE_SUCCESS = "Microsoft.Resources.ResourceWriteSuccess"

# Event types other than a successful write: why each is not acted on.
_SKIP_TYPES: Mapping[str, tuple[str, SkipKind]] = {
    "Microsoft.Resources.ResourceWriteFailure": ("failed write: nothing was created", SkipKind.FAILED_CALL),
    "Microsoft.Resources.ResourceWriteCancel": ("cancelled write: nothing was created", SkipKind.FAILED_CALL),
    "Microsoft.Resources.ResourceDeleteSuccess": ("delete: not a create", SkipKind.NOT_A_CREATE),
    "Microsoft.Resources.ResourceDeleteFailure": ("failed delete", SkipKind.FAILED_CALL),
    "Microsoft.Resources.ResourceDeleteCancel": ("cancelled delete", SkipKind.FAILED_CALL),
    "Microsoft.Resources.ResourceActionSuccess": ("action (POST), not a create", SkipKind.NOT_A_CREATE),
    "Microsoft.Resources.ResourceActionFailure": ("failed action", SkipKind.FAILED_CALL),
    "Microsoft.Resources.ResourceActionCancel": ("cancelled action", SkipKind.FAILED_CALL),
}

# Write operations that are not resources to tag (lower-cased operationName -> reason).
_SKIP_OPERATIONS: Mapping[str, tuple[str, SkipKind]] = {
    "microsoft.resources/tags/write": (
        "tag write: not a create (our own tag writes land here too)",
        SkipKind.TAG_WRITE,
    ),
    "microsoft.resources/deployments/write": (
        "deployment: its resources get their own events",
        SkipKind.DEPLOYMENT,
    ),
    "microsoft.resources/deployments/validate/action": ("deployment validation", SkipKind.DEPLOYMENT),
    "microsoft.authorization/roleassignments/write": (
        "role assignment: not a billable resource",
        SkipKind.NOT_BILLABLE,
    ),
    "microsoft.authorization/policyassignments/write": (
        "policy assignment: not a billable resource",
        SkipKind.NOT_BILLABLE,
    ),
    "microsoft.authorization/locks/write": ("lock: not a billable resource", SkipKind.NOT_BILLABLE),
    "microsoft.insights/diagnosticsettings/write": (
        "diagnostic setting: not a billable resource",
        SkipKind.NOT_BILLABLE,
    ),
}

_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/"
_MS_CLAIM = "http://schemas.microsoft.com/identity/claims/"

# Claim names, short (v2 tokens) first, then the long SAML-style names Event Grid often carries.
_CLAIMS: Mapping[str, tuple[str, ...]] = {
    "upn": ("upn", _CLAIM + "upn", "unique_name", _CLAIM + "name", "email", _CLAIM + "emailaddress"),
    "name": ("name",),
    "app_id": ("appid", "azp"),
    "object_id": ("oid", _MS_CLAIM + "objectidentifier"),
    "idtyp": ("idtyp",),
    "mi_resource": ("xms_mirid",),
}


def is_eventgrid(raw: Mapping[str, Any]) -> bool:
    return ("eventType" in raw and "data" in raw) or ("specversion" in raw and "type" in raw)


def normalize_eventgrid(raw: Mapping[str, Any]) -> CreationEvent | Skipped:
    etype = raw.get("eventType") or raw.get("type")
    event_id = str(raw.get("id") or "")
    data = raw.get("data")
    if not isinstance(etype, str):
        raise MalformedEvent("Event Grid event without an eventType/type string")
    if not isinstance(data, dict):
        raise MalformedEvent(f"Event Grid event {event_id or '(no id)'} has no 'data' object")
    authorization = data.get("authorization")
    action = authorization.get("action") if isinstance(authorization, dict) else None
    operation = str(data.get("operationName") or action or "")

    def skip(reason: str, kind: SkipKind) -> Skipped:
        return Skipped(
            reason, kind, event_id=event_id, event_name=operation or etype, provider=Provider.AZURE, raw=raw
        )

    if etype != WRITE_SUCCESS:
        known = _SKIP_TYPES.get(etype)
        if known is None:
            return skip(f"event type {etype} is not a resource write", SkipKind.NOT_AN_API_CALL)
        return skip(f"{etype}: {known[0]}", known[1])
    status = str(data.get("status") or "Succeeded")
    if status.lower() != "succeeded":
        return skip(f"write with status {status}: not a completed create", SkipKind.FAILED_CALL)
    op_skip = _SKIP_OPERATIONS.get(operation.lower())
    if op_skip is not None:
        return skip(*op_skip)

    uri = data.get("resourceUri") or raw.get("subject")
    if not isinstance(uri, str):
        raise MalformedEvent(f"Event Grid event {event_id or '(no id)'} has no resourceUri or subject")
    try:
        rid = parse_resource_id(uri)
    except ValueError as exc:
        return skip(f"resource id not understood: {exc}", SkipKind.NO_RESOURCE)
    if rid.type.lower().endswith("/tags"):
        return skip("tag write: not a create", SkipKind.TAG_WRITE)

    actor = actor_of(data)
    resource = Resource(
        id=rid.id,
        type=rid.type,
        name=rid.full_name,
        resource_group=rid.resource_group,
        native_id=rid.id,
        request_tags=None,  # not in the event: read from the resource when the rules need them
        tagger="arm",
    )
    return CreationEvent(
        provider=Provider.AZURE,
        event_id=event_id,
        event_name=operation or f"{rid.type}/write",
        event_source=str(data.get("resourceProvider") or rid.namespace or ""),
        time=str(raw.get("eventTime") or raw.get("time") or ""),
        account=str(data.get("subscriptionId") or rid.subscription or ""),
        region=None,
        actor=actor,
        resources=(resource,),
        raw=raw,
        correlation_id=_s(data.get("correlationId")),
    )


def _claim(claims: Mapping[str, Any], field: str) -> str | None:
    for name in _CLAIMS[field]:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


# Actor kind from the token: (predicate over found values, kind), first match wins.
_KIND_RULES: tuple[tuple[Callable[[Mapping[str, str | None]], bool], ActorKind], ...] = (
    (lambda v: bool(v["mi_resource"]), ActorKind.MANAGED_IDENTITY),
    (lambda v: v["idtyp"] == "app" or v["principal_type"] == "ServicePrincipal", ActorKind.APP),
    (lambda v: v["idtyp"] == "user" or v["principal_type"] == "User" or bool(v["upn"]), ActorKind.USER),
    (lambda v: bool(v["app_id"]), ActorKind.APP),
)


def actor_of(data: Mapping[str, Any]) -> Actor:
    claims = data.get("claims")
    claims = claims if isinstance(claims, dict) else {}
    authorization = data.get("authorization")
    evidence = authorization.get("evidence") if isinstance(authorization, dict) else None
    evidence = evidence if isinstance(evidence, dict) else {}
    found: dict[str, str | None] = {f: _claim(claims, f) for f in _CLAIMS}
    found["principal_type"] = _s(evidence.get("principalType"))
    kind = next((k for pred, k in _KIND_RULES if pred(found)), ActorKind.UNKNOWN)
    upn = found["upn"] if kind is ActorKind.USER else None
    return Actor(
        kind=kind,
        upn=upn,
        name=found["name"],
        app_id=found["app_id"],
        object_id=found["object_id"] or _s(evidence.get("principalId")),
        principal_id=_s(evidence.get("principalId")),
    )


def _s(value: Any) -> str | None:
    return str(value) if isinstance(value, (str, int)) and str(value) else None
