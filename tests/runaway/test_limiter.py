"""The limiter over the SQLite store and a recording brake: counts, one alert per crossing, the
brake applied once and released with who did it, quarantine-new, redeliveries counting once."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tagwarden.ledger.model import UsageKind, UsageRecord
from tagwarden.model import Action
from tagwarden.runaway.limiter import Limiter
from tagwarden.runaway.ports import BrakeRecord, BrakeResult, BrakeState, MemoryRates
from tagwarden.runaway.sqlite import SqliteRunawayStore

from runaway_helpers import decisions, rules, run_instances, tags_of

NOW = 1_796_000_000.0  # after the builders' event time (2026-11-29T10:00:00Z)


@dataclass
class FakeBrake:
    applied: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    fail: bool = False

    def apply(self, principal: str, scope: str, limit: str) -> BrakeResult:
        if self.fail:
            return BrakeResult(False, detail="AccessDenied")
        self.applied.append(principal)
        return BrakeResult(True, undo='{"previous": null}', detail=f"deny on {principal}")

    def release(self, record: BrakeRecord) -> BrakeResult:
        self.released.append(record.principal)
        return BrakeResult(True, detail="removed")


def limiter(text: str | None = None, **kw: object) -> tuple[Limiter, SqliteRunawayStore, FakeBrake]:
    store = SqliteRunawayStore()
    brake = FakeBrake()
    rs = rules() if text is None else rules(text)
    return Limiter(rs.limits, store, brake=brake, clock=lambda: NOW, **kw), store, brake  # type: ignore[arg-type]


def feed(lim: Limiter, n: int, session: str = "agent-42", **kw: object) -> list[object]:
    rs = rules()
    outcomes = []
    for i in range(n):
        event = run_instances(1, session=session, event_id=f"{session}-{i}", start=i + 1, **kw)  # type: ignore[arg-type]
        outcomes.append(lim.check(event, decisions(event, rs), tags_of))
    return outcomes


def test_sixty_creates_alert_once_and_brake_once() -> None:
    lim, store, brake = limiter()
    outcomes = feed(lim, 60)
    alerts = [(i, n) for i, o in enumerate(outcomes) for n in o.notifications]  # type: ignore[attr-defined]
    assert [i for i, _ in alerts] == [50]  # the 51st create crosses 50 per 10m, in its own processing
    note = alerts[0][1]
    assert note.kind == "runaway" and note.extra["agent"] == "Agent-ID=42"
    assert note.extra["resources_in_window"] == 51 and len(note.extra["resources"]) == 20
    assert note.extra["release"] == "tagwarden brake release Agent-ID=42"
    assert "Brake applied" in note.detail
    assert brake.applied == ["arn:aws:iam::123456789012:role/agent-fleet-support"]
    (record,) = store.brakes()
    assert record.state is BrakeState.ACTIVE and record.undo


def test_a_second_agent_under_its_limit_is_untouched() -> None:
    lim, store, brake = limiter()
    feed(lim, 60)
    others = feed(lim, 10, session="agent-7")
    assert all(not o.notifications for o in others)  # type: ignore[attr-defined]
    assert len(brake.applied) == 1 and {r.scope for r in store.brakes()} == {"Agent-ID=42"}


def test_higher_level_re_alerts_at_once() -> None:
    lim, _, brake = limiter()
    outcomes = feed(lim, 101)
    levels = [n.extra["level"] for o in outcomes for n in o.notifications]  # type: ignore[attr-defined]
    assert levels == [1, 2]
    assert len(brake.applied) == 1  # already braked: not again


def test_redelivered_event_counts_once_and_alerts_nothing() -> None:
    lim, store, _ = limiter()
    rs = rules()
    event = run_instances(5, event_id="same")
    first = lim.check(event, decisions(event, rs), tags_of)
    again = lim.check(event, decisions(event, rs), tags_of)
    assert first.counted and not again.counted
    assert store.total("burst", "Agent-ID=42") == 5


def test_release_lifts_the_brake_and_records_who() -> None:
    lim, store, brake = limiter()
    feed(lim, 51)
    (released,) = lim.release("Agent-ID=42", by="arn:aws:iam::123456789012:user/oncall")
    assert released.state is BrakeState.RELEASED and released.released_by.endswith("user/oncall")  # type: ignore[union-attr]
    assert brake.released == ["arn:aws:iam::123456789012:role/agent-fleet-support"]
    assert lim.release("Agent-ID=42", by="x") == []  # nothing active any more
    rs = rules()
    more = run_instances(1, event_id="after-release", start=500)
    lim.check(more, decisions(more, rs), tags_of)  # still over, but a person just released it
    assert brake.applied == ["arn:aws:iam::123456789012:role/agent-fleet-support"]
    lim.clock = lambda: NOW + 3600  # the cool-down (10m) has passed: over again -> braked again
    later = run_instances(60, event_id="an-hour-later", start=600)
    lim.check(later, decisions(later, rs), tags_of)
    assert len(brake.applied) == 2 and store.brakes()[0].state is BrakeState.ACTIVE


def test_failed_brake_is_retried_by_the_next_event_over_the_limit() -> None:
    lim, store, brake = limiter()
    brake.fail = True
    feed(lim, 51)
    assert store.brakes()[0].state is BrakeState.FAILED
    brake.fail = False
    rs = rules()
    event = run_instances(1, event_id="late", start=900)
    lim.check(event, decisions(event, rs), tags_of)
    assert store.brakes()[0].state is BrakeState.ACTIVE


def test_protected_principal_and_dry_run_never_brake() -> None:
    lim, store, brake = limiter(protected=lambda p: "is break-glass")
    (o,) = [o for o in feed(lim, 51) if o.notifications]  # type: ignore[attr-defined]
    assert "Not braked" in o.notifications[0].detail  # type: ignore[attr-defined]
    lim2, store2, brake2 = limiter(act=False)
    feed(lim2, 51)
    assert brake.applied == brake2.applied == [] and store.brakes() == store2.brakes() == []


def test_quarantine_new_turns_what_the_agent_creates_while_over_into_quarantine() -> None:
    lim, _, _ = limiter()
    rs = rules()
    actions = []
    for i in range(4):
        event = run_instances(1, event_id=f"gpu-{i}", start=i + 1, instance_type="g5.xlarge")
        out = lim.check(event, decisions(event, rs), tags_of)
        actions.append([d.action for d in out.decisions if d.resource.type == "AWS::EC2::Instance"])
    assert actions[:2] == [[Action.TAG], [Action.TAG]]  # within 2 GPU creates per hour
    assert actions[2:] == [[Action.QUARANTINE], [Action.QUARANTINE]]
    quarantined = lim.check(event, decisions(event, rs), tags_of).decisions[0]
    assert quarantined.grace_seconds == 7200


def test_spend_limit_counts_hourly_prices() -> None:
    lim, _, _ = limiter()
    outcomes = feed(lim, 2, instance_type="p5.48xlarge")  # 2 x 55.04 > 100 USD/h
    spend = [n for o in outcomes for n in o.notifications if n.extra["limit"] == "spend"]  # type: ignore[attr-defined]
    assert len(spend) == 1 and spend[0].extra["value"] == round(2 * 55.04, 4)
    assert "$110.08/h" in spend[0].detail


def test_agent_rate_is_reported_per_limit() -> None:
    rates = MemoryRates()
    lim, _, _ = limiter(rates=rates)
    feed(lim, 3)
    assert rates.values[("burst", "Agent-ID=42")] == 3


TOKENS = """
version: 1
tags: {Agent-ID: {sources: [{actor: session_name}]}}
limits:
  checks:
    - {id: tokens, per: {tag: Agent-ID}, tokens: 10000, window: 1h}
