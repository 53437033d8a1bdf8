"""User patterns run on RE2: linear time, and what RE2 cannot run is refused with the reason."""

from __future__ import annotations

import textwrap

import pytest

from tagwarden.attribution.regex import UnsafePattern, compile_user
from tagwarden.aws.normalize import READER
from tagwarden.decide import decide
from tagwarden.model import Action
from tagwarden.normalize import route
from tagwarden.rules import RulesError, load_rules_text
from tagwarden_testing import events as ev

# The pattern: nested quantifiers. On a backtracking engine a value that almost matches
# takes ~4x longer per 2 characters (26 characters: 4.5 s); a session name may have 64.
EVIL = r"^([a-z0-9]+-?)+$"
EVIL_VALUE = "a" * 63 + "!"


def test_nested_quantifiers_complete_on_a_64_character_value() -> None:
    rx = compile_user(EVIL)
    assert rx.fullmatch(EVIL_VALUE) is None
    assert rx.search(EVIL_VALUE) is None
    assert rx.fullmatch("a" * 64) is not None


def test_the_evil_pattern_as_tag_and_session_pattern_decides_on_a_64_character_session() -> None:
    rules = load_rules_text(
        textwrap.dedent(
            f"""\
            version: 1
            mode: enforce
            tags:
              Agent-ID:
                pattern: '{EVIL}'
                sources:
                  - actor: session_name
                    pattern: '(?P<value>{EVIL[1:-1]})$'
            defaults:
              on_missing: tag-unallocated
            """
        ),
        env={},
    )
    (event,) = route(ev.eventbridge(ev.run_instances(identity=ev.assumed_role(session=EVIL_VALUE))), READER)
    (decision, *_) = decide(event, rules)
    assert decision.action is Action.TAG_UNALLOCATED  # decided, no value: the session does not fit
    (good,) = route(ev.eventbridge(ev.run_instances(identity=ev.assumed_role(session="a" * 64))), READER)
    (decision, *_) = decide(good, rules)
    assert decision.tags == {"Agent-ID": "a" * 64}


def test_named_group_value_is_kept() -> None:
    m = compile_user(r"agent-(?P<value>\d+)").search("fleet/agent-42")
    assert m is not None
    assert m.group("value") == "42"
    assert m.re.groupindex == {"value": 1}


@pytest.mark.parametrize(
    ("pattern", "construct", "position"),
    [
        (r"^agent-(?=\d)\d+$", "lookahead '(?='", 7),
        (r"^(?!admin)\w+$", "negative lookahead '(?!'", 1),
        (r"(?<=agent-)\d+", "lookbehind '(?<='", 0),
        (r"(?<!x)y", "negative lookbehind '(?<!'", 0),
        (r"(a)\1", "backreference '\\\\1'", 3),
        (r"(?P<v>a)(?P=v)", "named backreference '(?P='", 8),
        (r"(?>a+)b", "atomic group '(?>'", 0),
        (r"a++b", "possessive quantifier '++'", 1),
    ],
)
def test_constructs_re2_cannot_run_are_named_with_position_and_reason(
    pattern: str, construct: str, position: int
) -> None:
    with pytest.raises(UnsafePattern) as info:
        compile_user(pattern)
    msg = str(info.value)
    assert f"uses a {construct} at position {position}:" in msg
    assert "exponential time" in msg
    assert "RE2, in linear time" in msg


def test_rules_check_locates_the_unsafe_pattern() -> None:
    text = textwrap.dedent(
        r"""
        version: 1
        tags:
          Agent-ID:
            sources:
              - actor: session_name
                pattern: '^agent-(?=\d)(?P<value>\d+)$'
          Team:
            pattern: '^([a-z]+)\1$'
            sources:
              - request_tag: Team
        """
    )
    with pytest.raises(RulesError) as info:
        load_rules_text(text, "rules.yaml", env={})
    got = [str(p) for p in info.value.problems]
    assert len(got) == 2
    assert got[0].startswith(
        "rules.yaml:7: tags.Agent-ID.sources[0].pattern: regular expression "
        r"'^agent-(?=\\d)(?P<value>\\d+)$' uses a lookahead '(?=' at position 7:"
    )
    assert got[1].startswith(
        r"rules.yaml:9: tags.Team.pattern: regular expression '^([a-z]+)\\1$' uses a backreference '\\1'"
    )


def test_other_re2_limits_have_their_own_messages() -> None:
    with pytest.raises(UnsafePattern, match=r"writes '\\z' \(or '\$'\)"):
        compile_user(r"abc\Z")
    with pytest.raises(UnsafePattern, match="more than 1000 times"):
        compile_user(r"a{1001}")
