"""`tagwarden replay`: what would these rules have done to last week? Totals over history.

Reads CloudTrail log files, folders, S3 prefixes, Event Grid exports or standard input; decides
every create offline (lookups from --lookups) and prints totals by action, rule, creator, service
and event. Skips are summarised by kind (listed with --show-skips). Streams: memory stays flat.
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TextIO

from tagwarden.cli.common import EXIT_FAIL_ON, EXIT_INPUT, EXIT_OK, InputError, dump_json, is_terminal
from tagwarden.cli.explain_cmd import add_rules_and_lookups, lookups_from
from tagwarden.cli.sources import Delivery, Unreadable, expand, read

DIMENSIONS = ("action", "rule", "creator", "service", "event")
TOP = 15  # rows per dimension in the table (json/csv carry all)


@dataclass
class Totals:
    """Counts over a replay. Pure: fed results, never reads anything."""

    deliveries: int = 0
    events: int = 0  # normalized events (creates + skips)
    creates: int = 0
    resources: int = 0
    by: dict[str, Counter[str]] = field(default_factory=lambda: {d: Counter() for d in DIMENSIONS})
    skipped: Counter[str] = field(default_factory=Counter)  # by kind
    skip_reasons: Counter[str] = field(default_factory=Counter)
    unreadable: list[Unreadable] = field(default_factory=list)
    fail_on: list[str] = field(default_factory=list)

    def add_decision(self, event: Any, decision: Any) -> None:
        self.resources += 1
        service = event.event_source.removesuffix(".amazonaws.com")
        for dim, value in (
            ("action", decision.action.value),
            ("rule", decision.rule or "(exempt)"),
            ("creator", event.actor.identity or "(unknown)"),
            ("service", service),
            ("event", event.event_name),
        ):
            self.by[dim][value] += 1

    def to_json(self, show_skips: bool) -> dict[str, Any]:
        out: dict[str, Any] = {
            "deliveries": self.deliveries,
            "events": self.events,
            "creates": self.creates,
            "resources": self.resources,
            "skipped": sum(self.skipped.values()),
            "unreadable": len(self.unreadable),
            **{f"by_{d}": dict(self.by[d].most_common()) for d in DIMENSIONS},
            "skipped_by_kind": dict(self.skipped.most_common()),
        }
        if show_skips:
            out["skipped_by_reason"] = dict(self.skip_reasons.most_common())
        out["unreadable_inputs"] = [{"origin": u.origin, "error": u.error} for u in self.unreadable[:100]]
        return out


def register(sub: Any) -> None:
    rp = sub.add_parser(
        "replay",
        help="decide over recorded history (CloudTrail logs, folders, S3, Event Grid exports)",
        description="Replay recorded events through the rules, offline, and print totals: what these "
        "rules would have done. PATH is a file (.json, .json.gz, .jsonl), a folder (read recursively), "
        "s3://BUCKET/PREFIX (CloudTrail's layout; --since/--until pick the days), or - for stdin.",
    )
    rp.add_argument("paths", nargs="+", metavar="PATH")
    add_rules_and_lookups(rp)
    rp.add_argument("--format", choices=("table", "json", "csv"), default="table", help="default: table")
    rp.add_argument("--show-skips", action="store_true", help="list skipped events by reason")
    rp.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD", help="first day (S3 layout)")
    rp.add_argument("--until", type=date.fromisoformat, metavar="YYYY-MM-DD", help="last day (S3 layout)")
    rp.add_argument(
        "--exclude", action="append", default=[], metavar="GLOB", help="skip files whose name matches"
    )
    rp.add_argument("--ledger", metavar="FILE", help="record every decision in this SQLite ledger file")
    rp.add_argument("--no-progress", action="store_true", help="no progress bar, even on a terminal")
    rp.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.rules import load_rules

    rules = load_rules(args.rules)
    lookups = lookups_from(args, rules.tags.keys())
    s3 = _s3_client() if any(p.startswith("s3://") for p in args.paths) else None
    inputs = expand(args.paths, s3, args.since, args.until, args.exclude)
    if not inputs:
        raise InputError("no event files found in " + ", ".join(args.paths))
    ledger = _Recorder(args.ledger, args.rules) if args.ledger else None
    totals = Totals()
    show = is_terminal(err) and not args.no_progress
    try:
        for items in _progress(inputs, s3, err, show):
            _consume(items, rules, lookups, totals, args.fail_on, ledger)
    finally:
        if ledger:
            ledger.close()
    _render(totals, args, out)
    for u in totals.unreadable[:10]:
        print(f"tagwarden: {u.origin}: {u.error}", file=err)
    if len(totals.unreadable) > 10:
        print(f"tagwarden: ... and {len(totals.unreadable) - 10} more unreadable inputs", file=err)
    if totals.fail_on:
        print(f"tagwarden: {len(totals.fail_on)} resource(s) reached --fail-on", file=err)
        return EXIT_FAIL_ON
    if totals.unreadable and totals.events == 0:
        return EXIT_INPUT
    return EXIT_OK


def _consume(
    items: Iterator[Delivery | Unreadable],
    rules: Any,
    lookups: Any,
    totals: Totals,
    fail_on: frozenset[str],
    ledger: _Recorder | None,
) -> None:
    from tagwarden.cli.normalize import normalize
    from tagwarden.decide import decide
    from tagwarden.model import Skipped
    from tagwarden.normalize import MalformedEvent

    for item in items:
        if isinstance(item, Unreadable):
            totals.unreadable.append(item)
            continue
        totals.deliveries += 1
        try:
            results = normalize(item.raw)
        except MalformedEvent as exc:
            totals.unreadable.append(Unreadable(item.origin, str(exc)))
            continue
        for result in results:
            totals.events += 1
            if isinstance(result, Skipped):
                totals.skipped[result.kind.value] += 1
                totals.skip_reasons[result.reason] += 1
                continue
            totals.creates += 1
            for decision in decide(result, rules, lookups):
                totals.add_decision(result, decision)
                if decision.action.value in fail_on:
                    totals.fail_on.append(decision.resource.id)
                if ledger:
                    ledger.record(result, decision)


class _Recorder:
    """Writes each replayed decision into a local ledger, so `showback` can use history."""

    def __init__(self, path: str, rules_path: str) -> None:
        from pathlib import Path

        from tagwarden.ledger.records import rules_hash
        from tagwarden.ledger.sqlite import SqliteLedger

        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._ledger = SqliteLedger(path)
        self._digest = rules_hash(Path(rules_path).read_text(encoding="utf-8"))

    def record(self, event: Any, decision: Any) -> None:
        from datetime import datetime

        from tagwarden.ledger.records import record_for

        try:
            when = datetime.fromisoformat(event.time.replace("Z", "+00:00")).timestamp()
        except ValueError:
            when = 0.0
        self._ledger.create(record_for(event, decision, rules_digest=self._digest, now=when))

    def close(self) -> None:
        self._ledger.close()


def _s3_client() -> Any:
    try:
        import boto3
    except ImportError as exc:
        raise InputError("reading s3:// needs boto3: pip install 'tagwarden[aws]'") from exc
    return boto3.client("s3")


def _progress(
    inputs: list[str], s3: Any, err: TextIO, show: bool
) -> Iterator[Iterator[Delivery | Unreadable]]:
    """Each input with its items; a progress bar on a terminal (rich), nothing when piped."""
    bar = _bar(err) if show else None
    if bar is None:
        for name in inputs:
            yield read(name, s3)
        return
    with bar:
        task = bar.add_task("replaying", total=len(inputs))
        for name in inputs:
            bar.update(task, description=_short(name))
            yield read(name, s3)
            bar.advance(task)


def _bar(err: TextIO) -> Any:
    try:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    except ImportError:
        return None
    return Progress(
        TextColumn("{task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=err),
        transient=True,
    )


def _short(name: str) -> str:
    return name if len(name) <= 40 else "…" + name[-39:]


def _render(totals: Totals, args: argparse.Namespace, out: TextIO) -> None:
    if args.format == "json":
        dump_json(totals.to_json(args.show_skips), out)
        return
    if args.format == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["dimension", "key", "count"])
        for dim in DIMENSIONS:
            for key, count in totals.by[dim].most_common():
                writer.writerow([dim, key, count])
        for kind, count in totals.skipped.most_common():
            writer.writerow(["skipped", kind, count])
        if args.show_skips:
            for reason, count in totals.skip_reasons.most_common():
                writer.writerow(["skip-reason", reason, count])
        return
    out.write(_table(totals, args.show_skips))


def _table(totals: Totals, show_skips: bool) -> str:
    lines = [
        f"{totals.events} events in {totals.deliveries} deliveries: {totals.creates} creates of "
        f"{totals.resources} resources, {sum(totals.skipped.values())} skipped"
        + (f", {len(totals.unreadable)} unreadable" if totals.unreadable else ""),
    ]
    for dim in DIMENSIONS:
        counts = totals.by[dim]
        if not counts:
            continue
        lines += ["", f"by {dim}"]
        lines += [f"  {count:>7}  {key}" for key, count in counts.most_common(TOP)]
        if len(counts) > TOP:
            rest = sum(c for _, c in counts.most_common()[TOP:])
            lines.append(f"  {rest:>7}  ({len(counts) - TOP} more)")
    if totals.skipped:
        lines += ["", "skipped by kind" + ("" if show_skips else " (--show-skips lists the reasons)")]
        lines += [f"  {count:>7}  {kind}" for kind, count in totals.skipped.most_common()]
    if show_skips and totals.skip_reasons:
        lines += ["", "skipped by reason"]
        lines += [f"  {count:>7}  {reason}" for reason, count in totals.skip_reasons.most_common()]
    return "\n".join(lines) + "\n"
