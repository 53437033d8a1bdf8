"""Writing tags: run the table rows in `registry` against boto3, in batches, with a not-found window.

How a call of `write_tags` proceeds:

1. Each write is matched to its row (by `Resource.tagger`, then by resource type inside rows such
   as IAM's). No row, or a row for untaggable types: UNSUPPORTED, no call made. Empty tags: TAGGED,
   no call made.
2. Rounds. In each round the pending writes are grouped: rows that take several ids per call (EC2
   CreateTags: 1000, Resource Groups Tagging API: 20, ELBv2: 20) carry, in one call, every pending
   resource of the same row, region and tag set; other rows make one call per resource. A failed
   batch call whose message names some of its ids (EC2: "The instance ID 'i-123' does not exist")
   settles those and re-sends the rest at once; a "not found" naming none is bisected. The common
   all-good path stays at one call per batch.
3. Writes that got a "not found" (or "busy": exists but still creating) code are retried in the next
   round, after one shared sleep of exponential backoff with jitter (0.5 s doubling to 8 s, each
   drawn from [d/2, d]) through the injected `sleep`, until the sleeps add up to
   `not_found_window` seconds. What is still not found then is VANISHED (deleted before we could
   tag it); what is still busy is FAILED with the service's code.
4. Any other ClientError, and BotoCoreError (endpoint unreachable, bad parameter), is FAILED with
   its code and message in `error`; nothing is raised. Throttling is retried by botocore (standard
   retry mode, see tagwarden.aws.clients); when it still fails it is FAILED with the throttling code.

Calls convention: `TagResult.calls` is the number of API calls that carried this resource. A batch
call is counted once for each of its members (150 instances tagged in one CreateTags call: each
result says calls=1, and the account saw one call). S3 counts its GetBucketTagging and its
PutBucketTagging (2, or 1 when nothing new had to be written). `attempts` is the number of rounds
the write took part in (1 when the first try settled it).
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from msgspec import Struct, field

from tagwarden.aws.catalogue.tagger_spec import (
    ErrorKind,
    Kind,
    TaggerSpec,
    arn_region,
    format_tags,
    target_id,
)
from tagwarden.aws.catalogue.taggers import TAGGERS
from tagwarden.aws.clients import Clients
from tagwarden.tagging import Outcome, TagResult, TagWrite

BASE_DELAY = 0.5  # first backoff sleep (seconds, before jitter)
MAX_DELAY = 8.0  # longest single backoff sleep
CONCURRENCY = 16  # distinct tag-write calls in flight at once (each service throttles on its own)
S3_MAX_TAGS = 50  # user tags per bucket (aws: system tags do not count)


class _Error(Struct, frozen=True):
    code: str
    message: str
    kind: ErrorKind

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class _Job(Struct, eq=False):
    index: int
    write: TagWrite
    spec: TaggerSpec
    region: str | None
    target: str
    calls: int = 0
    attempts: int = 0
    written: Mapping[str, str] = field(default_factory=dict)  # S3: what was actually added


_Settled = list[tuple[_Job, _Error | None]]  # None: tagged


def write_tags(
    writes: Sequence[TagWrite],
    clients: Clients,
    *,
    region: str | None,
    sleep: Callable[[float], None] = time.sleep,
    not_found_window: float = 20.0,
) -> list[TagResult]:
    """Add `tags` to each resource through its service's own API. One result per write, in order."""
    results: dict[int, TagResult] = {}
    pending: list[_Job] = []
    for index, write in enumerate(writes):
        job_or_result = _prepare(index, write, region)
        if isinstance(job_or_result, TagResult):
            results[index] = job_or_result
        else:
            pending.append(job_or_result)

    slept, delay = 0.0, BASE_DELAY
    while pending:
        retry: list[tuple[_Job, _Error]] = []
        batches = list(_batches(pending))
        for batch in batches:
            for job in batch:
                job.attempts += 1
        for job, error in _run_all(batches, clients):
            if error is None:
                results[job.index] = _result(job, Outcome.TAGGED)
            elif error.kind is ErrorKind.FAILED:
                results[job.index] = _result(job, Outcome.FAILED, error)
            else:
                retry.append((job, error))
        if not retry:
            break
        remaining = not_found_window - slept
        if remaining <= 0:
            for job, error in retry:
                outcome = Outcome.VANISHED if error.kind is ErrorKind.NOT_FOUND else Outcome.FAILED
                results[job.index] = _result(job, outcome, error)
            break
        pause = min(remaining, random.uniform(delay / 2, delay))
        sleep(pause)
        slept += pause
        delay = min(delay * 2, MAX_DELAY)
        pending = [job for job, _ in retry]
    return [results[i] for i in range(len(writes))]


