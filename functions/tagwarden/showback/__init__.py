"""Showback: the ledger joined with the cloud bill (FOCUS), every cent in exactly one bucket.

`tagwarden showback` (cli.py) is the front door; `report_for_demo` is what the demo calls.
Everything heavy (DuckDB, sqlglot, matplotlib) is imported on first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tagwarden.ledger.ports import Ledger


def report_for_demo(
    ledger_path: str | Path | Ledger,
    focus_rows: Sequence[Mapping[str, Any]],
    out_dir: str | Path | None = None,
    by: Sequence[str] = ("Agent-ID", "Outcome-ID"),
) -> dict[str, Any]:
    """See tagwarden.showback.demo.report_for_demo."""
    from tagwarden.showback.demo import report_for_demo as report

    return report(ledger_path, focus_rows, out_dir, by)
