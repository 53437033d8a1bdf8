"""`tagwarden replay`: totals over folders, gzipped log files, JSON lines, stdin and S3, equal to
the sum of single `explain` decisions; bounded reading; a local ledger of what it decided."""

from __future__ import annotations

import gzip
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tagwarden.cli.explain import explain_events
from tagwarden.cli.lookups import FileLookups
from tagwarden.cli.main import main
from tagwarden.rules import load_rules
from tagwarden_testing.moto_world import moto_server

import builders as b
from conftest import CORPUS, EXAMPLE_RULES

RULES = str(EXAMPLE_RULES)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def fleet() -> list[dict[str, object]]:
    agent = b.assumed_role("agent-fleet-support", "agent-42")
    return [
        b.run_instances(identity=agent, count=2),
        b.create_bucket("scratch-1", identity=b.assumed_role("agent-fleet-adhoc", "agent-77")),
        b.run_instances(error_code="AccessDenied"),
        b.create_function("format-data", identity=b.iam_user("alice")),
    ]


def expected_actions(records: list[dict[str, object]], example_rules: object) -> Counter[str]:
    reports = explain_events(records, example_rules, FileLookups())
    return Counter(d["action"] for r in reports for d in r["decisions"])


def test_log_file_gz_totals_match_explain(tmp_path: Path, example_rules: object) -> None:
    records = fleet()
    log = tmp_path / "111122223333_CloudTrail_us-east-1_20261201T0000Z_abc.json.gz"
    log.write_bytes(gzip.compress(json.dumps({"Records": records}).encode()))
    code, out, err = run("replay", str(log), "--rules", RULES, "--format", "json")
    assert code == 0, err
    totals = json.loads(out)
    assert totals["by_action"] == dict(expected_actions(records, example_rules))
    assert totals["events"] == 4 and totals["creates"] == 3
    assert totals["skipped_by_kind"] == {"failed-call": 1}
    assert "skipped_by_reason" not in totals  # only with --show-skips


def test_folder_mixes_formats_and_reports_unreadable_inputs(tmp_path: Path) -> None:
    records = fleet()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.json").write_text(json.dumps(records[0]))
    (tmp_path / "a" / "lines.jsonl").write_text("\n".join(json.dumps(r) for r in records[1:]) + "\n{broken\n")
    (tmp_path / "notes.txt").write_text("not an event")  # not an event file: not read
    code, out, err = run("replay", str(tmp_path), "--rules", RULES, "--format", "json", "--show-skips")
    assert code == 0
    totals = json.loads(out)
    assert totals["events"] == 4 and totals["unreadable"] == 1
    assert totals["unreadable_inputs"][0]["origin"].endswith("lines.jsonl:4")
    assert "failed call (AccessDenied): nothing was created" in totals["skipped_by_reason"]
    assert "lines.jsonl:4: not valid JSON" in err


def test_exclude_and_nothing_found(tmp_path: Path) -> None:
    (tmp_path / "manifest.jsonl").write_text('{"file": "x"}\n')
    code, _, err = run("replay", str(tmp_path), "--rules", RULES, "--exclude", "manifest.jsonl")
    assert code == 2 and "no event files found" in err


def test_stdin_and_table_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(json.dumps({"Records": fleet()}).encode()))
    monkeypatch.setattr("sys.stdin", stdin)
    code, out, _ = run("replay", "-", "--rules", RULES)
    assert code == 0
    resources = sum(expected_actions(fleet(), load_rules(EXAMPLE_RULES, env={})).values())
    assert out.splitlines()[0] == f"4 events in 4 deliveries: 3 creates of {resources} resources, 1 skipped"
    assert "by action" in out and "skipped by kind (--show-skips lists the reasons)" in out


