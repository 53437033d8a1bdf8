"""The derived catalogue (botocore's service models -> derived.json.gz): current, and readable."""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tagwarden.aws.catalogue import CATALOGUE, TAGGERS, all_entries, derived
from tagwarden.aws.catalogue.tagger_spec import Kind
from tagwarden.cli.normalize import normalize
from tagwarden.model import CreationEvent

SCRIPT = Path(__file__).resolve().parents[3] / "infra" / "aws" / "derive_catalogue.py"

botocore_session = pytest.importorskip("botocore.session")


@cache
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("derive_catalogue", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def session() -> Any:
    return botocore_session.get_session()


def test_data_file_is_current_with_the_installed_botocore() -> None:
    assert generator().main(["--check"]) == 0, "run `make catalogue`"


def test_catalogue_reaches_the_issue_targets() -> None:
    entries = all_entries()
    assert len(entries) >= 1200
    assert len({e.service for e in entries}) >= 250
    keys = [(e.source, e.event) for e in entries]
    assert len(keys) == len(set(keys)), "one entry per (source, name)"
    # Hand-written rows win: none of them comes back derived.
    assert all(not e.derived for e in entries if (e.source, e.event) in CATALOGUE)


def _value(shape: Any, name: str, n: int, depth: int = 0) -> Any:
    """A value shaped like `shape`, in CloudTrail's member casing; ARNs are unique and well formed."""
    kind = shape.type_name
    if kind == "structure":
        if depth > 4:
            return {}
        return {
            generator().cloudtrail_name(m, s.serialization.get("name")): _value(s, m, n, depth + 1)
            for m, s in shape.members.items()
        }
    if kind == "list":
        return [_value(shape.member, name, n, depth + 1)]
    if kind == "map":
        return {"k": "v"}
    if kind == "string":
        if name.lower().endswith("arn") or shape.name.lower().endswith("arn"):
            return f"arn:aws:svc:us-east-1:123456789012:{name.lower()}/r{n}"
        return f"{name}-{n}"
    if kind in ("integer", "long", "float", "double"):
        return 1
    if kind == "boolean":
        return True
    return f"{kind}-{n}"


def _request(tags_path: str) -> dict[str, Any]:
    """requestParameters with {Key, Value} tags at the entry's tag path."""
    request: dict[str, Any] = {}
    node = request
    *parents, last = tags_path.split(".")[1:]
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = [{"Key": "team", "Value": "t"}]
    return request


def _record(source: str, event: str, output: Any, n: int) -> dict[str, Any]:
    entry = derived.lookup(source, event)
    assert entry is not None and entry.creates[0].tags is not None
    return {
        "eventVersion": "1.09",
        "eventSource": source,
        "eventName": event,
        "awsRegion": "us-east-1",
        "recipientAccountId": "123456789012",
        "eventID": f"e-{n}",
        "userIdentity": {"type": "IAMUser", "accountId": "123456789012", "userName": "u"},
        "requestParameters": _request(entry.creates[0].tags),
        "responseElements": _value(output, "", n),
    }


def _derived_operations() -> list[tuple[str, str, Any]]:
    """(source, event, output shape) of every derived entry the hand-written catalogue does not own."""
    gen = generator()
    out = []
    wanted = {(e.source, e.event) for e in all_entries() if e.derived}
    seen: set[tuple[str, str]] = set()
    for service in sorted(session().get_available_services()):
        model = session().get_service_model(service)
        rows, _ = gen.derive_service(model)
        source = gen._source(model)
        for event in rows:
            key = (source, event)
            if key in wanted and key not in seen:
                seen.add(key)
                out.append((source, event, model.operation_model(event).output_shape))
    assert seen == wanted
    return out


def test_every_derived_entry_reads_its_resource_from_a_model_shaped_record() -> None:
    """One record per derived entry, its response built from the model's output shape: the reader
    must yield resources whose ids are ARNs found literally in the record, with its request tags."""
    failures = []
    ops = _derived_operations()
    for n, (source, event, output) in enumerate(ops):
        record = _record(source, event, output, n)
        (result,) = normalize(record)
        text = json.dumps(record)
        if not isinstance(result, CreationEvent):
            failures.append(f"{source} {event}: {result.reason}")
            continue
        for r in result.resources:
            if not (r.id.startswith("arn:aws:") and f'"{r.id}"' in text):
                failures.append(f"{source} {event}: {r.id} is not an ARN from the record")
            if (r.request_tags or {}).get("team") != "t":
                failures.append(f"{source} {event}: request tags not read")
    assert len(ops) >= 900
    assert not failures, f"{len(failures)} of {len(ops)}:\n" + "\n".join(failures[:40])


def snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name))


