"""The Azure Function's body: Event Grid events (as the trigger hands them) to the enforcer, and
the timer's sweeps to the sweeper.

Thin: convert the trigger's objects to the Event Grid schema dicts the normalizer reads, build the
enforcer once per worker, handle. Unreadable input and failures are logged and re-raised, so Event
Grid retries the delivery and then dead-letters it. The enforcer routes tag writes by anyone but us
(delivered by the second event subscription) to the sweeper, which releases at once what they
attribute.
`sweep()` runs one sweep (release what is now attributed, delete what is past its deadline, leave
the rest); a failure is logged and re-raised, and the next timer tick sweeps again. Rules from a
blob (TAGWARDEN_RULES_SOURCE) are read at the first event and re-read while the worker lives
(tagwarden.rules.live); if the first read fails there are no rules, and the event fails too.
"""

from __future__ import annotations

from tagwarden import coldstart

coldstart.begin()  # before the imports; the collector resumes when the first event is over

import logging
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tagwarden.azure.enforcer import AzureEnforcer, build, build_sweeper, ledger_from_env
from tagwarden.azure.telemetry import Telemetry
from tagwarden.model import TagChange
from tagwarden.normalize import MalformedEvent
from tagwarden.rules.loaded import SOURCE_ENV, Loaded
from tagwarden.untrusted import check_shape

if TYPE_CHECKING:
    from tagwarden.azure.sweeper import AzureSweeper
    from tagwarden.rules.live import LiveEnforcer, LiveRules, LiveSweeper  # rules from a blob only

# azure-core logs every HTTP request at INFO; in a Function each line becomes an Application
# Insights trace. Our own records say what happened; the SDK's are kept for warnings and errors.
logging.getLogger("azure.core.pipeline.policies.http_logging_policy").setLevel(logging.WARNING)

_TELEMETRY = Telemetry()
_ENFORCER: AzureEnforcer | LiveEnforcer[AzureEnforcer] | None = None
_SWEEPER: AzureSweeper | LiveSweeper[AzureSweeper] | None = None
_RULES: dict[str | None, LiveRules | None] = {}  # per source setting; None: the deployed file


def _app_root() -> str:
    # Relative rules paths are read from the app root (the folder of function_app.py), which
    # the Functions host names in AzureWebJobsScriptRoot.
    return os.environ.get("AzureWebJobsScriptRoot") or os.getcwd()  # noqa: SIM112 - the host's name


def live() -> LiveRules | None:
    """The blob's live rules, shared by the enforcer and the sweeper of a worker."""
    source = os.environ.get(SOURCE_ENV) or None
    if source is None:
        return None  # the deployed file: the blob client is never imported
    if source not in _RULES:
        from tagwarden.azure.rules_source import live_rules

        _RULES[source] = live_rules(os.environ, _TELEMETRY)
    return _RULES[source]


def enforcer() -> AzureEnforcer | LiveEnforcer[AzureEnforcer]:
    global _ENFORCER  # noqa: PLW0603 - built once per worker, on the first event
    if _ENFORCER is None:
        rules = live()
        if rules is None:
            _ENFORCER = build(telemetry=_TELEMETRY, base_dir=_app_root(), release=release)
        else:
            from tagwarden.rules.live import LiveEnforcer, Rebuilt

            ledger = ledger_from_env(os.environ)  # one ledger for every version's enforcer

            def for_rules(loaded: Loaded) -> AzureEnforcer:
                return build(telemetry=_TELEMETRY, release=release, ledger=ledger, loaded=loaded)

            _ENFORCER = LiveEnforcer(Rebuilt(rules, for_rules))
    return _ENFORCER


def release(changes: Sequence[TagChange]) -> dict[str, Any]:
    """Tag writes by others: the sweeper releases the marked resources they attribute."""
    return sweeper().release_now(changes)


def sweeper() -> AzureSweeper | LiveSweeper[AzureSweeper]:
    global _SWEEPER  # noqa: PLW0603 - built once per worker, on the first tick
    if _SWEEPER is None:
        rules = live()
        if rules is None:
            _SWEEPER = build_sweeper(telemetry=_TELEMETRY, base_dir=_app_root())
        else:
            from tagwarden.rules.live import LiveSweeper, Rebuilt

            ledger = ledger_from_env(os.environ)

            def for_rules(loaded: Loaded) -> AzureSweeper:
                return build_sweeper(telemetry=_TELEMETRY, ledger=ledger, loaded=loaded)

            _SWEEPER = LiveSweeper(Rebuilt(rules, for_rules))
        coldstart.settled()  # before a sweep that may run for minutes (a failed build: `sweep`'s finally)
    return _SWEEPER


def sweep() -> dict[str, Any]:
    """One sweep: release what is now attributed, delete what is past its deadline, leave the rest."""
    try:
        return sweeper().run()
    except Exception as exc:
        _TELEMETRY.log("error", "sweep failed", error=f"{type(exc).__name__}: {exc}")
        _TELEMETRY.count_failure(type(exc).__name__)
        raise
    finally:
        coldstart.settled()


def as_eventgrid_dict(event: Any) -> dict[str, Any]:
    """azure.functions.EventGridEvent (or a plain dict) -> the Event Grid schema as delivered."""
    if isinstance(event, dict):
        return event
    if not hasattr(event, "get_json"):
        raise MalformedEvent(f"expected an Event Grid event object, got {type(event).__name__}")
    return {
        "id": event.id,
        "subject": event.subject,
        "eventType": event.event_type,
        "eventTime": event.event_time.isoformat() if event.event_time else None,
        "data": event.get_json(),
        "topic": event.topic,
        "dataVersion": event.data_version,
    }


def handle(events: Any) -> dict[str, Any]:
    raw: Any = events
    try:
        many = isinstance(events, list)
        raw = [as_eventgrid_dict(e) for e in events] if many else as_eventgrid_dict(events)
        check_shape(raw)
        return enforcer().handle(raw)
    except MalformedEvent as exc:
        _TELEMETRY.log("error", "unreadable event", error=str(exc), event=raw)
        _TELEMETRY.count_failure("MalformedEvent")
        raise
    except Exception as exc:
        _TELEMETRY.log("error", "event failed", error=f"{type(exc).__name__}: {exc}")
        _TELEMETRY.count_failure(type(exc).__name__)
        raise
    finally:
        coldstart.settled()
