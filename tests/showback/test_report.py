"""Usage splits: shared cost rows divided by the ledger's usage records (the built-in QuantityPolicy)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from msgspec.structs import replace

from tagwarden.cli.main import main
from tagwarden.ledger.sqlite import SqliteLedger

from focus_scenario import Scenario, scenario, usage  # noqa: F401 - the fixture

PROFILE = "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/claude"
HEADER = [
    "BilledCost",
    "EffectiveCost",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ProviderName",
    "SubAccountId",
    "ServiceName",
    "ResourceId",
    "SkuId",
    "Tags",
]


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def bedrock_bill(path: Path) -> Path:
    rows = [
        ("10.00", "9.00", "2024-09-01 10:00:00", "2024-09-01 11:00:00", PROFILE),
        ("1.00", "1.00", "2024-09-01 11:00:00", "2024-09-01 12:00:00", PROFILE),
        ("5.00", "5.00", "2024-09-01 12:00:00", "2024-09-01 13:00:00", PROFILE),  # no usage this hour
        ("2.50", "2.50", "2024-09-01 10:00:00", "2024-09-01 11:00:00", "arn:aws:s3:::other-bucket"),
    ]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for billed, eff, start, end, rid in rows:
            w.writerow(
                [
                    billed,
                    eff,
                    start,
                    end,
                    "AWS",
                    "111122223333",
                    "Amazon Bedrock" if "bedrock" in rid else "Amazon S3",
                    rid,
                    "SKU1",
                    "",
                ]
            )
    return path


def config(path: Path, quantum: str = "0.01") -> Path:
    path.write_text(
        "shared:\n"
        "  - name: claude-profile\n"
        "    match: {ServiceName: 'Amazon Bedrock', ResourceId: 'arn:*:bedrock:*:application-inference-profile/*'}\n"
        "    policy: quantity\n"
        "    params: {quantity: input_tokens}\n"
        f"    quantum: '{quantum}'\n",
        encoding="utf-8",
    )
    return path


def run(*args: str) -> dict[str, Any]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["showback", *args, "--format", "json"], out=out, err=err)
    assert code == 0, err.getvalue()
    report: dict[str, Any] = json.loads(out.getvalue())
    return report


def test_a_shared_row_is_split_by_measured_tokens_to_the_cent(tmp_path: Path) -> None:
    store = SqliteLedger(tmp_path / "ledger.db")
    t10, t11 = epoch("2024-09-01T10:30:00"), epoch("2024-09-01T11:15:00")
    store.add_usage(
        [
            usage(PROFILE, t10, "a", 100, 1),
            usage(PROFILE, t10 + 1, "b", 100, 2),
            usage(PROFILE, t10 + 2, "c", 100, 3),
            usage(PROFILE, t11, "a", 1, 4),
            usage(PROFILE, t11, "b", 3, 5),
            usage("arn:other", t10, "z", 999, 6),  # another resource: not this row's usage
        ]
    )
    store.close()
    r = run(
        "--costs",
        str(bedrock_bill(tmp_path / "b.csv")),
        "--ledger",
        str(tmp_path / "ledger.db"),
        "--config",
        str(config(tmp_path / "sb.yaml")),
        "--by",
        "Agent-ID",
    )
    src = {s["source"]: s for s in r["sources"]}
    assert Decimal(src["usage-split"]["billed_cost"]) == Decimal("11.00")
    assert src["usage-split"]["rows"] == 2
    assert Decimal(src["unallocated"]["billed_cost"]) == Decimal(
        "7.50"
    )  # the hour without usage + the S3 row
    by = {row["tags"]["Agent-ID"]: row for row in r["by_tags"]}
    # 10.00 three ways: 3.34 / 3.33 / 3.33 (largest remainder, ties by attribution order); 1.00 as 1:3
    assert Decimal(by["a"]["billed_cost"]) == Decimal("3.34") + Decimal("0.25")
    assert Decimal(by["b"]["billed_cost"]) == Decimal("3.33") + Decimal("0.75")
    assert Decimal(by["c"]["billed_cost"]) == Decimal("3.33")
    assert Decimal(by["a"]["effective_cost"]) + Decimal(by["b"]["effective_cost"]) + Decimal(
        by["c"]["effective_cost"]
    ) == Decimal("10.00")
    assert "z" not in by
    assert r["totals"]["reconciled"]
    top = {row["resource_id"]: row for row in r["top_unallocated"]}
    assert Decimal(top[PROFILE]["billed_cost"]) == Decimal("5.00")
    ue = r["unit_economics"]
    assert ue["outcomes"] == 3  # o-a, o-b, o-c from the usage records' attribution


def test_without_a_config_shared_rows_stay_unallocated(tmp_path: Path) -> None:
    r = run("--costs", str(bedrock_bill(tmp_path / "b.csv")), "--by", "Agent-ID")
    src = {s["source"]: Decimal(s["billed_cost"]) for s in r["sources"]}
    assert src["usage-split"] == 0 and src["unallocated"] == Decimal("18.50")


def test_splitting_the_sample_reconciles(scenario: Scenario, tmp_path: Path) -> None:
    """CloudWatch rows without a resource id, shared by the agents in proportion to their log volume."""
    store = SqliteLedger(scenario.ledger)
    start = epoch("2024-09-01T00:00:00")
    store.add_usage(
        usage("cloudwatch-shared", start + h * 3600 + 60, f"agent-{h % 3}", 1 + (h * 7919) % 13, 100 + h)
        for h in range(30 * 24)
    )
    store.close()
    cfg = tmp_path / "sb.yaml"
    cfg.write_text(
        "shared:\n  - name: logs\n    match: {ServiceName: AmazonCloudWatch}\n    resource: cloudwatch-shared\n"
        "    policy: quantity\n    params: {quantity: input_tokens}\n    quantum: '0.0000000001'\n",
        encoding="utf-8",
    )
    r = run(
        "--costs",
        str(scenario.costs),
        "--ledger",
        str(scenario.ledger),
        "--config",
        str(cfg),
        "--by",
        "Agent-ID",
    )
    assert r["totals"]["reconciled"]
    src = {s["source"]: Decimal(s["billed_cost"]) for s in r["sources"]}
    assert src["usage-split"] > 0
    assert sum(src.values()) == sum(scenario.expected.values())
    cloudwatch_unattributed = sum(
        (
            Decimal(row["BilledCost"] or 0)
            for row in scenario.rows
            if row["ServiceName"] == "AmazonCloudWatch"
            and not (row["Tags"] and "Agent-ID" in row["Tags"])
            and row["ResourceId"] not in scenario.vanished
        ),
        Decimal(0),
    )
    assert src["usage-split"] == cloudwatch_unattributed


def test_the_llm_tokens_policy_splits_by_token_cost_end_to_end(tmp_path: Path) -> None:
    """The `llm` branch's TokenCostPolicy through showback: equal cost, unequal token counts."""
    model = "anthropic.claude-3-haiku-20240307-v1:0"
    bill = tmp_path / "bill.csv"
    with bill.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerow(["10.00", "10.00", "2024-09-01 10:00:00", "2024-09-01 11:00:00", "AWS", "1", "Amazon Bedrock",
                    "", "SKU", ""])  # fmt: skip
    store = SqliteLedger(tmp_path / "ledger.db")
    t = epoch("2024-09-01T10:10:00")
    a = usage(model, t, "a", 1_000_000, 1)  # 1M input tokens at $0.25 per million
    b = replace(usage(model, t, "b", 0, 2), quantities={"output_tokens": 200_000})  # 0.2M at $1.25
    store.add_usage([a, b])
    store.close()
    cfg = tmp_path / "sb.yaml"
    cfg.write_text(
        "shared:\n  - name: haiku\n    match: {ServiceName: Amazon Bedrock}\n"
        f"    resource: '{model}'\n    policy: llm-tokens\n",
        encoding="utf-8",
    )
    r = run(
        "--costs",
        str(bill),
        "--ledger",
        str(tmp_path / "ledger.db"),
        "--config",
        str(cfg),
        "--by",
        "Agent-ID",
    )
    by = {row["tags"]["Agent-ID"]: Decimal(row["billed_cost"]) for row in r["by_tags"]}
    assert by == {"a": Decimal("5.00"), "b": Decimal("5.00")}
    assert r["totals"]["reconciled"]
