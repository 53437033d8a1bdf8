"""Glob matching (tagwarden.rules.match): the fast paths agree with one case-insensitive regex."""

from __future__ import annotations

import fnmatch
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagwarden.rules.match import compile_globs


# What a list of globs meant before the fast paths: one regex, any pattern matching the whole value.
def reference(patterns: list[str], value: str) -> bool:
    rx = re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns), re.IGNORECASE)
    return rx.match(value) is not None


# ASCII and the letters whose case rules differ from lower(): the Kelvin sign, the long s, dotted I
ALPHABET = "aAbB-*?[]!:/.KkSs\u212a\u017f\u0130i"
PATTERNS = st.lists(st.text(alphabet=ALPHABET, max_size=6), min_size=1, max_size=4)


@given(PATTERNS, st.text(alphabet=ALPHABET, max_size=8))
@settings(max_examples=400, deadline=None, database=None)
def test_globs_match_exactly_as_the_regex_of_them_all(patterns: list[str], value: str) -> None:
    assert compile_globs(patterns).match(value) is reference(patterns, value)


def test_no_patterns_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="no glob patterns"):
        compile_globs([])


def test_plain_names_and_prefixes_compile_no_regex() -> None:
    globs = compile_globs(["aws", "User", "agent-*", "*"])
    assert globs.rest is None
    assert globs.exact == {"aws", "user"} and globs.prefixes == ("agent-", "")
    assert globs.match("AWS") and globs.match("agent-x") and globs.match("")


def test_wildcards_inside_fall_back_to_one_regex() -> None:
    globs = compile_globs(["arn:aws:iam::*:role/BreakGlass*", "x?y", "[ab]c", "plain"])
    assert globs.rest is not None and globs.exact == {"plain"}
    assert globs.match("arn:aws:iam::123:role/breakglass-1")
    assert globs.match("XzY") and globs.match("bc") and not globs.match("cc")
    assert globs.patterns == ("arn:aws:iam::*:role/BreakGlass*", "x?y", "[ab]c", "plain")


def test_non_ascii_values_follow_unicode_case_rules() -> None:
    # the Kelvin sign is an uppercase k to the regex engine, and lower() maps it to "k" too; the
    # long s is an "s" to the regex but not to lower(): both go through the regex
    assert compile_globs(["kelvin"]).match("\u212aelvin")
    assert compile_globs(["s3"]).match("\u017f3")
    assert compile_globs(["s*"]).match("\u017ftuff")
    assert compile_globs(["\u017f3"]).match("s3")  # a pattern outside ASCII: the regex too
