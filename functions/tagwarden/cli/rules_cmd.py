"""`tagwarden rules check|schema|compile|test`: validate rules files, print their schema, write their
compiled form (read by a deployed function at cold start), run rule tests."""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from tagwarden.cli.common import EXIT_OK, EXIT_RULES, dump_json, read_text
from tagwarden.rules.errors import RulesError, RulesProblem, format_path


def register(sub: Any) -> None:
    rules = sub.add_parser("rules", help="check rules files, print their schema, run rule tests")
    commands = rules.add_subparsers(dest="rules_command", required=True, metavar="SUBCOMMAND")

    check = commands.add_parser(
        "check",
        help="validate rules files; exit 1 listing every error with file, line and key",
        description="Validate rules files. Every problem is reported with its file, line and key path.",
    )
    check.add_argument("files", nargs="+", metavar="FILE", help="a rules file, or - for standard input")
    check.add_argument(
        "--format",
        choices=("text", "json", "sarif"),
        default="text",
        help="text for people, json for scripts, sarif for code-scanning tools (default: text)",
    )
    check.set_defaults(run=run_check)

    schema = commands.add_parser("schema", help="print the rules file's JSON Schema")
    schema.set_defaults(run=run_schema)

    compiled = commands.add_parser(
        "compile",
        help="check rules files and write FILE.compiled.json beside each (what a function reads first)",
        description="Check rules files and write FILE.compiled.json beside each: a deployed function "
        "reads it at cold start instead of the YAML (no PyYAML, no schema) while it is for the same text.",
    )
    compiled.add_argument("files", nargs="+", metavar="FILE", help="a rules file")
    compiled.set_defaults(run=run_compile)

    from tagwarden.cli import rules_test

    rules_test.register(commands)


def run_schema(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.rules.spec import json_schema

    dump_json(json_schema(), out)
    return EXIT_OK


def run_compile(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.rules.compiled import NotCompilable, write_compiled

    failed = False
    for name in args.files:
        try:
            print(f"{name}: wrote {write_compiled(name)}", file=out)
        except RulesError as exc:
            print(exc.render(), file=err)
            failed = True
        except (NotCompilable, OSError) as exc:
            print(f"{name}: not compiled: {exc} (the function will read the YAML)", file=err)
            failed = True
    return EXIT_RULES if failed else EXIT_OK


def run_check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.rules import load_rules_text

    results: list[dict[str, Any]] = []
    problems: list[RulesProblem] = []
    for name in args.files:
        label = "<stdin>" if name == "-" else name
        try:
            rs = load_rules_text(read_text(name), label)
        except RulesError as exc:
            problems.extend(exc.problems)
            results.append({"file": label, "ok": False, "errors": [_problem(p) for p in exc.problems]})
            if args.format == "text":
                print(exc.render(), file=err)
            continue
        summary = {"tags": len(rs.tags), "rules": len(rs.rules), "mode": rs.mode.value}
        results.append({"file": label, "ok": True, "errors": [], "warnings": list(rs.warnings), **summary})
        if args.format == "text":
            for warning in rs.warnings:
                print(f"{label}: warning: {warning}", file=err)
            print(f"{label}: ok ({len(rs.tags)} tags, {len(rs.rules)} rules, mode {rs.mode.value})", file=out)
    if args.format == "json":
        dump_json({"ok": not problems, "files": results}, out)
    elif args.format == "sarif":
        dump_json(sarif(problems), out)
    return EXIT_RULES if problems else EXIT_OK


def _problem(p: RulesProblem) -> dict[str, Any]:
    return {"file": p.file, "line": p.line, "path": format_path(p.path), "message": p.message}


def sarif(problems: list[RulesProblem]) -> dict[str, Any]:
    """SARIF 2.1.0, the format GitHub code scanning and most CI systems annotate pull requests from."""
    results = []
    for p in problems:
        location: dict[str, Any] = {"artifactLocation": {"uri": p.file}}
        if p.line is not None:
            location["region"] = {"startLine": p.line}
        results.append(
            {
                "ruleId": "tagwarden/rules",
                "level": "error",
                "message": {"text": f"{format_path(p.path)}: {p.message}"},
                "locations": [{"physicalLocation": location}],
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "tagwarden",
                        "informationUri": "https://github.com/tagwarden/tagwarden",
                        "rules": [{"id": "tagwarden/rules", "name": "RulesFileProblem"}],
                    }
                },
                "results": results,
            }
        ],
    }


__all__ = ["register", "run_check", "run_compile", "run_schema", "sarif"]
