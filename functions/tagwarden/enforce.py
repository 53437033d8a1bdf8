"""The enforcer, the same for every cloud: a delivery in, tags written and actions recorded out.

Route, guard, decide, record, plan, write, log (a delete: close its record, log). The cloud comes
in through ports: a Reader (the adapter's normalizer), a TagWriter, a Lookups factory, a Ledger, a
Telemetry sink and the lifecycle's release for tag writes; tagwarden.aws and tagwarden.azure
compose them. Each event
ends in exactly one of: acted on, skipped with a logged reason, or an exception that leaves it to
the platform's retry and dead-letter path.

De-duplication is the ledger's: one conditional write per event creates the records of its
resources and claims them (tagwarden.lifecycle.act). A redelivery finds its records, acts on
nothing twice and writes only the tags still missing; with none missing it is skipped.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from msgspec.structs import asdict

from tagwarden.attribution.context import Lookups, ResourceGone
from tagwarden.decide import decide
from tagwarden.guards import OwnIdentity
from tagwarden.ledger.model import LifecycleState
from tagwarden.ledger.ports import Conflict, Ledger
from tagwarden.ledger.records import new_record
from tagwarden.ledger.state import NEXT, advance
from tagwarden.lifecycle.act import Claim, Outcome, Recorder, Step, strip_untrusted
from tagwarden.lifecycle.ports import CloudText, Notification, Notifier, Quarantiner, Status
from tagwarden.lifecycle.removal import close_removed
from tagwarden.lifecycle.trust import event_epoch
from tagwarden.model import (
    Action,
    CreationEvent,
    Decision,
    Provider,
    Removal,
    Resource,
    SkipKind,
    Skipped,
    TagChange,
)
from tagwarden.normalize import Reader, route
from tagwarden.rules.model import Mode, RuleSet
from tagwarden.tagging import Outcome as WriteOutcome
from tagwarden.tagging import TagResult, TagWrite, TagWriter

# Every resource already recorded and nothing left to write: the event is a duplicate (a
# redelivery, the second event a deployment emits for a resource, or one older than the record's).
DUPLICATES = frozenset({Claim.REDELIVERED, Claim.TWIN, Claim.STALE})
if TYPE_CHECKING:
    from tagwarden.runaway.limiter import Limiter, LimitOutcome


class TagWriteFailed(RuntimeError):
    """Some tags could not be written; raised after logging so that the event is retried."""


class Telemetry(Protocol):
    def correlate(self, event_id: str) -> None: ...

    def log(self, level: str, message: str, **fields: Any) -> None: ...

    def count_events(self, n: int) -> None: ...

    def count_resource(self, action: Action, outcome: WriteOutcome | None) -> None: ...

    def count_skip(self, kind: SkipKind) -> None: ...

    def count_failure(self, error: str) -> None: ...

    def count_action(self, action: str, status: Status) -> None: ...  # a lifecycle action's result

    def observe_lag(self, seconds: float) -> None: ...  # event time -> its tags written


@dataclass
class Enforcer:
    rules: RuleSet
    write: TagWriter
    lookups: Callable[[], Lookups]  # called once per delivery (caches live as long as the answer)
    ledger: Ledger
    own: OwnIdentity
    telemetry: Telemetry
    read: Reader  # the adapter's normalizer: raw event -> create, tag write or skip
    text: CloudText  # the adapter's words and fix commands for notifications
    rules_digest: str = ""  # sha256 of the rules file's text, in every record
    quarantiner: Quarantiner | None = None  # None: quarantined resources are marked only
    notifier: Notifier | None = None  # None: notifications are logged only
    clock: Callable[[], float] = time.time
    results: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=100))  # latest reports
    current_tags: Callable[[Resource], Mapping[str, str] | None] | None = None  # reads tags now (AWS)
    limiter: Limiter | None = None  # runaway agents: counts creates after decide (tagwarden.runaway)
    release: Release | None = None  # tag writes release quarantined resources; None: skipped

    def __post_init__(self) -> None:
        self.recorder = Recorder(self.rules, self.ledger, self.quarantiner, self.text, self.rules_digest)

    def handle(self, raw: Any) -> dict[str, Any]:
        """Process one delivery: an event, a batch array, or a log file of records. Creates and
        skips are reported in order; the delivery's tag writes end in one report, after them."""
        routed = route(raw, self.read)
        self.telemetry.count_events(len(routed))
        lookups = self.lookups()
        events = [self._one(r, lookups) for r in routed if not isinstance(r, TagChange)]
        changes = [r for r in routed if isinstance(r, TagChange)]
        if changes:
            events.append(on_tag_changes(changes, self.own, self.release, self.telemetry))
        return {"events": events}

    def _one(self, result: CreationEvent | Removal | Skipped, lookups: Lookups) -> dict[str, Any]:
        if isinstance(result, Skipped):
            return self._skip(result.event_id, result.event_name, result.kind, result.reason)
        if isinstance(result, Removal):
            return self._removed(result)
        event = result
        self.telemetry.correlate(event.event_id)
        if self.own.is_own(event):
            return self._skip(event.event_id, event.event_name, SkipKind.OWN_CALL, "our own call")
        return self._act(event, lookups)

    def _act(self, event: CreationEvent, lookups: Lookups) -> dict[str, Any]:
        started = time.perf_counter()
        event, ignored = strip_untrusted(event, self.rules)
        for rid, tags in ignored.items():
            if tags:
                self.telemetry.log(
                    "warning", "untrusted tags ignored", resource=rid, tags=tags,
                    reason="tagwarden's prefix in a create request: never trusted for the lifecycle",
                )  # fmt: skip
        try:
            decisions = decide(event, self.rules, lookups)
        except ResourceGone as gone:
            return self._gone(event, gone)
        limited = self._limit(event, decisions, lookups)
        decisions = tuple(limited.decisions) if limited is not None else decisions
        now = self.clock()
        current = self._current_tags(lookups, event.provider)
        life = self.recorder.apply(event, decisions, now, current, ignored)
        writes = self._writes(life, current)
        if not writes and life.steps and all(st.claim in DUPLICATES for st in life.steps):
            return self._skip(event.event_id, event.event_name, SkipKind.DUPLICATE, "duplicate delivery")
        if self.rules.mode is Mode.AUDIT or self.rules.lifecycle.dry_run:
            writes = []  # audit: report only; dry run: plan and notify, change nothing
        own_seconds = time.perf_counter() - started
        written = self.write(writes, event.region) if writes else []
        outcomes = {r.resource.id: r for r in written}
        tagged_at = self.clock()
        self._observe_lag(event, written, tagged_at)
        rows = [
            self._record(event, st, outcomes.get(st.decision.resource.id), tagged_at) for st in life.steps
        ]
        for result in life.results:
            self.telemetry.count_action(result.action, result.status)
            level = "error" if result.status is Status.FAILED else "warning"
            self.telemetry.log(
                level,
                "lifecycle action",
                action=result.action,
                status=result.status.value,
                resource=result.resource.id,
                undo=result.undo,
                detail=result.detail,
            )
        self._notify([*(limited.notifications if limited is not None else ()), *life.notifications])
        report = {
            "event_id": event.event_id,
            "event_name": event.event_name,
            "actor": event.actor.identity,
            "mode": self.rules.mode.value,
            "resources": rows,
            "own_ms": round(own_seconds * 1000, 3),
            "skipped": None,
        }
        if limited is not None and limited.records:
            report["limits"] = limited.records  # crossings judged in this event
        self.results.append(report)
        self._settle(life, outcomes, tagged_at)
        failed = [r for r in written if r.outcome is WriteOutcome.FAILED]
        if failed:
            raise TagWriteFailed(
                f"{len(failed)} of {len(written)} tag writes failed: "
                + "; ".join(f"{r.resource.id}: {r.error}" for r in failed[:5])
            )
        return report

    def _observe_lag(self, event: CreationEvent, written: Sequence[TagResult], tagged_at: float) -> None:
        """Seconds from the event's own time to its tags written (delivery + our work), once per
        event with a tag written. A clock ahead of ours counts as 0; an unreadable time, not at all."""
        start = event_epoch(event.time)
        if start is not None and any(r.outcome is WriteOutcome.TAGGED for r in written):
            self.telemetry.observe_lag(max(0.0, tagged_at - start))

    def _writes(
        self, life: Outcome, current: Callable[[Resource], Mapping[str, str] | None]
    ) -> list[TagWrite]:
        """The tags to write: each new record's in full; for a redelivery, only those the resource
        does not carry yet (read now: the first attempt may have written some, or none)."""
        writes = []
        for st in life.steps:
            tags = st.tags
            if tags and st.claim is Claim.REDELIVERED:
                now = {k.lower(): v for k, v in (current(st.decision.resource) or {}).items()}
                tags = {k: v for k, v in tags.items() if now.get(k.lower()) != v}
            if tags:
                writes.append(TagWrite(st.decision.resource, tags))
        return writes

    def _settle(self, life: Outcome, outcomes: Mapping[str, TagResult], tagged_at: float) -> None:
        """Record what the tag write found, off the hot path: a resource that vanished is gone; a
        failed write clears `tagged_at` (the retry writes what is missing); a resumed one is tagged."""
        for st in life.steps:
            result = outcomes.get(st.decision.resource.id)
            if result is None or st.claim in (Claim.KNOWN, Claim.TWIN, Claim.STALE):
                continue
            record = st.record
            changes: dict[str, Any] | None = None
            to = record.state
            if result.outcome is WriteOutcome.VANISHED and record.state is not LifecycleState.GONE:
                to, changes = LifecycleState.GONE, {"gone_at": tagged_at}
            elif result.outcome is WriteOutcome.FAILED:
                changes = {"tagged_at": None, "detail": f"tag write failed: {result.error}"}
            elif result.outcome is WriteOutcome.TAGGED and st.claim is Claim.REDELIVERED:
                changes = {"tagged_at": tagged_at}
            if changes is None:
                continue
            try:
                self.ledger.update(advance(record, to, **changes))
            except Conflict as exc:  # someone moved it meanwhile: their state stands
                self.telemetry.log("warning", "ledger record changed meanwhile", resource=record.resource_id,
                                   error=str(exc))  # fmt: skip

    def _record(
        self, event: CreationEvent, st: Step, result: TagResult | None, tagged_at: float
    ) -> dict[str, Any]:
        d = st.decision
        outcome = result.outcome.value if result else ("audit" if d.tags else "nothing-to-write")
        row = {
            "resource": d.resource.id,
            "type": d.resource.type,
            "action": d.action.value,
            "rule": d.rule,
            "tags": dict(d.tags),
            "missing": [p.key for p in d.missing],
            "invalid": [p.key for p in d.invalid],
            "outcome": outcome,
            "error": result.error if result else None,
            "calls": result.calls if result else 0,
            "tagged_at": tagged_at if result is not None and result.outcome is WriteOutcome.TAGGED else None,
            "state": st.record.state.value,
            "ledger": st.claim.value,
        }
        level = "info"
        if result is not None and result.outcome is WriteOutcome.FAILED:
            level = "error"
        elif d.action not in (Action.TAG, Action.NONE, Action.SKIP) or (
            result is not None and result.outcome is WriteOutcome.VANISHED
        ):
            level = "warning"
        self.telemetry.log(
            level,
            "resource decided",
            creator=event.actor.identity,
            reasons=list(d.reasons),
            unresolved=list(d.unresolved),
            **row,
        )
        self.telemetry.count_resource(d.action, result.outcome if result else None)
        return row

    def _limit(
        self, event: CreationEvent, decisions: Sequence[Decision], lookups: Lookups
    ) -> LimitOutcome | None:
        """Runaway agents: one counting write per event; crossings alert, brake, quarantine new."""
        if self.limiter is None:
            return None

        def tags_of(d: Decision) -> Mapping[str, str]:
            now = d.resource.request_tags
            if now is None:
                now = lookups.resource_tags(event.provider, d.resource)
            return {**(now or {}), **d.tags}

        out = self.limiter.check(event, decisions, tags_of)
        for record in out.records:
            self.telemetry.log("warning", "limit crossed", **record)
        return out

    def _current_tags(
        self, lookups: Lookups, provider: Provider
    ) -> Callable[[Resource], Mapping[str, str] | None]:
        """What a resource carries now: the adapter's reader, or the lookups' (Azure), or the request."""
        if self.current_tags is not None:
            return self.current_tags

        def read(resource: Resource) -> Mapping[str, str] | None:
            if resource.request_tags is not None:
                return resource.request_tags
            return lookups.resource_tags(provider, resource)

        return read

    def _notify(self, notifications: list[Notification]) -> None:
        """Send each notification. A channel that fails is logged with the whole message and
        counted, not retried through the event: a retry would repeat the quarantine itself."""
        for n in notifications:
            self.telemetry.log("warning", "notification", **lifecycle_json(n))
            if self.notifier is None:
                continue
            try:
                self.notifier.send(n)
            except Exception as exc:  # every channel failure is logged with its message, and counted
                self.telemetry.log(
                    "error", "notification failed", error=f"{type(exc).__name__}: {exc}", **lifecycle_json(n)
                )
                self.telemetry.count_failure("NotificationFailed")

    def _gone(self, event: CreationEvent, gone: ResourceGone) -> dict[str, Any]:
        """Deleted before we could read it (Azure reads current tags first): recorded, not retried."""
        rows = []
        now = self.clock()
        for resource in event.resources:
            self._record_gone(event, resource, now, str(gone))
            row: dict[str, Any] = {
                "resource": resource.id,
                "type": resource.type,
                "action": Action.NONE.value,
                "rule": None,
                "tags": {},
                "missing": [],
                "invalid": [],
                "outcome": WriteOutcome.VANISHED.value,
                "error": str(gone),
                "calls": 0,
                "tagged_at": None,
            }
            self.telemetry.log("warning", "resource decided", creator=event.actor.identity, **row)
            self.telemetry.count_resource(Action.NONE, WriteOutcome.VANISHED)
            rows.append(row)
        report = {
            "event_id": event.event_id,
            "event_name": event.event_name,
            "actor": event.actor.identity,
            "mode": self.rules.mode.value,
            "resources": rows,
            "own_ms": 0.0,
            "skipped": None,
        }
        self.results.append(report)
        return report

    def _record_gone(self, event: CreationEvent, resource: Resource, now: float, why: str) -> None:
        decision = Decision(resource, Action.NONE, None)
        record = new_record(
            event, decision, state=LifecycleState.GONE, now=now, rules_digest=self.rules_digest, detail=why
        )
        if self.ledger.create(record):
            return
        old = self.ledger.get(record.provider, record.resource_id)
        if (
            old is not None
            and old.state is not LifecycleState.GONE
            and LifecycleState.GONE in NEXT[old.state]
        ):
            with contextlib.suppress(Conflict):  # moved meanwhile: the sweeper finds it gone later
                self.ledger.update(advance(old, LifecycleState.GONE, gone_at=now, detail=why))

    def _removed(self, removal: Removal) -> dict[str, Any]:
        """A resource was deleted (ours included): its record closed as gone, so that the id may
        start over; nothing is done in the cloud. Recorded in every mode: it is what happened."""
        self.telemetry.correlate(removal.event_id)
        closed = close_removed(self.ledger, removal, self.clock())
        if closed.record is None:
            kind = SkipKind.DUPLICATE if closed.previous is LifecycleState.GONE else SkipKind.NOT_A_CREATE
            reason = f"delete of {removal.resource_id}: {closed.reason}"
            return self._skip(removal.event_id, removal.event_name, kind, reason)
        row = {
            "resource": removal.resource_id,
            "type": closed.record.type,
            "action": Action.NONE.value,
            "outcome": "deleted",
            "state": closed.record.state.value,
            "ledger": "closed",
            "previous": closed.previous.value if closed.previous else None,
        }
        self.telemetry.log("info", "resource deleted", deleted_by=removal.actor.identity, **row)
        report = {
            "event_id": removal.event_id,
            "event_name": removal.event_name,
            "actor": removal.actor.identity,
            "mode": self.rules.mode.value,
            "resources": [row],
            "own_ms": 0.0,
            "skipped": None,
        }
        self.results.append(report)
        return report

    def _skip(
        self, event_id: str | None, event_name: str | None, kind: SkipKind, reason: str
    ) -> dict[str, Any]:
        return skip_report(self.telemetry, event_id, event_name, kind, reason)


