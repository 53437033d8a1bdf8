"""`tagwarden`: rules, offline decisions, replay of history, guardrails, the ledger and showback.

Each command is a module with `register(subparsers)`; the module's `run(args, out, err)` is set as
the parser's default. A new command is a new module and one line in COMMANDS.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from tagwarden.cli.common import EPILOG, EXIT_INPUT, EXIT_RULES, InputError

# The command modules, in the order `tagwarden --help` lists them.
COMMANDS: tuple[str, ...] = (
    "tagwarden.cli.rules_cmd",
    "tagwarden.cli.explain_cmd",
    "tagwarden.cli.replay",
    "tagwarden.cli.catalogue_cmd",
    "tagwarden.cli.policy",
    "tagwarden.cli.brake",
    "tagwarden.cli.ledger_cmd",
    "tagwarden.llm.cli",
    "tagwarden.showback.cli",
    "tagwarden.cli.completion",
)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tagwarden")
    except PackageNotFoundError:  # running from a source tree without an install
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tagwarden",
        description="Tag every cloud resource the moment it is created, or act on it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tagwarden {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = build_parser().parse_args(argv)
    from tagwarden.normalize import MalformedEvent
    from tagwarden.rules import RulesError

    try:
        code: int = args.run(args, out, err)
        out.flush()
    except RulesError as exc:
        print(exc.render(), file=err)
        return EXIT_RULES
    except (InputError, MalformedEvent) as exc:
        print(f"tagwarden: {exc}", file=err)
        return EXIT_INPUT
    except BrokenPipeError:
        return _closed_pipe()
    return code


def _closed_pipe() -> int:
    """The reader went away (`| head`): stop quietly, as Unix tools do, without a traceback
    from the interpreter's final flush (Python's documented recipe)."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    with contextlib.suppress(OSError, ValueError):  # stdout is not a real file (tests)
        os.dup2(devnull, sys.stdout.fileno())
    return 141  # 128 + SIGPIPE, what a shell reports for a writer killed by a closed pipe


def entry() -> Any:  # pragma: no cover - the console script
    raise SystemExit(main())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
