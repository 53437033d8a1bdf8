"""Which catalogue events a deny at creation can cover: the event must be an API call whose request
takes tags (a catalogue row reads request tags; every derived row's botocore input has a tag
member), its IAM action must accept `aws:RequestTag` at creation (the IAM database says so) and
must not also update existing resources. The rest is what the runtime enforcer is for; `coverage()`
lists both.

By default the events are the whole catalogue, hand-written rows first, then the derived ones
(`all_entries()`): when the policies cannot hold every preventable event, packing keeps the longest
run in that order, so the hand-written (most used) events go first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from tagwarden.aws.catalogue import Entry
from tagwarden.guardrails import actions as tables
from tagwarden.guardrails.iamdb import IamDatabase, TagSupport, default_database


@dataclass(frozen=True, slots=True)
class EventCoverage:
    """One catalogue event: whether an SCP can deny it when a tag is missing, and how."""

    source: str
    event: str
    action: str | None  # the IAM action, as the database spells it
    preventable: bool
    reason: str
    created: tuple[str, ...]  # CloudFormation types it creates (the first is the main one)
    resources: tuple[str, ...] = ("*",)  # what a deny is scoped to
    others: frozenset[str] = frozenset()  # ARNs of resources the action also touches
    explicit: bool = False  # `resources` comes from the actions table

    @property
    def service(self) -> str:
        return self.source.removesuffix(".amazonaws.com")


@dataclass(frozen=True, slots=True)
class Coverage:
    preventable: tuple[EventCoverage, ...]
    not_preventable: tuple[EventCoverage, ...]
    database: str

    @property
    def events(self) -> tuple[EventCoverage, ...]:
        return self.preventable + self.not_preventable


def coverage(
    entries: Sequence[Entry] | None = None, db: IamDatabase | None = None, partition: str = "aws"
) -> Coverage:
    """Split the catalogue's create events into those an SCP can deny and those it cannot."""
    if entries is None:
        from tagwarden.aws.catalogue import all_entries

        entries = all_entries()
    db = db or default_database()
    yes: list[EventCoverage] = []
    no: list[EventCoverage] = []
    for entry in entries:
        verdict = _cover_event(entry, db, partition)
        (yes if verdict.preventable else no).append(verdict)
    return Coverage(tuple(yes), tuple(no), db.version)


def _cover_event(entry: Entry, db: IamDatabase, partition: str) -> EventCoverage:
    base = _with_action(entry, db)
    if base.action is None or base.reason:
        return base
    prefix, _, spelled = base.action.partition(":")
    support = db.request_tag_support(prefix, spelled)
    if support is None:
        return replace(base, reason=f"{base.action} does not accept aws:RequestTag")
    ref = tables.iam_action(entry.source, entry.event)
    if ref.resources is not None:
        arns = tuple(sorted(r.format(partition=partition) for r in ref.resources))
        return replace(base, preventable=True, reason="explicit resources", resources=arns, explicit=True)
    if support.request_level or not support.others:
        return replace(base, preventable=True, reason="aws:RequestTag on the request")
    return _per_resource(entry, base, support, db, partition)


def _with_action(entry: Entry, db: IamDatabase) -> EventCoverage:
    """The event with its IAM action as the database spells it; `reason` set when that settles it
    (no such service or action, or a create-or-update call)."""
    created = tuple(c.type for c in entry.creates)
    base = EventCoverage(entry.source, entry.event, None, False, "", created)
    if entry.service_event:
        return replace(base, reason="a service event, not an API call: there is no request to deny")
    if all(c.tags is None for c in entry.creates):
        # A deny on a missing aws:RequestTag would refuse every such call.
        return replace(base, reason="the request takes no tags")
    ref = tables.iam_action(entry.source, entry.event)
    prefix, _, name = ref.action.partition(":")
    if not db.has_service(prefix):
        return replace(base, reason=f"the IAM database has no service prefix {prefix!r}")
    spelled = db.action_name(prefix, name)
    if spelled is None:
        return replace(base, reason=f"the IAM database has no action {ref.action}")
    base = replace(base, action=f"{prefix}:{spelled}")
    upsert = tables.UPSERTS.get((entry.source, entry.event))
    if upsert is not None:
        return replace(base, reason=f"create-or-update call: {upsert}")
    return base


def _per_resource(
    entry: Entry, base: EventCoverage, support: TagSupport, db: IamDatabase, partition: str
) -> EventCoverage:
    """Authorized per resource: scope the deny to what the call creates, never to what it only uses
    (an image or subnet carries no request tags, so a deny there would always apply)."""
    assert base.action is not None
    prefix = base.action.partition(":")[0]
    main = entry.creates[0].tag_spec if entry.creates and entry.creates[0].tag_spec else None
    chosen = {main} if main in support.types else set(support.types)
    arns_or_none = [db.resource_arn(prefix, t, partition) for t in sorted(chosen)]
    if any(a is None for a in arns_or_none):
        return replace(base, reason=f"the IAM database has no ARN format for {base.action}'s resources")
    arns = tuple(sorted(a for a in arns_or_none if a is not None))
    # ARNs of everything else the call touches: no statement holding this action may name them (a
    # deny there would apply to resources that carry no request tags, or to ones the call creates
    # alongside, like an instance's volumes, which the catalogue does not ask to be tagged at once).
    # An unknown format stands for the whole service.
    others = frozenset(
        db.resource_arn(prefix, t, partition) or f"arn:{partition}:{prefix}:*"
        for t in (support.types | support.others) - chosen
    )
    return replace(
        base,
        preventable=True,
        reason="aws:RequestTag on " + ", ".join(sorted(chosen)),
        resources=arns,
        others=others,
    )
