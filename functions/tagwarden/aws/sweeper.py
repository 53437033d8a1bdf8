"""The AWS sweeper: a scheduled Lambda that finds marked resources, and releases, deletes or leaves them.

Found by the marker tag through the Resource Groups Tagging API (one region per deployment, like
the enforcer); judged by tagwarden.lifecycle.sweep; acted on through the quarantiner; the marker is
removed on release through each service's own untag call. Every action is logged and notified.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tagwarden.aws.clients import Clients
from tagwarden.aws.text import AWS_TEXT
from tagwarden.lifecycle.marker import iso
from tagwarden.lifecycle.ports import CloudText, Notifier, Quarantiner
from tagwarden.lifecycle.sweep import Found
from tagwarden.lifecycle.sweeper import SweepActions
from tagwarden.model import Provider, Resource, TagChange
from tagwarden.rules.model import RuleSet

# ARN (service, resource-type prefix) -> (CloudFormation type, tagger); "" matches ARNs without one.
ARN_TYPES: Mapping[tuple[str, str], tuple[str, str]] = {
    ("ec2", "instance"): ("AWS::EC2::Instance", "ec2"),
    ("ec2", "volume"): ("AWS::EC2::Volume", "ec2"),
    ("ec2", "security-group"): ("AWS::EC2::SecurityGroup", "ec2"),
    ("ec2", "network-interface"): ("AWS::EC2::NetworkInterface", "ec2"),
    ("s3", ""): ("AWS::S3::Bucket", "s3"),
    ("lambda", "function"): ("AWS::Lambda::Function", "lambda"),
    ("sqs", ""): ("AWS::SQS::Queue", "sqs"),
    ("sns", ""): ("AWS::SNS::Topic", "sns"),
    ("dynamodb", "table"): ("AWS::DynamoDB::Table", "dynamodb"),
    ("rds", "db"): ("AWS::RDS::DBInstance", "rds"),
    ("ecs", "service"): ("AWS::ECS::Service", "ecs"),
    ("sagemaker", "notebook-instance"): ("AWS::SageMaker::NotebookInstance", "sagemaker"),
    ("sagemaker", "endpoint"): ("AWS::SageMaker::Endpoint", "sagemaker"),
    ("logs", "log-group"): ("AWS::Logs::LogGroup", "logs"),
    ("ecs", "task"): ("AWS::ECS::Task", "ecs"),
    ("kinesis", "stream"): ("AWS::Kinesis::Stream", "kinesis"),
    ("aoss", "collection"): ("AWS::OpenSearchServerless::Collection", "aoss"),
}


def resource_from_arn(arn: str) -> Resource:
    parts = arn.split(":", 5)
    service, rest = parts[2], parts[5] if len(parts) > 5 else ""
    # The resource part is `type/id`, `type:id` or a bare id: split on whichever separator comes first.
    cut = min((i for i in (rest.find("/"), rest.find(":")) if i >= 0), default=-1)
    kind, ident = (rest[:cut], rest[cut + 1 :]) if cut >= 0 else ("", rest)
    if (service, kind) not in ARN_TYPES and (service, "") in ARN_TYPES:
        kind, ident = "", rest
    rtype, tagger = ARN_TYPES.get((service, kind), (f"AWS::{service.upper()}::{kind or 'Resource'}", "rgta"))
    native = arn
    if tagger in ("ec2", "s3"):
        native = ident
    elif tagger == "sqs":
        native = f"https://sqs.{parts[3]}.amazonaws.com/{parts[4]}/{ident}"
    return Resource(id=arn, type=rtype, name=ident.rsplit("/", 1)[-1], native_id=native, tagger=tagger)


# How to remove tags, per tagger (marker tags go when a resource is released).
def _untag_ec2(c: Clients, r: Resource, region: str | None, keys: list[str]) -> None:
    c.get("ec2", region).delete_tags(Resources=[r.native_id], Tags=[{"Key": k} for k in keys])


def _untag_s3(c: Clients, r: Resource, region: str | None, keys: list[str]) -> None:
    s3 = c.get("s3", region)
    current = s3.get_bucket_tagging(Bucket=r.native_id).get("TagSet", [])
    kept = [t for t in current if t["Key"] not in keys]
    if kept:
        s3.put_bucket_tagging(Bucket=r.native_id, Tagging={"TagSet": kept})
    else:
        s3.delete_bucket_tagging(Bucket=r.native_id)


def _untag_sqs(c: Clients, r: Resource, region: str | None, keys: list[str]) -> None:
    sqs = c.get("sqs", region)
    url = sqs.get_queue_url(QueueName=r.name)["QueueUrl"]
    sqs.untag_queue(QueueUrl=url, TagKeys=keys)


UNTAG: Mapping[str, Callable[[Clients, Resource, str | None, list[str]], None]] = {
    "ec2": _untag_ec2,
    "s3": _untag_s3,
    "sqs": _untag_sqs,
    "lambda": lambda c, r, region, keys: c.get("lambda", region).untag_resource(Resource=r.id, TagKeys=keys),
    "sns": lambda c, r, region, keys: c.get("sns", region).untag_resource(ResourceArn=r.id, TagKeys=keys),
    "dynamodb": lambda c, r, region, keys: c.get("dynamodb", region).untag_resource(
        ResourceArn=r.id, TagKeys=keys
    ),
    "rds": lambda c, r, region, keys: c.get("rds", region).remove_tags_from_resource(
        ResourceName=r.id, TagKeys=keys
    ),
}


def _untag_any(c: Clients, r: Resource, region: str | None, keys: list[str]) -> None:
    result = c.get("resourcegroupstaggingapi", region).untag_resources(ResourceARNList=[r.id], TagKeys=keys)
    failed = result.get("FailedResourcesMap", {})
    if failed:
        raise RuntimeError(f"untag failed for {r.id}: {failed}")


@dataclass
class AwsSweeper(SweepActions):
    rules: RuleSet
    clients: Clients
    quarantiner: Quarantiner
    notifier: Notifier | None
    telemetry: Any
    region: str | None = None
    clock: Callable[[], float] = time.time
    last: list[dict[str, Any]] = field(default_factory=list)
    text: CloudText = AWS_TEXT

    def find(self) -> list[Found]:
        rgta = self.clients.get("resourcegroupstaggingapi", self.region)
        found: list[Found] = []
        token = ""
        while True:
            page = rgta.get_resources(TagFilters=[{"Key": self.keys.state}], PaginationToken=token)
            for item in page.get("ResourceTagMappingList", []):
                tags = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
                found.append(Found(resource_from_arn(item["ResourceARN"]), tags, Provider.AWS))
            token = page.get("PaginationToken") or ""
            if not token:
                return found

    def release_now(self, changes: Sequence[TagChange]) -> dict[str, Any]:
        """Someone wrote tags on these resources: release the quarantined ones that are now
        attributed, at once. A tag event never deletes anything: deletion is the sweep's."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        rgta = self.clients.get("resourcegroupstaggingapi", self.region)
        items = []
        arns = list(dict.fromkeys(arn for change in changes for arn in change.resource_ids))
        for start in range(0, len(arns), 100):  # GetResources takes 100 ARNs at a time
            items += rgta.get_resources(ResourceARNList=arns[start : start + 100]).get(
                "ResourceTagMappingList", []
            )
        found = [
            Found(
                resource_from_arn(item["ResourceARN"]),
                {t["Key"]: t["Value"] for t in item.get("Tags", [])},
                Provider.AWS,
            )
            for item in items
        ]
        return {
            "event_id": changes[0].event_id if changes else None,
            "event_name": changes[0].event_name if changes else None,
            **self._release_rows(found, now),
        }

    def run(self) -> dict[str, Any]:
        now = datetime.fromtimestamp(self.clock(), UTC)
        self.last, counts = self._sweep_rows(self.find(), now)
        self.telemetry.log("info", "sweep done", at=iso(now), **counts)
        return {"at": iso(now), "resources": self.last}

    def _remove_marker(self, resource: Resource, tags: Mapping[str, str]) -> bool:
        keys = [*self.keys.all(), self.notice_key]
        untag = UNTAG.get(resource.tagger or "", _untag_any)
        try:
            untag(self.clients, resource, self.region, keys)
            return True
        except Exception as exc:  # one resource must not stop the sweep: logged, retried next sweep
            self.telemetry.log(
                "error", "marker not removed", resource=resource.id, error=f"{type(exc).__name__}: {exc}"
            )
            return False

    def _mark_notice(self, resource: Resource, now: datetime) -> None:
        self._tag(resource, {self.notice_key: iso(now)})

    def _write_tags(self, resource: Resource, tags: Mapping[str, str]) -> None:
        self._tag(resource, dict(tags))

    def _tag(self, resource: Resource, tags: dict[str, str]) -> None:
        from tagwarden.aws.taggers import write_tags
        from tagwarden.tagging import Outcome, TagWrite

        (result,) = write_tags(
            [TagWrite(resource, tags)], self.clients, region=self.region, not_found_window=0
        )
        if result.outcome is not Outcome.TAGGED:
            self.telemetry.log("error", "tag not written", resource=resource.id, error=result.error)

    def _where(self, resource: Resource) -> tuple[str, str | None]:
        return resource.id.split(":")[4], self.region
