"""`tagwarden brake list|release AGENT`: the brakes runaway limits applied, and lifting them.

The store is DynamoDB (`--table`, default $TAGWARDEN_RUNAWAY_TABLE) or a local SQLite file
(`--sqlite`). Releasing undoes each active brake on the agent exactly (AWS: deletes the inline
deny policy, or puts back the policy of that name that was there before) and records who did it:
`--by`, else the caller's AWS identity (sts:GetCallerIdentity), else the local user name.

Exit codes: 0 done; 2 input we cannot act on (no store named, no brake for that agent); 6 a brake
could not be released (the error is printed; the record stays active).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
from datetime import UTC, datetime
from typing import Any, TextIO

from tagwarden.cli.common import EXIT_INPUT, EXIT_OK
from tagwarden.runaway.ports import BrakeRecord, BrakeState, RunawayStore

EXIT_FAILED = 6  # a brake could not be released


def register(subparsers: Any) -> None:
    brake = subparsers.add_parser(
        "brake", help="list the brakes runaway limits applied, or release one"
    ).add_subparsers(dest="brake_command", required=True, metavar="ACTION")
    for name, text in (
        ("list", "list brakes (active first)"),
        ("release", "lift every active brake on an agent and record who did"),
    ):
        p = brake.add_parser(name, help=text)
        p.set_defaults(run=run_brake)
        if name == "release":
            p.add_argument("agent", metavar="AGENT", help="as the alert names it (Agent-ID=42), or its value")
            p.add_argument("--by", help="who releases (default: your AWS identity, else your user name)")
        p.add_argument("--table", default=os.environ.get("TAGWARDEN_RUNAWAY_TABLE"), help="DynamoDB table")
        p.add_argument("--sqlite", metavar="FILE", help="a local store file instead of DynamoDB")
        p.add_argument("--format", choices=("json", "text"), default="text")


def store_from(args: argparse.Namespace) -> RunawayStore | None:
    if args.sqlite:
        from tagwarden.runaway.sqlite import SqliteRunawayStore

        return SqliteRunawayStore(args.sqlite)
    if args.table:
        import boto3

        from tagwarden.runaway.aws.dynamodb import DynamoRunawayStore

        return DynamoRunawayStore(boto3.session.Session().client("dynamodb"), args.table)
    return None


def run_brake(
    args: argparse.Namespace, out: TextIO, err: TextIO, store: RunawayStore | None = None, brake: Any = None
) -> int:
    store = store or store_from(args)
    if store is None:
        print("tagwarden: name the store: --table (or TAGWARDEN_RUNAWAY_TABLE) or --sqlite FILE", file=err)
        return EXIT_INPUT
    records = store.brakes()
    if args.brake_command == "list":
        records.sort(key=lambda r: (r.state is BrakeState.RELEASED, r.scope, r.principal))
        _show(records, args.format, out)
        return EXIT_OK
    scope = _resolve(args.agent, records)
    if scope is None:
        print(f"tagwarden: no brake recorded for agent {args.agent!r}", file=err)
        return EXIT_INPUT
    from tagwarden.runaway.limiter import Limiter
    from tagwarden.runaway.model import Limits

    limiter = Limiter(Limits(), store, brake=brake or _brake_for(records, scope))
    try:
        released = limiter.release(scope, args.by or _who())
    except RuntimeError as exc:
        print(f"tagwarden: {exc}", file=err)
        return EXIT_FAILED
    _show(released, args.format, out)
    if args.format == "text" and not released:
        out.write(f"no active brake on {scope}\n")
    return EXIT_OK


def _resolve(agent: str, records: list[BrakeRecord]) -> str | None:
    scopes = {r.scope for r in records}
    if agent in scopes:
        return agent
    by_value = {s for s in scopes if s.split("=", 1)[-1] == agent}
    return next(iter(by_value)) if len(by_value) == 1 else None


def _brake_for(records: list[BrakeRecord], scope: str) -> Any:
    providers = {r.provider for r in records if r.scope == scope}
    if providers <= {"aws"}:
        from tagwarden.aws.brake import IamBrake
        from tagwarden.aws.clients import Clients

        return IamBrake(Clients())
    raise SystemExit(f"tagwarden: no brake for provider(s) {sorted(providers)}")


def _who() -> str:
    try:
        import boto3

        arn: str = boto3.session.Session().client("sts").get_caller_identity()["Arn"]
        return arn
    except Exception:  # no AWS credentials here: the local user is who released it
        return getpass.getuser()


def _show(records: list[BrakeRecord], fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump([r.to_json() for r in records], out, indent=2)
        out.write("\n")
        return
    for r in records:
        when = datetime.fromtimestamp(r.applied_at, UTC).isoformat(timespec="seconds")
        line = f"{r.state.value:<9} {r.scope:<28} {r.principal}  limit {r.limit}  since {when}"
        if r.released_by:
            line += f"  released by {r.released_by}"
        out.write(line + "\n")