def test_derived_taggers_match_their_service_models() -> None:
    names = derived.tagger_names()
    assert len(names) > 100
    for name in names:
        spec = TAGGERS[name]  # resolved lazily through the registry the writer uses
        assert spec.kind is Kind.API
        model = session().get_service_model(spec.service)
        op = next(o for o in model.operation_names if snake(o) == spec.method)
        members = model.operation_model(op).input_shape.members
        assert spec.id_param in members and spec.tags_param in members, name
    used = {c.tagger for e in all_entries() if e.derived for c in e.creates}
    assert all(u in TAGGERS for u in used)


def test_an_unknown_derived_tagger_is_a_key_error() -> None:
    assert TAGGERS.get("derived:no-such-service") is None
    with pytest.raises(KeyError):
        TAGGERS["derived:no-such-service"]


def test_a_record_of_a_service_only_the_models_know_is_read() -> None:
    """MWAA environments (missed by the hand-written catalogue in real recordings)."""
    assert ("airflow.amazonaws.com", "CreateEnvironment") not in CATALOGUE
    arn = "arn:aws:airflow:eu-west-1:123456789012:environment/analytics"
    record = {
        "eventSource": "airflow.amazonaws.com",
        "eventName": "CreateEnvironment",
        "awsRegion": "eu-west-1",
        "recipientAccountId": "123456789012",
        "requestParameters": {"name": "analytics", "tags": {"team": "data"}},
        "responseElements": {"arn": arn},
    }
    (result,) = normalize(record)
    assert isinstance(result, CreationEvent)
    (resource,) = result.resources
    assert resource.id == arn and resource.request_tags == {"team": "data"}
    assert resource.type == "AWS::MWAA::Environment"
    assert resource.tagger is not None and TAGGERS[resource.tagger].method == "tag_resource"


def test_a_payload_service_is_read_as_cloudtrail_logs_it() -> None:
    """Pinpoint signs as mobiletargeting, logs as pinpoint, and logs its request and response payloads'
    members unwrapped, as the model spells them (as in the corpus's CreateCampaign record)."""
    arn = "arn:aws:mobiletargeting:us-east-1:123456789012:apps/6e0c7ba8b3d54a1e8e2a0a8f6e7a0e11"
    record = {
        "eventSource": "pinpoint.amazonaws.com",
        "eventName": "CreateApp",
        "awsRegion": "us-east-1",
        "recipientAccountId": "123456789012",
        "requestParameters": {"Name": "loyalty", "tags": {"team": "growth"}},
        "responseElements": {"Arn": arn, "Id": "6e0c7ba8b3d54a1e8e2a0a8f6e7a0e11", "Name": "loyalty"},
    }
    entry = derived.lookup("pinpoint.amazonaws.com", "CreateApp")
    assert entry is not None and ("pinpoint.amazonaws.com", "CreateApp") not in CATALOGUE
    (result,) = normalize(record)
    assert isinstance(result, CreationEvent), result
    (resource,) = result.resources
    assert resource.id == arn and resource.request_tags == {"team": "growth"}
    # Tag writes are not creates, though their input's payload holds tags.
    assert derived.lookup("s3.amazonaws.com", "PutBucketTagging") is None
