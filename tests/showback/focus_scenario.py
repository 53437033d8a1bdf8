"""The showback scenario: the FOCUS sample with a ledger built over part of its ResourceIds.

The expected buckets are computed here from the CSV with Python's csv and Decimal, independently
of DuckDB and the query under test.
"""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tagwarden.ledger.export import write_jsonl
from tagwarden.ledger.model import LifecycleState, ResourceRecord, UsageKind, UsageRecord
from tagwarden.ledger.sqlite import SqliteLedger

ROOT = Path(__file__).resolve().parents[2]
CANDIDATES = [ROOT.parent / "shared" / "focus", ROOT.parent.parent / "shared" / "focus"]
SAMPLE_NAME = "focus-1.0-sample.csv"


def focus_sample() -> Path:
    for folder in CANDIDATES:
        if (folder / SAMPLE_NAME).is_file():
            return folder / SAMPLE_NAME
    pytest.skip("the FOCUS sample (../shared/focus) is absent")


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str | None]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        rows = [{k: (None if v in ("NULL", "") else v) for k, v in r.items()} for r in reader]
        return list(reader.fieldnames or []), rows


def write_rows(path: Path, header: list[str], rows: list[dict[str, str | None]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header, quoting=csv.QUOTE_NONNUMERIC)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("NULL" if v is None else v) for k, v in r.items()})
    return path


def record(
    resource_id: str,
    tags: dict[str, str],
    provider: str = "aws",
    state: LifecycleState = LifecycleState.GONE,
    actor: str = "arn:aws:sts::111122223333:assumed-role/agent-runner/session",
    **extra: object,
) -> ResourceRecord:
    return ResourceRecord(
        provider=provider,
        resource_id=resource_id,
        account="111122223333",
        region="us-test-2",
        type="x",
        name=None,
        event_id=f"ev-{resource_id[-12:]}",
        event_name="Create",
        event_time="2024-09-01T00:00:00Z",
        actor={"kind": "assumed-role", "arn": actor},
        tags=tags,
        sources={},
        state=state,
        recorded_at=1725148800.0,
        **extra,  # type: ignore[arg-type]
    )


@dataclass
class Scenario:
    costs: Path
    ledger: Path
    rows: list[dict[str, str | None]]
    header: list[str]
    expected: dict[str, Decimal] = field(default_factory=dict)  # source -> billed
    expected_effective: dict[str, Decimal] = field(default_factory=dict)
    expected_agent: dict[str, Decimal] = field(default_factory=dict)  # Agent-ID -> billed
    vanished: set[str] = field(default_factory=set)
    bill_tagged: set[str] = field(default_factory=set)
    known_untagged: set[str] = field(default_factory=set)
    azure_mixed_case: str = ""
    ec2_short: str = ""


def _money(v: str | None) -> Decimal:
    return Decimal(v) if v else Decimal(0)


@pytest.fixture
def scenario(tmp_path: Path) -> Scenario:
    return build_scenario(tmp_path)


