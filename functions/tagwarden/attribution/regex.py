"""User regexes (a tag's `pattern`, a source's `pattern`) run on RE2, whose time is linear in the
value whatever the pattern. Python's backtracking engine takes exponential time on patterns such
as `^([a-z0-9]+-?)+$` against a crafted value: a session name an agent chooses could stall the
enforcer to its timeout. RE2 has no lookaround, backreferences, atomic groups or possessive
quantifiers (those are what need backtracking), so `rules check` rejects them with the reason.

Differences from Python's `re` worth knowing: `\\d`, `\\w`, `\\s` and `\\b` are ASCII-only; `\\Z` is
written `\\z` (or `$`); a repetition count is at most 1000.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import re2

_OPTIONS = re2.Options()
_OPTIONS.log_errors = False  # RE2 would print every rejected pattern on stderr


class Match(Protocol):
    @property
    def re(self) -> Pattern: ...

    def group(self, group: int | str = 0, /) -> str | None: ...


class Pattern(Protocol):
    """What the core reads off a compiled user pattern (both `re` and RE2 patterns fit)."""

    @property
    def pattern(self) -> str: ...

    @property
    def groups(self) -> int: ...

    @property
    def groupindex(self) -> Mapping[str, int]: ...

    def fullmatch(self, string: str, /) -> Match | None: ...

    def search(self, string: str, /) -> Match | None: ...


class UnsafePattern(ValueError):
    """A pattern RE2 cannot run; the message names the construct, where it is, and why."""


# RE2's error text starts with the offending operator; each maps to a name people know.
_CONSTRUCTS: tuple[tuple[str, str], ...] = (
    ("(?<=", "lookbehind"),
    ("(?<!", "negative lookbehind"),
    ("(?=", "lookahead"),
    ("(?!", "negative lookahead"),
    ("(?>", "atomic group"),
    ("(?P=", "named backreference"),
    ("(?(", "conditional group"),
)
_BACKTRACKING = (
    "only a backtracking engine can run it, and a backtracking engine can take exponential time on a "
    "crafted value; tagwarden runs patterns on RE2, in linear time: rewrite the pattern without it"
)


def _explain(pattern: str, error: str) -> str:
    operator = error.rpartition(": ")[2]
    if operator == "(?P":  # RE2 accepts (?P<name>...); what it stops at is (?P=name)
        operator = "(?P="
    where = pattern.find(operator) if operator else -1
    at = f" at position {where}" if where >= 0 else ""
    for prefix, name in _CONSTRUCTS:
        if operator.startswith(prefix):
            return f"uses a {name} {operator!r}{at}: {_BACKTRACKING}"
    if error.startswith("bad repetition operator"):
        return f"uses a possessive quantifier {operator!r}{at}: {_BACKTRACKING}"
    if error.startswith("invalid escape sequence") and operator[1:2].isdigit():
        return f"uses a backreference {operator!r}{at}: {_BACKTRACKING}"
    if operator == "\\Z":
        return f"uses '\\Z'{at}, which RE2 (the linear-time engine tagwarden uses) writes '\\z' (or '$')"
    if error.startswith("invalid repetition size"):
        return f"repeats more than 1000 times ({operator!r}{at}), which RE2 does not allow"
    return f"is not supported by RE2, the linear-time engine tagwarden uses: {error}"


def compile_user(pattern: str) -> Pattern:
    """Compile a pattern from a rules file; UnsafePattern says why RE2 cannot run it."""
    try:
        compiled: Pattern = re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        raw = exc.args[0] if exc.args else b""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        raise UnsafePattern(_explain(pattern, text)) from None
    return compiled
