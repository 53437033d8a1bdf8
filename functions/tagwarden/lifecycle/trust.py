"""What the lifecycle trusts, and what it does not. Pure functions.

- `untrusted`: tags named with tagwarden's prefix in a create request are the creator's, not
  tagwarden's: they are ignored for every lifecycle judgement (and logged, and kept in the record),
  so a pre-set `tagwarden:protect`, `tagwarden:exempt` or `tagwarden:quarantine` changes nothing.
- `deadline_for`: the grace period runs from the later of the cloud's event time and the
  enforcer's clock. The event time is stamped by CloudTrail / ARM, not by the creator and not by
  our host: an enforcer clock that is behind can only lengthen a grace period, never shorten it,
  and the deadline is compared with the sweeper's clock against the record, never against a tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from tagwarden.ledger.model import ResourceRecord
from tagwarden.model import Actor, ActorKind, CreationEvent, Provider, Resource
from tagwarden.rules.model import RuleSet

DEFAULT_PREFIX = "tagwarden:"


def prefixes(rules: RuleSet) -> tuple[str, ...]:
    """tagwarden's tag prefixes, folded: the configured stamp prefix and the default one."""
    configured = rules.stamp.prefix if rules.stamp is not None else DEFAULT_PREFIX
    return tuple(dict.fromkeys((configured.lower(), DEFAULT_PREFIX)))


def untrusted(tags: Mapping[str, str] | None, rules: RuleSet) -> dict[str, str]:
    """The tags with tagwarden's prefix among `tags` (a create request's): never trusted."""
    marks = prefixes(rules)
    return {k: v for k, v in (tags or {}).items() if k.lower().startswith(marks)}


def without(tags: Mapping[str, str], drop: Mapping[str, str]) -> dict[str, str]:
    """`tags` minus the keys in `drop` (case-insensitively)."""
    folded = {k.lower() for k in drop}
    return {k: v for k, v in tags.items() if k.lower() not in folded}


def trusted_now(tags: Mapping[str, str], record: ResourceRecord) -> dict[str, str]:
    """Current tags, minus those still carrying the value the creator pre-set in the create request
    (a protect or exemption tag set later, by someone else or to another value, counts)."""
    ignored = {k.lower(): v for k, v in record.ignored.items()}
    return {k: v for k, v in tags.items() if ignored.get(k.lower()) != v}


def event_epoch(event_time: str) -> float | None:
    try:
        moment = datetime.fromisoformat(event_time.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def deadline_for(event: CreationEvent, now: float, grace_seconds: int) -> float:
    start = max(now, event_epoch(event.time) or now)
    return start + grace_seconds


def actor_of(record: ResourceRecord) -> Actor:
    data = dict(record.actor)
    try:
        kind = ActorKind(data.pop("kind", ActorKind.UNKNOWN.value))
    except ValueError:
        kind = ActorKind.UNKNOWN
    known = {k: v for k, v in data.items() if k in Actor.__struct_fields__}
    return Actor(kind, **known)


def probe_event(record: ResourceRecord, resource: Resource) -> CreationEvent:
    """The create event as the ledger recorded it: what the current rules are matched against
    (never the resource's tags: a `tagwarden:creator` tag is a display)."""
    return CreationEvent(
        provider=Provider(record.provider),
        event_id=record.event_id,
        event_name=record.event_name,
        event_source=record.event_source,
        time=record.event_time,
        account=record.account,
        region=record.region,
        actor=actor_of(record),
        resources=(resource,),
    )