Release = Callable[[Sequence[TagChange]], dict[str, Any]]


# Create-like events no catalogue knows, already warned about in this container (bounded: names are
# caller-controlled). Each is counted every time (EventsSkipped, kind not-in-catalogue) but warned
# about once, so the catalogue's gaps stand out in the logs without flooding them.
_GAPS_WARNED: set[str] = set()
_GAPS_MAX = 512


def skip_report(
    telemetry: Telemetry, event_id: str | None, event_name: str | None, kind: SkipKind, reason: str
) -> dict[str, Any]:
    """The one report of an event not acted on: logged with its reason and counted."""
    telemetry.log(
        "info", "event skipped", event_id=event_id, event_name=event_name, kind=kind.value, reason=reason
    )
    telemetry.count_skip(kind)
    if kind is SkipKind.NOT_IN_CATALOGUE and reason not in _GAPS_WARNED and len(_GAPS_WARNED) < _GAPS_MAX:
        _GAPS_WARNED.add(reason)  # the reason names the event source and name
        telemetry.log("warning", "create event not in the catalogue", event_name=event_name, reason=reason)
    return {
        "event_id": event_id,
        "event_name": event_name,
        "skipped": reason,
        "kind": kind.value,
        "resources": [],
    }


def on_tag_changes(
    changes: Sequence[TagChange], own: OwnIdentity, release: Release | None, telemetry: Telemetry
) -> dict[str, Any]:
    """Tag writes by anyone but us go to the lifecycle's release (one call for the delivery); ours
    (markers, stamps) come back as tag writes too, and are skipped."""
    theirs = [c for c in changes if not own.is_own_actor(c.actor)]
    first = (theirs or changes)[0]
    if not theirs:
        kind, reason = SkipKind.OWN_CALL, "our own tag write"
    elif release is None:
        kind, reason = SkipKind.TAG_WRITE, f"tag write {first.event_name}: not a create"
    else:
        return release(theirs)
    return skip_report(telemetry, first.event_id, first.event_name, kind, reason)


_LABELS = frozenset({"account_label", "region_label"})  # how to word it, not what happened

def lifecycle_json(n: Notification) -> dict[str, Any]:
    fields = asdict(n).items()
    return {f"n_{k}": v for k, v in fields if v not in (None, "", (), {}) and k not in _LABELS}
