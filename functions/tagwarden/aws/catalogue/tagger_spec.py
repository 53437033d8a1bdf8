"""What a tagger is: a row of data naming one service's tag-write API and how to call it.

A `TaggerSpec` says which boto3 client and method write tags, which parameter takes the resource's
identifier (and which identifier: the ARN, the service's native id, a name, a queue URL), which
parameter takes the tags and in what shape, how many resources one call may carry, and which error
codes mean "not there (yet)" or "not ready (yet)" for that service. The engine in
`tagwarden.aws.taggers.write` reads these rows; only S3 (read-merge-write) and the Resource Groups
Tagging API (per-ARN failures inside a 200 response) have code of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from msgspec import Struct, field

from tagwarden.model import Resource

NO_EXTRA: Mapping[str, Any] = MappingProxyType({})
NO_TYPES: Mapping[str, TaggerSpec] = MappingProxyType({})


class Kind(StrEnum):
    API = "api"  # the service's own tag API, described entirely by the row
    RGTA = "rgta"  # resourcegroupstaggingapi.tag_resources: per-ARN FailedResourcesMap in a 200 response
    S3 = "s3"  # PutBucketTagging replaces the whole set: read, merge, write
    BY_TYPE = "by-type"  # only the rows in `by_type` apply (IAM: one API per resource type)
    UNTAGGABLE = "untaggable"  # the resource type cannot carry tags at all
    DECLINED = "declined"  # taggable only through an API the enforcer does not call (see `note`)


class IdFrom(StrEnum):
    """Which of the resource's identifiers the id parameter takes."""

    ARN = "arn"  # resource.id (a trailing ":*", as in log-group ARNs, is dropped)
    NATIVE = "native"  # resource.native_id (i-0abc..., fs-0abc...), else resource.id
    NAME = "name"  # resource.name, else the last path segment of the native id / ARN
    QUEUE_URL = "queue-url"  # the native id when it is a URL, else built from the queue ARN
    TAIL = "tail"  # last path segment of the native id ("/hostedzone/Z123" -> "Z123")


class TagFormat(StrEnum):
    MAP = "map"  # {"k": "v"}
    KV = "kv"  # [{"Key": "k", "Value": "v"}]
    KV_LOWER = "kv_lower"  # [{"key": "k", "value": "v"}]
    TAGKEY = "tagkey"  # [{"TagKey": "k", "TagValue": "v"}] (KMS)
    ITEMS = "items"  # {"Items": [{"Key": "k", "Value": "v"}]} (CloudFront)
    ASG = "asg"  # [{"ResourceId", "ResourceType", "Key", "Value", "PropagateAtLaunch"}] (Auto Scaling)


class ErrorKind(StrEnum):
    NOT_FOUND = "not-found"  # retried within the window, then VANISHED
    BUSY = "busy"  # retried within the window (resource still creating), then FAILED
    FAILED = "failed"  # final at once


# Codes that mean "no such resource" whichever service answers them.
GENERIC_NOT_FOUND: frozenset[str] = frozenset(
    {"ResourceNotFoundException", "ResourceNotFound", "NotFoundException", "NotFound"}
)


class TaggerSpec(Struct, frozen=True, eq=False):  # eq=False: rows are hashed by identity (batch keys)
    service: str  # boto3 client name
    method: str = ""  # boto3 method (snake_case)
    id_param: str | None = None  # None: the id travels inside the tags (Auto Scaling)
    tags_param: str = "Tags"
    tag_format: TagFormat = TagFormat.KV
    id_from: IdFrom = IdFrom.ARN
    id_list: bool = False  # the id parameter is a list (EC2 Resources, RGTA ResourceARNList, ELB)
    max_ids: int = 1  # resources per call; >1 batches resources that get the same tag set
    max_tags: int | None = None  # tags per call; a larger set is written in several calls
    not_found: frozenset[str] = GENERIC_NOT_FOUND  # error codes meaning "no such resource"
    not_found_suffixes: tuple[str, ...] = ()  # ... and codes ending so (EC2: ".NotFound")
    busy: frozenset[str] = frozenset()  # codes meaning "exists but still creating": retried too
    extra: Mapping[str, Any] = field(default_factory=lambda: NO_EXTRA)  # constant parameters
    region: str | None = None  # fixed region (ECR Public lives in us-east-1 only)
    kind: Kind = Kind.API
    by_type: Mapping[str, TaggerSpec] = field(default_factory=lambda: NO_TYPES)  # type -> its row
    note: str = ""  # why, for UNTAGGABLE and DECLINED rows

    def for_type(self, rtype: str) -> TaggerSpec | None:
        """The row that applies to a resource of `rtype` (None: no row for it)."""
        spec = self.by_type.get(rtype)
        if spec is not None:
            return spec
        return None if self.kind is Kind.BY_TYPE else self

    def classify(self, code: str) -> ErrorKind:
        if code in self.not_found or any(code.endswith(s) for s in self.not_found_suffixes):
            return ErrorKind.NOT_FOUND
        if code in self.busy:
            return ErrorKind.BUSY
        return ErrorKind.FAILED


def format_tags(fmt: TagFormat, tags: Mapping[str, str], resource_id: str) -> Any:
    if fmt is TagFormat.MAP:
        return dict(tags)
    if fmt is TagFormat.KV:
        return [{"Key": k, "Value": v} for k, v in tags.items()]
    if fmt is TagFormat.KV_LOWER:
        return [{"key": k, "value": v} for k, v in tags.items()]
    if fmt is TagFormat.TAGKEY:
        return [{"TagKey": k, "TagValue": v} for k, v in tags.items()]
    if fmt is TagFormat.ITEMS:
        return {"Items": [{"Key": k, "Value": v} for k, v in tags.items()]}
    # Auto Scaling: tags carry their group; PropagateAtLaunch so instances it launches carry them too.
    return [
        {
            "ResourceId": resource_id,
            "ResourceType": "auto-scaling-group",
            "Key": k,
            "Value": v,
            "PropagateAtLaunch": True,
        }
        for k, v in tags.items()
    ]


def arn_parts(value: str) -> list[str] | None:
    """arn:partition:service:region:account:resource, or None when `value` is not an ARN."""
    parts = value.split(":", 5)
    return parts if len(parts) == 6 and parts[0] == "arn" else None


def arn_region(value: str) -> str | None:
    parts = arn_parts(value)
    return (parts[3] or None) if parts else None


def _tail(value: str) -> str:
    if "/" in value:
        return value.rstrip("/").rsplit("/", 1)[-1]
    parts = arn_parts(value)
    return parts[5].rsplit(":", 1)[-1] if parts else value


def target_id(spec: TaggerSpec, resource: Resource) -> str | None:
    """The identifier `spec`'s id parameter takes for `resource` (None: none can be derived)."""
    native = resource.native_id or resource.id
    if spec.id_from is IdFrom.ARN:
        return resource.id.removesuffix(":*")
    if spec.id_from is IdFrom.NATIVE:
        return native
    if spec.id_from is IdFrom.NAME:
        return resource.name or _tail(native)
    if spec.id_from is IdFrom.TAIL:
        return _tail(native)
    # QUEUE_URL
    if native.startswith(("https://", "http://")):
        return native
    parts = arn_parts(resource.id)
    if parts is None or not parts[3] or not parts[4]:
        return None
    suffix = ".cn" if parts[1] == "aws-cn" else ""
    return f"https://sqs.{parts[3]}.amazonaws.com{suffix}/{parts[4]}/{parts[5]}"
