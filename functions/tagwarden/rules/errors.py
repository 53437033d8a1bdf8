"""Errors in a rules file: each names the file, the line and the key path, and says what was expected."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from msgspec import Struct

KeyPath = tuple[str | int, ...]


def format_path(path: KeyPath) -> str:
    """`tags.CostCenter.sources[1].pattern` style, the way people read YAML."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out or "(top level)"


class RulesProblem(Struct, frozen=True):
    file: str
    line: int | None
    path: KeyPath
    message: str
    column: int | None = None  # known for YAML syntax errors

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        if self.line is not None and self.column is not None:
            where += f":{self.column}"
        return f"{where}: {format_path(self.path)}: {self.message}"


class RulesError(Exception):
    """All problems found in one rules file, reported together."""

    def __init__(self, problems: Sequence[RulesProblem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (p.file, p.line or 0, format_path(p.path))))
        super().__init__(self.render())

    def render(self) -> str:
        count = len(self.problems)
        head = f"{count} error{'s' if count != 1 else ''} in rules"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A suffix suggesting the closest known word, or '' when nothing is close."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            close = [lowered[word.lower()]]
    return f"; did you mean '{close[0]}'?" if close else ""
