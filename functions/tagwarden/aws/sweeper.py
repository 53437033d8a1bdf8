"""The AWS sweeper: a scheduled Lambda that releases, deletes or leaves what the ledger holds in a
lifecycle, in every account and region the ledger names.

The work list is the ledger's (tagwarden.lifecycle.sweeper), never a listing by tag or of the
Organization's accounts: each record carries the account and region its create event happened in,
and is acted on there, one account-region at a time (a few at once, `concurrency`), through that
account's clients. In an Organization (TAGWARDEN_MEMBER_ACCOUNTS / TAGWARDEN_ORG_ID) those are the
member sweeper role's (`tagwarden-member-sweeper`, assumed once per container, credentials
refreshed before they expire); a record of an account the gate no longer allows is never assumed
into: left, with its reason. Rate limits: tagwarden.aws.pacing.

In each account-region: the current tags of the recorded ARNs are read through the Resource Groups
Tagging API (100 ARNs a call); judged by tagwarden.lifecycle.sweep (the current rules, protection
and exemptions, as they are in that account now); acted on through the quarantiner; the marker
display is removed on release through each service's own untag call. Every action is logged and
notified.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from tagwarden.aws.clients import Clients
from tagwarden.aws.pacing import Pace, ThrottleWatch
from tagwarden.aws.text import AWS_TEXT
from tagwarden.ledger.model import ResourceRecord
from tagwarden.ledger.ports import Ledger
from tagwarden.lifecycle.marker import iso_epoch
from tagwarden.lifecycle.ports import CloudText, Notifier, Quarantiner
from tagwarden.lifecycle.sweep import Found
from tagwarden.lifecycle.sweeper import Deferral, SweepActions, Where
from tagwarden.model import Resource, TagChange
from tagwarden.rules.model import RuleSet

if TYPE_CHECKING:
    from tagwarden.aws.members import AccountGate

T = TypeVar("T")
R = TypeVar("R")
CONCURRENCY = 4  # account-regions swept at once: each has its own API limits

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
    ledger: Ledger
    region: str | None = None
    clock: Callable[[], float] = time.time
    last: list[dict[str, Any]] = field(default_factory=list)
    provider: str = "aws"
    text: CloudText = AWS_TEXT
    # Organization mode: which accounts may be acted in, and their clients (the member sweeper
    # role); None: one account, every record acted on with `clients`.
    gate: AccountGate | None = None
    # A quarantiner for an account's clients in a region (Organization mode; else `quarantiner`).
    quarantiners: Callable[[Clients, str | None], Quarantiner] | None = None
    concurrency: int = CONCURRENCY
    pace: Pace | None = None  # a scope's limits in the current sweep (set on the scope's copy)
    monotonic: Callable[[], float] = time.monotonic
    _deadline: float | None = None
    _watches: dict[int, ThrottleWatch] = field(default_factory=dict)
    _made: dict[tuple[str, str | None], Quarantiner] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _read(self, records: Sequence[ResourceRecord]) -> list[Found]:
        """Current tags of the recorded ARNs (one account-region), 100 per GetResources call. An
        ARN the tagging API does not return is read as untagged: the quarantiner finds out whether
        it is gone."""
        tags: dict[str, dict[str, str]] = {}
        arns = [r.resource_id for r in records]
        for start in range(0, len(arns), 100):
            region = self.region or _region_of(arns[start])
            page = self.clients.get("resourcegroupstaggingapi", region).get_resources(
                ResourceARNList=arns[start : start + 100]
            )
            for item in page.get("ResourceTagMappingList", []):
                tags[item["ResourceARN"]] = {t["Key"]: t["Value"] for t in item.get("Tags", [])}
        return [Found(r, resource_from_arn(r.resource_id), tags.get(r.resource_id, {})) for r in records]

    def release_now(self, changes: Sequence[TagChange]) -> dict[str, Any]:
        """Someone wrote tags on these resources: release the quarantined ones that are now
        attributed, at once, each in its own account. A tag event never deletes anything:
        deletion is the sweep's."""
        ids = list(dict.fromkeys(rid for change in changes for rid in change.resource_ids))
        self._deadline = None
        found = self._release_rows(ids, self.clock())
        self._count_left(found["resources"])
        return {
            "event_id": changes[0].event_id if changes else None,
            "event_name": changes[0].event_name if changes else None,
            **found,
        }

    def run(self, budget_seconds: float | None = None) -> dict[str, Any]:
        """One sweep; with a budget, nothing new is started once it is spent (the rest is left)."""
        now = self.clock()
        self._deadline = None if budget_seconds is None else self.monotonic() + budget_seconds
        self.last, counts = self._sweep_rows(now)
        left = self._count_left(self.last)
        self.telemetry.log("info", "sweep done", at=iso_epoch(now), left=left, **counts)
        return {"at": iso_epoch(now), "resources": self.last}

    def _count_left(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
        left: dict[str, int] = {}
        for row in rows:
            if row.get("left"):
                left[row["left"]] = left.get(row["left"], 0) + 1
        count = getattr(self.telemetry, "count_deferred", None)
        for kind, n in left.items():
            if count is not None:
                count(kind, n)
        return left

    # --- scopes: one account-region each ---------------------------------------------------------

    def _scope(self, where: Where) -> SweepActions | Deferral:
        account, region = where
        region = region or self.region
        if self.gate is None:
            clients = self.clients
        else:
            try:
                allowed = self.gate.allows(account)
            except Exception as exc:  # cannot tell: nothing destructive on a guess
                why = f"cannot tell whether {account} is a member ({type(exc).__name__}): left"
                return Deferral("unverified", why)
            if not allowed:
                return Deferral(
                    "not-member",
                    f"account {account} is neither this account nor an allowed member "
                    "(TAGWARDEN_MEMBER_ACCOUNTS / TAGWARDEN_ORG_ID): never assumed into, left",
                )
            clients = self.gate.clients.get(account)
        pace = Pace(account, region, self._watch(clients), self.monotonic(), self._deadline, self.monotonic)
        return dataclasses.replace(
            self, clients=clients, region=region, quarantiner=self._quarantiner(clients, account, region),
            pace=pace, last=[],
        )  # fmt: skip

    def _misplaced(self, record: ResourceRecord) -> Deferral | None:
        """An ARN naming another account than the record's is never acted on with the record's
        account's clients (a cross-account call it might be allowed by a resource policy)."""
        owner = record.resource_id.split(":", 5)[4:5]
        if owner and owner[0] and owner[0] != record.account:
            why = f"the ARN names account {owner[0]}, the record {record.account}: never acted on"
            return Deferral("misplaced", why)
        return None

    def _halted(self) -> Deferral | None:
        return self.pace.halted() if self.pace is not None else None

    def _deferral(self, exc: Exception) -> Deferral:
        return self.pace.deferral(exc) if self.pace is not None else super()._deferral(exc)

    def _each(self, work: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if self.concurrency <= 1 or len(items) <= 1:
            return [work(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(items))) as pool:
            return list(pool.map(work, items))

    def _watch(self, clients: Clients) -> ThrottleWatch:
        with self._lock:
            watch = self._watches.get(id(clients))
            if watch is None:
                watch = self._watches[id(clients)] = ThrottleWatch(self.monotonic).attach(clients)
        return watch

    def _quarantiner(self, clients: Clients, account: str, region: str | None) -> Quarantiner:
        if self.quarantiners is None:
            return self.quarantiner
        with self._lock:
            made = self._made.get((account, region))
            if made is None:
                made = self._made[(account, region)] = self.quarantiners(clients, region)
        return made

    def _remove_marker(self, resource: Resource, tags: Mapping[str, str], keys: Iterable[str]) -> bool:
        present = [k for k in dict.fromkeys(keys) if k in tags]
        if not present:
            return False
        untag = UNTAG.get(resource.tagger or "", _untag_any)
        try:
            untag(self.clients, resource, self.region, present)
            return True
        except Exception as exc:  # one resource must not stop the sweep: the display is left
            self.telemetry.log(
                "error", "marker not removed", resource=resource.id, error=f"{type(exc).__name__}: {exc}"
            )
            return False

    def _write_tags(self, resource: Resource, tags: Mapping[str, str]) -> None:
        from tagwarden.aws.taggers import write_tags
        from tagwarden.tagging import Outcome, TagWrite

        (result,) = write_tags(
            [TagWrite(resource, dict(tags))], self.clients, region=self.region, not_found_window=0
        )
        if result.outcome is not Outcome.TAGGED:
            self.telemetry.log("error", "tag not written", resource=resource.id, error=result.error)



def _region_of(arn: str) -> str | None:
    parts = arn.split(":")
    return (parts[3] or None) if len(parts) > 3 else None
