"""The limiter: count one event's creates for every limit, judge the windows, and act on a
crossing (alert once per crossing, brake the agent's role, quarantine what it creates while over).

Called by the Enforcer right after `decide`, with one store write per event (`RunawayStore.add`:
all counters and the de-duplication members at once) and one read; a crossing adds the alert claim
and the brake record, which are rare. Everything is idempotent: a redelivered event counts nothing
again, finds the alert claimed and the brake recorded, and changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from msgspec.structs import replace

from tagwarden.ledger.model import UsageRecord
from tagwarden.lifecycle.ports import Notification
from tagwarden.model import Action, CreationEvent, Decision
from tagwarden.runaway import messages
from tagwarden.runaway.judge import AlertState, bucket_of, estimate, level, should_alert
from tagwarden.runaway.model import Limit, LimitAction, Limits, Measure
from tagwarden.runaway.observe import CLAIMED, Observation, TagsOf, event_time, member_key, observe
from tagwarden.runaway.ports import (
    Brake,
    BrakeRecord,
    BrakeState,
    CounterKey,
    Member,
    RateSink,
    RunawayStore,
    Tally,
)

KEEP_MEMBERS = 86_400  # redeliveries come within a day (EventBridge and Lambda retry windows)
LISTED = messages.LISTED


@dataclass
class LimitOutcome:
    decisions: list[Decision]
    notifications: list[Notification] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)  # structured log lines
    counted: bool = False  # whether the store was written (a redelivery is not)


@dataclass
class Limiter:
    limits: Limits
    store: RunawayStore
    brake: Brake | None = None  # None: this cloud's brake is alert only
    rates: RateSink | None = None
    act: bool = True  # False in mode audit or dry run: alerts say what a brake would do
    protected: Callable[[str], str | None] = lambda principal: None  # why a principal is never braked
    clock: Callable[[], float] = time.time
    # The last alert claim this container made or lost, per (limit, agent): while an agent stays
    # over its limit, later events skip the claim (a conditional write) until judge.should_alert
    # could say yes again. A claim lost to another container is remembered as made now, so a
    # cool-down re-alert can come at most one cool-down late; a higher level is never held back.
    _claims: dict[tuple[str, str], AlertState] = field(default_factory=dict, repr=False)

    def check(self, event: CreationEvent, decisions: Sequence[Decision], tags_of: TagsOf) -> LimitOutcome:
        out = LimitOutcome(list(decisions))
        found = observe(event, decisions, self.limits, tags_of)
        if not found:
            return out
        now = self.clock()
        t = event_time(event, now)
        out.counted = self.store.add(self._tally(event.event_id, found, t))
        values = self.store.read([k for o in found for k in _keys(o.limit, o.scope, t)])
        quarantine: dict[str, Limit] = {}
        for o in found:
            cur, prev = _keys(o.limit, o.scope, t)
            value = estimate(values.get(cur, 0.0), values.get(prev, 0.0), t, o.limit.window)
            if self.rates is not None:
                self.rates.rate(o.limit.id, o.scope, value, o.limit.unit)
            lvl = level(value, o.limit.threshold)
            if lvl == 0:
                continue
            if LimitAction.QUARANTINE_NEW in o.limit.actions and self.act:
                for c in o.resources:
                    quarantine.setdefault(c.resource.id, o.limit)
            self._cross(o, value, lvl, now, t, event, out)
        if quarantine:
            out.decisions = [_quarantined(d, quarantine.get(d.resource.id)) for d in out.decisions]
        return out

    def observe_usage(
        self, records: Iterable[UsageRecord], provider: str = "", account: str = ""
    ) -> LimitOutcome:
        """LLM usage records (written through Ledger.add_usage): tokens limits, and the LLM share of
        spend_per_hour limits without match or type filters. Alert only: a record names no role."""
        out = LimitOutcome([])
        now = self.clock()
        for record in records:
            found = self._usage(record)
            if not found:
                continue
            t = min(record.time, now)
            self.store.add(self._tally(f"usage:{record.usage_id}", found, t, (record.resource,)))
            values = self.store.read([k for o in found for k in _keys(o.limit, o.scope, t)])
            for o in found:
                cur, prev = _keys(o.limit, o.scope, t)
                value = estimate(values.get(cur, 0.0), values.get(prev, 0.0), t, o.limit.window)
                if self.rates is not None:
                    self.rates.rate(o.limit.id, o.scope, value, o.limit.unit)
                lvl = level(value, o.limit.threshold)
                if lvl and self._claim(o.limit, o.scope, lvl, now):
                    crossing = messages.Crossing(
                        o.limit, o.scope, value, lvl, provider, account, None, None, None
                    )
                    window = self.store.members(o.scope, t - o.limit.window)
                    note = "Usage records name no role: alert only."
                    out.notifications.append(
                        messages.alert(crossing, window, None, note, ["alert"], not self.act)
                    )
                    out.records.append(_record(crossing, None, note))
        return out

    def release(self, scope: str, by: str) -> list[BrakeRecord]:
        """Lift every active brake on the agent; records who did. Raises nothing for an unbraked agent."""
        if self.brake is None:
            raise RuntimeError("no brake configured for this cloud")
        done: list[BrakeRecord] = []
        for record in self.store.brakes(scope):
            if record.state is BrakeState.RELEASED:
                continue
            result = self.brake.release(record)
            if not result.ok:
                raise RuntimeError(f"could not release {record.principal}: {result.detail}")
            updated = record.evolve(
                state=BrakeState.RELEASED, released_at=self.clock(), released_by=by, detail=result.detail
            )
            self.store.update_brake(updated)
            done.append(updated)
        return done

    # --- inside ---------------------------------------------------------------------------------

    def _tally(
        self, event_id: str, found: Sequence[Observation], t: float, extra: Sequence[str] = ()
    ) -> Tally:
        by_scope: dict[str, dict[str, float | None]] = {}
        for o in found:
            seen = by_scope.setdefault(o.scope, {})
            for c in o.resources:
                seen[c.resource.id] = c.hourly
        members = tuple(
            Member(
                scope=scope,
                key=member_key(event_id, list(seen) or list(extra)),
                time=t,
                resources=tuple(seen)[:LISTED] or tuple(extra),
                hourly=sum(h or 0.0 for h in seen.values()),
            )
            for scope, seen in by_scope.items()
        )
        adds: dict[CounterKey, float] = {}
        for o in found:
            key = CounterKey(o.limit.id, o.scope, bucket_of(t, o.limit.window))
            adds[key] = adds.get(key, 0.0) + o.amount
        longest = max(o.limit.window for o in found)
        return Tally(members, adds, t + max(2 * longest, KEEP_MEMBERS) + 3600)

    def _claim(self, limit: Limit, scope: str, lvl: int, now: float) -> bool:
        known = self._claims.get((limit.id, scope))
        if known is not None and not should_alert(known, lvl, now, limit.cooldown):
            return False
        claimed = self.store.claim_alert(limit.id, scope, lvl, now, limit.cooldown)
        self._claims[(limit.id, scope)] = AlertState(lvl, now)
        if len(self._claims) > 10_000:  # bounded: forget the oldest half
            for key in list(self._claims)[:5000]:
                del self._claims[key]
        return claimed

    def _usage(self, record: UsageRecord) -> list[Observation]:
        tokens = sum(v for k, v in record.quantities.items() if k.endswith("tokens"))
        found: list[Observation] = []
        for limit in self.limits.checks:
            plain = not limit.matchers and limit.resource_types is None and limit.instance_types is None
            if limit.measure is Measure.CREATES or (limit.measure is Measure.SPEND and not plain):
                continue
            scope = next(
                (
                    f"{s.arg}={record.attribution[s.arg]}"
                    for s in limit.per
                    if s.kind == "tag" and record.attribution.get(s.arg)
                ),
                None,
            )
            if scope is None:
                continue
            if limit.measure is Measure.TOKENS:
                amount = float(tokens)
            else:
                from tagwarden.llm.prices import PriceError, load

                try:  # the LLM table prices tokens (tagwarden/llm/prices.yaml): one home per fact
                    cost = load().cost(record)
                except PriceError:
                    continue
                amount = cost * 3600 / limit.window  # what it adds to the window's hourly rate
            if amount > 0:
                found.append(Observation(limit, scope, amount, (), None))
        return found

    def _cross(
        self,
        o: Observation,
        value: float,
        lvl: int,
        now: float,
        t: float,
        event: CreationEvent,
        out: LimitOutcome,
    ) -> None:
        record, note = (
            self._brake(o, now, event.provider.value) if LimitAction.BRAKE in o.limit.actions else (None, "")
        )
        crossing = messages.Crossing(
            o.limit,
            o.scope,
            value,
            lvl,
            event.provider.value,
            event.account,
            event.region,
            event.actor.identity,
            o.principal,
        )
        if not self._claim(o.limit, o.scope, lvl, now):
            return  # alerted for this level within the cool-down: no storm
        window = self.store.members(o.scope, t - o.limit.window)
        actions = sorted(a.value for a in o.limit.actions)
        out.notifications.append(messages.alert(crossing, window, record, note, actions, not self.act))
        out.records.append(_record(crossing, record, note))

    def _brake(self, o: Observation, now: float, provider: str) -> tuple[BrakeRecord | None, str]:
        if self.brake is None:
            return None, "This cloud has no brake: alert only (see README, Runaway agents)."
        if o.principal is None:
            return None, "The caller has no role to brake: alert only."
        if o.scope.endswith(CLAIMED):  # anyone can write a tag: it alerts, never brakes
            note = "is a tag the create requests wrote themselves; a per-role limit brakes"
            return None, f"Not braked: {o.scope} {note}."
        if (why := self.protected(o.principal)) is not None:
            return None, f"Not braked: {o.principal} {why}."
        if not self.act:
            return None, f"Dry run / audit: the brake would be attached to {o.principal}."
        existing = next((b for b in self.store.brakes(o.scope) if b.principal == o.principal), None)
        if existing is not None and existing.state in (BrakeState.APPLYING, BrakeState.ACTIVE):
            return existing, f"Already braked: {o.principal}."
        if (
            existing is not None
            and existing.released_at is not None
            and now - existing.released_at < o.limit.cooldown
        ):  # a person lifted it just now: not again until the cool-down has passed
            return None, f"Not braked again: {existing.released_by} released it within the cool-down."
        record = BrakeRecord(o.scope, o.principal, o.limit.id, provider, BrakeState.APPLYING, now)
        if not self.store.put_brake(record):  # another container braked it meanwhile
            return None, f"Already braked: {o.principal}."
        result = self.brake.apply(o.principal, o.scope, o.limit.id)
        state = BrakeState.ACTIVE if result.ok else BrakeState.FAILED
        record = record.evolve(state=state, undo=result.undo, detail=result.detail)
        self.store.update_brake(record)
        if result.ok:
            return record, f"Brake applied: {result.detail}"
        return record, f"Brake FAILED: {result.detail}"


def _keys(limit: Limit, scope: str, t: float) -> tuple[CounterKey, CounterKey]:
    b = bucket_of(t, limit.window)
    return CounterKey(limit.id, scope, b), CounterKey(limit.id, scope, b - 1)


def _quarantined(d: Decision, limit: Limit | None) -> Decision:
    if limit is None or d.action in (Action.QUARANTINE, Action.DELETE, Action.SKIP):
        return d
    return replace(
        d,
        action=Action.QUARANTINE,
        grace_seconds=limit.grace,
        reasons=(*d.reasons, f"quarantine-new: the agent is over limit {limit.id}"),
    )


def _record(c: messages.Crossing, brake: BrakeRecord | None, note: str) -> dict[str, Any]:
    return {
        "limit": c.limit.id,
        "agent": c.scope,
        "value": round(c.value, 4),
        "threshold": c.limit.threshold,
        "crossing_level": c.level,  # not "level": that is the log record's own
        "principal": c.principal,
        "brake": None if brake is None else brake.state.value,
        "note": note,
    }