def test_csv_and_fail_on(tmp_path: Path, example_rules: object) -> None:
    log = tmp_path / "log.json"
    log.write_text(json.dumps({"Records": fleet()}))
    code, out, err = run("replay", str(log), "--rules", RULES, "--format", "csv", "--fail-on", "quarantine")
    assert code == 4 and "reached --fail-on" in err
    rows = out.splitlines()
    assert rows[0] == "dimension,key,count"
    quarantined = expected_actions(fleet(), example_rules)["quarantine"]
    assert quarantined > 0 and f"action,quarantine,{quarantined}" in rows
    assert run("replay", str(log), "--rules", RULES, "--fail-on", "delete")[0] == 0


def test_ledger_records_each_decision(tmp_path: Path) -> None:
    from tagwarden.ledger.sqlite import SqliteLedger

    log = tmp_path / "log.json"
    log.write_text(json.dumps({"Records": fleet()}))
    ledger_path = tmp_path / "ledger" / "ledger.sqlite"
    assert run("replay", str(log), "--rules", RULES, "--ledger", str(ledger_path))[0] == 0
    records = list(SqliteLedger(ledger_path).scan())
    want = sum(expected_actions(fleet(), load_rules(EXAMPLE_RULES, env={})).values())
    assert len(records) == want
    bucket = next(r for r in records if r.type == "AWS::S3::Bucket")
    assert bucket.action == "quarantine" and bucket.tags["Agent-ID"] == "77"
    assert bucket.actor["session_name"] == "agent-77" and bucket.rules_hash and len(bucket.rules_hash) == 64
    # a second replay of the same history records nothing twice
    assert run("replay", str(log), "--rules", RULES, "--ledger", str(ledger_path))[0] == 0
    assert len(list(SqliteLedger(ledger_path).scan())) == want


def test_streams_large_log_files_record_by_record(tmp_path: Path) -> None:
    pytest.importorskip("ijson")
    from tagwarden.cli.sources import Delivery, read

    log = tmp_path / "big.json.gz"
    log.write_bytes(gzip.compress(json.dumps({"Records": fleet() * 50}).encode()))
    items = read(str(log))
    first = next(items)
    assert isinstance(first, Delivery) and first.origin.endswith("#1")  # one record, not the file
    assert sum(1 for _ in items) == 199


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is absent")
def test_corpus_folder_totals_equal_single_explains(example_rules: object) -> None:
    code, out, _ = run(
        "replay", str(CORPUS), "--rules", RULES, "--format", "json", "--exclude", "manifest.jsonl"
    )
    assert code == 0
    totals = json.loads(out)
    want: Counter[str] = Counter()
    for path in sorted(CORPUS.rglob("*.json")):
        try:
            raw = json.loads(path.read_text())
        except ValueError:
            continue
        try:
            want += expected_actions(raw, example_rules)
        except Exception:  # unreadable events are counted apart by replay
            continue
    assert totals["by_action"] == dict(want)
    assert totals["creates"] > 100


@pytest.mark.e2e
def test_s3_prefix_in_cloudtrail_layout_with_date_range() -> None:
    with moto_server():  # real HTTP: the CLI's own boto3 client finds it through AWS_ENDPOINT_URL
        totals = _s3_replay()
    assert totals["events"] == 3  # the day before --since is not read


def _s3_replay() -> dict[str, Any]:
    import boto3

    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="trail")
    base = "AWSLogs/111122223333/CloudTrail/us-east-1"
    for day, records in (("2026/11/30", fleet()[:1]), ("2026/12/01", fleet()[1:])):
        s3.put_object(
            Bucket="trail",
            Key=f"{base}/{day}/111122223333_CloudTrail_us-east-1_x.json.gz",
            Body=gzip.compress(json.dumps({"Records": records}).encode()),
        )
    code, out, err = run(
        "replay", "s3://trail/AWSLogs/", "--rules", RULES, "--format", "json", "--since", "2026-12-01"
    )
    assert code == 0, err
    totals: dict[str, Any] = json.loads(out)
    return totals
