"""The marker tags a quarantined (or delete-pending) resource carries: a display for people.

They say why and until when, copied from the ledger record; nothing ever reads them back to
decide. Lifecycle state, deadline and undo token live in the ledger (tagwarden.ledger), which only
tagwarden's own event processing writes: a marker copied, replayed, forged or pre-set in a create
request authorises nothing. That is also why markers are no longer sealed: an HMAC proved a marker
was tagwarden's, which matters only while a tag decides; the ledger record is the proof now, so
there is no marker key to store, rotate or leak. Values stay within both clouds' tag limits.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from msgspec import Struct

from tagwarden.attribution.limits import LIMITS, fit_value
from tagwarden.ledger.model import ResourceRecord
from tagwarden.model import Provider

DEFAULT_PREFIX = "tagwarden:"


class Keys(Struct, frozen=True):
    state: str
    deadline: str
    reason: str
    undo: str
    rule: str

    @classmethod
    def with_prefix(cls, prefix: str = DEFAULT_PREFIX) -> Keys:
        names = ("quarantine", "deadline", "reason", "undo", "rule")
        return cls(*(prefix + n for n in names))

    def all(self) -> tuple[str, ...]:
        """The marker keys a release removes (the rule key is also the stamp's: it stays)."""
        return (self.state, self.deadline, self.reason, self.undo)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_epoch(seconds: float) -> str:
    return iso(datetime.fromtimestamp(seconds, UTC))


def deadline_after(now: datetime, grace_seconds: int) -> datetime:
    return now + timedelta(seconds=grace_seconds)


def marker_tags(record: ResourceRecord, keys: Keys) -> dict[str, str]:
    """The display copy of a record's lifecycle, for people to read on the resource."""
    limits = LIMITS[Provider(record.provider)]
    tags = {keys.state: record.state.value}
    if record.deadline is not None:
        tags[keys.deadline] = iso_epoch(record.deadline)
    if record.detail:
        tags[keys.reason] = fit_value(record.detail, limits)
    if record.undo:
        tags[keys.undo] = record.undo
    if record.rule:
        tags[keys.rule] = record.rule
    return tags
