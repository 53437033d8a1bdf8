"""The AWS enforcer: one EventBridge "AWS API Call via CloudTrail" event in, tags written out.

Parse, normalize, decide, plan, apply, log. Everything is built once per container (`build`):
rules compiled, clients created, principal tags cached. Each event ends in exactly one of:
acted on (tags written, actions recorded), skipped with a logged reason, or an exception that
sends it to Lambda's retry and then the on-failure destination (dead letter).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tagwarden.attribution.decide import decide
from tagwarden.aws.clients import Clients
from tagwarden.aws.dedupe import Claim, DynamoClaims, MemoryClaims
from tagwarden.aws.lookups import IamLookups
from tagwarden.aws.taggers import Outcome, TagResult, TagWrite, write_tags
from tagwarden.aws.telemetry import Telemetry
from tagwarden.guards import OwnIdentity
from tagwarden.model import Action, CreationEvent, Decision, SkipKind, Skipped
from tagwarden.normalize import normalize
from tagwarden.plan import EffectKind, plan
from tagwarden.rules import load_rules, load_rules_text
from tagwarden.rules.model import RuleSet


class TagWriteFailed(RuntimeError):
    """Some tags could not be written; raised after logging so that the event is retried."""


@dataclass
class AwsEnforcer:
    rules: RuleSet
    clients: Clients
    lookups: IamLookups
    claims: Claim
    own: OwnIdentity
    telemetry: Telemetry
    not_found_window: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    results: list[dict[str, Any]] = field(default_factory=list)  # last invocation, for the demo

    def handle(self, raw: Any) -> dict[str, Any]:
        """Process one delivery (an EventBridge event; a list or log file of records also works)."""
        results = normalize(raw)
        self.telemetry.count_events(len(results))
        reports = [self._one(result) for result in results]
        return {"events": reports}

    def _one(self, result: CreationEvent | Skipped) -> dict[str, Any]:
        if isinstance(result, Skipped):
            return self._skip(result.event_id, result.event_name, result.kind, result.reason)
        event = result
        self.telemetry.correlate(event.event_id)
        if self.own.is_own(event):
            return self._skip(event.event_id, event.event_name, SkipKind.OWN_CALL, "our own call")
        busy = self.claims.claim(event.event_id) if event.event_id else None
        if busy == "duplicate delivery":
            return self._skip(event.event_id, event.event_name, SkipKind.DUPLICATE, busy)
        if busy is not None:
            raise RuntimeError(f"event {event.event_id} is {busy} in another invocation; retry later")
        try:
            report = self._act(event)
        except BaseException:
            self.claims.release(event.event_id)
            raise
        self.claims.done(event.event_id)
        return report

    def _act(self, event: CreationEvent) -> dict[str, Any]:
        started = time.perf_counter()
        decisions = decide(event, self.rules, self.lookups)
        effects = plan(decisions, self.rules.mode)
        writes = [TagWrite(e.resource, e.tags) for e in effects if e.kind is EffectKind.WRITE_TAGS]
        own_seconds = time.perf_counter() - started
        tagged = write_tags(
            writes,
            self.clients,
            region=event.region,
            sleep=self.sleep,
            not_found_window=self.not_found_window,
        )
        outcomes = {r.resource.id: r for r in tagged}
        tagged_at = self.clock()
        rows = [self._record(event, d, outcomes.get(d.resource.id), tagged_at) for d in decisions]
        for effect in effects:
            if effect.kind in (EffectKind.NOTIFY, EffectKind.QUARANTINE, EffectKind.SCHEDULE_DELETE):
                # Quarantine, deletion and notifications are carried out by the lifecycle step; until
                # then they are recorded here, loudly, so nothing unattributed goes unnoticed.
                self.telemetry.log(
                    "warning",
                    "action pending",
                    effect=effect.kind.value,
                    resource=effect.resource.id,
                    action=effect.action.value,
                    grace_seconds=effect.grace_seconds,
                )
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
        failed = [r for r in tagged if r.outcome is Outcome.FAILED]
        if failed:
            raise TagWriteFailed(
                f"{len(failed)} of {len(tagged)} tag writes failed: "
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
            "tagged_at": tagged_at if result is not None and result.outcome is Outcome.TAGGED else None,
        }
        level = "info"
        if result is not None and result.outcome is Outcome.FAILED:
            level = "error"
        elif d.action not in (Action.TAG, Action.NONE, Action.SKIP) or (
            result is not None and result.outcome is Outcome.VANISHED
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

    def _skip(
        self, event_id: str | None, event_name: str | None, kind: SkipKind, reason: str
    ) -> dict[str, Any]:
        self.telemetry.log(
            "info", "event skipped", event_id=event_id, event_name=event_name, kind=kind.value, reason=reason
        )
        self.telemetry.count_skip(kind)
        return {
            "event_id": event_id,
            "event_name": event_name,
            "skipped": reason,
            "kind": kind.value,
            "resources": [],
        }


def load_rules_from_env(env: Mapping[str, str], clients: Clients) -> RuleSet:
    """Rules are read once per cold start: from SSM Parameter Store when a parameter is named,
    else from the file deployed with the function (TAGWARDEN_RULES_PATH)."""
    parameter = env.get("TAGWARDEN_RULES_SSM_PARAMETER")
    if parameter:
        value = clients.get("ssm").get_parameter(Name=parameter, WithDecryption=True)["Parameter"]["Value"]
        return load_rules_text(value, f"ssm:{parameter}", env)
    path = env.get("TAGWARDEN_RULES_PATH")
    if not path:
        raise RuntimeError(
            "set TAGWARDEN_RULES_PATH (a rules file deployed with the function) "
            "or TAGWARDEN_RULES_SSM_PARAMETER"
        )
    if not os.path.isabs(path):
        path = os.path.join(env.get("LAMBDA_TASK_ROOT", os.getcwd()), path)
    return load_rules(path, env)


def build(
    env: Mapping[str, str] | None = None, clients: Clients | None = None, telemetry: Telemetry | None = None
) -> AwsEnforcer:
    env = os.environ if env is None else env
    clients = clients or Clients()
    rules = load_rules_from_env(env, clients)
    table = env.get("TAGWARDEN_IDEMPOTENCY_TABLE")
    claims: Claim = DynamoClaims(clients.get("dynamodb"), table) if table else MemoryClaims()
    own = OwnIdentity(
        arns=tuple(a.strip() for a in env.get("TAGWARDEN_OWN_ARNS", "").split(",") if a.strip())
    )
    return AwsEnforcer(
        rules=rules,
        clients=clients,
        lookups=IamLookups(clients, account_tags=env.get("TAGWARDEN_ACCOUNT_TAGS") == "organizations"),
        claims=claims,
        own=own,
        telemetry=telemetry or Telemetry(),
        not_found_window=float(env.get("TAGWARDEN_NOT_FOUND_WINDOW", "20")),
    )
