"""Rules that change without a redeploy: keep the last good rule set, swap on a valid new version.

A `Feed` (the port an adapter implements: S3, SSM, AppConfig, a Blob) returns the rules' current
text. `LiveRules` asks it at most once per `max_age` seconds of its clock, compiles a version only
when its text changed (by digest), and swaps it in only when it compiles. A broken version (YAML,
schema, unsafe regex: the loader's located errors) is rejected and reported once, not once per
event; the rules in force stay. A feed that cannot be read keeps them too. Only the first load may
fail the caller: with no rules at all nothing can be decided, so building the function fails and
the event is left for the platform's retry and dead-letter queue.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

from tagwarden.ledger.records import rules_hash
from tagwarden.model import TagChange
from tagwarden.rules.errors import RulesError
from tagwarden.rules.loaded import Loaded
from tagwarden.rules.model import RuleSet

MAX_AGE_ENV = "TAGWARDEN_RULES_MAX_AGE"  # seconds a version is used before the store is asked again
DEFAULT_MAX_AGE = 60  # a new version decides events within a minute
REMEMBERED_REJECTIONS = 32  # broken versions seen since the last swap: not compiled or reported again


class Fetched(NamedTuple):  # NamedTuples, not dataclasses: cheaper to define at a cold start
    text: str
    version: str = ""  # the store's own label (S3 VersionId or ETag, SSM Version), when it has one


class Feed(Protocol):
    name: str  # where the rules come from, as the operator wrote it: s3://bucket/key, ssm:/name ...

    def fetch(self) -> Fetched: ...


class Sink(Protocol):
    """Structured logs and one metric per outcome (the adapter's Telemetry)."""

    def log(self, level: str, message: str, **fields: Any) -> None: ...

    def count_rules(self, outcome: str) -> None: ...


Compile = Callable[[str, str], RuleSet]  # (text, source name) -> rules; raises RulesError


class LiveRules:
    def __init__(
        self,
        feed: Feed,
        compile_rules: Compile,
        sink: Sink,
        max_age: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.feed = feed
        self.compile = compile_rules
        self.sink = sink
        self.max_age = max_age
        self.clock = clock
        self._rejected: dict[str, None] = {}  # insertion-ordered, bounded
        self._loaded = self._first()
        self._due = self.clock() + max_age

    def _first(self) -> Loaded:
        """The cold start's load: any failure is raised (after its log and metric)."""
        try:
            fetched = self.feed.fetch()
        except Exception as exc:
            self._unreadable(exc, keeping=None)
            raise
        digest = rules_hash(fetched.text)
        try:
            rules = self.compile(fetched.text, self.feed.name)
        except Exception as exc:
            self._reject(fetched, digest, exc, keeping=None)
            raise
        loaded = Loaded(rules, digest, self.feed.name, fetched.version)
        self.sink.log("info", "rules loaded", **_in_force(loaded))
        return loaded

    def current(self) -> Loaded:
        """The rules in force now: re-read when `max_age` has passed since the last check."""
        now = self.clock()
        if now >= self._due:
            self._due = now + self.max_age
            self._refresh()
        return self._loaded

    def _refresh(self) -> None:
        try:
            fetched = self.feed.fetch()
        except Exception as exc:  # the store is unreachable or denies us: the rules in force stay
            self._unreadable(exc, keeping=self._loaded)
            return
        digest = rules_hash(fetched.text)
        if digest == self._loaded.digest or digest in self._rejected:
            return  # unchanged, or a broken version already reported: nothing to compile
        try:
            rules = self.compile(fetched.text, self.feed.name)
        except Exception as exc:
            self._reject(fetched, digest, exc, keeping=self._loaded)
            return
        previous = self._loaded
        self._loaded = Loaded(rules, digest, self.feed.name, fetched.version)
        self._rejected.clear()  # a broken version published again after this one is reported again
        self.sink.log("info", "rules reloaded", **_in_force(self._loaded), previous_digest=previous.digest)
        self.sink.count_rules("reloaded")

    def _reject(self, fetched: Fetched, digest: str, exc: Exception, keeping: Loaded | None) -> None:
        self._rejected[digest] = None
        while len(self._rejected) > REMEMBERED_REJECTIONS:
            del self._rejected[next(iter(self._rejected))]
        if isinstance(exc, RulesError):  # located: source, line, key path
            problems = [str(p) for p in exc.problems]
        else:
            problems = [f"{type(exc).__name__}: {exc}"]
        self.sink.log(
            "error",
            "rules rejected: the rules in force stay" if keeping else "rules rejected: no rules in force",
            source=self.feed.name,
            version=fetched.version or None,
            digest=digest,
            errors=problems,
            **_keeping(keeping),
        )
        self.sink.count_rules("rejected")

    def _unreadable(self, exc: Exception, keeping: Loaded | None) -> None:
        self.sink.log(
            "error",
            "rules unreadable: the rules in force stay" if keeping else "rules unreadable: no rules in force",
            source=self.feed.name,
            error=f"{type(exc).__name__}: {exc}",
            **_keeping(keeping),
        )
        self.sink.count_rules("unreadable")


def _in_force(loaded: Loaded) -> dict[str, Any]:
    return {"source": loaded.source, "version": loaded.version or None, "digest": loaded.digest}

def _keeping(loaded: Loaded | None) -> dict[str, Any]:
    if loaded is None:
        return {}
    return {"in_force_version": loaded.version or None, "in_force_digest": loaded.digest}


def max_age_from_env(env: Mapping[str, str]) -> int:
    raw = (env.get(MAX_AGE_ENV) or "").strip()
    try:
        seconds = int(raw) if raw else DEFAULT_MAX_AGE
    except ValueError:
        msg = f"{MAX_AGE_ENV}={raw!r}: expected whole seconds (default {DEFAULT_MAX_AGE})"
        raise ValueError(msg) from None
    if seconds < 1:
        raise ValueError(f"{MAX_AGE_ENV}={raw!r}: expected at least 1 second")
    return seconds


T = TypeVar("T")


class Rebuilt(Generic[T]):
    """What is built from the rules in force (an enforcer, a sweeper), rebuilt when they change."""

    def __init__(self, live: LiveRules, build: Callable[[Loaded], T]) -> None:
        self.live = live
        self._build = build
        self._for = live.current()
        self._built = build(self._for)  # at cold start a failure is raised
        self._failed: Loaded | None = None

    def get(self) -> T:
        loaded = self.live.current()
        if loaded is self._for or loaded is self._failed:
            return self._built
        try:
            self._built, self._for = self._build(loaded), loaded
        except Exception as exc:  # valid rules the adapter cannot wire: the previous build stays, said once
            self._failed = loaded
            self.live.sink.log(
                "error",
                "rules not applied: the rules in force stay",
                **_in_force(loaded),
                error=f"{type(exc).__name__}: {exc}",
                in_force_digest=self._for.digest,
            )
            self.live.sink.count_rules("rejected")
        return self._built


class _Handles(Protocol):
    def handle(self, raw: Any) -> dict[str, Any]: ...


class _Sweeps(Protocol):
    def run(self) -> dict[str, Any]: ...

    def release_now(self, changes: Sequence[TagChange]) -> dict[str, Any]: ...


E = TypeVar("E", bound=_Handles)
S = TypeVar("S", bound=_Sweeps)


class LiveEnforcer(Generic[E]):
    """An enforcer's `handle` with the rules in force at each delivery."""

    def __init__(self, built: Rebuilt[E]) -> None:
        self.built = built

    @property
    def current(self) -> E:
        return self.built.get()

    def handle(self, raw: Any) -> dict[str, Any]:
        return self.built.get().handle(raw)


class LiveSweeper(Generic[S]):
    """A sweeper's `run` and `release_now` with the rules in force: a delete is judged by the
    current rules, never by the version the container started with."""

    def __init__(self, built: Rebuilt[S]) -> None:
        self.built = built

    @property
    def current(self) -> S:
        return self.built.get()

    def run(self) -> dict[str, Any]:
        return self.built.get().run()

    def release_now(self, changes: Sequence[TagChange]) -> dict[str, Any]:
        return self.built.get().release_now(changes)
