"""A property over random histories: the lifecycle never deletes what it must not.

On the pure core (Enforcer + SweepActions) with an in-memory cloud and a SqliteLedger, random
sequences of create (by agents or an exempt role, with or without forged `tagwarden:*` tags in the
request), tag, untag, copy-tags (markers included), operator protection, rules changes
(quarantine <-> notify), enforcer clock skew, redelivered events and failed tag writes, and sweeps
at random later times. Every deletion is checked when it happens: the resource was quarantined by
tagwarden's own event processing (a ledger record of a delivered event, moved to `deleted` by the
sweeper), is not released, not protected by an operator now, not exempt, not compliant, the current
rules still quarantine it, and its grace period has passed on the real clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tagwarden.attribution.context import StaticLookups
from tagwarden.enforce import Enforcer, TagWriteFailed
from tagwarden.guards import OwnIdentity
from tagwarden.ledger.model import LifecycleState
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.lifecycle.ports import ActionResult, Status
from tagwarden.lifecycle.sweep import Judgement
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
        self.provider, self.cloud = "aws", cloud

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

    def _notify(self, j: Judgement, kind: str, result: ActionResult) -> None: ...


ids = st.integers(min_value=1, max_value=2)  # few ids: steps meet the same resource often
create = st.tuples(
    st.just("create"),
    ids,
    st.sampled_from([False, False, True]),
    st.sampled_from(["none", "forged", "fixed", "protect"]),
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
    play(history)


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


def play(history: list[tuple[Any, ...]]) -> Cloud:
    cloud, ledger = Cloud(), SqliteLedger()
    clock = {"real": T0, "skew": 0.0}
    rules = {"now": load_rules_text(QUARANTINE_RULES)}
    delivered: set[str] = set()
    last: list[dict[str, Any]] = []

    def arn(n: int) -> str:
        return f"arn:aws:ec2:us-east-1:123456789012:instance/i-{n:017x}"

    def enforcer() -> Enforcer:
        return Enforcer(
            rules=rules["now"], write=cloud.write, lookups=StaticLookups, ledger=ledger,
            own=OwnIdentity(arns=("arn:aws:iam::*:role/tagwarden-*",)), telemetry=Log(),
            quarantiner=cloud, current_tags=cloud.current, clock=lambda: clock["real"] + clock["skew"],
        )  # fmt: skip

    def check(rid: str) -> None:
        record = ledger.get("aws", rid)
        assert record is not None and record.event_id in delivered  # tagwarden's own processing
        assert record.state is LifecycleState.DELETED  # moved by the sweeper just before the call
        assert rid not in cloud.released
        # protected by an operator: the protect tag carries the operator's value now (a copy from
        # another resource may overwrite it with a creator's pre-set value, which never counts)
        assert cloud.tags[rid].get("tagwarden:protect") != "ops"
        assert rid not in cloud.exempt
        tags = cloud.tags[rid]
        assert not all(tags.get(k) == v for k, v in FIXED.items()), "compliant"
        assert rules["now"].rules[0].on_missing.value == "quarantine", "the rules no longer quarantine"
        assert clock["real"] >= cloud.created_at[rid] + GRACE, "deleted before its grace period"

    cloud.check = check
    for step in history:
        kind = step[0]
        if kind == "create":
            _, n, exempt, request = step
            rid = arn(n)
            if rid in cloud.power or rid in cloud.deleted:
                continue
            tags = {
                "none": {},
                "forged": {
                    "tagwarden:quarantine": "quarantined",
                    "tagwarden:exempt": "true",
                    "tagwarden:protect": "x",
                },
                "fixed": dict(FIXED),
                "protect": {"tagwarden:protect": "x"},
            }[request]
            role = ("BreakGlass", "oncall") if exempt else ("agent-fleet-adhoc", "agent-13")
            record = b.run_instances(
                tags=tags, identity=b.assumed_role(*role), instances=[(rid.rsplit("/", 1)[1], [])]
            )
            record["eventTime"] = _iso(clock["real"])
            event = b.eventbridge(record)
            cloud.tags[rid], cloud.power[rid], cloud.created_at[rid] = dict(tags), "running", clock["real"]
            if exempt:
                cloud.exempt.add(rid)
            delivered.add(record["eventID"])
            last[:] = [event]
            with contextlib.suppress(TagWriteFailed):  # a retry comes later, or not
                enforcer().handle(event)
        elif kind == "tag" and arn(step[1]) in cloud.tags:
            cloud.tags[arn(step[1])].update(FIXED)
        elif kind == "untag" and arn(step[1]) in cloud.tags:
            for key in FIXED:
                cloud.tags[arn(step[1])].pop(key, None)
        elif kind == "copy" and arn(step[1]) in cloud.tags and arn(step[2]) in cloud.tags:
            cloud.tags[arn(step[2])].update(cloud.tags[arn(step[1])])  # markers, stamps, all
        elif kind == "protect" and arn(step[1]) in cloud.tags:
            cloud.tags[arn(step[1])]["tagwarden:protect"] = "ops"
            cloud.protected_by_operator.add(arn(step[1]))
        elif kind == "rules":
            rules["now"] = load_rules_text(QUARANTINE_RULES if step[1] else NOTIFY_RULES)
        elif kind == "skew":
            clock["skew"] = step[1]
        elif kind == "retry" and last:
            cloud.fail_writes = step[1]
            with contextlib.suppress(TagWriteFailed):
                enforcer().handle(last[0])
            cloud.fail_writes = False
        elif kind == "sweep":
            clock["real"] += step[1]
            Sweeper(rules["now"], ledger, cloud)._sweep_rows(clock["real"])
    # and whatever was quarantined and released runs again as it did
    for rid in cloud.released & set(cloud.power):
        record = ledger.get("aws", rid)
        if record is not None and record.state is LifecycleState.RELEASED and record.undo == "state=running":
            assert cloud.power[rid] == "running"
    return cloud


def _iso(epoch: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
