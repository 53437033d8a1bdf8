"""The Athena path, offline: the DDL parses as Athena's, and the whole path — views and queries,
rendered for Athena — runs on DuckDB after translation back (sqlglot), giving the DuckDB report."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from test_sources import focus_parquet, ledger_jsonl_gz

from tagwarden.cli.main import main
from tagwarden.showback.athena import ddl, report_with_cursor
from tagwarden.showback.engine import DuckDbEngine
from tagwarden.showback.query import Plan
from tagwarden.showback.report import run
from tagwarden.showback.sources import load_costs, load_ledger

from focus_scenario import Scenario, scenario  # noqa: F401 - the fixture


def test_the_ddl_parses_as_athena() -> None:
    statements = ddl("s3://billing/focus", "s3://billing/ledger/", database="finops")
    assert len(statements) == 6
    for s in statements:
        tree = sqlglot.parse_one(s, read="athena")
        assert tree.key == "create"
    assert "'storage.location.template' = 's3://billing/ledger/day=${day}/'" in statements[2]
    assert "org.openx.data.jsonserde.JsonSerDe" in statements[2]
    with pytest.raises(ValueError, match="s3://"):
        ddl("/local/path", "s3://x")
    with pytest.raises(ValueError, match="database"):
        ddl("s3://a", "s3://b", database="x; DROP")


def test_the_cli_prints_the_ddl_and_the_rendered_queries() -> None:
    out = io.StringIO()
    code = main(["showback", "--athena-ddl", "--costs", "s3://b/focus", "--ledger", "s3://b/ledger"], out=out)
    assert code == 0 and "CREATE EXTERNAL TABLE IF NOT EXISTS tagwarden.focus_export" in out.getvalue()
    out = io.StringIO()
    code = main(["showback", "--engine", "athena", "--show-sql", "--by", "Agent-ID"], out=out)
    assert code == 0 and "-- aggregate" in out.getvalue() and "JSON_EXTRACT_SCALAR" in out.getvalue()


class TrinoOnDuckDb:
    """A DB-API cursor that takes Athena (Trino) SQL and runs its DuckDB translation."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.executed: list[str] = []
        self._rows: list[tuple[Any, ...]] = []

    def execute(self, sql: str) -> None:
        self.executed.append(sql)
        self._rows = self.con.execute(sqlglot.parse_one(sql, read="athena").sql("duckdb")).fetchall()

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._rows


def _athena_tables(con: duckdb.DuckDBPyConnection, parquet: Path, ledger: Path) -> None:
    """The two external tables as Athena would read them: FOCUS Parquet, ledger JSON with MAP columns."""
    con.execute("CREATE SCHEMA tagwarden")
    con.execute(f"CREATE TABLE tagwarden.focus_export AS SELECT * FROM '{parquet}'")
    con.execute(
        f"""CREATE TABLE tagwarden.ledger_export AS SELECT * FROM read_json('{ledger}', format = 'newline_delimited',
        columns = {{record: 'VARCHAR', provider: 'VARCHAR', resource_id: 'VARCHAR', account: 'VARCHAR',
        state: 'VARCHAR', event_time: 'VARCHAR', recorded_at: 'DOUBLE', tagged_at: 'DOUBLE', gone_at: 'DOUBLE',
        version: 'BIGINT', actor: 'MAP(VARCHAR, VARCHAR)', tags: 'MAP(VARCHAR, VARCHAR)', usage_id: 'VARCHAR',
        kind: 'VARCHAR', time: 'DOUBLE', platform: 'VARCHAR', resource: 'VARCHAR',
        attribution: 'MAP(VARCHAR, VARCHAR)', quantities: 'MAP(VARCHAR, DOUBLE)', source: 'VARCHAR'}})"""
    )
    for statement in ddl("s3://b/focus", "s3://b/ledger")[3:]:  # the three views, translated
        name, body = statement.split(" AS\n", 1)
        view = name.rsplit(".", 1)[1]
        con.execute(f"CREATE VIEW {view} AS {sqlglot.parse_one(body, read='athena').sql('duckdb')}")


def test_athena_rendering_gives_the_duckdb_report(scenario: Scenario, tmp_path: Path) -> None:
    parquet = focus_parquet(scenario.costs, tmp_path / "focus.parquet")
    ledger = ledger_jsonl_gz(scenario.ledger, tmp_path / "ledger.jsonl.gz")
    plan = Plan(by=("Agent-ID", "Outcome-ID"))

    local = duckdb.connect()
    load_costs(local, [parquet])
    load_ledger(local, [ledger], tmp_path)
    expected = run(DuckDbEngine(local), plan)

    athena = duckdb.connect()
    _athena_tables(athena, parquet, ledger)
    cursor = TrinoOnDuckDb(athena)
    got = report_with_cursor(plan, cursor)

    assert got["engine"] == "athena"
    assert got["totals"]["reconciled"]
    assert json.dumps({**got, "engine": ""}, sort_keys=True, default=str) == json.dumps(
        {**expected, "engine": ""}, sort_keys=True, default=str
    )
    assert any("JSON_EXTRACT_SCALAR" in sql for sql in cursor.executed)
    assert all("QUALIFY" not in sql for sql in cursor.executed)


def test_athena_failures_exit_2_with_their_message(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials and no endpoint: pyathena's own error reaches the user, not a traceback."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens: fails at once
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["showback", "--engine", "athena", "--athena-region", "eu-west-1", "--athena-output", "s3://x/y/"],
        out=out,
        err=err,
    )
    assert code == 2
    assert "tagwarden showback: Athena:" in err.getvalue()
