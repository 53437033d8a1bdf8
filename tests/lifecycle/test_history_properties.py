"""A property over random histories: the lifecycle never deletes what it must not.

On the pure core (Enforcer + SweepActions) with an in-memory cloud and a SqliteLedger, random
sequences of create (by agents or an exempt role, with or without forged `tagwarden:*` tags in the
request), tag, untag, copy-tags (markers included), operator protection, rules changes
(quarantine <-> notify), enforcer clock skew, redelivered events and failed tag writes, deletes
outside tagwarden followed by a create of the same id (a name) a minute later (with or without an
idempotency token of its own), an SDK resending a create with its token (a retry: a new event,
stamped later, answered with the first call's resource), replays of any earlier create event, and
sweeps at random later times. Every deletion is checked when it happens:
the resource was quarantined by tagwarden's own event processing (a ledger record of a delivered
event, moved to `deleted` by the sweeper), is not released, not protected by an operator now, not
exempt, not compliant, the current rules still quarantine it, and its grace period (its own, from
its own create, whatever the id's earlier resource had) has passed on the real clock. Every
quarantine is checked too: never of a resource released since its create.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagwarden.attribution.context import StaticLookups
from tagwarden.aws.normalize import READER
from tagwarden.aws.text import AWS_TEXT
from tagwarden.enforce import Enforcer, TagWriteFailed
from tagwarden.guards import OwnIdentity
from tagwarden.ledger.model import LifecycleState
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.ledger.state import cloud_time
from tagwarden.lifecycle.ports import ActionResult, Status
from tagwarden.lifecycle.sweeper import SweepActions
from tagwarden.model import Resource
from tagwarden.rules import load_rules_text
from tagwarden.rules.model import RuleSet
from tagwarden.tagging import Outcome, TagResult, TagWrite

import builders as b
from conftest import EXAMPLE_RULES

HOUR = 3600.0
T0 = 1_800_000_000.0
GRACE = 4 * HOUR
FIXED = {"Agent-ID": "13", "CostCenter": "101", "Outcome-ID": "OUT-1234"}
QUARANTINE_RULES = EXAMPLE_RULES.read_text() + "lifecycle:\n  delete_dry_run: false\n"
NOTIFY_RULES = QUARANTINE_RULES.replace(
    "    on_missing: quarantine\n    grace: 4h\n", "    on_missing: notify\n", 1
)


class Log:
    def correlate(self, event_id: str) -> None: ...
    def log(self, level: str, message: str, **fields: Any) -> None: ...
    def count_events(self, n: int) -> None: ...
    def count_resource(self, action: Any, outcome: Any) -> None: ...
    def count_skip(self, kind: Any) -> None: ...
    def count_failure(self, error: str) -> None: ...
    def count_action(self, action: str, status: Any) -> None: ...
    def observe_lag(self, seconds: float) -> None: ...


@dataclass
class Cloud:
    """Instances with tags and a power state; what the quarantiner and the writer act on."""

    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    power: dict[str, str] = field(default_factory=dict)
    exempt: set[str] = field(default_factory=set)  # created by the BreakGlass role
    protected_by_operator: set[str] = field(default_factory=set)
    released: set[str] = field(default_factory=set)
    created_at: dict[str, float] = field(default_factory=dict)  # the real time of the create
    deleted: list[str] = field(default_factory=list)
    fail_writes: bool = False
    check: Any = None  # called before each real delete

    def write(self, writes: Sequence[TagWrite], region: str | None) -> list[TagResult]:
        out = []
        for w in writes:
            if self.fail_writes or w.resource.id not in self.power:
                outcome = Outcome.FAILED if self.fail_writes else Outcome.VANISHED
                out.append(TagResult(w.resource, outcome, {}, 1, "injected"))
                continue
            self.tags[w.resource.id].update(w.tags)
            out.append(TagResult(w.resource, Outcome.TAGGED, dict(w.tags), 1, None))
        return out

    def current(self, resource: Resource) -> Mapping[str, str] | None:
        return self.tags.get(resource.id)

    # the Quarantiner port
    def quarantine(self, resource: Resource, *, dry_run: bool) -> ActionResult:
        if resource.id not in self.power:
            return ActionResult(resource, "quarantine", Status.VANISHED)
        assert dry_run or resource.id not in self.released, "a released resource quarantined again"
        undo = f"state={self.power[resource.id]}"
        if not dry_run:
            self.power[resource.id] = "stopped"
        return ActionResult(resource, "quarantine", Status.DRY_RUN if dry_run else Status.DONE, undo=undo)

    def release(self, resource: Resource, undo: str, *, dry_run: bool) -> ActionResult:
        if not dry_run and resource.id in self.power:
            self.power[resource.id] = undo.split("=", 1)[1]
        self.released.add(resource.id)
        return ActionResult(resource, "release", Status.DONE)

    def delete(self, resource: Resource, *, dry_run: bool) -> ActionResult:
        if dry_run:
            return ActionResult(resource, "delete", Status.DRY_RUN)
        if resource.id not in self.power:
            return ActionResult(resource, "delete", Status.VANISHED)
        self.check(resource.id)
        self.deleted.append(resource.id)
        del self.power[resource.id], self.tags[resource.id]
        return ActionResult(resource, "delete", Status.DONE)


class Sweeper(SweepActions):
    def __init__(self, rules: RuleSet, ledger: SqliteLedger, cloud: Cloud) -> None:
        self.rules, self.ledger, self.quarantiner, self.telemetry = rules, ledger, cloud, Log()
        self.provider, self.cloud, self.notifier, self.text = "aws", cloud, None, AWS_TEXT

    def _read(self, records: Sequence[Any]) -> list[Any]:
        from tagwarden.lifecycle.sweep import Found

        return [
            Found(
                r,
                Resource(r.resource_id, r.type),
                dict(self.cloud.tags[r.resource_id]) if r.resource_id in self.cloud.tags else None,
            )
            for r in records
        ]

    def _remove_marker(self, resource: Resource, tags: Mapping[str, str], keys: Any) -> bool:
        for key in keys:
            self.cloud.tags.get(resource.id, {}).pop(key, None)
        return True

    def _write_tags(self, resource: Resource, tags: Mapping[str, str]) -> None:
        self.cloud.tags.get(resource.id, {}).update(tags)


ids = st.integers(min_value=1, max_value=2)  # few ids: steps meet the same resource often
tokened = st.sampled_from([False, True])  # the create carries an idempotency token (a new one)
create = st.tuples(
    st.just("create"),
    ids,
    st.sampled_from([False, False, True]),
    st.sampled_from(["none", "forged", "fixed", "protect"]),
    tokened,
)
sweep_ = st.tuples(st.just("sweep"), st.sampled_from([0.0, HOUR, 3 * HOUR, 5 * HOUR, 30 * HOUR]))
skew = st.tuples(st.just("skew"), st.sampled_from([-10 * HOUR, 0.0, 3 * HOUR]))
any_step = st.one_of(
    create,
    sweep_,
    st.tuples(st.just("tag"), ids),
    st.tuples(st.just("untag"), ids),
    st.tuples(st.just("copy"), ids, ids),
    st.tuples(st.just("protect"), ids),
    st.tuples(st.just("rules"), st.booleans()),
    skew,
    st.tuples(st.just("retry"), st.booleans()),
    st.tuples(
        st.just("recreate"),
        ids,
        st.sampled_from([False, False, True]),
        st.sampled_from(["none", "fixed"]),
        tokened,
    ),
    st.tuples(st.just("replay"), st.integers(min_value=0, max_value=7)),
    st.tuples(st.just("resend"), ids),
)
# creates first and sweeps last (anything in between and around), so that most histories reach a
# deletion the checks then judge
steps = st.tuples(
    st.lists(st.one_of(create, create, skew), min_size=1, max_size=4),
    st.lists(any_step, max_size=20),
    st.lists(
        st.tuples(st.just("sweep"), st.sampled_from([HOUR, 5 * HOUR, 30 * HOUR])), min_size=1, max_size=3
    ),
).map(lambda parts: [*parts[0], *parts[1], *parts[2]])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_never_deletes_what_it_must_not(history: list[tuple[Any, ...]]) -> None:
    # the cloud stand-in asserts at each deletion that it was allowed; here, that nothing is deleted twice
    cloud = play(history)
    assert len(cloud.deleted) == len(set(cloud.deleted))


def test_the_checks_see_real_deletions() -> None:
    """The control: an agent's unattributed instance is deleted after its grace (so the property
    above judges deletions that do happen), and the same with a forged request, a retry and skew."""
    one = play([("create", 1, False, "none"), ("sweep", 5 * HOUR)])
    assert one.deleted == ["arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000001"]
    two = play(
        [("skew", -10 * HOUR), ("create", 2, False, "forged"), ("retry", True), ("retry", False),
         ("sweep", HOUR), ("sweep", 5 * HOUR)]
    )  # fmt: skip
    assert two.deleted == ["arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000002"]
    kept = play(
        [("create", 3, False, "none"), ("tag", 3), ("sweep", 5 * HOUR), ("untag", 3), ("sweep", 30 * HOUR)]
    )
    assert kept.deleted == [] and kept.released
    assert play([("create", 1, False, "none"), ("protect", 1), ("sweep", 30 * HOUR)]).deleted == []
    assert play([("create", 1, False, "none"), ("rules", False), ("sweep", 30 * HOUR)]).deleted == []


def test_a_resource_created_again_under_its_id_gets_its_own_lifecycle() -> None:
    """The controls of the re-creation steps: each ends as a new resource's lifecycle would."""
    h = History()
    h.play(
        [
            ("create", 1, False, "none"),
            ("sweep", 3 * HOUR),
            ("recreate", 1, False, "none"),
            ("sweep", 2 * HOUR),
        ]
    )
    assert h.cloud.deleted == []  # past the first one's deadline, within the second's grace
    h.play([("sweep", 3 * HOUR)])
    assert h.cloud.deleted == [arn(1)]  # its own grace passed
    released = play(
        [("create", 2, False, "none"), ("tag", 2), ("sweep", HOUR), ("recreate", 2, False, "none")]
    )
    assert released.power[arn(2)] == "stopped"  # released, then a new one untagged: quarantined
    exempt = play([("create", 2, False, "none"), ("recreate", 2, True, "none"), ("sweep", 30 * HOUR)])
    assert exempt.deleted == [] and exempt.power[arn(2)] == "running"  # the new one is exempt
    replayed = play(
        [("create", 1, False, "none"), ("tag", 1), ("sweep", HOUR), ("replay", 0), ("sweep", 30 * HOUR)]
    )
    assert replayed.deleted == [] and replayed.power[arn(1)] == "running"


