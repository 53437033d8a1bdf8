"""`tagwarden llm import bedrock-logs PATH | openai-usage FILE --ledger L`: usage records from the
platforms' own logs into a ledger.

Exit codes: 0 imported; 2 input we cannot read (the message names the file and line).
The command module of `tagwarden.cli.main` (register / run).
"""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from tagwarden.cli.common import EXIT_OK, InputError


def register(subparsers: Any) -> None:
    llm = subparsers.add_parser(
        "llm", help="model-call usage: import the platforms' usage logs"
    ).add_subparsers(dest="llm_command", required=True)
    imp = llm.add_parser("import", help="import usage records into a ledger").add_subparsers(
        dest="llm_source", required=True
    )
    bedrock = imp.add_parser(
        "bedrock-logs",
        help="Bedrock model invocation logs (S3 .json.gz objects, or CloudWatch Logs JSON)",
    )
    bedrock.add_argument("path", metavar="PATH", help="a log file, or a folder of them")
    openai = imp.add_parser(
        "openai-usage", help="saved responses of the OpenAI organization Usage API (completions)"
    )
    openai.add_argument("path", metavar="FILE")
    openai.add_argument(
        "--map",
        metavar="FILE",
        help="YAML/JSON: projects: {proj_id: {Agent-ID: ..}}, api_keys: {key_id: {..}} (default: ids as-is)",
    )
    for p in (bedrock, openai):
        p.add_argument("--ledger", required=True, metavar="FILE", help="the SQLite ledger to write to")
        p.add_argument("--format", choices=("json", "text"), default="text")
        p.set_defaults(run=run_llm)


def run_llm(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.ledger.sqlite import SqliteLedger
    from tagwarden.llm.importers import ImportError_, read_bedrock_logs, read_openai_usage

    try:
        if args.llm_source == "bedrock-logs":
            records = list(read_bedrock_logs(args.path))
        else:
            records = list(read_openai_usage(args.path, _mapping(args.map)))
    except ImportError_ as exc:
        raise InputError(str(exc)) from exc
    ledger = SqliteLedger(args.ledger)
    try:
        new = ledger.add_usage(records)
    finally:
        ledger.close()
    tokens = sum(r.quantities.get("input_tokens", 0) + r.quantities.get("output_tokens", 0) for r in records)
    agents = sorted({r.attribution.get("Agent-ID", "") for r in records} - {""})
    if args.format == "json":
        doc = {"read": len(records), "new": new, "tokens": tokens, "agents": agents, "ledger": args.ledger}
        json.dump(doc, out)
        out.write("\n")
    else:
        print(
            f"{args.path}: {len(records)} usage records ({new} new, {tokens:,.0f} input+output tokens, "
            f"{len(agents)} agents) -> {args.ledger}",
            file=out,
        )
    return EXIT_OK


def _mapping(path: str | None) -> dict[str, Any] | None:
    if not path:
        return None
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read mapping {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping with projects: and/or api_keys:")
    return data
