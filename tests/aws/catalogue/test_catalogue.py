"""The CloudTrail catalogue: one case per entry, its shape, and the public corpus."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from string import Formatter
from typing import Any

import pytest
from catalogue_cases import CASES, Case, kv

from tagwarden.attribution.paths import compile_path
from tagwarden.aws.catalogue import ARN_PLACEHOLDERS, CATALOGUE, ENTRIES, TAGGERS, Entry, derived, untaggable
from tagwarden.cli.normalize import normalize
from tagwarden.model import CreationEvent, Resource

from builders import cloudtrail, eventbridge

CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus"
AWS_CORPUS = CORPUS / "aws"

# Corpus records that cannot yield a resource although their eventName is in the catalogue, each
# with the reason. A record whose id section (responseElements / requestParameters) is absent
# altogether is recognised as trimmed without being listed here.
KNOWN_INCOMPLETE = {
    "awsdocs/0252_CreateKeyPair.json": "2014 documentation sample, before CreateKeyPair returned keyPairId",
    "panther-analysis-history/0023_RunInstances.json": "hand-edited fixture: instancesSet items hold only tags",
    "panther-analysis-history/0025_RunInstances.json": "hand-edited fixture: instancesSet items hold only tags",
    # Derived entries: documentation samples older than (or trimmed of) the ARN member today's model has.
    "awsdocs/0018_CreateMediaCapturePipeline.json": "2022 sample: mediaCapturePipeline without mediaPipelineArn",
    "awsdocs/0299_PutPlaybackConfiguration.json": "2018 sample: response without PlaybackConfigurationArn",
    "awsdocs-history/0003_StartKeyPhrasesDetectionJob.json": "2019 sample, before the response carried jobArn",
}


def _case_id(c: Case) -> str:
    return c.id


def _creation(record: dict[str, Any]) -> CreationEvent:
    results = normalize(record)
    assert len(results) == 1
    result = results[0]
    assert isinstance(result, CreationEvent), result
    return result


def _tags(resource: Resource) -> dict[str, str]:
    return dict(resource.request_tags or {})


# --- the table covers the catalogue ------------------------------------------------------------


def test_every_entry_has_exactly_one_case() -> None:
    counts = Counter(c.key for c in CASES)
    missing = [f"{s}:{e}" for (s, e) in CATALOGUE if counts[(s, e)] == 0]
    doubled = [f"{s}:{e}" for (s, e), n in counts.items() if n > 1]
    unknown = [f"{s}:{e}" for (s, e) in counts if (s, e) not in CATALOGUE]
    assert not missing, f"catalogue entries without a case: {missing}"
    assert not doubled, f"entries with more than one case: {doubled}"
    assert not unknown, f"cases for events not in the catalogue: {unknown}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_case_resources(case: Case) -> None:
    event = _creation(case.record())
    assert event.event_source == case.source
    assert event.event_name == case.event
    got = [(r.type, r.id, r.name) for r in event.resources]
    assert got == [(x.type, x.id, x.name) for x in case.expect]
    for resource, expected in zip(event.resources, case.expect, strict=True):
        if expected.native is not None:
            assert resource.native_id == expected.native
        assert resource.tagger in TAGGERS
        if resource.tagger == "rgta":
            assert resource.id.startswith("arn:aws:"), "the generic tagger needs an ARN"
    # The same record delivered by EventBridge reads the same.
    assert _creation(eventbridge(case.record())).resources == event.resources


def _tag_params() -> Iterator[Any]:
    for c in CASES:
        marks = [pytest.mark.xfail(reason=c.tag_gap, strict=True)] if c.tag_gap else []
        yield pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("case", list(_tag_params()))
def test_case_request_tags(case: Case) -> None:
    event = _creation(case.record())
    got = [_tags(r) for r in event.resources]
    assert got == [x.tags if x.tags is not None else case.tags for x in case.expect]


def test_classic_load_balancer_shares_the_event_name() -> None:
    record = cloudtrail(
        "CreateLoadBalancer",
        "elasticloadbalancing.amazonaws.com",
        {
            "loadBalancerName": "legacy-web",
            "listeners": [{"protocol": "HTTP", "loadBalancerPort": 80, "instancePort": 8080}],
            "availabilityZones": ["us-east-1a"],
            "tags": kv(),
        },
        {"dNSName": "legacy-web-1234567890.us-east-1.elb.amazonaws.com"},
    )
    (resource,) = _creation(record).resources
    assert resource.type == "AWS::ElasticLoadBalancing::LoadBalancer"
    assert resource.id == "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/legacy-web"
    assert resource.native_id == "legacy-web"
    assert resource.tagger == "elb"


def test_secret_falls_back_to_its_name_when_the_response_is_empty() -> None:
    record = cloudtrail("CreateSecret", "secretsmanager.amazonaws.com", {"name": "agent/db"}, None)
    (resource,) = _creation(record).resources
    assert resource.id == "agent/db"


def test_partition_follows_the_region() -> None:
    record = cloudtrail(
        "CreateStream",
        "kinesis.amazonaws.com",
        {"streamName": "s", "shardCount": 1},
        None,
        region="cn-north-1",
    )
    (resource,) = _creation(record).resources
    assert resource.id == "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/s"


# --- the catalogue's own shape -----------------------------------------------------------------


def test_catalogue_counts() -> None:
    services = {e.service for e in ENTRIES}
    assert len(ENTRIES) >= 150, len(ENTRIES)
    assert len(services) >= 40, sorted(services)


def test_no_duplicate_events() -> None:
    keys = Counter((e.source, e.event) for e in ENTRIES)
    assert [k for k, n in keys.items() if n > 1] == []
    assert len(CATALOGUE) == len(ENTRIES)


def _paths(entry: Entry) -> Iterator[str]:
    for c in entry.creates:
        yield c.ids
        for path in (c.name, c.native, c.tags):
            if path is not None:
                yield path
        if c.arn is not None and not c.arn.startswith("arn:"):
            yield c.arn


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: f"{e.service}:{e.event}")
def test_entry_shape(entry: Entry) -> None:
    assert entry.source.endswith(".amazonaws.com") and entry.source == entry.source.strip()
    assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", entry.event)
    assert entry.creates
    for path in _paths(entry):
        compile_path(path)
        assert path.split(".", 1)[0] in ("requestParameters", "responseElements", "serviceEventDetails"), path
    for c in entry.creates:
        assert re.fullmatch(r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+", c.type), c.type
        assert c.tagger in TAGGERS, c.tagger
        assert (c.tag_spec is None) or (c.tagger == "ec2" and c.tags is not None)
        if c.arn is not None and c.arn.startswith("arn:"):
            assert c.arn.startswith("arn:{partition}:")
            fields = {f for _, f, _, _ in Formatter().parse(c.arn) if f is not None}
            assert fields <= ARN_PLACEHOLDERS, fields - ARN_PLACEHOLDERS
            assert "{id}" in c.arn or "{name}" in c.arn


def test_every_tagger_named_in_the_catalogue_has_a_row() -> None:
    used = {c.tagger for e in ENTRIES for c in e.creates}
    assert used <= set(TAGGERS), used - set(TAGGERS)


# --- the public corpus -------------------------------------------------------------------------


def _corpus_records() -> Iterator[tuple[str, dict[str, Any], dict[str, Any], str]]:
    """(file, what to normalize, the bare record, the file text) for every readable record."""
    for path in sorted(AWS_CORPUS.glob("*/*.json")):
        try:
            text = path.read_text(encoding="utf-8")
            raw = json.loads(text)
        except (OSError, UnicodeDecodeError, ValueError):
            continue
        items = raw if isinstance(raw, list) else raw.get("Records", [raw]) if isinstance(raw, dict) else []
        name = f"{path.parent.name}/{path.name}"
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            detail = item.get("detail")
            record = detail if isinstance(detail, dict) and "eventName" in detail else item
            if isinstance(record.get("eventName"), str) and isinstance(record.get("eventSource"), str):
                yield name, item, record, text


def _entry_of(record: dict[str, Any]) -> Entry | None:
    key = (record["eventSource"].strip(), record["eventName"])
    return CATALOGUE.get(key) or derived.lookup(*key)


def _trimmed(record: dict[str, Any], entry: Entry) -> bool:
    """True when every section the entry reads ids from is absent: a trimmed sample, not a miss."""
    sections = {alt.split(".", 1)[0] for c in entry.creates for alt in c.ids.split("|")}
    return all(not record.get(s) for s in sections)


def _literal_id(resource: Resource, texts: tuple[str, ...]) -> bool:
    candidates = [resource.id, resource.native_id, resource.name]
    return any(c and len(c) >= 3 and c in resource.id and any(c in t for t in texts) for c in candidates)


def test_corpus_creates_yield_resources_from_the_record() -> None:
    if not AWS_CORPUS.is_dir():
        pytest.skip(f"no corpus at {AWS_CORPUS}")
    checked, trimmed, failures = 0, 0, []
    for name, payload, record, text in _corpus_records():
        entry = _entry_of(record)
        if entry is None or record.get("errorCode") or record.get("errorMessage"):
            continue
        checked += 1
        (result,) = normalize(payload)
        if not isinstance(result, CreationEvent) or not result.resources:
            if name in KNOWN_INCOMPLETE or _trimmed(record, entry):
                trimmed += 1
            else:
                failures.append(f"{name} {entry.event}: {getattr(result, 'reason', result)}")
            continue
        texts = (text, json.dumps(record))
        for resource in result.resources:
            if not _literal_id(resource, texts):
                failures.append(f"{name} {entry.event}: {resource.id} is not from the record")
    assert checked > 0
    assert not failures, "\n".join(failures)
    assert trimmed < checked


def _create_rows() -> Iterator[tuple[str, str]]:
    """(eventSource, eventName) of every successful create record the corpus manifests list."""
    for manifest in sorted(AWS_CORPUS.glob("*/manifest.jsonl")):
        for line in manifest.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue
            if row.get("category") == "create" and row.get("errorCode") is None:
                yield str(row.get("eventSource", "")).strip(), str(row.get("eventName", ""))


def _untaggable_entry(entry: Entry) -> bool:
    return all(c.tagger == "untaggable" for c in entry.creates)


def test_corpus_create_coverage(capsys: pytest.CaptureFixture[str]) -> None:
    """At least 90% of the successful creates that make a taggable resource are in the catalogue.

    Records of events the catalogue knows as untaggable (tagger "untaggable") or that untaggable.py
    says make nothing taggable are left out of the share; the rest uncovered are listed with the
    reason untaggable.py gives (or "unclassified")."""
    if not AWS_CORPUS.is_dir():
        pytest.skip(f"no corpus at {AWS_CORPUS}")
    total, covered, hand = 0, 0, 0
    excluded, uncovered = Counter[str](), Counter[str]()
    for key in _create_rows():
        total += 1
        name = f"{key[0].removesuffix('.amazonaws.com')}:{key[1]}"
        entry = _entry_of({"eventSource": key[0], "eventName": key[1]})
        gap = untaggable.lookup(*key)
        if entry is not None and _untaggable_entry(entry):
            excluded[f"{name} [catalogue: untaggable type]"] += 1
        elif entry is not None:
            covered += 1
            hand += key in CATALOGUE
        elif gap is not None and not gap.why.taggable:
            excluded[f"{name} [{gap.why}: {gap.reason}]"] += 1
        else:
            reason = f"{gap.why}: {gap.reason}" if gap else "unclassified"
            uncovered[f"{name} [{reason}]"] += 1
    taggable = covered + sum(uncovered.values())
    share = covered / taggable if taggable else 0.0
    with capsys.disabled():
        print(
            f"\ncorpus creates: {total} successful; {sum(excluded.values())} make nothing taggable; "
            f"taggable covered {covered}/{taggable} = {share:.1%} (hand-written rows: {hand})"
        )
        print("uncovered taggable:\n  " + "\n  ".join(f"{k} x{n}" for k, n in sorted(uncovered.items())))
        print("not taggable:\n  " + "\n  ".join(f"{k} x{n}" for k, n in sorted(excluded.items())))
    assert total == taggable + sum(excluded.values())
    assert covered > hand, "the derived catalogue covers corpus records the hand-written one does not"
    assert share >= 0.90, f"taggable create coverage {share:.1%} < 90%"
