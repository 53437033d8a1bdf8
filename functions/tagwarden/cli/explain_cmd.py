"""`tagwarden explain`: what the rules decide for events, offline, with exit codes scripts can use."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from tagwarden.cli.common import EXIT_FAIL_ON, EXIT_OK, InputError, dump_json, read_json, read_text
from tagwarden.model import Action

LOOKUP_FLAGS = (
    ("--principal-tag", "a tag on the calling principal"),
    ("--resource-group-tag", "a tag on the resource group"),
    ("--subscription-tag", "a tag on the subscription"),
    ("--account-tag", "a tag on the AWS account"),
    ("--resource-tag", "a tag already on the resource (Azure events do not carry them)"),
)
ACTIONS = tuple(a.value for a in Action)


def _kv(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _actions(text: str) -> frozenset[str]:
    names = frozenset(a.strip() for a in text.split(",") if a.strip())
    unknown = sorted(names - set(ACTIONS))
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown action {', '.join(unknown)}; choose from {', '.join(ACTIONS)}"
        )
    return names


def add_rules_and_lookups(parser: argparse.ArgumentParser) -> None:
    """The options `explain` and `replay` share: the rules and the offline answers to lookups."""
    parser.add_argument("--rules", required=True, metavar="FILE", help="the rules file to decide with")
    parser.add_argument(
        "--lookups",
        metavar="FILE",
        help="YAML/JSON answers to cloud lookups: principals, principal_tags, containers, resources",
    )
    for flag, what in LOOKUP_FLAGS:
        parser.add_argument(flag, action="append", type=_kv, default=[], metavar="KEY=VALUE", help=what)
    parser.add_argument(
        "--fail-on",
        type=_actions,
        default=frozenset(),
        metavar="ACTIONS",
        help="exit 4 when any resource gets one of these actions (comma-separated, e.g. quarantine,delete)",
    )


def register(sub: Any) -> None:
    ex = sub.add_parser(
        "explain",
        help="decide, offline, what the rules do with events",
        description="Decide, offline, what the rules do with each event: the tags, where each value "
        "comes from, and the action. Lookups the cloud would answer are taken from --lookups or the "
        "--*-tag flags, or reported as unresolved.",
    )
    add_rules_and_lookups(ex)
    ex.add_argument(
        "--event",
        required=True,
        action="append",
        metavar="FILE",
        help="an event JSON file, or - for standard input; repeat for several",
    )
    ex.add_argument(
        "--format", choices=("json", "text"), default="text", help="output format (default: text)"
    )
    ex.set_defaults(run=run)


def lookups_from(args: argparse.Namespace, tag_names: Any) -> Any:
    from tagwarden.cli.lookups import FileLookups, parse

    lookups = parse(read_text(args.lookups), args.lookups, tag_names) if args.lookups else FileLookups()
    if args.principal_tag:
        lookups.principal = {**(lookups.principal or {}), **dict(args.principal_tag)}
    containers = {k: dict(v) for k, v in lookups.containers.items()}
    for scope, pairs in (
        ("resource_group", args.resource_group_tag),
        ("subscription", args.subscription_tag),
        ("account", args.account_tag),
    ):
        if pairs:
            containers[scope] = {**containers.get(scope, {}), **dict(pairs)}
    lookups.containers = containers
    if args.resource_tag:
        lookups.resources = {**lookups.resources, "*": dict(args.resource_tag)}
    return lookups


def reached(reports: list[dict[str, Any]], fail_on: frozenset[str]) -> list[str]:
    """The resources whose action is one the caller asked to fail on."""
    return [
        f"{d['resource']['id']}: {d['action']}"
        for rep in reports
        for d in rep["decisions"]
        if d["action"] in fail_on
    ]


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.aws.catalogue import user
    from tagwarden.cli.explain import explain_events, render_text
    from tagwarden.rules import load_rules

    rules = load_rules(args.rules)
    try:
        user.index(rules.catalogue)  # the tagger table is the AWS adapter's: checked here, not in rules/
    except ValueError as exc:
        raise InputError(f"{args.rules}: {exc}") from exc
    lookups = lookups_from(args, rules.tags.keys())
    if args.event.count("-") > 1:
        raise InputError("standard input (-) can be read once")
    reports: list[dict[str, Any]] = []
    many = len(args.event) > 1
    for name in args.event:
        raw = read_json(name)
        many = many or isinstance(raw, list)
        reports.extend(explain_events(raw, rules, lookups))
    if args.format == "json":
        dump_json(reports if many or len(reports) != 1 else reports[0], out)
    else:
        out.write(render_text(reports))
    hits = reached(reports, args.fail_on)
    if hits:
        print(f"tagwarden: {len(hits)} resource(s) reached --fail-on: " + "; ".join(hits[:5]), file=err)
        return EXIT_FAIL_ON
    return EXIT_OK
