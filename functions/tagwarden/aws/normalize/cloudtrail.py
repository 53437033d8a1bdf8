"""CloudTrail record -> CreationEvent, driven by the catalogue.

Accepts a bare record (what EventBridge puts under `detail`) or the whole EventBridge
"AWS API Call via CloudTrail" envelope. Anything that is not a successful create in the catalogue
is a Skipped with its reason; only input we cannot read at all raises MalformedEvent.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from tagwarden.attribution import paths
from tagwarden.aws.catalogue import CATALOGUE, Creates, Entry, derived, untaggable, user
from tagwarden.aws.catalogue.upserts import idempotency_token, may_exist
from tagwarden.model import (
    Actor,
    ActorKind,
    CreationEvent,
    Provider,
    Resource,
    SkipKind,
    Skipped,
)
from tagwarden.normalize.errors import MalformedEvent

DETAIL_TYPE = "AWS API Call via CloudTrail"
# Service events (Organizations' CreateAccountResult, AppStream's CreateImage) name what an earlier
# call created: only AWS emits them (EventBridge refuses "aws.*" sources from PutEvents).
SERVICE_EVENT = "AWS Service Event via CloudTrail"
ACCEPTED_DETAIL_TYPES = frozenset({DETAIL_TYPE, SERVICE_EVENT})

_ACTOR_KINDS: Mapping[str, ActorKind] = {
    "IAMUser": ActorKind.USER,
    "Root": ActorKind.USER,
    "AssumedRole": ActorKind.ASSUMED_ROLE,
    "AWSService": ActorKind.SERVICE,
    "FederatedUser": ActorKind.USER,
    "IdentityCenterUser": ActorKind.USER,
    "SAMLUser": ActorKind.USER,
    "WebIdentityUser": ActorKind.USER,
    "AWSAccount": ActorKind.UNKNOWN,
}

# Calls that write tags (never creates; the quarantine release listens to these later).
TAG_EVENTS = frozenset(
    {
        "CreateTags",
        "DeleteTags",
        "TagResource",
        "UntagResource",
        "TagResources",
        "UntagResources",
        "AddTags",
        "AddTagsToResource",
        "RemoveTags",
        "RemoveTagsFromResource",
        "PutBucketTagging",
        "DeleteBucketTagging",
        "TagRole",
        "UntagRole",
        "TagUser",
        "UntagUser",
        "TagPolicy",
        "TagQueue",
        "UntagQueue",
        "TagStream",
        "AddTagsToStream",
        "TagLogGroup",
        "TagDeliveryStream",
    }
)
_READ = re.compile(
    r"^(Get|Describe|List|Head|Lookup|BatchGet|Search|Query|Scan|Select|Check|Preview|Validate|Estimate)[A-Z]"
)
_CREATE_LIKE = re.compile(
    r"^(Create|Run|Start|Put|Register|Allocate|Import|Copy|Request|Launch|Add|Publish|Issue)[A-Z]"
)


def is_envelope(raw: Mapping[str, Any]) -> bool:
    return raw.get("detail-type") == DETAIL_TYPE or (isinstance(raw.get("detail"), dict) and "source" in raw)


def is_record(raw: Mapping[str, Any]) -> bool:
    return "eventSource" in raw and "eventName" in raw


def unwrap(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """The CloudTrail record inside an EventBridge envelope (or the record itself)."""
    if is_envelope(raw):
        detail = raw.get("detail")
        if not isinstance(detail, dict):
            raise MalformedEvent("EventBridge event has no 'detail' object")
        return detail
    return raw


def normalize_record(raw: Mapping[str, Any]) -> CreationEvent | Skipped:
    record = unwrap(raw)
    detail_type = raw.get("detail-type")
    if detail_type is not None and not isinstance(detail_type, str):
        raise MalformedEvent("EventBridge event whose detail-type is not a string")
    if detail_type is not None and detail_type not in ACCEPTED_DETAIL_TYPES:
        # Sign-ins, state changes: a rule routed them here, but they create nothing.
        return Skipped(
            f"EventBridge {detail_type!r} event: only CloudTrail API calls and service events are acted on",
            SkipKind.NOT_AN_API_CALL,
            event_id=_str(record.get("eventID")) or _str(raw.get("id")),
            event_name=_str(record.get("eventName")) or str(detail_type),
            provider=Provider.AWS,
            raw=raw,
        )
    source, name = record.get("eventSource"), record.get("eventName")
    if not isinstance(source, str) or not isinstance(name, str):
        raise MalformedEvent("CloudTrail record without eventSource/eventName strings")
    source = source.strip()
    event_id = _str(record.get("eventID")) or _str(raw.get("id")) or ""

    def skip(reason: str, kind: SkipKind) -> Skipped:
        return Skipped(reason, kind, event_id=event_id, event_name=name, provider=Provider.AWS, raw=raw)

    if record.get("errorCode") or record.get("errorMessage"):
        failure = record.get("errorCode") or record.get("errorMessage")
        return skip(f"failed call ({failure}): nothing was created", SkipKind.FAILED_CALL)
    entry = _entry(record, source, name)
    if not isinstance(entry, Entry):
        return skip(*entry)
    record = _details_decoded(record)

    account = (
        _str(record.get("recipientAccountId"))
        or _str(_get(record, "userIdentity", "accountId"))
        or _str(raw.get("account"))
        or ""
    )
    region = _str(record.get("awsRegion")) or _str(raw.get("region")) or ""
    ctx = {"partition": partition_of(region), "region": region, "account": account}
    resources: list[Resource] = []
    for creates in entry.creates:
        resources.extend(_resources(record, creates, ctx))
    if not resources:
        return skip(
            f"{name} record names no created resource (responseElements empty or redacted)",
            SkipKind.NO_RESOURCE,
        )
    return CreationEvent(
        provider=Provider.AWS,
        event_id=event_id,
        event_name=name,
        event_source=source,
        time=_str(record.get("eventTime")) or _str(raw.get("time")) or "",
        account=account,
        region=region or None,
        actor=actor_of(record),
        resources=tuple(resources),
        raw=record,
        correlation_id=_str(record.get("requestID")),
        creates_only=not may_exist(record, source, name),  # a re-creation when the id is known
        idempotency_token=idempotency_token(record),  # unless it is a retry: the same token
    )


def _entry(record: Mapping[str, Any], source: str, name: str) -> Entry | tuple[str, SkipKind]:
    """The catalogue row for the event, or why there is none (reason, kind)."""
    entry = CATALOGUE.get((source, name))
    if entry is not None:
        return entry
    if name in TAG_EVENTS:
        return f"tag write {name}: not a create", SkipKind.TAG_WRITE
    if record.get("readOnly") is True or _READ.match(name):
        return f"read-only call {name}", SkipKind.READ_ONLY
    # The derived index loads on the first miss only; the rules file's own entries come last.
    entry = derived.lookup(source, name) or user.lookup(source, name)
    if entry is not None:
        return entry
    gap = untaggable.lookup(source, name)
    if gap is not None and not gap.why.taggable:
        return f"{source} {name} makes nothing to tag: {gap.reason}", SkipKind.NOT_A_CREATE
    if gap is not None:
        return f"{source} {name} is not in the catalogue: {gap.reason}", SkipKind.NOT_IN_CATALOGUE
    if _CREATE_LIKE.match(name):
        return f"{source} {name} is not in the catalogue", SkipKind.NOT_IN_CATALOGUE
    return f"{name} does not create resources", SkipKind.NOT_A_CREATE


def _details_decoded(record: Mapping[str, Any]) -> Mapping[str, Any]:
    """The record with a JSON-text serviceEventDetails decoded (some log stores keep it as text)."""
    details = record.get("serviceEventDetails")
    if not isinstance(details, str) or not details.lstrip().startswith("{"):
        return record
    try:
        decoded = json.loads(details)
    except ValueError:
        return record
    return {**record, "serviceEventDetails": decoded}


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _ids(record: Mapping[str, Any], path: str) -> list[str]:
    """The ids at `path`; derived rows list alternative casings as `a|b|c`: the first that yields."""
    for alt in path.split("|") if "|" in path else (path,):
        ids = [str(v) for v in paths.values(record, alt) if not isinstance(v, (dict, list))]
        if ids:
            return ids
    return []


def _resources(record: Mapping[str, Any], creates: Creates, ctx: dict[str, str]) -> list[Resource]:
    ids = _ids(record, creates.ids)
    if not ids:
        return []
    names = [str(v) for v in paths.values(record, creates.name)] if creates.name else []
    natives = [str(v) for v in paths.values(record, creates.native)] if creates.native else []
    arn_values = (
        [str(v) for v in paths.values(record, creates.arn)]
        if creates.arn and not creates.arn.startswith("arn:")
        else []
    )
    parents = [str(v) for v in paths.values(record, creates.parent)] if creates.parent else []
    if creates.parent and not parents:
        return []  # the ARN needs the parent's id, and the record does not hold it
    tags = _request_tags(record, creates)
    out = []
    for i, rid in enumerate(ids):
        name = _nth(names, i, len(ids))
        if creates.arn is None:
            arn = rid
        elif creates.arn.startswith("arn:"):
            parent = _nth(parents, i, len(ids)) if parents else ""
            if parent is None:
                continue  # several parents, not one per id: which is whose is unknown
            arn = creates.arn.format(id=rid, name=name or rid, parent=parent, **ctx)
        else:
            arn = _nth(arn_values, i, len(ids)) or rid
        out.append(
            Resource(
                id=arn,
                type=creates.type,
                name=name,
                native_id=_nth(natives, i, len(ids)) or rid,
                request_tags=tags,
                tagger=creates.tagger,
            )
        )
    return out


def _nth(values: list[str], i: int, count: int) -> str | None:
    """The i-th value when there is one per id, or the single shared value."""
    if len(values) == count:
        return values[i]
    return values[0] if len(values) == 1 else None


def _request_tags(record: Mapping[str, Any], creates: Creates) -> dict[str, str]:
    if creates.tags is None:
        return {}
    out: dict[str, str] = {}
    if creates.tag_spec is not None:
        # EC2 TagSpecifications: {resourceType, tags: [...]} or, in newer records,
        # {ResourceType, Tag: [...]}; only the spec for this resource type applies.
        for spec in paths.values(record, creates.tags):
            if (
                isinstance(spec, dict)
                and (spec.get("resourceType") or spec.get("ResourceType")) == creates.tag_spec
            ):
                for field in _SPEC_TAG_FIELDS:
                    _merge_tags(out, spec.get(field))
        return out
    for found in paths.values(record, creates.tags):
        _merge_tags(out, found)
    return out


_SPEC_TAG_FIELDS = ("tags", "Tags", "Tag", "tagSet")
_KEY_FIELDS = ("Key", "key", "TagKey", "tagKey")
_VALUE_FIELDS = ("Value", "value", "TagValue", "tagValue")


def _merge_tags(out: dict[str, str], found: Any) -> None:
    """Tags come as {k: v}, or as items {Key, Value} / {key, value} / {TagKey, TagValue} (KMS; items may
    carry more fields, e.g. Auto Scaling's PropagateAtLaunch or EC2's `tag` index), alone or in lists."""
    if isinstance(found, dict):
        key = next((found[f] for f in _KEY_FIELDS if f in found), None)
        if key is not None:
            value = next((found[f] for f in _VALUE_FIELDS if f in found), "")
            out[str(key)] = "" if value is None else str(value)
            return
        for k, v in found.items():
            if not isinstance(v, (dict, list)):
                out[str(k)] = "" if v is None else str(v)
    elif isinstance(found, list):
        for item in found:
            _merge_tags(out, item)


def actor_of(record: Mapping[str, Any]) -> Actor:
    ui = record.get("userIdentity")
    if not isinstance(ui, dict):
        return Actor(ActorKind.UNKNOWN)
    utype = _str(ui.get("type")) or ""
    kind = _ACTOR_KINDS.get(utype, ActorKind.UNKNOWN)
    arn = _str(ui.get("arn"))
    issuer = _get(ui, "sessionContext", "sessionIssuer")
    issuer = issuer if isinstance(issuer, dict) else {}
    role_name = role_arn = session = None
    if kind is ActorKind.ASSUMED_ROLE:
        role_arn = _str(issuer.get("arn"))
        role_name = _str(issuer.get("userName"))
        if arn and ":assumed-role/" in arn:
            parts = arn.split(":assumed-role/", 1)[1].split("/")
            role_name = role_name or parts[0]
            session = parts[-1] if len(parts) > 1 else None
        if session is None and ":" in (_str(ui.get("principalId")) or ""):
            session = _str(ui.get("principalId")).split(":", 1)[1]  # type: ignore[union-attr]
    elif utype == "AWSService":
        arn = arn or _str(ui.get("invokedBy"))
    return Actor(
        kind=kind,
        arn=arn,
        account=_str(ui.get("accountId")),
        role_name=role_name,
        role_arn=role_arn,
        session_name=session,
        source_identity=_str(_get(ui, "sessionContext", "sourceIdentity"))
        or _str(record.get("sourceIdentity")),
        user_name=_str(ui.get("userName"))
        if utype in ("IAMUser", "IdentityCenterUser", "SAMLUser")
        else None,
        principal_id=_str(ui.get("principalId")),
        invoked_by=_str(ui.get("invokedBy")),
    )


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value) or None
