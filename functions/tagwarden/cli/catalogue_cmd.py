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
    from tagwarden.aws.catalogue import ENTRIES

    services = sorted({e.service for e in ENTRIES})
    if args.format == "json":
        rows = [
            {"event_source": e.source, "event_name": e.event, "creates": [c.type for c in e.creates]}
            for e in ENTRIES
        ]
        dump_json(
            {"provider": "aws", "events": len(ENTRIES), "services": len(services), "entries": rows}, out
        )
        return EXIT_OK
    for e in sorted(ENTRIES, key=lambda e: (e.service, e.event)):
        out.write(f"{e.service:<24} {e.event:<44} {', '.join(c.type for c in e.creates)}\n")
    out.write(f"{len(ENTRIES)} create events across {len(services)} services\n")
    return EXIT_OK
