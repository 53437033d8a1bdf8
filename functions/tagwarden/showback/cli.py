"""`tagwarden showback`: who spent the money, from the ledger joined with FOCUS cost exports.

Exit codes: 0 done; 2 input we cannot read (file, column, config); 5 the buckets do not add up to
the input's totals (a bug: the report is still printed, with `reconciled: false`).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tagwarden.cli.common import EXIT_INPUT, EXIT_OK, EXIT_UNRECONCILED, is_terminal


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date or ISO time, got {text!r}") from None
    if value.tzinfo is not None:  # charge periods are compared in UTC
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def _keys(text: str) -> tuple[str, ...]:
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    if not keys:
        raise argparse.ArgumentTypeError("expected tag keys, e.g. Agent-ID,Outcome-ID")
    return keys


def register(subparsers: Any) -> None:
    add_showback_command(subparsers)


def add_showback_command(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "showback",
        help="spend per Agent-ID / Outcome-ID / any tag, from FOCUS cost exports and the ledger",
        description="Join FOCUS cost exports with the tagwarden ledger: every cost row is attributed by "
        "its bill tags, the ledger, a usage split (--config), or left unallocated; every cent lands in "
        "exactly one bucket.",
    )
    p.add_argument(
        "--costs",
        action="append",
        default=[],
        metavar="PATH",
        help="FOCUS export: .csv, .csv.gz, .parquet file, glob, folder or s3://bucket/prefix; repeatable",
    )
    p.add_argument(
        "--ledger",
        action="append",
        default=[],
        metavar="PATH",
        help="ledger: SQLite file, .jsonl[.gz] / .parquet export, folder or s3:// prefix; repeatable",
    )
    p.add_argument(
        "--by",
        type=_keys,
        default=("Agent-ID", "Outcome-ID"),
        metavar="KEYS",
        help="comma-separated tag keys to group by (default Agent-ID,Outcome-ID)",
    )
    p.add_argument(
        "--outcome-key",
        default="Outcome-ID",
        metavar="KEY",
        help="tag key counted for unit economics (default Outcome-ID; '' for none)",
    )
    p.add_argument("--from", dest="since", type=_when, metavar="DATE", help="ChargePeriodStart >= DATE (UTC)")
    p.add_argument("--to", dest="until", type=_when, metavar="DATE", help="ChargePeriodStart < DATE (UTC)")
    p.add_argument(
        "--config", metavar="FILE", help="showback.yaml: shared cost rows and their split policies"
    )
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--top", type=int, default=20, metavar="N", help="top unallocated resources listed (20)")
    p.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report")
    p.add_argument("--png", metavar="DIR", help="also write the charts as PNG files")
    p.add_argument("--engine", choices=("duckdb", "athena"), default="duckdb")
    p.add_argument("--show-sql", action="store_true", help="print the queries rendered for --engine and exit")
    p.add_argument(
        "--athena-ddl",
        action="store_true",
        help="print the Athena DDL (tables + views) for --costs s3://... and --ledger s3://... and exit",
    )
    p.add_argument("--athena-database", default="tagwarden", metavar="NAME")
    p.add_argument("--athena-workgroup", metavar="NAME")
    p.add_argument("--athena-output", metavar="S3_URL", help="Athena query results location (s3://...)")
    p.add_argument("--athena-region", metavar="REGION")
    p.set_defaults(run=run_showback)


def run_showback(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.showback.config import ConfigError, load_config
    from tagwarden.showback.query import Plan, render_all
    from tagwarden.showback.sources import InputError

    try:
        config = load_config(args.config)
        plan = Plan(
            by=args.by,
            outcome_key=args.outcome_key or None,
            since=args.since,
            until=args.until,
            shared=config.shared,
            top=args.top,
        )
        plan.keys  # noqa: B018 - validates the tag keys before any work
    except (ConfigError, ValueError) as exc:
        print(f"tagwarden showback: {exc}", file=err)
        return EXIT_INPUT
    if args.athena_ddl:
        return _ddl(args, out, err)
    if args.show_sql:
        for name, sql in render_all(plan, args.engine).items():
            out.write(f"-- {name}\n{sql};\n\n")
        return EXIT_OK
    from tagwarden.showback.aws.athena import AthenaFailed

    try:
        report = _report(args, plan, err)
    except (InputError, ConfigError, ValueError, OSError, AthenaFailed) as exc:
        print(f"tagwarden showback: {exc}", file=err)
        return EXIT_INPUT
    _write(report, args, out, err)
    if not report["totals"]["reconciled"]:
        print("tagwarden showback: the buckets do not add up to the input's totals", file=err)
        return EXIT_UNRECONCILED
    return EXIT_OK


def _report(args: argparse.Namespace, plan: Any, err: TextIO) -> dict[str, Any]:
    from tagwarden.showback.sources import InputError

    if args.engine == "athena":
        from tagwarden.showback.aws.athena import athena_report

        return athena_report(
            plan,
            database=args.athena_database,
            workgroup=args.athena_workgroup,
            output=args.athena_output,
            region=args.athena_region,
        )
    if not args.costs:
        raise InputError("--costs is required (a FOCUS export file, glob, folder or s3:// prefix)")
    from tagwarden.showback.local import duckdb_report

    if is_terminal(err):
        print(
            f"showback: reading {len(args.costs)} cost input(s), {len(args.ledger)} ledger(s) ...", file=err
        )
    from tagwarden.showback.aws.s3 import download_prefix

    return duckdb_report(args.costs, args.ledger, plan, fetch=download_prefix)


def _write(report: dict[str, Any], args: argparse.Namespace, out: TextIO, err: TextIO) -> None:
    from tagwarden.showback.render import csv_text, table

    if args.format == "json":
        json.dump(report, out, indent=2)
        out.write("\n")
    elif args.format == "csv":
        out.write(csv_text(report))
    else:
        out.write(table(report))
    if args.html or args.png:
        from tagwarden.showback.charts import write_html, write_pngs

        if args.html:
            write_html(report, Path(args.html))
        if args.png:
            written = write_pngs(report, Path(args.png))
            if is_terminal(err):
                print(f"showback: wrote {len(written)} charts to {args.png}", file=err)


def _ddl(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.showback.athena import ddl

    costs = [c for c in args.costs if c.startswith("s3://")]
    ledger = [c for c in args.ledger if c.startswith("s3://")]
    if len(costs) != 1 or len(ledger) != 1:
        print(
            "tagwarden showback: --athena-ddl needs one --costs s3://... and one --ledger s3://...", file=err
        )
        return EXIT_INPUT
    for statement in ddl(costs[0], ledger[0], database=args.athena_database):
        out.write(statement.rstrip() + ";\n\n")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    from tagwarden.cli.main import main

    sys.exit(main(["showback", *sys.argv[1:]]))
