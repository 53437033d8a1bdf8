"""The same answer from every input form: Parquet, CSV.gz, folders, JSON-lines and Parquet ledgers, S3."""

from __future__ import annotations

import gzip
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tagwarden.cli.main import main
from tagwarden.ledger.export import write_jsonl
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.showback.sources import ledger_to_parquet

from focus_scenario import Scenario, focus_parquet, ledger_jsonl_gz, scenario  # noqa: F401 - the fixture


def report_of(*args: str) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["showback", *args, "--by", "Agent-ID", "--format", "json"], out=out, err=err)
    assert code == 0, err.getvalue()
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def buckets(report: dict[str, Any]) -> dict[str, Decimal]:
    return {s["source"]: Decimal(s["billed_cost"]) for s in report["sources"]}


def test_parquet_costs_and_parquet_ledger_give_the_same_buckets(scenario: Scenario, tmp_path: Path) -> None:
    parquet = focus_parquet(scenario.costs, tmp_path / "focus.parquet")
    ledger = ledger_to_parquet(
        ledger_jsonl_gz(scenario.ledger, tmp_path / "l.jsonl.gz"), tmp_path / "l.parquet"
    )
    r = report_of("--ledger", str(ledger), "--costs", str(parquet))
    assert r["totals"]["reconciled"]
    assert buckets(r)["ledger"] == scenario.expected["ledger"]
    assert buckets(r)["bill-tags"] == scenario.expected["bill-tags"]
    assert Decimal(r["totals"]["billed_cost"]) == sum(scenario.expected.values())


def test_csv_gz_in_a_folder_and_a_jsonl_gz_ledger(scenario: Scenario, tmp_path: Path) -> None:
    folder = tmp_path / "export" / "BILLING_PERIOD=2024-09"
    folder.mkdir(parents=True)
    with scenario.costs.open("rb") as src, gzip.open(folder / "part-0.csv.gz", "wb") as dst:
        shutil.copyfileobj(src, dst)
    ledger = ledger_jsonl_gz(scenario.ledger, tmp_path / "ledger.jsonl.gz")
    r = report_of("--ledger", str(ledger), "--costs", str(tmp_path / "export"))
    assert buckets(r)["ledger"] == scenario.expected["ledger"]
    assert r["totals"]["rows"] == 1000 and r["totals"]["reconciled"]


@pytest.mark.parametrize(("newest_first", "skew"), [(False, 0.0), (True, 0.0), (False, -3600.0)])
def test_a_later_version_in_a_day_partitioned_export_wins(
    scenario: Scenario, tmp_path: Path, newest_first: bool, skew: float
) -> None:
    store = SqliteLedger(scenario.ledger)
    records = [
        r.evolve(actor=dict(r.actor), tags=dict(r.tags), sources=dict(r.sources)) for r in store.scan()
    ]
    store.close()
    first = [r for r in records if r.tags.get("Agent-ID") == "ec2-agent"]
    assert first
    # the same records re-attributed the next day: evolve gives the next version and keeps
    # recorded_at (when the record was first written), so only the version tells them apart;
    # written in either file order, the later version wins; so it does when the writer's clock was
    # an hour behind (skew: a renewed record's recorded_at earlier than its predecessor's)
    later = [r.evolve(tags={"Agent-ID": "ec2-agent-v2"}, recorded_at=r.recorded_at + skew) for r in first]
    parts = [records, later]
    for day, part in zip(("2024-09-01", "2024-09-02"), parts[::-1] if newest_first else parts, strict=True):
        folder = tmp_path / "ledger" / f"day={day}"
        folder.mkdir(parents=True)
        with (folder / "part.jsonl").open("w") as fh:
            write_jsonl(part, fh)
    r = report_of("--ledger", str(tmp_path / "ledger"), "--costs", str(scenario.costs))
    agents = {row["tags"]["Agent-ID"] for row in r["by_tags"]}
    assert "ec2-agent-v2" in agents and "ec2-agent" not in agents
    assert buckets(r)["ledger"] == scenario.expected["ledger"]


@pytest.mark.e2e
def test_s3_prefixes_served_by_moto_over_http(scenario: Scenario, tmp_path: Path) -> None:
    import boto3

    from tagwarden_testing.moto_world import moto_server

    parquet = focus_parquet(scenario.costs, tmp_path / "focus.parquet")
    ledger = ledger_jsonl_gz(scenario.ledger, tmp_path / "ledger.jsonl.gz")
    with moto_server():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="billing", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.upload_file(str(parquet), "billing", "focus/data/BILLING_PERIOD=2024-09/part-0.parquet")
        s3.put_object(Bucket="billing", Key="focus/metadata/manifest.json", Body=b"{}")  # not a cost file
        s3.upload_file(str(ledger), "billing", "ledger/day=2024-09-30/part-0.jsonl.gz")
        r = report_of("--ledger", "s3://billing/ledger/", "--costs", "s3://billing/focus/")
    assert r["totals"]["reconciled"]
    assert buckets(r)["ledger"] == scenario.expected["ledger"]
    assert Decimal(r["totals"]["allocated"]["billed_cost"]) + Decimal(
        r["totals"]["unallocated"]["billed_cost"]
    ) == sum(scenario.expected.values())


@pytest.mark.e2e
def test_an_empty_s3_prefix_is_an_input_error(tmp_path: Path) -> None:
    import boto3

    from tagwarden_testing.moto_world import moto_server

    with moto_server():
        boto3.client("s3").create_bucket(
            Bucket="empty", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        out, err = io.StringIO(), io.StringIO()
        code = main(["showback", "--costs", "s3://empty/focus/"], out=out, err=err)
        missing = main(["showback", "--costs", "s3://no-such-bucket/x/"], out=out, err=err)
    assert code == 2 and "s3://empty/focus/: no .csv / .csv.gz / .parquet files" in err.getvalue()
    assert missing == 2 and "NoSuchBucket" in err.getvalue()


def test_s3_without_the_aws_adapter_is_a_clear_error(tmp_path: Path) -> None:
    from tagwarden.showback.local import duckdb_report
    from tagwarden.showback.query import Plan
    from tagwarden.showback.sources import InputError

    with pytest.raises(InputError, match=r"s3://billing/focus/: reading s3:// needs the AWS adapter"):
        duckdb_report(["s3://billing/focus/"], [], Plan(by=("Agent-ID",)))
