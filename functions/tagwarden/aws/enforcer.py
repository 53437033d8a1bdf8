"""The AWS enforcer: the core Enforcer wired to boto3 taggers, IAM lookups and event claims.

Everything is built once per container (`build`): rules compiled, clients created, principal
tags cached for the container's life.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tagwarden.aws.clients import Clients
from tagwarden.aws.dedupe import DynamoClaims
from tagwarden.aws.lookups import IamLookups
from tagwarden.aws.notify import SnsNotifier
from tagwarden.aws.quarantine import AwsQuarantiner
from tagwarden.aws.sweeper import AwsSweeper, RgtaTags
from tagwarden.aws.taggers import write_tags
from tagwarden.aws.telemetry import Telemetry
from tagwarden.claims import Claim, MemoryClaims
from tagwarden.enforce import Enforcer, TagWriteFailed
from tagwarden.guards import OwnIdentity
from tagwarden.rules import load_rules, load_rules_text
from tagwarden.rules.model import Mode, RuleSet
from tagwarden.tagging import TagResult, TagWrite

if TYPE_CHECKING:
    from tagwarden.runaway.limiter import Limiter
    from tagwarden.runaway.ports import RateSink

__all__ = ["AwsEnforcer", "TagWriteFailed", "build", "build_sweeper", "load_rules_from_env"]


@dataclass
class AwsEnforcer(Enforcer):
    clients: Clients = field(default_factory=Clients)  # the writer's clients, reused per container


class _Writer:
    def __init__(self, clients: Clients, not_found_window: float) -> None:
        self.clients = clients
        self.not_found_window = not_found_window

    def __call__(self, writes: Sequence[TagWrite], region: str | None) -> list[TagResult]:
        return write_tags(writes, self.clients, region=region, not_found_window=self.not_found_window)


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
    own = OwnIdentity(arns=_csv(env.get("TAGWARDEN_OWN_ARNS")))
    lookups = IamLookups(clients, account_tags=env.get("TAGWARDEN_ACCOUNT_TAGS") == "organizations")
    telemetry = telemetry or Telemetry()
    return AwsEnforcer(
        rules=rules,
        write=_Writer(clients, float(env.get("TAGWARDEN_NOT_FOUND_WINDOW", "20"))),
        lookups=lambda: lookups,  # one IamLookups per container: principal tags cached for its life
        claims=claims,
        own=own,
        telemetry=telemetry,
        clients=clients,
        quarantiner=quarantiner(env, clients),
        notifier=notifier(env, rules, clients),
        current_tags=RgtaTags(clients),
        limiter=limiter(env, rules, clients, telemetry),
    )


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def quarantiner(env: Mapping[str, str], clients: Clients) -> AwsQuarantiner:
    """S3 quarantine policies spare the enforcer and the break-glass principals."""
    return AwsQuarantiner(
        clients,
        enforcer_principals=_csv(env.get("TAGWARDEN_OWN_ARNS")),
        break_glass=_csv(env.get("TAGWARDEN_BREAK_GLASS_ARNS")),
        # Waits stay well inside the function's timeout (90 s) with the not-found window (20 s).
        wait_seconds=45.0,
    )


def limiter(
    env: Mapping[str, str], rules: RuleSet, clients: Clients, rates: RateSink | None
) -> Limiter | None:
    """Runaway agents, when the rules have limits: counts in DynamoDB (TAGWARDEN_RUNAWAY_TABLE);
    without a table, in the container's memory (local runs only: containers would not add up)."""
    if not rules.limits:
        return None
    from tagwarden.aws.brake import IamBrake
    from tagwarden.runaway.limiter import Limiter
    from tagwarden.runaway.ports import RunawayStore

    store: RunawayStore
    table = env.get("TAGWARDEN_RUNAWAY_TABLE")
    if table:
        from tagwarden.runaway.dynamodb import DynamoRunawayStore

        store = DynamoRunawayStore(clients.get("dynamodb"), table)
    else:
        from tagwarden.runaway.sqlite import SqliteRunawayStore

        store = SqliteRunawayStore(":memory:")
    return Limiter(
        limits=rules.limits,
        store=store,
        brake=IamBrake(clients),
        rates=rates,
        act=rules.mode is Mode.ENFORCE and not rules.lifecycle.dry_run,
        protected=brake_guard(env),
    )


def brake_guard(env: Mapping[str, str]) -> Callable[[str], str | None]:
    """Principals a brake never touches: ours, break-glass, service-linked roles, and any role
    outside TAGWARDEN_BRAKE_ROLES (globs over role ARNs; the template scopes its IAM the same way)."""
    from tagwarden.rules.match import compile_globs

    own = _csv(env.get("TAGWARDEN_OWN_ARNS")) + _csv(env.get("TAGWARDEN_BREAK_GLASS_ARNS"))
    never = compile_globs(own) if own else None
    allowed = compile_globs(_csv(env.get("TAGWARDEN_BRAKE_ROLES")) or ("arn:aws:iam::*:role/agent-*",))

    def why(principal: str) -> str | None:
        if ":role/aws-service-role/" in principal:
            return "is a service-linked role"
        if never is not None and never.match(principal):
            return "is tagwarden's own or a break-glass principal"
        if not allowed.match(principal):
            return "is outside TAGWARDEN_BRAKE_ROLES"
        return None

    return why


def notifier(env: Mapping[str, str], rules: RuleSet, clients: Clients) -> SnsNotifier | None:
    topic = env.get("TAGWARDEN_SNS_TOPIC_ARN") or rules.notifications.sns_topic_arn
    if not topic:
        return None  # notifications are still logged, one structured record each
    return SnsNotifier(clients, topic, env.get("TAGWARDEN_CHATBOT_TOPIC_ARN") or None)


def build_sweeper(
    env: Mapping[str, str] | None = None, clients: Clients | None = None, telemetry: Telemetry | None = None
) -> AwsSweeper:
    env = os.environ if env is None else env
    clients = clients or Clients()
    rules = load_rules_from_env(env, clients)
    return AwsSweeper(
        rules=rules,
        clients=clients,
        quarantiner=quarantiner(env, clients),
        notifier=notifier(env, rules, clients),
        telemetry=telemetry or Telemetry(),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
    )
