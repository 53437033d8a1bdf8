"""The enforcer's ledger and lifecycle step for one event: record every decision, and quarantine or
schedule what the rules say, with the notifications that go out.

Per resource, one conditional create in the ledger: it is the decision's record and the claim
that de-duplicates deliveries. What the create finds decides the rest:

- created: a new resource. A quarantine is recorded as an intent, with the undo token read
  beforehand (a dry run of the quarantine, reads only), then carried out, then recorded as done:
  a retry after a crash finds the intent and resumes it with the token it recorded.
- the same event's record: a redelivery or a retry. A quarantine intent is resumed; otherwise
  nothing is acted on again, and the enforcer writes only the tags still missing.
- another event's record: an update of a known resource (Azure writes fire on updates) or a
  second event for it: tags only, the lifecycle is the sweeper's. Unless the id was created again
  (`ledger.state.renews`: a later event, and the id freed or the event a create that fails on an
  existing id): then the record starts over as new, with its own intent, undo token and grace.
  An event the cloud stamped before the record's is stale (a late delivery or a replay about an
  earlier resource of that id, or an earlier state): nothing is written, its tags may be another
  creator's.

Acts through the Quarantiner port; the marker tags it returns are a display copy of the record.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum

from msgspec import Struct, field
from msgspec.structs import replace

from tagwarden.attribution.limits import LIMITS, tag_value
from tagwarden.ledger.model import LifecycleState, ResourceRecord
from tagwarden.ledger.ports import Ledger
from tagwarden.ledger.records import initial_state, new_record
from tagwarden.ledger.state import advance, later, renew, renews
from tagwarden.lifecycle.marker import Keys, iso_epoch, marker_tags
from tagwarden.lifecycle.ports import (
    ActionResult,
    CloudText,
    Notification,
    Quarantiner,
    Status,
    quarantine_all,
)
from tagwarden.lifecycle.trust import deadline_for, prefixes, untrusted, without
from tagwarden.model import Action, CreationEvent, Decision, Resource
from tagwarden.rules.model import Mode, RuleSet

_EMAIL = re.compile(r"^[^@\s/]+@[^@\s/]+\.[^@\s/]+$")

# Decision action -> the notification kind it sends (data, not branches).
NOTIFY_KIND: Mapping[Action, str] = {
    Action.TAG_UNALLOCATED: "tagged-as-unallocated",
    Action.NOTIFY: "notify",
    Action.QUARANTINE: "quarantined",
    Action.DELETE: "delete-scheduled",
}

# Types whose lifecycle is their parent's: an instance's network interfaces are stopped, released
# and deleted with it, so they are recorded and tagged but get no lifecycle (nor marker) of their own.
FOLLOWS_PARENT = frozenset({"AWS::EC2::NetworkInterface"})

# Quarantine outcome -> the state recorded after the action.
AFTER_QUARANTINE: Mapping[Status, LifecycleState] = {
    Status.DONE: LifecycleState.QUARANTINED,
    Status.MARKED_ONLY: LifecycleState.QUARANTINED,
    Status.FAILED: LifecycleState.QUARANTINE_PENDING,
    Status.VANISHED: LifecycleState.GONE,
    Status.UNSUPPORTED: LifecycleState.QUARANTINED,
}

class Claim(StrEnum):
    NEW = "new"  # recorded now: act
    RESUMED = "resumed"  # this event's record, left in an intent: carried on
    REDELIVERED = "redelivered"  # this event's record: nothing acted on twice, missing tags only
    TWIN = "twin"  # the other event of the same operation (a deployment's pair): tags only
    KNOWN = "known"  # another event's record: tags only
    RENEWED = "renewed"  # another event's record, and the id was created again: recorded anew, act
    STALE = "stale"  # a later event's record: this one is about an earlier resource or state: nothing


# Claims whose record this event made: acted on as a new resource.
FRESH = frozenset({Claim.NEW, Claim.RENEWED})


class Step(Struct):
    """One resource's outcome: its record, the tags to write, what was done and who to tell."""

    decision: Decision
    record: ResourceRecord
    claim: Claim
    tags: dict[str, str] = field(default_factory=dict)  # decision tags + marker display tags
    result: ActionResult | None = None
    notification: Notification | None = None


