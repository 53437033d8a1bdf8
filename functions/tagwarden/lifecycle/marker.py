"""The marker tags a quarantined (or delete-pending) resource carries.

The marker is on the resource itself, so the sweeper finds quarantined resources by tag, any
person sees why and until when, and release needs nothing but the resource: the undo token that
restores it exactly is a tag too. Values stay within both clouds' tag limits.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from tagwarden.attribution.limits import LIMITS, fit_value
from tagwarden.model import Provider

DEFAULT_PREFIX = "tagwarden:"


class State(StrEnum):
    QUARANTINED = "quarantined"  # made harmless (or marked, for types with no cheap quarantine)
    QUARANTINE_PENDING = (
        "quarantine-pending"  # the quarantine failed (e.g. still creating): retried by the sweeper
    )
    DELETE_PENDING = "delete-pending"  # left as is, deleted at the deadline unless attributed


@dataclass(frozen=True, slots=True)
class Marker:
    state: State
    deadline: datetime
    reason: str  # e.g. "missing CostCenter Outcome-ID"
    undo: str = ""
    rule: str | None = None
    seal: str = ""

    def expired(self, now: datetime) -> bool:
        return now >= self.deadline


@dataclass(frozen=True, slots=True)
class Keys:
    state: str
    deadline: str
    reason: str
    undo: str
    rule: str
    seal: str

    @classmethod
    def with_prefix(cls, prefix: str = DEFAULT_PREFIX) -> Keys:
        names = ("quarantine", "deadline", "reason", "undo", "rule", "seal")
        return cls(*(prefix + n for n in names))

    def all(self) -> tuple[str, ...]:
        return (self.state, self.deadline, self.reason, self.undo, self.seal)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def deadline_after(now: datetime, grace_seconds: int) -> datetime:
    return now + timedelta(seconds=grace_seconds)


def seal(key: str, resource_id: str, marker: Marker) -> str:
    """An HMAC over what a deletion or an undo relies on: anyone may tag a resource, but only
    tagwarden can write a marker that verifies (tag-safe base64url, 43 characters)."""
    fields = (resource_id.lower(), marker.state.value, iso(marker.deadline), marker.undo, marker.rule or "")
    # surrogatepass: a field from the event may hold a lone surrogate; it must still seal, not raise.
    message = "|".join(fields).encode("utf-8", "surrogatepass")
    digest = hmac.new(key.encode("utf-8", "surrogatepass"), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def verify(key: str | None, resource_id: str, marker: Marker) -> bool:
    if not key or not marker.seal:
        return False
    return hmac.compare_digest(seal(key, resource_id, marker), marker.seal)


def marker_tags(
    marker: Marker, provider: Provider, keys: Keys, key: str | None = None, resource_id: str = ""
) -> dict[str, str]:
    limits = LIMITS[provider]
    tags = {
        keys.state: marker.state.value,
        keys.deadline: iso(marker.deadline),
        keys.reason: fit_value(marker.reason, limits),
    }
    if marker.undo:
        tags[keys.undo] = marker.undo
    if marker.rule:
        tags[keys.rule] = marker.rule  # the sweeper re-judges with this rule (same key as the stamp)
    if key:
        tags[keys.seal] = seal(key, resource_id, marker)
    return tags


def read_marker(tags: Mapping[str, str], keys: Keys) -> Marker | None:
    """The marker on a resource, or None when it carries none (or one we cannot read)."""
    folded = {k.lower(): v for k, v in tags.items()}
    state = folded.get(keys.state.lower())
    deadline = folded.get(keys.deadline.lower())
    if state not in {s.value for s in State} or not deadline:
        return None
    try:
        when = datetime.strptime(deadline, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return Marker(
        state=State(state),
        deadline=when,
        reason=folded.get(keys.reason.lower(), ""),
        undo=folded.get(keys.undo.lower(), ""),
        rule=folded.get(keys.rule.lower()),
        seal=folded.get(keys.seal.lower(), ""),
    )