def build_scenario(tmp_path: Path) -> Scenario:
    header, rows = read_rows(focus_sample())
    ids = sorted({r["ResourceId"] for r in rows if r["ResourceId"]})
    # Bill tags: every 7th resource gets an Agent-ID in the bill (some are also in the ledger with another).
    bill_tagged = set(ids[::7])
    untagged = [i for i in ids if i not in bill_tagged]  # no Agent-ID in the bill
    azure = next(i for i in untagged if i.startswith("/subscriptions/") and "/resourcegroups/" in i)
    ec2 = next(i for i in untagged if i.startswith("i-"))
    untagged = [i for i in untagged if i not in (azure, ec2)]
    for r in rows:
        if r["ResourceId"] in bill_tagged:
            tags = json.loads(r["Tags"]) if r["Tags"] else {}
            tags["Agent-ID"] = f"bill-{ids.index(r['ResourceId']) % 3}"
            r["Tags"] = json.dumps(tags)
    costs = write_rows(tmp_path / "focus.csv", header, rows)

    ledger_path = tmp_path / "ledger.db"
    store = SqliteLedger(ledger_path)
    # Vanished before tagging: half of the untagged resources, three agents, outcomes.
    vanished = {i for n, i in enumerate(untagged) if n % 2 == 0}
    for n, rid in enumerate(sorted(vanished)):
        store.create(record(rid, {"Agent-ID": f"agent-{n % 3}", "Outcome-ID": f"out-{n % 5}"}))
    # Tagged late (still in the ledger as active, tagged after the bill's tag snapshot).
    # In the bill tagged by someone else: the bill's tags win.
    overlap = sorted(bill_tagged)[:5]
    for rid in overlap:
        store.create(
            record(rid, {"Agent-ID": "ledger-loses"}, state=LifecycleState.ACTIVE, tagged_at=1727000000.0)
        )
    # Known creator, but the rules could not attribute it: stays unallocated, creator shown.
    known_untagged = {i for n, i in enumerate(untagged) if n % 2 == 1 and n % 3 == 0}
    for rid in known_untagged:
        store.create(record(rid, {"CostCenter": "cc-1"}, actor="arn:aws:iam::111122223333:user/mallory"))
    # Azure: ARM's casing in the ledger, the bill's lower case in the cost rows.
    arm = azure.replace("/resourcegroups/", "/resourceGroups/").replace(
        "/providers/microsoft.", "/providers/Microsoft."
    )
    assert arm != azure
    store.create(record(arm, {"Agent-ID": "azure-agent"}, provider="azure"))
    # EC2: the bill names the instance by its id, the ledger by its ARN.
    store.create(record(f"arn:ats:ec2:us-test-2:111122223333:instance/{ec2}", {"Agent-ID": "ec2-agent"}))
    store.close()

    s = Scenario(
        costs,
        ledger_path,
        rows,
        header,
        vanished=vanished,
        bill_tagged=bill_tagged,
        known_untagged=known_untagged,
        azure_mixed_case=arm,
        ec2_short=ec2,
    )
    ledger_agent = {rid: f"agent-{n % 3}" for n, rid in enumerate(sorted(vanished))}
    ledger_agent[azure] = "azure-agent"
    ledger_agent[ec2] = "ec2-agent"
    for r in rows:
        rid = r["ResourceId"]
        tags = json.loads(r["Tags"]) if r["Tags"] else {}
        if tags.get("Agent-ID"):
            source, agent = "bill-tags", tags["Agent-ID"]
        elif rid in ledger_agent:
            source, agent = "ledger", ledger_agent[rid]
        else:
            source, agent = "unallocated", None
        s.expected[source] = s.expected.get(source, Decimal(0)) + _money(r["BilledCost"])
        s.expected_effective[source] = s.expected_effective.get(source, Decimal(0)) + _money(
            r["EffectiveCost"]
        )
        if agent:
            s.expected_agent[agent] = s.expected_agent.get(agent, Decimal(0)) + _money(r["BilledCost"])
    return s


def usage(resource: str, when: float, agent: str, tokens: float, n: int) -> UsageRecord:
    return UsageRecord(
        usage_id=f"u-{n}",
        kind=UsageKind.LLM,
        time=when,
        platform="bedrock",
        resource=resource,
        attribution={"Agent-ID": agent, "Outcome-ID": f"o-{agent}"},
        quantities={"input_tokens": tokens},
        source="sdk-hook",
    )


def focus_parquet(csv_path: Path, dest: Path) -> Path:
    """The CSV as AWS's FOCUS Parquet has it: typed columns, Tags a MAP(VARCHAR, VARCHAR)."""
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT * REPLACE (
              CAST(BilledCost AS DECIMAL(38, 15)) AS BilledCost,
              CAST(EffectiveCost AS DECIMAL(38, 15)) AS EffectiveCost,
              CAST(ChargePeriodStart AS TIMESTAMP) AS ChargePeriodStart,
              CAST(ChargePeriodEnd AS TIMESTAMP) AS ChargePeriodEnd,
              json_transform(Tags, '"MAP(VARCHAR, VARCHAR)"') AS Tags)
            FROM read_csv('{csv_path}', header = true, all_varchar = true, nullstr = ['NULL', '']))
          TO '{dest}' (FORMAT parquet)"""
    )
    assert con.execute(f"SELECT typeof(Tags) FROM '{dest}' LIMIT 1").fetchone() == ("MAP(VARCHAR, VARCHAR)",)
    con.close()
    return dest


def ledger_jsonl_gz(sqlite: Path, dest: Path) -> Path:
    store = SqliteLedger(sqlite)
    records = [
        r.evolve(actor=dict(r.actor), tags=dict(r.tags), sources=dict(r.sources)) for r in store.scan()
    ]
    store.close()
    with gzip.open(dest, "wt", encoding="utf-8") as fh:
        write_jsonl(records, fh)
    return dest
