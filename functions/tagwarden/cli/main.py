"""`tagwarden`: check rules, print the schema, explain what the rules decide for an event offline.

Exit codes: 0 done (decided, or deliberately skipped); 1 invalid rules; 2 input we cannot read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from tagwarden.attribution.context import StaticLookups
from tagwarden.cli.brake import add_brake_commands, run_brake
from tagwarden.cli.explain import explain_events, render_text
from tagwarden.cli.policy import add_policy_commands, run_policy
from tagwarden.normalize import MalformedEvent
from tagwarden.rules import RulesError, load_rules
from tagwarden.rules.spec import json_schema

EXIT_OK, EXIT_RULES, EXIT_INPUT = 0, 1, 2


class InputError(Exception):
    """Input the user gave that we cannot read (exit 2)."""


def _kv(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tagwarden", description=__doc__.splitlines()[0] if __doc__ else None
    )
    sub = parser.add_subparsers(dest="command", required=True)

    rules = sub.add_parser("rules", help="work with rules files").add_subparsers(
        dest="rules_command", required=True
    )
    check = rules.add_parser("check", help="validate rules files; exit 1 listing every error")
    check.add_argument("files", nargs="+", metavar="FILE")
    rules.add_parser("schema", help="print the rules file JSON Schema")

    ex = sub.add_parser("explain", help="decide, offline, what the rules do with an event")
    ex.add_argument("--rules", required=True, metavar="FILE")
    ex.add_argument("--event", required=True, metavar="FILE", help="event JSON file, or - for stdin")
    ex.add_argument("--format", choices=("json", "text"), default="text")
    ex.add_argument("--lookups", metavar="FILE", help="YAML/JSON with principal_tags, containers, resources")
    for flag, what in (
        ("--principal-tag", "a tag on the calling principal"),
        ("--resource-group-tag", "a tag on the resource group"),
        ("--subscription-tag", "a tag on the subscription"),
        ("--account-tag", "a tag on the AWS account"),
        ("--resource-tag", "a tag already on the resource (Azure events do not carry them)"),
    ):
        ex.add_argument(flag, action="append", type=_kv, default=[], metavar="KEY=VALUE", help=what)

    cat = sub.add_parser("catalogue", help="list the create events tagwarden understands")
    cat.add_argument("--provider", choices=("aws",), default="aws")
    cat.add_argument("--format", choices=("json", "text"), default="text")
    add_policy_commands(sub)
    add_brake_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        if args.command == "rules":
            return _rules(args, out, err)
        if args.command == "explain":
            return _explain(args, out)
        if args.command == "policy":
            return run_policy(args, out, err)
        if args.command == "brake":
            return run_brake(args, out, err)
        return _catalogue(args, out)
    except RulesError as exc:
        print(exc.render(), file=err)
        return EXIT_RULES
    except (InputError, MalformedEvent) as exc:
        print(f"tagwarden: {exc}", file=err)
        return EXIT_INPUT


def _rules(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    if args.rules_command == "schema":
        json.dump(json_schema(), out, indent=2)
        out.write("\n")
        return EXIT_OK
    failed = False
    for name in args.files:
        try:
            rs = load_rules(name)
        except RulesError as exc:
            print(exc.render(), file=err)
            failed = True
            continue
        print(f"{name}: ok ({len(rs.tags)} tags, {len(rs.rules)} rules, mode {rs.mode.value})", file=out)
    return EXIT_RULES if failed else EXIT_OK


def _read_json(name: str) -> Any:
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {name}: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc


def _lookups(args: argparse.Namespace) -> StaticLookups:
    data: dict[str, Any] = {}
    if args.lookups:
        import yaml

        try:
            loaded = yaml.safe_load(Path(args.lookups).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(f"cannot read lookups file {args.lookups}: {exc}") from exc
        if not isinstance(loaded, dict):
            raise InputError(f"{args.lookups}: expected a mapping with principal_tags, containers, resources")
        data = loaded
    principal = dict(data.get("principal_tags") or {}) if "principal_tags" in data else None
    if args.principal_tag:
        principal = {**(principal or {}), **dict(args.principal_tag)}
    containers: dict[str, dict[str, str]] = {k: dict(v) for k, v in (data.get("containers") or {}).items()}
    for scope, pairs in (
        ("resource_group", args.resource_group_tag),
        ("subscription", args.subscription_tag),
        ("account", args.account_tag),
    ):
        if pairs:
            containers[scope] = {**containers.get(scope, {}), **dict(pairs)}
    resources: dict[str, dict[str, str]] = {k: dict(v) for k, v in (data.get("resources") or {}).items()}
    if args.resource_tag:
        resources["*"] = dict(args.resource_tag)
    return _AnyResource(principal=principal, containers=containers, resources=resources)


class _AnyResource(StaticLookups):
    """`--resource-tag` applies to whichever resource the event names."""

    def resource_tags(self, provider: Any, resource: Any) -> Any:
        return self.resources.get(resource.id, self.resources.get("*"))


def _explain(args: argparse.Namespace, out: TextIO) -> int:
    rules = load_rules(args.rules)
    raw = _read_json(args.event)
    reports = explain_events(raw, rules, _lookups(args))
    if args.format == "json":
        payload: Any = reports if isinstance(raw, list) or len(reports) != 1 else reports[0]
        json.dump(payload, out, indent=2)
        out.write("\n")
    else:
        out.write(render_text(reports))
    return EXIT_OK


def _catalogue(args: argparse.Namespace, out: TextIO) -> int:
    from tagwarden.normalize.aws.catalogue import ENTRIES

    services = sorted({e.service for e in ENTRIES})
    if args.format == "json":
        rows = [
            {"event_source": e.source, "event_name": e.event, "creates": [c.type for c in e.creates]}
            for e in ENTRIES
        ]
        json.dump(
            {"provider": "aws", "events": len(ENTRIES), "services": len(services), "entries": rows},
            out,
            indent=2,
        )
        out.write("\n")
        return EXIT_OK
    for e in sorted(ENTRIES, key=lambda e: (e.service, e.event)):
        out.write(f"{e.service:<24} {e.event:<44} {', '.join(c.type for c in e.creates)}\n")
    out.write(f"{len(ENTRIES)} create events across {len(services)} services\n")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
