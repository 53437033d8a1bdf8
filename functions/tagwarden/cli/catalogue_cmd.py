"""`tagwarden catalogue`: the create events tagwarden understands."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from tagwarden.cli.common import EXIT_OK, dump_json


def register(sub: Any) -> None:
    cat = sub.add_parser("catalogue", help="list the create events tagwarden understands")
    cat.add_argument("--provider", choices=("aws",), default="aws", help="the cloud (default: aws)")
    cat.add_argument(
        "--format", choices=("json", "text"), default="text", help="output format (default: text)"
    )
    cat.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.aws.catalogue import all_entries

    entries = all_entries()
    services = sorted({e.service for e in entries})
    derived = sum(e.derived for e in entries)
    if args.format == "json":
        rows = [
            {
                "event_source": e.source,
                "event_name": e.event,
                "creates": [c.type for c in e.creates],
                "derived": e.derived,
            }
            for e in entries
        ]
        dump_json(
            {
                "provider": "aws",
                "events": len(entries),
                "derived": derived,
                "services": len(services),
                "entries": rows,
            },
            out,
        )
        return EXIT_OK
    for e in sorted(entries, key=lambda e: (e.service, e.event)):
        mark = " (derived)" if e.derived else ""
        out.write(f"{e.service:<24} {e.event:<44} {', '.join(c.type for c in e.creates)}{mark}\n")
    out.write(
        f"{len(entries)} create events across {len(services)} services"
        f" ({derived} derived from botocore's service models)\n"
    )
    return EXIT_OK