"""


def test_usage_records_count_tokens_once_and_alert() -> None:
    lim, store, _ = limiter(TOKENS)
    records = [
        UsageRecord(f"u{i}", UsageKind.LLM, NOW - 60, "openai", "gpt-4o", {"Agent-ID": "42"},
                    {"input_tokens": 3000.0, "output_tokens": 1000.0})
        for i in range(3)
    ]  # fmt: skip
    out = lim.observe_usage(records + records[:1])  # a re-imported record counts once
    assert store.total("tokens", "Agent-ID=42") == 12_000
    (alert,) = out.notifications
    assert alert.extra["measure"] == "tokens" and "alert only" in alert.detail


ROTATING = """
version: 1
tags:
  Agent-ID: {sources: [{request_tag: Agent-ID}, {actor: session_name}]}
limits:
  checks:
    - {id: per-tag, per: {tag: Agent-ID}, creates: 5, window: 10m}
    - {id: per-role, per: {actor: role_arn}, creates: 5, window: 10m, actions: [alert, brake]}
"""


def test_an_agent_rotating_its_own_agent_id_tag_is_still_counted_per_role() -> None:
    """A tag in the request is the agent's word: a limit per role is one it cannot choose."""
    lim, _, brake = limiter(ROTATING)
    rs = rules(ROTATING)
    crossed = []
    for i in range(8):
        event = run_instances(1, event_id=f"r{i}", start=i + 1, tags={"Agent-ID": f"fake-{i}"})
        crossed += [n.extra["limit"] for n in lim.check(event, decisions(event, rs), tags_of).notifications]
    assert crossed == ["per-role"]
    assert brake.applied == ["arn:aws:iam::123456789012:role/agent-fleet-support"]


