"""Showback on this machine: inputs read into an in-process DuckDB, the query run there."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tagwarden.showback.engine import DuckDbEngine
from tagwarden.showback.query import Plan
from tagwarden.showback.report import run
from tagwarden.showback.sources import COST_SUFFIXES, LEDGER_SUFFIXES, Fetch, expand, load_costs, load_ledger

if TYPE_CHECKING:
    from tagwarden.ledger.ports import Ledger


def duckdb_report(
    costs: Sequence[str],
    ledgers: Sequence[str | Path | Ledger],
    plan: Plan,
    threads: int | None = None,
    memory_limit: str | None = None,
    fetch: Fetch | None = None,
) -> dict[str, Any]:
    """The report for FOCUS exports `costs` (paths, globs, folders, s3:// prefixes) and `ledgers`
    (SQLite files, JSON-lines / Parquet exports, folders, s3:// prefixes, or Ledger stores).
    `fetch` reads s3:// prefixes (the CLI passes aws/s3.py's)."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="tagwarden-showback-") as tmp:
        work = Path(tmp)
        # no progress bar: DuckDB draws it on stdout, where the JSON report goes
        con = duckdb.connect(config={"temp_directory": str(work / "spill")})
        con.execute("SET enable_progress_bar = false")
        try:
            if threads:
                con.execute(f"SET threads = {int(threads)}")
            if memory_limit:
                con.execute("SET memory_limit = ?", [memory_limit])
            load_costs(con, expand(costs, COST_SUFFIXES, work, fetch))
            sources: list[Path | Ledger] = []
            for item in ledgers:
                if isinstance(item, (str, Path)):
                    sources.extend(_ledger_paths(str(item), work, fetch))
                else:
                    sources.append(item)
            load_ledger(con, sources, work)
            return run(DuckDbEngine(con), plan)
        finally:
            con.close()


def _ledger_paths(spec: str, work: Path, fetch: Fetch | None) -> list[Path]:
    if spec.startswith("s3://") or Path(spec).is_dir() or any(c in spec for c in "*?["):
        return expand([spec], LEDGER_SUFFIXES, work, fetch)
    return [Path(spec)]  # a SQLite file or a single export, whatever its name
