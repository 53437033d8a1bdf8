"""The enforcer, the same for every cloud: a delivery in, tags written and actions recorded out.

Route, guard, claim, decide, plan, write, log. The cloud comes in through ports: a Reader (the
adapter's normalizer), a TagWriter, a Lookups factory, a Claim store, a Telemetry sink and the
lifecycle's release for tag writes; tagwarden.aws and tagwarden.azure compose them. Each event
ends in exactly one of: acted on, skipped with a logged reason, or an exception that leaves it to
the platform's retry and dead-letter path.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from tagwarden.attribution.context import Lookups, ResourceGone
from tagwarden.attribution.decide import decide
from tagwarden.claims import DUPLICATE, Claim
from tagwarden.guards import OwnIdentity
from tagwarden.lifecycle import act as lifecycle
from tagwarden.lifecycle.act import Outcome
from tagwarden.lifecycle.ports import CloudText, Notification, Notifier, Quarantiner, Status
from tagwarden.model import Action, CreationEvent, Decision, Provider, Resource, SkipKind, Skipped, TagChange
from tagwarden.normalize import Reader, route
from tagwarden.plan import EffectKind, plan
from tagwarden.rules.model import Mode, RuleSet
from tagwarden.tagging import Outcome as WriteOutcome
from tagwarden.tagging import TagResult, TagWrite, TagWriter


class TagWriteFailed(RuntimeError):
    """Some tags could not be written; raised after logging so that the event is retried."""


class Telemetry(Protocol):
    def correlate(self, event_id: str) -> None: ...

    def log(self, level: str, message: str, **fields: Any) -> None: ...

    def count_events(self, n: int) -> None: ...

    def count_resource(self, action: Action, outcome: WriteOutcome | None) -> None: ...

    def count_skip(self, kind: SkipKind) -> None: ...

    def count_failure(self, error: str) -> None: ...


def event_key(event: CreationEvent) -> str:
    """The claim key: the event id (a redelivery has the same id)."""
    return event.event_id


@dataclass
class Enforcer:
    rules: RuleSet
    write: TagWriter
    lookups: Callable[[], Lookups]  # called once per delivery (caches live as long as the answer)
    claims: Claim
    own: OwnIdentity
    telemetry: Telemetry
    read: Reader  # the adapter's normalizer: raw event -> create, tag write or skip
    text: CloudText  # the adapter's words and fix commands for notifications
    claim_key: Callable[[CreationEvent], str] = event_key
    quarantiner: Quarantiner | None = None  # None: quarantined resources are marked only
    notifier: Notifier | None = None  # None: notifications are logged only
    clock: Callable[[], float] = time.time
    results: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=100))  # latest reports
    current_tags: Callable[[Resource], Mapping[str, str] | None] | None = None  # reads tags now (AWS)
    release: Release | None = None  # tag writes release quarantined resources; None: skipped

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

    def _one(self, result: CreationEvent | Skipped, lookups: Lookups) -> dict[str, Any]:
        if isinstance(result, Skipped):
            return self._skip(result.event_id, result.event_name, result.kind, result.reason)
        event = result
        self.telemetry.correlate(event.event_id)
        if self.own.is_own(event):
            return self._skip(event.event_id, event.event_name, SkipKind.OWN_CALL, "our own call")
        key = self.claim_key(event)
        busy = self.claims.claim(key) if key else None
        if busy == DUPLICATE:
            return self._skip(event.event_id, event.event_name, SkipKind.DUPLICATE, busy)
        if busy is not None:
            raise RuntimeError(f"event {event.event_id} is {busy} in another invocation; retry later")
        try:
            report = self._act(event, lookups)
        except BaseException:
            if key:
                self.claims.release(key)
            raise
        if key:
            self.claims.done(key)
        return report

    def _act(self, event: CreationEvent, lookups: Lookups) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            decisions = decide(event, self.rules, lookups)
        except ResourceGone as gone:
            return self._gone(event, gone)
        effects = plan(decisions, self.rules.mode)
        now = datetime.fromtimestamp(self.clock(), UTC)
        life = Outcome()
        if self.rules.mode is Mode.ENFORCE:
            life = lifecycle.apply(
                event,
                decisions,
                self.rules,
                self.quarantiner,
                now,
                self.text,
                self._current_tags(lookups, event.provider),
            )
        tags: dict[str, dict[str, str]] = {}
        for effect in effects:
            if effect.kind is EffectKind.WRITE_TAGS:
                tags[effect.resource.id] = dict(effect.tags)
        for rid, marker in life.tags.items():
            tags.setdefault(rid, {}).update(marker)
        writes = [TagWrite(d.resource, tags[d.resource.id]) for d in decisions if tags.get(d.resource.id)]
        if self.rules.lifecycle.dry_run:
            writes = []  # plan and notify, change nothing
        own_seconds = time.perf_counter() - started
        written = self.write(writes, event.region) if writes else []
        outcomes = {r.resource.id: r for r in written}
        tagged_at = self.clock()
        rows = [self._record(event, d, outcomes.get(d.resource.id), tagged_at) for d in decisions]
        for result in life.results:
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
        self._notify(life.notifications)
        report = {
            "event_id": event.event_id,
            "event_name": event.event_name,
            "actor": event.actor.identity,
            "mode": self.rules.mode.value,
            "resources": rows,
            "own_ms": round(own_seconds * 1000, 3),
            "skipped": None,
        }
        self.results.append(report)
        failed = [r for r in written if r.outcome is WriteOutcome.FAILED]
        if failed:
            raise TagWriteFailed(
                f"{len(failed)} of {len(written)} tag writes failed: "
                + "; ".join(f"{r.resource.id}: {r.error}" for r in failed[:5])
            )
        return report

    def _record(
        self, event: CreationEvent, d: Decision, result: TagResult | None, tagged_at: float
    ) -> dict[str, Any]:
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
        for resource in event.resources:
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
    fields = dataclasses.asdict(n).items()
    return {f"n_{k}": v for k, v in fields if v not in (None, "", (), {}) and k not in _LABELS}
