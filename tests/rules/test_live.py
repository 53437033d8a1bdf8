"""Live rules: the last good version stays in force, a valid new one is swapped in after max_age of
the injected clock, a broken one is rejected once (located errors), an unchanged one is not
compiled again."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tagwarden.ledger.records import rules_hash
from tagwarden.rules import RulesError, load_rules_text
from tagwarden.rules.live import Fetched, LiveRules, Rebuilt, max_age_from_env
from tagwarden.rules.model import RuleSet

from conftest import EXAMPLE_RULES

GOOD = EXAMPLE_RULES.read_text()
OTHER = GOOD.replace('agent-fleet-support: "101"', 'agent-fleet-support: "205"')
BAD_YAML = GOOD + "tags: [unclosed\n"
BAD_REGEX = GOOD.replace("pattern: '^OUT-[0-9]{3,8}$'", "pattern: '^(?=OUT)OUT-[0-9]+$'")  # RE2 cannot


class Store:
    """A feed over a value the test changes (the port S3, SSM and AppConfig implement)."""

    name = "s3://rules/tagwarden.yaml"

    def __init__(self, text: str) -> None:
        self.text, self.version, self.reads, self.down = text, 1, 0, False

    def put(self, text: str) -> None:
        self.text, self.version = text, self.version + 1

    def fetch(self) -> Fetched:
        self.reads += 1
        if self.down:
            raise ConnectionError("store unreachable")
        return Fetched(self.text, str(self.version))


class Sink:
    def __init__(self) -> None:
        self.logs: list[tuple[str, str, dict[str, Any]]] = []
        self.counts: list[str] = []

    def log(self, level: str, message: str, **fields: Any) -> None:
        self.logs.append((level, message, fields))

    def count_rules(self, outcome: str) -> None:
        self.counts.append(outcome)

    def errors(self) -> list[tuple[str, dict[str, Any]]]:
        return [(m, f) for level, m, f in self.logs if level == "error"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Compiler:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, text: str, name: str) -> RuleSet:
        self.calls += 1
        return load_rules_text(text, name, {})


def cost_center(rules: RuleSet) -> str:
    (source,) = [s for s in rules.tags["CostCenter"].sources if s.mapping]
    return str(source.mapping["agent-fleet-support"])


@pytest.fixture
def world() -> tuple[Store, Sink, Clock, Compiler, LiveRules]:
    store, sink, clock, compiler = Store(GOOD), Sink(), Clock(), Compiler()
    return store, sink, clock, compiler, LiveRules(store, compiler, sink, 60, clock)


def test_a_new_version_is_in_force_after_max_age_not_before(world: Any) -> None:
    store, sink, clock, _, live = world
    first = live.current()
    assert cost_center(first.rules) == "101" and first.digest == rules_hash(GOOD) and first.version == "1"
    store.put(OTHER)
    clock.now += 59
    assert live.current() is first  # still cached: the store is not read
    assert store.reads == 1
    clock.now += 1
    now = live.current()
    assert cost_center(now.rules) == "205"
    assert now.digest == rules_hash(OTHER) and now.version == "2" and now.source == Store.name
    assert sink.counts == ["reloaded"]
    assert sink.logs[-1][1] == "rules reloaded" and sink.logs[-1][2]["previous_digest"] == first.digest


@pytest.mark.parametrize("broken", [BAD_YAML, BAD_REGEX], ids=["yaml", "unsafe-regex"])
def test_a_broken_version_is_rejected_once_and_the_last_good_stays(world: Any, broken: str) -> None:
    store, sink, clock, compiler, live = world
    good = live.current()
    store.put(broken)
    for _ in range(5):  # five checks (and many events between them) see the same broken version
        clock.now += 61
        assert live.current() is good
    assert sink.counts == ["rejected"]  # once per bad version, not once per check or event
    assert compiler.calls == 2  # the first load and the broken version, once
    ((message, fields),) = sink.errors()
    assert message == "rules rejected: the rules in force stay"
    assert fields["source"] == Store.name and fields["version"] == "2"
    assert fields["in_force_digest"] == good.digest and fields["digest"] == rules_hash(broken)
    # located: the source name and a line number, from the loader
    assert fields["errors"] and all(re.match(rf"{re.escape(Store.name)}:\d+", e) for e in fields["errors"])
    # a fixed version is taken at the next check
    store.put(OTHER)
    clock.now += 61
    assert cost_center(live.current().rules) == "205"
    assert sink.counts == ["rejected", "reloaded"]
    # the same broken text published again later is a new mistake: reported again, once
    store.put(broken)
    for _ in range(3):
        clock.now += 61
        assert cost_center(live.current().rules) == "205"
    assert sink.counts == ["rejected", "reloaded", "rejected"]


def test_an_unchanged_text_is_not_compiled_again(world: Any) -> None:
    store, sink, clock, compiler, live = world
    first = live.current()
    store.put(GOOD)  # a new version label, the same text
    clock.now += 61
    assert live.current() is first
    assert compiler.calls == 1 and store.reads == 2 and sink.counts == []


def test_an_unreadable_store_keeps_the_rules_in_force(world: Any) -> None:
    store, sink, clock, _, live = world
    good = live.current()
    store.down = True
    clock.now += 61
    assert live.current() is good
    ((message, fields),) = sink.errors()
    assert message == "rules unreadable: the rules in force stay"
    assert "store unreachable" in fields["error"] and sink.counts == ["unreadable"]
    clock.now += 10
    live.current()
    assert store.reads == 2  # asked again only after max_age, not at every event


def test_a_broken_first_version_fails_loudly() -> None:
    sink = Sink()
    with pytest.raises(RulesError):
        LiveRules(Store(BAD_YAML), Compiler(), sink, 60, Clock())
    assert sink.counts == ["rejected"]
    assert sink.errors()[0][0] == "rules rejected: no rules in force"
    down = Store(GOOD)
    down.down = True
    with pytest.raises(ConnectionError):
        LiveRules(down, Compiler(), sink, 60, Clock())
    assert sink.counts == ["rejected", "unreadable"]


def test_what_is_built_from_the_rules_is_rebuilt_on_a_new_version_only(world: Any) -> None:
    store, sink, clock, _, live = world
    builds: list[str] = []

    def build(loaded: Any) -> str:
        builds.append(loaded.digest)
        if cost_center(loaded.rules) == "310":
            raise ValueError("cannot wire these rules")
        return cost_center(loaded.rules)

    built = Rebuilt(live, build)
    assert built.get() == "101" and built.get() == "101" and len(builds) == 1
    store.put(OTHER)
    clock.now += 61
    assert built.get() == "205" and len(builds) == 2
    # valid rules the adapter cannot wire: the previous build stays, said once
    store.put(GOOD.replace('agent-fleet-support: "101"', 'agent-fleet-support: "310"'))
    clock.now += 61
    assert built.get() == "205" and built.get() == "205" and len(builds) == 3
    assert sink.errors()[-1][0] == "rules not applied: the rules in force stay"


def test_max_age_is_whole_positive_seconds() -> None:
    assert max_age_from_env({}) == 60 and max_age_from_env({"TAGWARDEN_RULES_MAX_AGE": "15"}) == 15
    for bad in ("0", "-1", "1m"):
        with pytest.raises(ValueError, match="TAGWARDEN_RULES_MAX_AGE"):
            max_age_from_env({"TAGWARDEN_RULES_MAX_AGE": bad})
