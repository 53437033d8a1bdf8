"""Durations in a rules file: the scanner against the grammar it replaced (a regex, kept here as
the reference: `(\\d+)d` then `h`, `m`, `s`, each optional, in order, at least one)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tagwarden.rules.durations import parse_duration

GRAMMAR = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def reference(value: str) -> int | None:
    m = GRAMMAR.fullmatch(value.strip())
    if not m or not any(m.groups()):
        return None
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("30m", 1800), ("24h", 86400), ("7d", 604800), ("1h30m", 5400), (" 2d3s ", 172803),
     ("0s", 0), ("1h1h", None), ("30m1h", None), ("h", None), ("5", None), ("", None), ("1 h", None)],
)  # fmt: skip
def test_durations(text: str, seconds: int | None) -> None:
    assert parse_duration(text) == seconds


def test_numbers_and_other_types() -> None:
    assert parse_duration(90) == 90
    assert parse_duration(-1) is None
    assert parse_duration(True) is None
    assert parse_duration(None) is None


@given(st.text(alphabet="0123456789dhms x\u0661", max_size=12))
def test_the_scanner_reads_what_the_grammar_reads(text: str) -> None:
    assert parse_duration(text) == reference(text)