def _prepare(index: int, write: TagWrite, region: str | None) -> _Job | TagResult:
    resource = write.resource

    def unsupported(reason: str) -> TagResult:
        return TagResult(resource, Outcome.UNSUPPORTED, write.tags, calls=0, error=reason, attempts=0)

    name = resource.tagger
    if name is None:  # no catalogue row named one: the generic API, when there is an ARN
        name = "rgta" if resource.id.startswith("arn:") else None
    row = TAGGERS.get(name) if name is not None else None
    if row is None:
        return unsupported(f"NoTagger: no tagger named {resource.tagger!r} for {resource.type}")
    spec = row.for_type(resource.type)
    if spec is None:
        return unsupported(f"NoTagger: tagger {name!r} has no API for {resource.type}")
    if spec.kind is Kind.UNTAGGABLE:
        return unsupported(f"Untaggable: {resource.type}: {spec.note}")
    if spec.kind is Kind.DECLINED:
        return unsupported(f"Declined: {resource.type}: {spec.note}")
    if spec.kind is Kind.RGTA and not resource.id.startswith("arn:"):
        return unsupported(f"NoArn: the tagging API needs an ARN, {resource.id!r} is not one")
    target = target_id(spec, resource)
    if not target:
        return unsupported(f"NoId: cannot derive the id {spec.service} {spec.method} takes")
    if not write.tags:
        return TagResult(resource, Outcome.TAGGED, write.tags, calls=0, attempts=0)
    job_region = spec.region or arn_region(resource.id) or region
    return _Job(index, write, spec, job_region, target)


def _result(job: _Job, outcome: Outcome, error: _Error | None = None) -> TagResult:
    tags = job.written if job.spec.kind is Kind.S3 and outcome is Outcome.TAGGED else job.write.tags
    return TagResult(
        job.write.resource,
        outcome,
        tags,
        calls=job.calls,
        error=str(error) if error else None,
        attempts=job.attempts,
    )


def _batches(jobs: list[_Job]) -> Iterator[list[_Job]]:
    """Jobs that can share a call (same row, region and tag set), at most `max_ids` per batch."""
    groups: dict[tuple[int, str | None, tuple[tuple[str, str], ...]], list[_Job]] = {}
    for job in jobs:
        if job.spec.max_ids <= 1:
            yield [job]
            continue
        key = (id(job.spec), job.region, tuple(sorted(job.write.tags.items())))
        groups.setdefault(key, []).append(job)
    for group in groups.values():
        size = group[0].spec.max_ids
        for start in range(0, len(group), size):
            yield group[start : start + size]


def _run_all(batches: list[list[_Job]], clients: Clients) -> _Settled:
    """Every batch's call; distinct calls (e.g. 1,000 markers, each with its own seal) run
    CONCURRENCY at a time: the wait is the network's, and boto3 clients are thread-safe."""
    if len(batches) <= 1:
        return [settled for batch in batches for settled in _run(batch, clients)]
    with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(batches))) as pool:
        done = pool.map(lambda batch: _run(batch, clients), batches)
        return [settled for result in done for settled in result]


def _run(batch: list[_Job], clients: Clients) -> _Settled:
    spec = batch[0].spec
    client = clients.get(spec.service, batch[0].region)
    if spec.kind is Kind.S3:
        return [(job, _s3(job, client)) for job in batch]
    return _call(spec, client, batch)


def _error_of(spec: TaggerSpec, exc: Exception) -> _Error:
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code") or "Unknown")
        return _Error(code, str(err.get("Message") or exc), spec.classify(code))
    return _Error(type(exc).__name__, str(exc), ErrorKind.FAILED)