class Outcome(Struct):
    steps: list[Step] = field(default_factory=list)

    @property
    def results(self) -> list[ActionResult]:
        return [s.result for s in self.steps if s.result is not None]

    @property
    def notifications(self) -> list[Notification]:
        return [s.notification for s in self.steps if s.notification is not None]


def creator_address(event: CreationEvent) -> str | None:
    """An address to send the creator a copy: a UPN, or an email used as a session name (SSO)."""
    for value in (event.actor.upn, event.actor.session_name, event.actor.source_identity):
        if value and _EMAIL.match(value):
            return value
    return None


class Recorder(Struct):
    """Everything the step needs besides the event: one per enforcer."""

    rules: RuleSet
    ledger: Ledger
    quarantiner: Quarantiner | None
    text: CloudText  # the adapter's words and fix commands
    rules_digest: str = ""

    @property
    def keys(self) -> Keys:
        return Keys.with_prefix(self.rules.stamp.prefix if self.rules.stamp is not None else "tagwarden:")

    def apply(
        self,
        event: CreationEvent,
        decisions: Sequence[Decision],
        now: float,
        current_tags: Callable[[Resource], Mapping[str, str] | None],
        ignored: Mapping[str, Mapping[str, str]],
    ) -> Outcome:
        """`ignored`: per resource id, the prefixed tags stripped from its create request (AWS);
        where events carry no request tags (Azure), the prefixed tags found on a new resource."""
        drafted = [self._draft(event, d, now, current_tags, ignored.get(d.resource.id)) for d in decisions]
        drafts = self._with_undo(drafted, decisions)
        # the one write: every record of the event created together (a resource named twice in
        # one event is created once; its second decision finds the first's record)
        first: dict[tuple[str, str], int] = {}
        for i, (record, _) in enumerate(drafts):
            first.setdefault(record.key, i)
        unique = sorted(first.values())
        made = dict(zip(unique, self.ledger.create_many([drafts[i][0] for i in unique]), strict=True))
        # The intents are recorded: carry out the new ones together where the adapter batches
        # (1,000 instances: StopInstances 500 ids a call), then settle each record.
        intents = [drafts[i][0] for i in unique if made[i]]
        acted = self._quarantine_new(
            [r for r in intents if r.state is LifecycleState.QUARANTINE_INTENT],
            [d.resource for i, d in enumerate(decisions) if i in made],
        )
        out = Outcome()
        for i, (d, (record, protected)) in enumerate(zip(decisions, drafts, strict=True)):
            out.steps.append(self._settle(event, d, record, made.get(i, False), protected, now, acted))
        return out

    def _with_undo(
        self, drafts: list[tuple[ResourceRecord, bool]], decisions: Sequence[Decision]
    ) -> list[tuple[ResourceRecord, bool]]:
        """Each intent's undo token, read before anything is done (a dry run reads only), batched
        where the adapter can: 1,000 instances are one DescribeInstances per 200, not 1,000 calls."""
        todo = [i for i, (record, _) in enumerate(drafts) if record.state is LifecycleState.QUARANTINE_INTENT]
        if self.quarantiner is None or not todo:
            return drafts
        read = quarantine_all(self.quarantiner, [decisions[i].resource for i in todo], dry_run=True)
        out = list(drafts)
        for i, result in zip(todo, read, strict=True):
            record, protected = drafts[i]
            out[i] = (replace(record, undo=result.undo), protected)
        return out

    def _quarantine_new(
        self, intents: Sequence[ResourceRecord], resources: Sequence[Resource]
    ) -> dict[str, ActionResult]:
        if self.quarantiner is None or not intents:
            return {}
        wanted = {r.resource_id for r in intents}
        todo = [r for r in resources if r.id in wanted]
        return {r.resource.id: r for r in quarantine_all(self.quarantiner, todo, dry_run=False)}

    def _draft(
        self,
        event: CreationEvent,
        d: Decision,
        now: float,
        current_tags: Callable[[Resource], Mapping[str, str] | None],
        ignored: Mapping[str, str] | None,
    ) -> tuple[ResourceRecord, bool]:
        """The record this decision writes, and whether a trusted protect tag spared it."""
        rules = self.rules
        lifecycle_on = (
            rules.mode is Mode.ENFORCE
            and not rules.lifecycle.dry_run
            and d.resource.type not in FOLLOWS_PARENT
        )
        wants_lifecycle = d.action in (Action.QUARANTINE, Action.DELETE) and d.grace_seconds is not None
        seen: Mapping[str, str] = {}
        if wants_lifecycle and ignored is None:  # no create request to read: the tags it has now
            seen = current_tags(d.resource) or {}
            ignored = untrusted(seen, rules)
        trusted = without(
            d.resource.request_tags if d.resource.request_tags is not None else seen, ignored or {}
        )
        protect = tag_value(trusted, rules.lifecycle.protect_tag, LIMITS[event.provider])
        protected = wants_lifecycle and protect is not None
        state = initial_state(d, lifecycle_on, protected)
        deadline = deadline_for(event, now, d.grace_seconds) if wants_lifecycle and d.grace_seconds else None
        detail = _reason(d) if wants_lifecycle else ""
        if protected:
            detail = f"protected by the tag {rules.lifecycle.protect_tag}: not quarantined, not scheduled"
            deadline = None
        undo = ""  # read for all the event's intents at once, in `_with_undo`
        record = new_record(
            event,
            d,
            state=state,
            now=now,
            rules_digest=self.rules_digest,
            deadline=deadline if state is not LifecycleState.ACTIVE else None,
            undo=undo,
            ignored=ignored,
            detail=detail,
            tagged=bool(d.tags) or state in (LifecycleState.QUARANTINE_INTENT, LifecycleState.DELETE_PENDING),
        )
        return record, protected

    def _settle(
        self,
        event: CreationEvent,
        d: Decision,
        record: ResourceRecord,
        created: bool,
        protected: bool,
        now: float,
        acted: Mapping[str, ActionResult],
    ) -> Step:
        """What the create found decides the rest (see the module's docstring)."""
        record, claim = self._claim(event, record, created)
        if claim is Claim.STALE:
            return Step(d, record, claim)
        if claim is Claim.TWIN:
            return Step(d, record, claim, tags=dict(d.tags))
        if claim is Claim.KNOWN:
            # tags only; told again only when something is still to write (Azure updates)
            notice = self._notice(event, d, record) if d.tags else None
            return Step(d, record, claim, tags=dict(d.tags), notification=notice)
        step = Step(d, record, claim, tags=dict(d.tags))
        if record.state is LifecycleState.QUARANTINE_INTENT and claim is not Claim.REDELIVERED:
            step.record, step.result = self._quarantine(d.resource, record, now, acted.get(d.resource.id))
        elif self._plans_only(d, protected) and self.quarantiner is not None and claim in FRESH:
            step.result = self.quarantiner.quarantine(d.resource, dry_run=True)  # said, not done
        if step.record.state in (
            LifecycleState.QUARANTINED,
            LifecycleState.QUARANTINE_PENDING,
            LifecycleState.DELETE_PENDING,
        ):
            step.tags.update(marker_tags(step.record, self.keys))
        if claim is not Claim.REDELIVERED:
            step.notification = self._notice(event, d, step.record, step.result)
        return step

    def _claim(
        self, event: CreationEvent, record: ResourceRecord, created: bool
    ) -> tuple[ResourceRecord, Claim]:
        """The record this event acts on, and why: the draft it created, or what it found."""
        if created:
            return record, Claim.NEW
        old = self.ledger.get(record.provider, record.resource_id)
        if old is None:
            raise RuntimeError(f"ledger: {record.resource_id} exists and cannot be read; retry")
        if old.event_id == event.event_id:
            resumed = old.state is LifecycleState.QUARANTINE_INTENT
            return old, Claim.RESUMED if resumed else Claim.REDELIVERED
        if renews(old, record, event.creates_only):
            # the draft in place of the old record: its own undo token (read from the new resource
            # in `_with_undo`), deadline and event; nothing of the old lifecycle carries over
            fresh = renew(old, record, event.creates_only)
            self.ledger.update(fresh)  # Conflict: another delivery or the sweeper moved it -> retried
            return fresh, Claim.RENEWED
        if event.correlation_id and old.correlation_id == event.correlation_id:
            return old, Claim.TWIN
        if later(old.event_time, record.event_time):
            return old, Claim.STALE
        return old, Claim.KNOWN

    def _plans_only(self, d: Decision, protected: bool) -> bool:
        rules = self.rules
        return (
            rules.lifecycle.dry_run
            and rules.mode is Mode.ENFORCE
            and d.action is Action.QUARANTINE
            and not protected
            and d.resource.type not in FOLLOWS_PARENT
        )

    def _quarantine(
        self, resource: Resource, record: ResourceRecord, now: float, done_already: ActionResult | None = None
    ) -> tuple[ResourceRecord, ActionResult]:
        """Carry out a recorded intent and record what happened (the intent's undo token wins over
        the action's: a retry after a crash finds the resource already stopped)."""
        if done_already is not None:
            result = done_already
        elif self.quarantiner is None:
            result = ActionResult(
                resource, "quarantine", Status.MARKED_ONLY, detail="no quarantiner: marked only"
            )
        else:
            result = self.quarantiner.quarantine(resource, dry_run=False)
        state = AFTER_QUARANTINE.get(result.status, LifecycleState.QUARANTINE_PENDING)
        undo = record.undo or (result.undo if result.status is Status.DONE else "")
        changes: dict[str, object] = {"undo": undo, "marks": self.keys.all()}
        if state is LifecycleState.QUARANTINED:
            changes["quarantined_at"] = now
        if state is LifecycleState.GONE:
            changes["gone_at"] = now
        if result.status is Status.FAILED:
            changes["detail"] = f"{record.detail}; quarantine failed: {result.detail}".strip("; ")
        done = advance(record, state, **changes)
        self.ledger.update(done)
        return done, result

    def _notice(
        self, event: CreationEvent, d: Decision, record: ResourceRecord, result: ActionResult | None = None
    ) -> Notification | None:
        kind = NOTIFY_KIND.get(d.action)
        if kind is None or d.resource.type in FOLLOWS_PARENT or self.rules.mode is not Mode.ENFORCE:
            return None
        if record.event_id != event.event_id and d.action in (Action.QUARANTINE, Action.DELETE):
            return None  # a known resource: its lifecycle was notified when it began
        if result is not None and result.status is Status.FAILED:
            kind = "failed"
        if record.state is LifecycleState.GONE:
            return None
        missing = tuple(p.key for p in d.missing)
        invalid = tuple(p.key for p in d.invalid)
        return Notification(
            kind=kind,
            provider=event.provider.value,
            resource_id=d.resource.id,
            resource_type=d.resource.type,
            account=event.account,
            region=event.region,
            creator=event.actor.identity,
            creator_address=creator_address(event),
            rule=d.rule,
            missing=missing,
            invalid=invalid,
            action=d.action.value,
            deadline=iso_epoch(record.deadline) if record.deadline is not None else None,
            dry_run=self.rules.lifecycle.dry_run,
            detail=result.detail if result is not None else _notice_detail(d, record),
            fix=self.text.fix_command(d.resource.id, d.resource.type, missing + invalid),
            account_label=self.text.account_label,
            region_label=self.text.region_label,
        )


