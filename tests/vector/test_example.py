"""examples/vector_tenants.py end to end (real PostgreSQL + pgvector, Qdrant local), then the
vector-blend policy on the usage it wrote, checked against the formula computed from its inputs."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tagwarden.ledger.model import UsageKind
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.vector.split import BlendPolicy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "vector_tenants.py"


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("vector_tenants", EXAMPLE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ran(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, Path]:
    pytest.importorskip("qdrant_client")
    out = tmp_path_factory.mktemp("example")
    ledger, focus = out / "ledger.db", out / "focus.csv"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "functions")}
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLE),
            "--ledger",
            str(ledger),
            "--dsn",
            postgres.dsn,
            "--focus",
            str(focus),
            "--cost",
            "99.99",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), ledger, focus


def test_the_untenanted_upsert_was_refused_naming_store_and_field(
    ran: tuple[dict[str, Any], Path, Path],
) -> None:
    result, _, _ = ran
    assert "pgvector:kb: upsert refused" in result["refused"]
    assert "'tenant_id'" in result["refused"]


def test_the_ledger_holds_what_the_stores_counted(ran: tuple[dict[str, Any], Path, Path]) -> None:
    result, ledger_path, _ = ran
    tenants = load_example().TENANTS
    ledger = SqliteLedger(ledger_path)
    usage = list(ledger.usage())
    for resource in result["resources"].values():
        mine = [u for u in usage if u.resource == resource]
        runs = sorted({u.time for u in mine if u.kind is UsageKind.VECTOR_STORAGE})
        assert len(runs) == 2
        first = {
            u.attribution["tenant_id"]: u.quantities["vectors"]
            for u in mine
            if u.time == runs[0] and u.kind is UsageKind.VECTOR_STORAGE
        }
        second = {
            u.attribution["tenant_id"]: u.quantities["vectors"]
            for u in mine
            if u.time == runs[1] and u.kind is UsageKind.VECTOR_STORAGE
        }
        assert first == {t: float(a) for t, (a, _, _, _) in tenants.items()}
        assert second == {t: float(a + b) for t, (a, b, _, _) in tenants.items()}
        queries = {
            u.attribution["tenant_id"]: (u.quantities["queries"], u.attribution["Agent-ID"])
            for u in mine
            if u.kind is UsageKind.VECTOR_QUERY
        }
        assert queries == {t: (float(q), agent) for t, (_, _, q, agent) in tenants.items()}
    ledger.close()


def test_policy_on_the_examples_usage_follows_the_blend_formula(
    ran: tuple[dict[str, Any], Path, Path],
) -> None:
    result, ledger_path, _ = ran
    tenants = load_example().TENANTS
    # Two runs an hour apart in a two-hour period: each level held for half of it.
    storage = {t: (a + (a + b)) / 2 for t, (a, b, _, _) in tenants.items()}
    queries = {t: q for t, (_, _, q, _) in tenants.items()}
    expected = {
        t: 0.5 * storage[t] / sum(storage.values()) + 0.5 * queries[t] / sum(queries.values())
        for t in tenants
    }
    ledger = SqliteLedger(ledger_path)
    usage = list(ledger.usage())
    ledger.close()
    for name, resource in result["resources"].items():
        got = BlendPolicy().weights([u for u in usage if u.resource == resource], result["period"])
        assert {dict(k)["tenant_id"]: w for k, w in got.items()} == pytest.approx(expected)
        assert result["shares"][name] == pytest.approx(expected)
    # More storage weight moves cost toward the biggest store user (acme), away from the heaviest querier.
    heavy = BlendPolicy().weights(usage, {**result["period"], "storage": 0.9, "queries": 0.1})
    light = BlendPolicy().weights(usage, {**result["period"], "storage": 0.1, "queries": 0.9})
    assert heavy[(("tenant_id", "acme"),)] > light[(("tenant_id", "acme"),)]
    assert heavy[(("tenant_id", "globex"),)] < light[(("tenant_id", "globex"),)]


def test_focus_file_has_one_row_per_shared_store(ran: tuple[dict[str, Any], Path, Path]) -> None:
    result, _, focus = ran
    with focus.open() as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["ResourceId"] for r in rows) == sorted(result["resources"].values())
    assert {r["BilledCost"] for r in rows} == {"99.99"}


SHOWBACK_CONFIG = """\
shared:
  - name: kb-pgvector
    match: {ResourceId: "pg://example/public/kb_chunks"}
    policy: vector-blend
    params: {storage: 0.5, queries: 0.5}
  - name: kb-qdrant
    match: {ResourceId: "qdrant://example/collections/kb"}
    policy: vector-blend
"""


def test_showback_splits_each_store_row_by_the_blend_to_the_cent(
    ran: tuple[dict[str, Any], Path, Path], tmp_path: Path
) -> None:
    """`tagwarden showback` on the example's FOCUS file (one row per shared store) and its ledger."""
    pytest.importorskip("tagwarden.showback.cli", reason="the showback command is not merged on this branch")
    from decimal import Decimal

    result, ledger, focus = ran
    config = tmp_path / "showback.yaml"
    config.write_text(SHOWBACK_CONFIG)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "tagwarden.cli.main",
            "showback",
            "--costs",
            str(focus),
            "--ledger",
            str(ledger),
            "--config",
            str(config),
            "--by",
            "tenant_id",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "functions")},
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["totals"]["reconciled"] is True
    assert Decimal(report["totals"]["unallocated"]["billed_cost"]) == 0
    billed = {g["tags"]["tenant_id"]: Decimal(g["billed_cost"]) for g in report["by_tags"]}
    assert sum(billed.values()) == Decimal("199.98")  # every cent of both rows, in exactly one bucket
    for tenant, amount in billed.items():
        expected = sum(
            Decimal("99.99") * Decimal(str(shares[tenant])) for shares in result["shares"].values()
        )
        assert abs(amount - expected) <= Decimal("0.02"), tenant
