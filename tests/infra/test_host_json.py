"""host.json: Application Insights never samples away or filters out tagwarden's own telemetry.

tagwarden.azure.telemetry writes its counters (EventsReceived, ResourcesTagged, EventsFailed ...)
and its structured logs as Python log records, which the Functions host sends to Application
Insights as traces; a failed invocation is a failed request with its exception. Adaptive sampling
drops any telemetry type not listed in samplingSettings.excludedTypes, and the host drops records
below the logLevel of their category ("Function.<name>.User" for the worker's logs)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tagwarden.azure.telemetry import Telemetry
from tagwarden.lifecycle.ports import Status
from tagwarden.model import Action, SkipKind
from tagwarden.tagging import Outcome

ROOT = Path(__file__).resolve().parents[2]
HOST = json.loads((ROOT / "host.json").read_text())
LEVELS = {"Trace": 0, "Debug": 1, "Information": 2, "Warning": 3, "Error": 4, "Critical": 5, "None": 6}
SAMPLED_TYPES = {"Dependency", "Event", "Exception", "PageView", "Request", "Trace"}  # host's names


def host_level(category: str) -> int:
    """The host's filter for a log category: the longest logLevel key that prefixes it, else default
    (Information when unset)."""
    levels = HOST["logging"].get("logLevel", {})
    keys = [k for k in levels if k != "default" and (category == k or category.startswith(k + "."))]
    chosen = levels[max(keys, key=len)] if keys else levels.get("default", "Information")
    return LEVELS[chosen]


def records() -> list[logging.LogRecord]:
    """What the Azure telemetry writes when driven through every method of the core's port."""
    from tagwarden.enforce import Telemetry as Port

    logger = logging.getLogger("tagwarden.azure.test-host-json")
    caught: list[logging.LogRecord] = []

    class Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            caught.append(record)

    logger.addHandler(Catch())
    logger.propagate = False
    t = Telemetry(logger)
    calls = {
        "correlate": [("e-1",)],
        "log": [("info", "resource decided")],
        "count_events": [(1,)],
        "count_resource": [(a, o) for a in Action for o in (None, *Outcome)],
        "count_skip": [(k,) for k in SkipKind],
        "count_failure": [("Boom",)],
        "count_action": [("quarantine", s) for s in Status],
        "observe_lag": [(1.5,)],
    }
    assert set(calls) == {n for n in vars(Port) if not n.startswith("_")}, "drive the new method here"
    for method, args in calls.items():
        for a in args:
            getattr(t, method)(*a)
    return caught


def test_sampling_never_drops_traces_exceptions_requests_or_events() -> None:
    sampling = HOST["logging"]["applicationInsights"]["samplingSettings"]
    excluded = {t.strip() for t in sampling["excludedTypes"].split(";")}
    assert excluded <= SAMPLED_TYPES, excluded - SAMPLED_TYPES  # a typo would silently exclude nothing
    # Traces: every counter and log record of ours. Request + Exception: failed invocations (the
    # failure alert counts them). Event: custom events, should any be added.
    assert {"Trace", "Exception", "Request", "Event"} <= excluded
    assert "includedTypes" not in sampling  # would sample only those, whatever is excluded


def test_every_counter_is_a_log_record_the_host_keeps() -> None:
    caught = records()
    metrics = [json.loads(r.getMessage()) for r in caught if r.getMessage().startswith('{"metric"')]
    names = {m["metric"] for m in metrics}
    assert {"EventsReceived", "ResourcesTagged", "EventsSkipped", "EventsFailed", "TagWriteLag",
            "LifecycleActions"} <= names  # fmt: skip
    threshold = host_level("Function.tagwarden_resource_write.User")
    assert threshold <= LEVELS["Information"]  # our records are INFO and above
    assert min(r.levelno for r in caught) >= logging.INFO  # none below what the host keeps


@pytest.mark.parametrize(
    ("levels", "category", "expected"),
    [
        ({}, "Function.f.User", "Information"),
        ({"default": "Warning"}, "Function.f.User", "Warning"),
        ({"default": "Warning", "Function": "Information"}, "Function.f.User", "Information"),
        ({"Function": "Information", "Function.f": "Error"}, "Function.f.User", "Error"),
        ({"Function": "Warning"}, "Functions.other", "Information"),  # a prefix of segments only
    ],
)
def test_host_level_reads_like_the_host(
    monkeypatch: pytest.MonkeyPatch, levels: dict[str, str], category: str, expected: str
) -> None:
    monkeypatch.setitem(HOST["logging"], "logLevel", levels)
    assert host_level(category) == LEVELS[expected]
