"""`make demo` must stay true: both scenarios run against their emulators and end as the rules say."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from tagwarden_demo import aws, azure, lifecycle, runaway

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ledger.sqlite"
    monkeypatch.setenv("TAGWARDEN_LEDGER", str(path))
    return path


def test_aws_demo() -> None:
    out = io.StringIO()
    assert aws.run(out) == 0, out.getvalue()
    text = out.getvalue()
    assert "Every resource ended as the rules say." in text
    assert "vanished" in text and "duplicate delivery" in text
    assert text.count(" quarantine ") >= 3
    # the summary counts what the log says happened (it once said 0 right after two quarantines)
    m = re.search(r"; (\d+) lifecycle actions and (\d+) notifications logged;", text)
    assert m and int(m.group(1)) >= 2 and int(m.group(2)) >= 2, text
    # a row whose only writes are tagwarden's stamps says so instead of an empty column
    assert not re.search(r" tagged {2,}\(missing", text)
    # the handler's log stream is handed back, never left without one (later scenes log through it)
    from tagwarden.aws import handler

    assert handler._TELEMETRY.logger.registered_handler.stream is not None  # type: ignore[attr-defined]


def test_azure_demo() -> None:
    out = io.StringIO()
    assert azure.run(out) == 0, out.getvalue()
    text = out.getvalue()
    assert "CostCenter=101" in text  # inherited from rg-agent-customer-support
    assert "Every resource ended as the rules say." in text


def test_lifecycle_demo(ledger: Path) -> None:
    out = io.StringIO()
    assert lifecycle.run(out) == 0, out.getvalue()
    text = out.getvalue()
    for kind in ("[quarantined]", "[released]", "[deleted]"):
        assert kind in text
    assert "function concurrency 5 (restored)" in text
    assert "[released]" in text and "missing -" not in text
    assert re.search(r"\[released\] \S+: attributed now", text)
    # every decision is in the demo's ledger, for showback to read later
    from tagwarden.ledger.model import LifecycleState
    from tagwarden.ledger.sqlite import SqliteLedger

    records = list(SqliteLedger(ledger).scan())
    assert {LifecycleState.RELEASED, LifecycleState.DELETED} <= {r.state for r in records}
    assert all(r.rules_hash and r.event_id for r in records)


def test_lifecycle_demo_runs_twice_in_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Powertools registers a handler only on a service's first Logger: a second run once had a
    # logger without a formatter and failed on its first event.
    for run in range(2):
        monkeypatch.setenv("TAGWARDEN_LEDGER", str(tmp_path / f"ledger-{run}.sqlite"))
        out = io.StringIO()
        assert lifecycle.run(out) == 0, out.getvalue()
        assert "function concurrency 5 (restored)" in out.getvalue()


def test_lifecycle_demo_twice_on_one_ledger_quarantines_the_function_again(ledger: Path) -> None:
    """The second run deletes nothing of the first's but creates `agent-13-scraper` again (moto
    starts empty): the same id, a new function, quarantined like the first (once it was not)."""
    from tagwarden.ledger.sqlite import SqliteLedger

    arn = "arn:aws:lambda:us-east-1:123456789012:function:agent-13-scraper"
    texts = []
    for _ in range(2):
        out = io.StringIO()
        assert lifecycle.run(out) == 0, out.getvalue()
        texts.append(out.getvalue())
    for text in texts:
        assert "function concurrency 0 (was 5)" in text and "function concurrency 5 (restored)" in text
    record = SqliteLedger(ledger).get("aws", arn)
    assert record is not None and record.state.value == "released" and record.version > 3


def test_runaway_demo() -> None:
    out = io.StringIO()
    assert runaway.run(out) == 0, out.getvalue()
    text = out.getvalue()
    assert text.count("ALERT in the same event's processing") == 1
    assert "create #52: AccessDenied" in text
    assert "released by arn:aws:iam::123456789012:user/oncall" in text
    assert "allowed again" in text


def test_showback_demo_reads_the_ledger_the_scenes_wrote(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tagwarden.ledger.model import ResourceRecord
    from tagwarden.ledger.sqlite import SqliteLedger
    from tagwarden_demo import showback

    monkeypatch.chdir(tmp_path)  # the report is written under .tagwarden/showback
    ledger = SqliteLedger(os.environ["TAGWARDEN_LEDGER"])  # as the scenes before it leave it
    for n, (agent, rtype) in enumerate((("13", "AWS::EC2::Instance"), ("7", "AWS::Lambda::Function"))):
        ledger.create(
            ResourceRecord(
                provider="aws", resource_id=f"arn:aws:ec2:us-east-1:123456789012:instance/i-{n:017d}",
                account="123456789012", region="us-east-1", type=rtype, name=None, event_id=f"e{n}",
                event_name="RunInstances", event_time="2026-12-01T10:00:00Z", tags={"Agent-ID": agent},
            )
        )
    ledger.close()
    out = io.StringIO()
    assert showback.run(out) == 0, out.getvalue()
    text = out.getvalue()
    m = re.search(r"allocated ([\d.]+) \+ unallocated ([\d.]+) = ([\d.]+) USD \(reconciled: True\)", text)
    assert m and float(m.group(2)) > 0  # the bill's unknown instance stays unallocated
    assert "Agent-ID=13" in text  # the lifecycle scene's agent, from the ledger alone
    assert (tmp_path / ".tagwarden" / "showback" / "showback.html").stat().st_size > 1000
