"""`tagwarden ledger`: read the ledger (the system of record of every decision and lifecycle).

`ledger show RESOURCE` prints a resource's record (an exact id, else the one record whose id ends
with the argument, e.g. an instance id); `ledger export --out FILE.jsonl[.gz]` writes every record
as JSON lines, the form showback reads. `--ledger` names the store (`cli/ledger_stores.py`): a
SQLite file (else TAGWARDEN_LEDGER, else `.tagwarden/ledger.sqlite`), `dynamodb://TABLE` or
`azure-table://ACCOUNT/TABLE`: the deployed ledgers, read where they live, page by page.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from tagwarden.cli.common import EXIT_OK, InputError, dump_json, is_terminal
from tagwarden.ledger.model import ResourceRecord, UsageRecord
from tagwarden.ledger.ports import LedgerReader
from tagwarden.ledger.sqlite import DEFAULT_PATH, LEDGER_ENV

PROVIDERS = ("aws", "azure")
LEDGER_HELP = (
    f"a SQLite file (default: ${LEDGER_ENV}, {DEFAULT_PATH}), dynamodb://TABLE or "
    "azure-table://ACCOUNT/TABLE (README: The ledger)"
)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be 1 or more")
    return value


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
    export.add_argument("--no-progress", action="store_true", help="no progress, even on a terminal")
    for p in (show, export):
        p.add_argument("--ledger", metavar="LEDGER", help=LEDGER_HELP)
        p.add_argument(
            "--page-size",
            type=_positive,
            metavar="N",
            help="records per read of a deployed ledger (default: the store's, 1 MB / 1000)",
        )
        p.set_defaults(run=run)


def ledger_spec(args: argparse.Namespace) -> str:
    """What --ledger names, else TAGWARDEN_LEDGER (a SQLite file only: the functions and the demo
    read that variable too, and would take a URL for a file name), else the default file."""
    from tagwarden.cli.ledger_stores import is_url

    if args.ledger:
        return str(args.ledger)
    env = os.environ.get(LEDGER_ENV)
    if env and is_url(env):
        raise InputError(f"{LEDGER_ENV}={env}: names a SQLite file; name a deployed ledger with --ledger")
    return env or DEFAULT_PATH


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.cli.ledger_stores import opened

    with opened(ledger_spec(args), os.environ, args.page_size) as ledger:
        if args.ledger_command == "show":
            return _show(ledger, args, out)
        return _export(ledger, args, out, err)


def find(ledger: LedgerReader, resource: str, provider: str | None = None) -> ResourceRecord:
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


def _show(ledger: LedgerReader, args: argparse.Namespace, out: TextIO) -> int:
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


def _export(ledger: LedgerReader, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.ledger.export import write_jsonl

    show = is_terminal(err) and not args.no_progress
    with _progress(err, show) as tick:
        records = _ticking(ledger.records(), tick)
        if args.out == "-":
            count = write_jsonl(records, out)
        else:
            count = _write_file(Path(args.out), lambda fh: write_jsonl(records, fh))
    summary = {"records": count, "out": args.out}
    if args.format == "json":
        dump_json(summary, err if args.out == "-" else out)
    elif args.out != "-":
        out.write(f"{count} records written to {args.out}\n")
    return EXIT_OK


def _write_file(path: Path, write: Callable[[Any], int]) -> int:
    """Written beside the target and renamed when complete: a failed read of a deployed ledger (a
    page refused half-way) never leaves a short export that a showback run would take as whole.
    A target that is not a plain file (a symlink, /dev/stdout, a FIFO) is written through."""
    path.parent.mkdir(parents=True, exist_ok=True)
    opener: Any = gzip.open if path.suffix == ".gz" else open
    if path.is_symlink() or (path.exists() and not path.is_file()):
        with opener(path, "wt", encoding="utf-8") as fh:
            return write(fh)
    partial = path.with_name(f".{path.name}.partial")
    try:
        with opener(partial, "wt", encoding="utf-8") as fh:
            count = write(fh)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return count


PROGRESS_EVERY = 500  # records between updates of the counter


@contextlib.contextmanager
def _progress(err: TextIO, show: bool) -> Iterator[Callable[[int], None]]:
    """A running count on a terminal (rich), nothing when piped or without rich: a Scan knows
    no total in advance, so it is a count, not a bar."""
    bar = _bar(err) if show else None
    if bar is None:
        yield lambda n: None
        return
    with bar:
        task = bar.add_task("exporting", total=None)
        yield lambda n: bar.advance(task, n)


def _bar(err: TextIO) -> Any:
    try:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    except ImportError:
        return None
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description} {task.completed:,} records"),
        TimeElapsedColumn(),
        console=Console(file=err),
        transient=True,
    )


def _ticking(
    records: Iterable[ResourceRecord | UsageRecord], tick: Callable[[int], None]
) -> Iterator[ResourceRecord | UsageRecord]:
    n = 0
    for n, record in enumerate(records, 1):
        yield record
        if n % PROGRESS_EVERY == 0:
            tick(PROGRESS_EVERY)
    tick(n % PROGRESS_EVERY)
