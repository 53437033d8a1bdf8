"""Lambda entry point: `tagwarden.aws.handler.lambda_handler`.

Thin on purpose: build the enforcer once per container (rules compiled, clients created), then
hand each EventBridge event to it. Unreadable input and failures are logged with a metric and
re-raised, so Lambda retries the event and then sends it to the on-failure destination. Rules
from a store (TAGWARDEN_RULES_SOURCE) are read at the first event and re-read while the container
lives (tagwarden.aws.live); if the first read fails, there are no rules and the event fails too.
"""

from __future__ import annotations

from tagwarden import coldstart

coldstart.begin()  # before the imports; the collector resumes when the first event is over

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tagwarden.aws.clients import Clients
from tagwarden.aws.enforcer import AwsEnforcer
from tagwarden.aws.live import enforcer_from_env, sweeper_from_env
from tagwarden.aws.normalize.tag_events import tag_change
from tagwarden.aws.rules_source import live_rules, source_setting
from tagwarden.aws.telemetry import SERVICE, Telemetry
from tagwarden.aws.tracing import traced, tracer
from tagwarden.enforce import on_tag_changes
from tagwarden.guards import OwnIdentity
from tagwarden.model import TagChange
from tagwarden.normalize import MalformedEvent
from tagwarden.settings import csv
from tagwarden.untrusted import check_shape

if TYPE_CHECKING:
    from tagwarden.aws.sweeper import AwsSweeper
    from tagwarden.rules.live import LiveEnforcer, LiveRules, LiveSweeper

_TELEMETRY = Telemetry()
_TRACER = tracer(SERVICE)  # None when POWERTOOLS_TRACE_DISABLED (X-Ray then never imported)
_ENFORCER: AwsEnforcer | LiveEnforcer[AwsEnforcer] | None = None
_SWEEPER: AwsSweeper | LiveSweeper[AwsSweeper] | None = None
_RULES: dict[str | None, LiveRules | None] = {}  # per source setting; None: the packaged file


def live(clients: Clients | None = None) -> LiveRules | None:
    """The rules of TAGWARDEN_RULES_SOURCE, shared by the enforcer and the sweeper of a container
    (read with `clients`, the first caller's: a boto3 session costs ~12 ms of cold start)."""
    source = source_setting(os.environ)
    if source not in _RULES:
        _RULES[source] = live_rules(os.environ, clients or Clients(), _TELEMETRY)
    return _RULES[source]


def enforcer() -> AwsEnforcer | LiveEnforcer[AwsEnforcer]:
    global _ENFORCER  # noqa: PLW0603 - built once per container, on the first event
    if _ENFORCER is None:
        clients = Clients()  # one session for the rules store, the ledger and the tag writes
        env = os.environ
        _ENFORCER = enforcer_from_env(live(clients), env, clients, telemetry=_TELEMETRY, release=release)
    return _ENFORCER


def release(changes: Sequence[TagChange]) -> dict[str, Any]:
    """Tag writes by others: the sweeper releases the quarantined resources they attribute."""
    return sweeper().release_now(changes)


@traced(_TRACER)
@_TELEMETRY.metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        check_shape(event)  # nesting and surrogates no event has: MalformedEvent before any reader
        return enforcer().handle(event)
    except MalformedEvent as exc:
        _TELEMETRY.log("error", "unreadable event", error=str(exc), event=event)
        _TELEMETRY.count_failure("MalformedEvent")
        raise
    except Exception as exc:
        _TELEMETRY.logger.exception("event failed", extra={"error": str(exc)})
        _TELEMETRY.count_failure(type(exc).__name__)
        raise
    finally:
        coldstart.settled()


def own_identity() -> OwnIdentity:
    """Our roles, and in an Organization our sessions in member accounts: the tag writes the
    enforcer and the sweeper make there through the member roles come back as tag-write events."""
    from tagwarden.aws.members import OrgSettings

    org = OrgSettings.from_env(os.environ)
    return OwnIdentity(arns=csv(os.environ.get("TAGWARDEN_OWN_ARNS")) + (org.own_arns() if org else ()))


def sweeper() -> AwsSweeper | LiveSweeper[AwsSweeper]:
    global _SWEEPER  # noqa: PLW0603 - built once per container
    if _SWEEPER is None:
        try:
            _SWEEPER = sweeper_from_env(live(), os.environ, telemetry=_TELEMETRY)
        finally:
            coldstart.settled()  # before a sweep that may run for minutes
    return _SWEEPER


SWEEP_MARGIN_SECONDS = 150.0  # an action started just before the budget ends may wait 120 s


def _budget(context: Any) -> float | None:
    """The sweep's time: the invocation's remaining time, less a margin for the last action
    (at most half of it)."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is None:
        return None
    seconds = float(remaining()) / 1000.0
    return seconds - min(SWEEP_MARGIN_SECONDS, seconds / 2)


@traced(_TRACER)
@_TELEMETRY.metrics.log_metrics(capture_cold_start_metric=True)
def sweeper_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Scheduled: release what is now attributed, delete what is past its deadline, leave the rest.
    On a tag write (EventBridge rule TagWrites): release the quarantined resources it fixed, at once."""
    try:
        check_shape(event)
        change = tag_change(event) if isinstance(event, dict) and "detail" in event else None
        if change is not None:
            _TELEMETRY.count_events(1)
            return {"events": [on_tag_changes([change], own_identity(), release, _TELEMETRY)]}
        from tagwarden.rules.live import LiveSweeper

        found = sweeper()  # with rules from a store: the sweeper built on the version in force
        current = found.current if isinstance(found, LiveSweeper) else found
        result = current.run(budget_seconds=_budget(context))
    except Exception as exc:
        _TELEMETRY.logger.exception("sweep failed", extra={"error": str(exc)})
        _TELEMETRY.count_failure(type(exc).__name__)
        raise
    finally:
        coldstart.settled()
    _TELEMETRY.count_swept(len(result["resources"]))
    return result
