"""`tagwarden ledger`: read the ledger (the system of record of every decision and lifecycle).

`ledger show RESOURCE` prints a resource's record (an exact id, else the one record whose id ends
with the argument, e.g. an instance id); `ledger export --out FILE.jsonl[.gz]` writes every record
as JSON lines, the form showback reads. The store is a SQLite file: `--ledger`, else
TAGWARDEN_LEDGER, else `.tagwarden/ledger.sqlite`. A deployed ledger is read from its own export
(DynamoDB: export-table-to-point-in-time to S3; see the README's "The ledger").
"""

from __future__ import annotations

import argparse
import gzip
import os
from pathlib import Path
from typing import Any, TextIO

from tagwarden.cli.common import EXIT_OK, InputError, dump_json
from tagwarden.ledger.model import ResourceRecord
from tagwarden.ledger.sqlite import DEFAULT_PATH, LEDGER_ENV, SqliteLedger

PROVIDERS = ("aws", "azure")


def register(sub: Any) -> None:
    ledger = sub.add_parser("ledger", help="show and export the ledger's records").add_subparsers(
        dest="ledger_command", required=True, metavar="ACTION"
    )
    show = ledger.add_parser("show", help="one resource's record: decision, lifecycle, times")
    show.add_argument("resource", metavar="RESOURCE", help="ARN / Azure id, or the end of one (i-0abc...)")
    show.add_argument("--provider", choices=PROVIDERS, help="default: from the id's shape")
    show.add_argument("--format", choices=("json", "text"), default="text", help="output format")
    export = ledger.add_parser("export", help="every record as JSON lines (.jsonl, or .jsonl.gz)")
    export.add_argument("--out", required=True, metavar="FILE", help="the file to write (- for stdout)")
    export.add_argument("--format", choices=("json", "text"), default="text", help="the summary's format")
    for p in (show, export):
        p.add_argument(
            "--ledger", metavar="FILE", help=f"SQLite file (default: ${LEDGER_ENV}, {DEFAULT_PATH})"
        )
        p.set_defaults(run=run)


def open_ledger(args: argparse.Namespace) -> SqliteLedger:
    path = args.ledger or os.environ.get(LEDGER_ENV) or DEFAULT_PATH
    if path != ":memory:" and not Path(path).is_file():
        raise InputError(f"no ledger at {path} (set --ledger or {LEDGER_ENV})")
    return SqliteLedger(path)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    ledger = open_ledger(args)
    try:
        if args.ledger_command == "show":
            return _show(ledger, args, out)
        return _export(ledger, args, out, err)
    finally:
        ledger.close()


def find(ledger: SqliteLedger, resource: str, provider: str | None = None) -> ResourceRecord:
    providers = [provider] if provider else _providers_of(resource)
    for p in providers:
        record = ledger.get(p, resource)
        if record is not None:
            return record
    ends = [r for r in ledger.scan() if r.resource_id.endswith(resource) and r.provider in providers]
    if len(ends) == 1:
        return ends[0]
    if ends:
        names = ", ".join(sorted(r.resource_id for r in ends)[:5])
        raise InputError(f"{resource!r} ends {len(ends)} resource ids ({names}): give the whole id")
    raise InputError(f"no record for {resource!r} in the ledger")


def _providers_of(resource: str) -> list[str]:
    if resource.startswith("arn:"):
        return ["aws"]
    if resource.lower().startswith("/subscriptions/"):
        return ["azure"]
    return list(PROVIDERS)


def _show(ledger: SqliteLedger, args: argparse.Namespace, out: TextIO) -> int:
    record = find(ledger, args.resource, args.provider)
    if args.format == "json":
        dump_json(record.to_json(), out)
        return EXIT_OK
    out.write(render(record))
    return EXIT_OK


def render(record: ResourceRecord) -> str:
    from tagwarden.lifecycle.marker import iso_epoch

    def when(value: float | None) -> str:
        return iso_epoch(value) if value is not None else "-"

    actor = dict(record.actor)
    who = actor.get("arn") or actor.get("upn") or actor.get("app_id") or actor.get("object_id") or "?"
    lines = [
        f"{record.resource_id}",
        f"  type       {record.type}   ({record.provider}, {record.account}, {record.region or '-'})",
        f"  created by {who}   event {record.event_name} {record.event_id} at {record.event_time}",
        f"  decided    {record.action} by rule {record.rule or '-'}"
        f"   rules sha256 {record.rules_hash or '-'}",
        f"  state      {record.state.value}   version {record.version}",
        f"  deadline   {when(record.deadline)}   undo {record.undo or '-'}",
        f"  recorded   {when(record.recorded_at)}   tagged {when(record.tagged_at)}"
        f"   quarantined {when(record.quarantined_at)}",
        f"  released   {when(record.released_at)}   deleted {when(record.deleted_at)}"
        f"   gone {when(record.gone_at)}",
    ]
    for key, value in sorted(record.tags.items()):
        source = record.sources.get(key)
        lines.append(f"  tag        {key}={value}" + (f"   from {source}" if source else ""))
    for key, value in sorted(record.ignored.items()):
        lines.append(f"  ignored    {key}={value}   (set in the create request: never trusted)")
    if record.detail:
        lines.append(f"  detail     {record.detail}")
    return "\n".join(lines) + "\n"


def _export(ledger: SqliteLedger, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.ledger.export import Record, write_jsonl

    records: list[Record] = [*ledger.scan(), *ledger.usage()]
    if args.out == "-":
        count = write_jsonl(records, out)
    else:
        path = Path(args.out)
        path.parent.mkdir(parents=True, exist_ok=True)
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "wt", encoding="utf-8") as fh:
            count = write_jsonl(records, fh)
    summary = {"records": count, "out": args.out}
    if args.format == "json":
        dump_json(summary, err if args.out == "-" else out)
    elif args.out != "-":
        out.write(f"{count} records written to {args.out}\n")
    return EXIT_OK
