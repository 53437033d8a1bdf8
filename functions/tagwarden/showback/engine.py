"""Where the showback query runs: DuckDB in-process (default) or Amazon Athena through pyathena.

Both take the same Plan. The queries are written in DuckDB's SQL, so DuckDB runs them as written
(no sqlglot import on the local path) and materializes the classified rows once as a temporary
table; Athena gets them rendered by sqlglot, the classified rows inlined as a CTE in each query.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from tagwarden.showback.query import Plan, render

if TYPE_CHECKING:
    import duckdb


class Engine(Protocol):
    name: str

    def prepare(self, plan: Plan) -> None:
        """Get ready to answer the plan's queries (DuckDB classifies once here)."""

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        """Run one query, written in DuckDB's SQL, rendered for this engine."""


class DuckDbEngine:
    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def prepare(self, plan: Plan) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE tw_classified AS {plan.classify_source()}")

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()


class AthenaEngine:
    """Runs on Athena over the tables and views of athena.ddl() (tw_costs, tw_ledger, tw_usage).

    `cursor` is a DB-API cursor of pyathena (athena.connect builds one); results come back as rows.
    """

    name = "athena"

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor
        self._classify: str | None = None

    def prepare(self, plan: Plan) -> None:
        self._classify = plan.classify_source()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        uses_classified = "tw_classified" in sql
        rendered = render(sql, "athena", classified_inline=uses_classified, classify=self._classify)
        self.cursor.execute(rendered)
        return [tuple(r) for r in self.cursor.fetchall()]