def _chunks(tags: Mapping[str, str], size: int | None) -> Iterator[dict[str, str]]:
    items = list(tags.items())
    step = size or len(items)
    for start in range(0, len(items), step):
        yield dict(items[start : start + step])


def _call(spec: TaggerSpec, client: Any, jobs: list[_Job]) -> _Settled:
    """One call (per tag chunk) carrying every job; on a batch error, settle whom it concerns."""
    ids = [job.target for job in jobs]
    params: dict[str, Any] = dict(spec.extra)
    if spec.id_param is not None:
        params[spec.id_param] = ids if spec.id_list else ids[0]
    failed: dict[str, _Error] = {}
    try:
        for chunk in _chunks(jobs[0].write.tags, spec.max_tags):
            for job in jobs:
                job.calls += 1
            params[spec.tags_param] = format_tags(spec.tag_format, chunk, ids[0])
            response = getattr(client, spec.method)(**params)
            if spec.kind is Kind.RGTA:
                failed.update(_rgta_failures(spec, response))
    except (ClientError, BotoCoreError) as exc:
        error = _error_of(spec, exc)
        if len(jobs) == 1:
            return [(jobs[0], error)]
        named = [job for job in jobs if _names(error.message, job.target)]
        if named and len(named) < len(jobs):
            rest = [job for job in jobs if job not in named]
            return [(job, error) for job in named] + _call(spec, client, rest)
        if not named and error.kind is not ErrorKind.FAILED:
            half = len(jobs) // 2
            return _call(spec, client, jobs[:half]) + _call(spec, client, jobs[half:])
        return [(job, error) for job in jobs]
    return [(job, failed.get(job.target)) for job in jobs]


def _names(message: str, target: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(target)}(?![\w-])", message) is not None


def _rgta_failures(spec: TaggerSpec, response: Mapping[str, Any]) -> dict[str, _Error]:
    """FailedResourcesMap: {arn: {StatusCode, ErrorCode, ErrorMessage}}, the service's own code."""
    out: dict[str, _Error] = {}
    for arn, info in (response.get("FailedResourcesMap") or {}).items():
        code = str(info.get("ErrorCode") or "Unknown")
        message = str(info.get("ErrorMessage") or "")
        kind = spec.classify(code)
        status = info.get("StatusCode")
        # A 404 is "not found" unless the code says the service itself failed.
        if kind is ErrorKind.FAILED and status == 404 and code != "InternalServiceException":
            kind = ErrorKind.NOT_FOUND
        out[arn] = _Error(code, f"{message} (status {status})" if status else message, kind)
    return out


def _s3(job: _Job, client: Any) -> _Error | None:
    """PutBucketTagging replaces the whole set: read it, add ours without overwriting, write back.

    Existing keys keep their values; aws: system tags are written back as read (S3 refuses a set
    that drops them) and do not count towards the 50-tag limit. A set that would exceed the limit
    is not written (FAILED, TooManyTags) rather than half-written. Read-modify-write is not atomic:
    a tag written by someone else between our read and our write is lost; acceptable for a write
    made seconds after the create.
    """
    bucket = job.target
    spec = job.spec
    try:
        job.calls += 1
        try:
            current = client.get_bucket_tagging(Bucket=bucket).get("TagSet", [])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchTagSet":
                raise
            current = []
        existing = {str(t["Key"]): str(t["Value"]) for t in current}
        adding = {k: v for k, v in job.write.tags.items() if k not in existing}
        if not adding:
            job.written = {}
            return None
        user_count = sum(1 for k in existing if not k.startswith("aws:")) + len(adding)
        if user_count > S3_MAX_TAGS:
            return _Error(
                "TooManyTags",
                f"bucket {bucket} has {len(existing)} tags; adding {len(adding)} would exceed {S3_MAX_TAGS}",
                ErrorKind.FAILED,
            )
        merged = {**existing, **adding}
        job.calls += 1
        client.put_bucket_tagging(
            Bucket=bucket,
            Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in merged.items()]},
        )
        job.written = adding
    except (ClientError, BotoCoreError) as exc:
        return _error_of(spec, exc)
    return None


__all__ = ["Outcome", "TagResult", "TagWrite", "write_tags"]
