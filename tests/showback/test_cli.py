"""`tagwarden showback` end to end on the FOCUS sample with a ledger built over part of it."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from tagwarden.cli.main import main

from focus_scenario import Scenario, scenario  # noqa: F401 - the fixture


def showback(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["showback", *args], out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def report_of(*args: str) -> dict[str, Any]:
    code, out, err = showback(*args, "--format", "json")
    assert code == 0, err
    report: dict[str, Any] = json.loads(out)
    return report


def test_every_cent_lands_in_exactly_one_bucket(scenario: Scenario) -> None:
    r = report_of("--ledger", str(scenario.ledger), "--costs", str(scenario.costs), "--by", "Agent-ID")
    total = sum((Decimal(row["BilledCost"] or 0) for row in scenario.rows), Decimal(0))
    t = r["totals"]
    assert Decimal(t["billed_cost"]) == total
    assert Decimal(t["allocated"]["billed_cost"]) + Decimal(t["unallocated"]["billed_cost"]) == total
    assert t["reconciled"] is True
    assert t["rows"] == len(scenario.rows) == 1000
    effective = sum((Decimal(row["EffectiveCost"] or 0) for row in scenario.rows), Decimal(0))
    assert sum(Decimal(s["effective_cost"]) for s in r["sources"]) == effective


def test_buckets_match_what_the_scenario_put_where(scenario: Scenario) -> None:
    r = report_of("--ledger", str(scenario.ledger), "--costs", str(scenario.costs), "--by", "Agent-ID")
    got = {s["source"]: Decimal(s["billed_cost"]) for s in r["sources"]}
    assert got == {
        "bill-tags": scenario.expected["bill-tags"],
        "ledger": scenario.expected["ledger"],
        "usage-split": Decimal(0),
        "unallocated": scenario.expected["unallocated"],
    }
    eff = {s["source"]: Decimal(s["effective_cost"]) for s in r["sources"]}
    assert eff["ledger"] == scenario.expected_effective["ledger"]
    by_agent = {row["tags"]["Agent-ID"]: Decimal(row["billed_cost"]) for row in r["by_tags"]}
    for agent, amount in scenario.expected_agent.items():
        assert by_agent[agent] == amount, agent
    # the ledger's own Agent-ID for resources also tagged in the bill never shows: the bill wins,
    # and the disagreement is reported
    assert "ledger-loses" not in by_agent
    assert r["ledger_disagreements"]["resources"] == 5
    assert any("differ from the ledger" in w for w in r["warnings"])
    # vanished before tagging, Azure by case-insensitive id, EC2 by the instance id: all from the ledger
    assert "azure-agent" in by_agent  # ARM's /resourceGroups/.../Microsoft.Storage vs the bill's lower case
    assert "ec2-agent" in by_agent  # the ledger's instance ARN vs the bill's i-... id
    assert r["unallocated_share"]["before_ledger"] > r["unallocated_share"]["after_ledger"]


def test_top_unallocated_names_creators_the_ledger_knows(scenario: Scenario) -> None:
    r = report_of(
        "--ledger", str(scenario.ledger), "--costs", str(scenario.costs), "--by", "Agent-ID", "--top", "500"
    )
    top = {row["resource_id"]: row for row in r["top_unallocated"]}
    known = [rid for rid in scenario.known_untagged if rid in top]
    assert known, "known-but-unattributed resources are unallocated"
    for rid in known:
        assert top[rid]["creator"] == "arn:aws:iam::111122223333:user/mallory"
        assert top[rid]["in_ledger"] is True
    assert not any(rid in top for rid in scenario.vanished)
    unknown = [row for row in top.values() if not row["in_ledger"]]
    assert unknown and all(row["creator"] is None for row in unknown)


def test_unit_economics_divides_by_the_outcomes(scenario: Scenario) -> None:
    r = report_of(
        "--ledger", str(scenario.ledger), "--costs", str(scenario.costs), "--by", "Agent-ID,Outcome-ID"
    )
    ue = r["unit_economics"]
    assert ue["outcomes"] == 5  # out-0 .. out-4 in the scenario's ledger
    per = sum(Decimal(o["billed_cost"]) for o in ue["per_outcome"])
    assert Decimal(ue["billed_cost"]) == per
    assert Decimal(ue["cost_per_outcome"]) == (per / 5).quantize(Decimal("1e-10"))
    groups = {g["tags"]["Agent-ID"]: g for g in ue["by_group"]}
    assert set(groups) == {"agent-0", "agent-1", "agent-2"}
    assert sum(Decimal(g["billed_cost"]) for g in groups.values()) == per


def test_the_period_filters_on_charge_period_start(scenario: Scenario) -> None:
    r = report_of(
        "--ledger",
        str(scenario.ledger),
        "--costs",
        str(scenario.costs),
        "--by",
        "Agent-ID",
        "--from",
        "2024-09-10",
        "--to",
        "2024-09-20",
    )
    wanted = [row for row in scenario.rows if "2024-09-10" <= row["ChargePeriodStart"] < "2024-09-20"]  # type: ignore[operator]
    assert r["totals"]["rows"] == len(wanted)
    assert Decimal(r["totals"]["billed_cost"]) == sum(Decimal(row["BilledCost"] or 0) for row in wanted)
    assert r["totals"]["reconciled"]
    assert all("2024-09-10" <= d["day"] < "2024-09-20" for d in r["daily"])


def test_table_and_csv_formats(scenario: Scenario) -> None:
    code, out, _ = showback(
        "--ledger", str(scenario.ledger), "--costs", str(scenario.costs), "--by", "Agent-ID"
    )
    assert code == 0
    assert "reconciled: yes" in out and "agent-1" in out and "Top unallocated resources" in out
    assert "unallocated cost" in out and "Microsoft" in out  # the provider / account / service tables
    code, out, _ = showback(
        "--ledger",
        str(scenario.ledger),
        "--costs",
        str(scenario.costs),
        "--by",
        "Agent-ID",
        "--format",
        "csv",
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    sources = {r["group"]: Decimal(r["billed_cost"]) for r in rows if r["breakdown"] == "source"}
    assert sources["ledger"] == scenario.expected["ledger"]
    assert any(r["breakdown"] == "tags" and r["group"] == "Agent-ID=agent-1" for r in rows)


def test_without_a_ledger_only_bill_tags_attribute(scenario: Scenario) -> None:
    r = report_of("--costs", str(scenario.costs), "--by", "Agent-ID")
    got = {s["source"]: Decimal(s["billed_cost"]) for s in r["sources"]}
    assert got["ledger"] == 0
    assert got["bill-tags"] == scenario.expected["bill-tags"]
    assert r["totals"]["reconciled"]


def test_unreadable_inputs_exit_2_naming_the_file(tmp_path: Path, scenario: Scenario) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("BilledCost,ChargePeriodStart\n1.5,2024-09-01 00:00:00\nabc,2024-09-01 00:00:00\n")
    code, _, err = showback("--costs", str(bad))
    assert code == 2 and "bad.csv" in err and "BilledCost 'abc'" in err
    when = tmp_path / "when.csv"
    when.write_text("BilledCost,ChargePeriodStart\n1.5,yesterday\n")
    code, _, err = showback("--costs", str(when))
    assert code == 2 and "when.csv: ChargePeriodStart 'yesterday' is not a time" in err
    code, _, err = showback("--costs", str(tmp_path / "missing.csv"))
    assert code == 2 and "missing.csv: no such file" in err
    notfocus = tmp_path / "x.csv"
    notfocus.write_text("a,b\n1,2\n")
    code, _, err = showback("--costs", str(notfocus))
    assert code == 2 and "no BilledCost, ChargePeriodStart column" in err
    code, _, err = showback("--costs", str(scenario.costs), "--by", 'bad"key')
    assert code == 2 and "tag key" in err
    code, _, err = showback("--costs", str(scenario.costs), "--ledger", str(bad))
    assert code == 2 and "not a ledger" in err


README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _showback_section() -> str:
    start = README.index("## Showback\n")
    return README[start : README.index("\n## ", start + 1)]


def test_the_readme_documents_the_json_contract(scenario: Scenario) -> None:
    import re

    section = _showback_section()
    contract = section[section.index("The JSON contract") :]
    documented: set[str] = set()
    for row in re.findall(r"^\| (`[^|]+`) \|", contract, flags=re.M):
        documented.update(re.findall(r"`([^`]+)`", row))
    r = report_of("--ledger", str(scenario.ledger), "--costs", str(scenario.costs), "--by", "Agent-ID")
    assert documented == set(r) - {"schema"}
    assert f'"schema": "{r["schema"]}"' in section


def test_the_readme_config_and_athena_commands_work() -> None:
    import shlex

    import yaml

    from tagwarden.showback.config import parse_config

    section = _showback_section()
    (config,) = section.split("```yaml\n")[1:]
    (entry,) = parse_config(yaml.safe_load(config.split("```")[0])).shared
    assert entry.policy == "quantity" and entry.match["ServiceName"] == "Amazon Bedrock"
    sh = section.split("```sh\n")[2].split("```")[0]
    commands = [
        line for line in sh.replace("\\\n", " ").splitlines() if line.startswith("tagwarden showback")
    ]
    ddl = next(c for c in commands if "--athena-ddl" in c)
    code, out, _ = showback(*shlex.split(ddl)[2:])
    assert code == 0 and "LOCATION 's3://billing/tagwarden-ledger/'" in out
    sql = next(c for c in commands if "--show-sql" in c)
    code, out, _ = showback(*shlex.split(sql)[2:])
    assert code == 0 and "GROUPING SETS" in out
