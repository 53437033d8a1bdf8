"""Mutated events through both handlers end handled, skipped or as a logged MalformedEvent (or a
deliberate retry): never another exception. CI runs a small seeded count; bench/fuzz_bench.py the
full one. Each crash class the fuzzer found has its own regression test below."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tagwarden.aws.clients import Clients
from tagwarden.aws.normalize import READER
from tagwarden.azure.normalize.eventgrid import actor_of
from tagwarden.normalize import MalformedEvent, route
from tagwarden.untrusted import MAX_DEPTH, bounded, check_shape
from tagwarden_testing import events as ev
from tagwarden_testing import fuzz

from conftest import CORPUS, ROOT

COUNT = int(os.environ.get("TAGWARDEN_FUZZ_COUNT", "2000"))
SEED = 20261202


def catalogue_records() -> list[dict[str, Any]]:
    path = ROOT / "tests" / "aws" / "catalogue" / "catalogue_cases.py"
    spec = importlib.util.spec_from_file_location("catalogue_cases_for_fuzz", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return [case.record() for case in module.CASES]


def corpus() -> Path | None:
    return CORPUS if CORPUS.is_dir() else None


def test_aws_handler_survives_mutated_events() -> None:
    seeds = fuzz.aws_seeds(corpus(), catalogue_records())
    assert len(seeds) > 200  # the catalogue alone has 240 cases
    with fuzz.aws_handler() as handle:
        report = fuzz.run(handle, fuzz.fuzzed(seeds, COUNT, SEED))
    assert report.events == COUNT
    assert report.unexpected == 0, json.dumps(report.as_dict(), indent=1)
    assert report.outcomes["handled"] > COUNT // 3  # the mutations leave most events readable
    assert report.outcomes["malformed"] > 0


def test_azure_handler_survives_mutated_events() -> None:
    seeds = fuzz.azure_seeds(corpus())
    assert seeds
    with fuzz.azure_handler() as handle:
        report = fuzz.run(handle, fuzz.fuzzed(seeds, COUNT, SEED))
    assert report.events == COUNT
    assert report.unexpected == 0, json.dumps(report.as_dict(), indent=1)
    assert report.outcomes["handled"] > COUNT // 3
    assert report.outcomes["malformed"] > 0


def test_the_mutator_is_reproducible_from_its_seed() -> None:
    seeds = fuzz.aws_seeds(None)
    a = [json.dumps(bounded(e), default=str) for e in fuzz.fuzzed(seeds, 50, 7)]
    b = [json.dumps(bounded(e), default=str) for e in fuzz.fuzzed(seeds, 50, 7)]
    assert a == b
    assert len(set(a)) > 40


# --- one test per crash class ------------------------------------------------------------------


def _run_instances(**kw: Any) -> dict[str, Any]:
    return ev.eventbridge(ev.run_instances(identity=ev.assumed_role(), **kw))


def _aws(event: Any) -> str:
    report = fuzz.Report()
    with fuzz.aws_handler() as handle:
        fuzz.run(handle, [event], report)
    assert report.unexpected == 0, report.as_dict()
    (outcome,) = report.outcomes
    return outcome


def test_aws_region_that_is_not_a_region_is_malformed_not_invalid_region_error() -> None:
    event = _run_instances(region="-1")
    with pytest.raises(MalformedEvent, match="not an AWS region name"):
        Clients().get("ec2", "-1")
    assert _aws(event) == "malformed"


def test_aws_event_id_over_2_kb_is_claimed_and_handled() -> None:
    assert _aws(_run_instances(event_id="e" * 3000)) == "handled"


def test_deep_nesting_is_malformed_and_its_log_record_is_written(caplog: pytest.LogCaptureFixture) -> None:
    event = _run_instances()
    event["detail"]["requestParameters"]["deep"] = fuzz._nest(3000)
    with pytest.raises(MalformedEvent, match=f"deeper than {MAX_DEPTH}"):
        check_shape(event)
    assert _aws(event) == "malformed"
    assert _aws(fuzz._nest(5000)) == "malformed"


def test_non_string_detail_type_is_malformed() -> None:
    event = _run_instances()
    event["detail-type"] = {"a": [1, 2]}
    with pytest.raises(MalformedEvent, match="detail-type"):
        route(event, READER)


def test_lone_surrogate_is_malformed() -> None:
    event = _run_instances()
    event["detail"]["userIdentity"]["arn"] += "\ud800"
    with pytest.raises(MalformedEvent, match="surrogate"):
        check_shape(event)
    assert _aws(event) == "malformed"


def test_bounded_keeps_small_values_and_caps_large_ones() -> None:
    small = {"a": [1, "x", {"b": None}]}
    assert bounded(small) == small
    capped = bounded({"s": "y" * 5000, "deep": fuzz._nest(100), "odd": "\udc80"})
    json.dumps(capped)  # encodable: no recursion, no surrogate
    assert capped["s"].endswith("...(+2952 characters)")
    assert "\\udc80" in capped["odd"]


def _azure(event: Any) -> str:
    report = fuzz.Report()
    with fuzz.azure_handler() as handle:
        fuzz.run(handle, [event], report)
    assert report.unexpected == 0, report.as_dict()
    (outcome,) = report.outcomes
    return outcome


@pytest.mark.parametrize("event", [1.5, "text", None, [3]], ids=["float", "str", "none", "list-of-int"])
def test_azure_input_that_is_not_an_object_is_malformed_and_logged(
    event: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from tagwarden.azure import handler

    with caplog.at_level(logging.ERROR, logger="tagwarden.azure"), pytest.raises(MalformedEvent):
        handler.handle(event)
    assert any("unreadable event" in r.getMessage() for r in caplog.records)


def test_azure_authorization_that_is_not_an_object_reads_no_evidence() -> None:
    data = ev.eventgrid_write(ev.resource_id("rg", "Microsoft.Compute/virtualMachines", "vm"), ev.app_claims("a"))
    for authorization in (5, "x", [1], None):
        actor = actor_of({**data["data"], "authorization": authorization})
        assert actor.app_id == "a"
    data["data"]["authorization"] = 5
    assert _azure(data) == "handled"
    del data["data"]["operationName"]  # the operation is then read from authorization.action
    assert _azure(data) in ("handled", "malformed")


def test_azure_deep_and_surrogate_events_are_malformed() -> None:
    data = ev.eventgrid_write(ev.resource_id("rg", "Microsoft.Compute/virtualMachines", "vm\ud800"), ev.app_claims("a"))
    assert _azure(data) == "malformed"
    assert _azure([fuzz._nest(3000)]) == "malformed"