def _notice_detail(d: Decision, record: ResourceRecord) -> str:
    if record.state is LifecycleState.DELETE_PENDING:
        return "deleted at the deadline unless its tags are fixed"
    if d.action in (Action.QUARANTINE, Action.DELETE) and record.state is LifecycleState.ACTIVE:
        return record.detail if record.detail.startswith("protected") else ""
    return ""


def _reason(d: Decision) -> str:
    parts = []
    if d.missing:
        parts.append("missing " + " ".join(p.key for p in d.missing))
    if d.invalid:
        parts.append("invalid " + " ".join(p.key for p in d.invalid))
    return " ".join(parts) or "unattributed"


def strip_untrusted(event: CreationEvent, rules: RuleSet) -> tuple[CreationEvent, dict[str, dict[str, str]]]:
    """The event with tagwarden-prefixed tags removed from each resource's create request, and
    what was removed per resource id (never trusted: logged and kept in the record)."""

    removed: dict[str, dict[str, str]] = {}
    resources = []
    for r in event.resources:
        bad = untrusted(r.request_tags, rules) if r.request_tags is not None else {}
        if r.request_tags is not None:
            removed[r.id] = bad
        resources.append(
            replace(r, request_tags=without(r.request_tags, bad)) if bad and r.request_tags else r
        )
    if not any(removed.values()):
        return event, removed
    return replace(event, resources=tuple(resources)), removed


__all__ = [
    "FOLLOWS_PARENT",
    "FRESH",
    "NOTIFY_KIND",
    "Claim",
    "Outcome",
    "Recorder",
    "Step",
    "prefixes",
    "strip_untrusted",
]
