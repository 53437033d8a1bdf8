"""What every command shares: exit codes, input errors, reading JSON, terminal habits."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, TextIO

# Exit codes, the same for every command (documented in `tagwarden --help`).
EXIT_OK = 0  # done: decided, deliberately skipped, written
EXIT_RULES = 1  # invalid rules, or a rules test that failed
EXIT_INPUT = 2  # input we cannot read, or a bad command line (argparse's own code)
EXIT_GUARDRAILS = 3  # guardrails cannot be made as asked
EXIT_FAIL_ON = 4  # `--fail-on`: a decision the caller asked to fail on
EXIT_UNRECONCILED = 5  # showback: the buckets do not add up to the input's totals

EPILOG = """exit codes:
  0  done (decided, deliberately skipped, written)
  1  invalid rules, or rules tests that failed
  2  input that cannot be read, or a bad command line
  3  guardrails cannot be made as asked
  4  a decision named by --fail-on was reached
  5  showback's buckets do not add up to the input's totals
  6  a brake could not be released (tagwarden brake release)"""


class InputError(Exception):
    """Input the user gave that we cannot read (exit 2)."""


def read_text(name: str) -> str:
    """A file's text, or standard input for `-`."""
    try:
        return sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {name}: {exc}") from exc


def read_json(name: str) -> Any:
    text = read_text(name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from exc


def is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def use_color(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return is_terminal(stream) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def dump_json(payload: Any, out: TextIO) -> None:
    json.dump(payload, out, indent=2, sort_keys=False)
    out.write("\n")