def test_usage_records_feed_spend_limits_at_the_llm_table_price() -> None:
    lim, store, _ = limiter("""
version: 1
tags: {Agent-ID: {sources: [{actor: session_name}]}}
limits:
  checks: [{id: llm-spend, per: {tag: Agent-ID}, spend_per_hour: 1}]
""")
    record = UsageRecord("u1", UsageKind.LLM, NOW - 60, "openai", "gpt-4o-2024-08-06", {"Agent-ID": "42"},
                         {"input_tokens": 200_000.0, "output_tokens": 100_000.0})  # fmt: skip
    out = lim.observe_usage([record])
    # 0.2M x $2.50 + 0.1M x $10 = $1.50 in the last hour: above $1/h
    assert store.total("llm-spend", "Agent-ID=42") == pytest.approx(1.5)
    (alert,) = out.notifications
    assert alert.extra["limit"] == "llm-spend"


def test_staying_over_the_limit_costs_no_further_alert_claims() -> None:
    lim, store, _ = limiter()
    claims: list[int] = []
    original = store.claim_alert

    def counting(limit: str, scope: str, level: int, now: float, cooldown: int) -> bool:
        claims.append(level)
        return original(limit, scope, level, now, cooldown)

    store.claim_alert = counting  # type: ignore[method-assign]
    feed(lim, 90)  # 40 events over the limit, all at level 1
    assert claims == [1]  # one conditional write for the crossing, none while it lasts


def test_another_callers_forged_agent_tag_never_brakes_that_agent() -> None:
    """An attacker writing Agent-ID=42 in its own create requests counts apart from what tagwarden
    derives for agent-42: the real agent is not pushed over its limit, and nobody is braked."""
    lim, store, brake = limiter()
    forged = feed(lim, 60, session="intruder", tags={"Agent-ID": "42"})
    alerts = [n for o in forged for n in o.notifications]  # type: ignore[attr-defined]
    assert alerts and alerts[0].extra["agent"] == "Agent-ID=42 (named by the request)"
    assert "Not braked" in alerts[0].detail
    assert brake.applied == [] and store.brakes() == []
    # agent-42's own creates start from zero: ten of them stay under the limit
    own = feed(lim, 10)
    assert not [n for o in own for n in o.notifications]  # type: ignore[attr-defined]
    assert brake.applied == []