def test_a_resent_create_is_a_retry_and_a_new_token_a_new_resource() -> None:
    """The controls of the token steps. The SDK resending a released resource's create with its
    token renews nothing (the cloud stand-in refuses to quarantine a released resource); the id
    created again with a token of its own is a new resource, quarantined and deleted on its grace."""
    h = History()
    h.play([("create", 1, False, "none", True), ("tag", 1), ("sweep", HOUR), ("resend", 1)])
    assert h.cloud.power[arn(1)] == "running" and arn(1) in h.cloud.released
    kept = h.ledger.get("aws", arn(1))
    assert kept is not None and kept.state is LifecycleState.RELEASED and kept.idempotency_token == "token-1"
    h.play([("recreate", 1, False, "none", True)])
    renewed = h.ledger.get("aws", arn(1))
    assert renewed is not None and renewed.idempotency_token == "token-2"
    assert renewed.state is LifecycleState.QUARANTINED and h.cloud.power[arn(1)] == "stopped"
    h.play([("resend", 1), ("sweep", 3 * HOUR)])
    assert h.ledger.get("aws", arn(1)) == renewed and h.cloud.deleted == []  # within its own grace
    h.play([("sweep", 2 * HOUR)])
    assert h.cloud.deleted == [arn(1)]
    # a resend of a quarantined resource's create: the same record, the same deadline
    q = History()
    q.play([("create", 2, False, "none", True), ("sweep", 3 * HOUR), ("resend", 2), ("sweep", 2 * HOUR)])
    assert q.cloud.deleted == [arn(2)]  # at the first create's deadline, not pushed back by the resend


