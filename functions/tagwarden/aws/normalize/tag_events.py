"""Tag writes in CloudTrail: which resources a CreateTags / TagResource / PutBucketTagging ... touched.

The enforcer ignores tag writes as creates; the lifecycle listens to them, so that a quarantined
resource is released the moment someone adds its missing tags. Where the ids are is data, per
event name (the first path that yields values wins); ids are turned into ARNs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tagwarden.attribution import paths
from tagwarden.aws.normalize.cloudtrail import actor_of, partition_of, unwrap
from tagwarden.model import Provider, TagChange

REQ = "requestParameters"
TAG_EVENT_IDS: Mapping[str, tuple[str, ...]] = {
    "CreateTags": (f"{REQ}.resourcesSet.items.resourceId",),
    "TagResource": (
        f"{REQ}.resource",
        f"{REQ}.resourceArn",
        f"{REQ}.resourceARN",
        f"{REQ}.ResourceArn",
        f"{REQ}.resourceId",
        f"{REQ}.keyId",
        f"{REQ}.secretId",
    ),
    "TagResources": (f"{REQ}.resourceARNList",),
    "PutBucketTagging": (f"{REQ}.bucketName",),
    "AddTagsToResource": (f"{REQ}.resourceName",),
    "AddTags": (f"{REQ}.resourceArns", f"{REQ}.resourceId", f"{REQ}.aRN"),
    "TagQueue": (f"{REQ}.queueUrl",),
}

# EC2 id prefix -> ARN resource type.
_EC2 = {
    "i-": "instance",
    "vol-": "volume",
    "eni-": "network-interface",
    "sg-": "security-group",
    "snap-": "snapshot",
    "ami-": "image",
    "vpc-": "vpc",
    "subnet-": "subnet",
    "nat-": "natgateway",
    "eipalloc-": "elastic-ip",
    "lt-": "launch-template",
}


def tag_change(raw: Mapping[str, Any]) -> TagChange | None:
    """The resources a successful tag write touched, or None for anything else."""
    record = unwrap(raw) if isinstance(raw, Mapping) else {}
    name = record.get("eventName")
    if not isinstance(name, str) or name not in TAG_EVENT_IDS or record.get("errorCode"):
        return None
    ids: list[str] = []
    for path in TAG_EVENT_IDS[name]:
        ids = [str(v) for v in paths.values(record, path) if isinstance(v, (str, int))]
        if ids:
            break
    region = str(record.get("awsRegion") or "")
    account = str(record.get("recipientAccountId") or "")
    arns = tuple(
        a for a in (_arn(i, name, str(record.get("eventSource", "")), region, account) for i in ids) if a
    )
    if not arns:
        return None
    return TagChange(str(record.get("eventID") or ""), name, actor_of(record), arns, Provider.AWS)


def _arn(ident: str, event: str, source: str, region: str, account: str) -> str | None:
    if ident.startswith("arn:"):
        return ident
    partition = partition_of(region)
    if event == "PutBucketTagging":
        return f"arn:{partition}:s3:::{ident}"
    if ident.startswith("https://") and "sqs" in ident:
        return f"arn:{partition}:sqs:{region}:{account}:{ident.rstrip('/').rsplit('/', 1)[-1]}"
    for prefix, kind in _EC2.items():
        if ident.startswith(prefix) and source.startswith("ec2."):
            return f"arn:{partition}:ec2:{region}:{account}:{kind}/{ident}"
    return None