REQUESTS: dict[str, dict[str, str]] = {  # what a create request may carry
    "none": {},
    "forged": {"tagwarden:quarantine": "quarantined", "tagwarden:exempt": "true", "tagwarden:protect": "x"},
    "fixed": dict(FIXED),
    "protect": {"tagwarden:protect": "x"},
}


def arn(n: int) -> str:
    return f"arn:aws:ec2:us-east-1:123456789012:instance/i-{n:017x}"


class History:
    """Plays steps against the in-memory cloud, the enforcer and the sweeper; `check` judges every
    real deletion when it happens."""

    def __init__(self) -> None:
        self.cloud, self.ledger = Cloud(), SqliteLedger()
        self.real, self.skew = T0, 0.0
        self.rules = load_rules_text(QUARANTINE_RULES)
        self.delivered: set[str] = set()
        self.events: list[dict[str, Any]] = []  # every create delivered, for replays
        self.sent: dict[int, dict[str, Any]] = {}  # id -> the last create of it with a token
        self.tokens = 0
        self.last: dict[str, Any] | None = None
        self.cloud.check = self.check

    def enforcer(self) -> Enforcer:
        return Enforcer(
            rules=self.rules, write=self.cloud.write, lookups=StaticLookups, ledger=self.ledger,
            own=OwnIdentity(arns=("arn:aws:iam::*:role/tagwarden-*",)), telemetry=Log(), read=READER,
            text=AWS_TEXT, quarantiner=self.cloud, current_tags=self.cloud.current,
            clock=lambda: self.real + self.skew,
        )  # fmt: skip

    def check(self, rid: str) -> None:
        record = self.ledger.get("aws", rid)
        assert record is not None and record.event_id in self.delivered  # tagwarden's own processing
        assert record.state is LifecycleState.DELETED  # moved by the sweeper just before the call
        assert rid not in self.cloud.released
        # protected by an operator: the protect tag carries the operator's value now (a copy from
        # another resource may overwrite it with a creator's pre-set value, which never counts)
        assert self.cloud.tags[rid].get("tagwarden:protect") != "ops"
        assert rid not in self.cloud.exempt
        assert not all(self.cloud.tags[rid].get(k) == v for k, v in FIXED.items()), "compliant"
        assert self.rules.rules[0].on_missing.value == "quarantine", "the rules no longer quarantine"
        assert self.real >= self.cloud.created_at[rid] + GRACE, "deleted before its grace period"

    def deliver(self, event: dict[str, Any]) -> None:
        with contextlib.suppress(TagWriteFailed):  # a retry comes later, or not
            self.enforcer().handle(event)

    def create(self, n: int, exempt: bool, request: str, tokened: bool = False) -> None:
        rid = arn(n)
        if rid in self.cloud.power or rid in self.cloud.deleted:
            return
        tags = dict(REQUESTS[request])
        role = ("BreakGlass", "oncall") if exempt else ("agent-fleet-adhoc", "agent-13")
        record = b.run_instances(
            tags=tags, identity=b.assumed_role(*role), instances=[(rid.rsplit("/", 1)[1], [])]
        )
        record["eventTime"] = _iso(self.real)  # CloudTrail's clock is the real one
        self.sent.pop(n, None)
        if tokened:  # a new call: a new token (what SDKs draw for each call)
            self.tokens += 1
            record["requestParameters"]["clientToken"] = f"token-{self.tokens}"
            self.sent[n] = record
        self.cloud.tags[rid], self.cloud.power[rid], self.cloud.created_at[rid] = tags, "running", self.real
        if exempt:
            self.cloud.exempt.add(rid)
        self.delivered.add(record["eventID"])
        self.last = b.eventbridge(record)
        self.events.append(self.last)
        self.deliver(self.last)

    def recreate(self, n: int, exempt: bool, request: str, tokened: bool = False) -> None:
        """The resource deleted outside tagwarden and created again under its id a minute later
        (the event is stamped later by CloudTrail): a new resource, released or exempt or not."""
        rid = arn(n)
        if rid not in self.cloud.power:
            return
        del self.cloud.power[rid], self.cloud.tags[rid]
        for mark in (self.cloud.released, self.cloud.exempt, self.cloud.protected_by_operator):
            mark.discard(rid)
        self.real += 60
        self.create(n, exempt, request, tokened)

    def resend(self, n: int) -> None:
        """The SDK resends the last create of the id with its token (a timeout, a throttle): the
        cloud answers with the resource the first call made (it changes nothing), CloudTrail logs
        a new event, stamped 30 s after the first call (an SDK resends within seconds, inside
        RETRY_WINDOW) and delivered now, however late (after sweeps, a release)."""
        first = self.sent.get(n)
        if first is None or arn(n) not in self.cloud.power:
            return
        self.real += 30
        record = {**first, "eventID": str(uuid.uuid4()), "requestID": str(uuid.uuid4())}
        sent_at = cloud_time(first["eventTime"])
        assert sent_at is not None
        record["eventTime"] = _iso(sent_at.timestamp() + 30)
        self.delivered.add(record["eventID"])
        self.deliver(b.eventbridge(record))

    def replay(self, index: int) -> None:
        """An earlier create delivered again (an EventBridge archive replay, a late redelivery)."""
        if self.events:
            self.deliver(self.events[index % len(self.events)])

    def tag(self, n: int) -> None:
        self.cloud.tags.get(arn(n), {}).update(FIXED)

    def untag(self, n: int) -> None:
        for key in FIXED:
            self.cloud.tags.get(arn(n), {}).pop(key, None)

    def copy(self, source: int, target: int) -> None:
        if arn(source) in self.cloud.tags and arn(target) in self.cloud.tags:
            self.cloud.tags[arn(target)].update(self.cloud.tags[arn(source)])  # markers, stamps, all

    def protect(self, n: int) -> None:
        if arn(n) in self.cloud.tags:
            self.cloud.tags[arn(n)]["tagwarden:protect"] = "ops"
            self.cloud.protected_by_operator.add(arn(n))

    def change_rules(self, quarantine: bool) -> None:
        self.rules = load_rules_text(QUARANTINE_RULES if quarantine else NOTIFY_RULES)

    def set_skew(self, seconds: float) -> None:
        self.skew = seconds

    def retry(self, failing: bool) -> None:
        if self.last is not None:
            self.cloud.fail_writes = failing
            self.deliver(self.last)
            self.cloud.fail_writes = False

    def sweep(self, after: float) -> None:
        self.real += after
        Sweeper(self.rules, self.ledger, self.cloud)._sweep_rows(self.real)

    STEPS: ClassVar[dict[str, str]] = {
        "create": "create", "tag": "tag", "untag": "untag", "copy": "copy", "protect": "protect",
        "rules": "change_rules", "skew": "set_skew", "retry": "retry", "sweep": "sweep",
        "recreate": "recreate", "replay": "replay", "resend": "resend",
    }  # fmt: skip

    def play(self, steps: list[tuple[Any, ...]]) -> Cloud:
        for kind, *args in steps:
            getattr(self, self.STEPS[kind])(*args)
        # and whatever was quarantined and released runs again as it did
        for rid in self.cloud.released & set(self.cloud.power):
            record = self.ledger.get("aws", rid)
            if (
                record is not None
                and record.state is LifecycleState.RELEASED
                and record.undo == "state=running"
            ):
                assert self.cloud.power[rid] == "running"
        return self.cloud


def play(steps: list[tuple[Any, ...]]) -> Cloud:
    return History().play(steps)


def _iso(epoch: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))

