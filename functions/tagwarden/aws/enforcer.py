"""The AWS enforcer: the core Enforcer wired to boto3 taggers, IAM lookups and the DynamoDB ledger.

Everything is built once per container (`build`): rules compiled, clients created, principal
tags cached for the container's life. The ledger is the DynamoDB table in
TAGWARDEN_LEDGER_TABLE (deployed), or a SQLite file in TAGWARDEN_LEDGER (local runs, tests); with
neither, building fails: nothing is quarantined that could never be released or swept.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from msgspec import field
from msgspec.structs import replace

from tagwarden.aws.catalogue import user as user_catalogue
from tagwarden.aws.clients import AccountClients, Clients
from tagwarden.aws.lookups import IamLookups, RgtaTags
from tagwarden.aws.normalize import READER
from tagwarden.aws.notify import SnsNotifier
from tagwarden.aws.taggers import write_tags
from tagwarden.aws.telemetry import Telemetry
from tagwarden.aws.text import AWS_TEXT
from tagwarden.channels import fan_out, neutral_channels
from tagwarden.enforce import Enforcer, Release, TagWriteFailed
from tagwarden.guards import OwnIdentity
from tagwarden.ledger.ports import Ledger
from tagwarden.ledger.records import rules_hash
from tagwarden.lifecycle.ports import LazyQuarantiner, Notifier, Quarantiner
from tagwarden.rules.compiled import load_rules_file_text
from tagwarden.rules.loaded import Loaded
from tagwarden.rules.model import Mode, RuleSet
from tagwarden.settings import csv, rules_text_from_path
from tagwarden.tagging import TagResult, TagWrite

if TYPE_CHECKING:  # the sweeper is built (and imported) by the sweeper function only
    from tagwarden.aws.members import Members
    from tagwarden.aws.sweeper import AwsSweeper
    from tagwarden.runaway.limiter import Limiter
    from tagwarden.runaway.ports import RateSink

__all__ = ["AwsEnforcer", "TagWriteFailed", "build", "build_sweeper", "load_rules_from_env"]


class AwsEnforcer(Enforcer):
    clients: Clients = field(default_factory=Clients)  # the writer's clients, reused per container
    members: Members | None = None  # organization mode: events of member accounts go to their clients

    def handle(self, raw: Any) -> dict[str, Any]:
        if self.members is None:
            return super().handle(raw)
        return self.members.handle(raw, super().handle)


class _Writer:
    def __init__(self, clients: Clients, not_found_window: float) -> None:
        self.clients = clients
        self.not_found_window = not_found_window

    def __call__(self, writes: Sequence[TagWrite], region: str | None) -> list[TagResult]:
        return write_tags(writes, self.clients, region=region, not_found_window=self.not_found_window)


def rules_source(env: Mapping[str, str], clients: Clients) -> tuple[str, str]:
    """The packaged rules file's text and name (TAGWARDEN_RULES_PATH), read once per cold start.
    Rules from S3, SSM or AppConfig, re-read while the function lives: tagwarden.aws.live."""
    return rules_text_from_path(env, env.get("LAMBDA_TASK_ROOT"), " or TAGWARDEN_RULES_SOURCE")


def load_rules_from_env(env: Mapping[str, str], clients: Clients) -> Loaded:
    text, name = rules_source(env, clients)
    # its compiled form (written by `make package-aws`) when it is for this text, else the YAML
    return Loaded(load_rules_file_text(text, name, env), rules_hash(text), name, "")


def ledger_from_env(env: Mapping[str, str], clients: Clients) -> Ledger:
    """The ledger: the DynamoDB table TAGWARDEN_LEDGER_TABLE, else the SQLite file TAGWARDEN_LEDGER."""
    table = env.get("TAGWARDEN_LEDGER_TABLE")
    if table:
        from tagwarden.aws.ledger import DynamoLedger

        return DynamoLedger(clients.get("dynamodb"), table)
    from tagwarden.ledger.sqlite import SqliteLedger

    local = SqliteLedger.from_env(env)
    if local is not None:
        return local
    raise RuntimeError("no ledger: set TAGWARDEN_LEDGER_TABLE (DynamoDB) or TAGWARDEN_LEDGER (a SQLite file)")


def build(
    env: Mapping[str, str] | None = None,
    clients: Clients | None = None,
    telemetry: Telemetry | None = None,
    release: Release | None = None,
    ledger: Ledger | None = None,
    loaded: Loaded | None = None,
) -> AwsEnforcer:
    """The enforcer for `loaded` (the live rules of tagwarden.aws.live), else the packaged file's."""
    env = os.environ if env is None else env
    clients = clients or Clients()
    telemetry = telemetry or Telemetry()
    loaded = loaded or load_rules_from_env(env, clients)
    rules = loaded.rules
    user_catalogue.index(rules.catalogue)  # an unknown tagger fails the build (the rules in force stay)
    own = OwnIdentity(arns=csv(env.get("TAGWARDEN_OWN_ARNS")))
    lookups = IamLookups(clients, account_tags=env.get("TAGWARDEN_ACCOUNT_TAGS") == "organizations")
    hub = AwsEnforcer(
        rules=rules,
        write=_Writer(clients, float(env.get("TAGWARDEN_NOT_FOUND_WINDOW", "20"))),
        lookups=lambda: lookups,  # one IamLookups per container: principal tags cached for its life
        ledger=ledger or ledger_from_env(env, clients),
        rules_digest=loaded.digest,  # of the rules in force: records say which version decided
        own=own,
        telemetry=telemetry,
        read=READER,
        text=AWS_TEXT,
        release=release,
        clients=clients,
        quarantiner=quarantiner(env, clients),
        notifier=notifier(env, rules, clients, telemetry),
        current_tags=RgtaTags(clients),
        limiter=limiter(env, rules, clients, telemetry),
    )
    # The rules file's own catalogue entries, for the reader (asked after the built-in rows), last:
    # only once the enforcer for these rules is built. Their events reach this function through
    # the template's ExtraEventSources rule (README, catalogue).
    enforcer = _organization(env, hub)
    user_catalogue.install(rules.catalogue)
    return enforcer


def _organization(env: Mapping[str, str], hub: AwsEnforcer) -> AwsEnforcer:
    """Organization mode (TAGWARDEN_MEMBER_ACCOUNTS / TAGWARDEN_ORG_ID): the hub's enforcer gates
    accounts and acts in each member account with that account's clients; else `hub` unchanged."""
    if not csv(env.get("TAGWARDEN_MEMBER_ACCOUNTS")) and not env.get("TAGWARDEN_ORG_ID"):
        return hub  # one account (OrgSettings.from_env's test): organization mode not even imported
    from tagwarden.aws.members import AccountGate, Members, OrgSettings

    settings = OrgSettings.from_env(env)
    if settings is None:
        return hub
    accounts = AccountClients(
        hub.clients,
        env.get("TAGWARDEN_ACCOUNT_ID") or None,
        settings.role_name,
        settings.external_id,
        settings.seconds,
    )
    gate = AccountGate(settings, accounts)
    own = settings.own_arns()  # our sessions in member accounts (the enforcer's and the sweeper's)
    account_tags = env.get("TAGWARDEN_ACCOUNT_TAGS") == "organizations"
    window = float(env.get("TAGWARDEN_NOT_FOUND_WINDOW", "20"))
    # S3 quarantine statements in a member account spare the member role too.
    member_env = {**env, "TAGWARDEN_OWN_ARNS": ",".join((*csv(env.get("TAGWARDEN_OWN_ARNS")), *own))}

    def principals(account: str) -> Clients | None:  # a principal is read in its own account
        return accounts.get(account) if gate.allows(account) else None

    local_lookups = IamLookups(hub.clients, account_tags=account_tags, principals=principals)
    gated = replace(
        hub,
        read=gate.reader(hub.read),
        own=OwnIdentity(hub.own.arns + own, hub.own.ids),
        lookups=lambda: local_lookups,
    )

    def rewire(member: Clients) -> Callable[[Any], dict[str, Any]]:
        lookups = IamLookups(
            member, account_tags=account_tags, organizations=hub.clients, principals=principals
        )
        return replace(
            gated,
            write=_Writer(member, window),
            lookups=lambda: lookups,  # principal tags are read in the member account, cached there
            clients=member,
            quarantiner=quarantiner(member_env, member),
            current_tags=RgtaTags(member),
            release=hub.release,  # the sweeper's: it acts in the record's account, through its role
        ).handle

    return replace(gated, members=Members(gate, accounts, rewire))


def quarantiner(env: Mapping[str, str], clients: Clients, region: str | None = None) -> Quarantiner:
    """S3 quarantine policies spare the enforcer and the break-glass principals. Built on the first
    quarantine: most events never need the quarantine table. `region`: for ARNs that name none."""
    return LazyQuarantiner(lambda: _quarantiner(env, clients, region))


def _quarantiner(env: Mapping[str, str], clients: Clients, region: str | None = None) -> Quarantiner:
    from tagwarden.aws.quarantine import AwsQuarantiner

    return AwsQuarantiner(
        clients,
        region,
        enforcer_principals=csv(env.get("TAGWARDEN_OWN_ARNS")),
        break_glass=csv(env.get("TAGWARDEN_BREAK_GLASS_ARNS")),
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
        from tagwarden.runaway.aws.dynamodb import DynamoRunawayStore

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

    own = csv(env.get("TAGWARDEN_OWN_ARNS")) + csv(env.get("TAGWARDEN_BREAK_GLASS_ARNS"))
    never = compile_globs(own) if own else None
    allowed = compile_globs(csv(env.get("TAGWARDEN_BRAKE_ROLES")) or ("arn:aws:iam::*:role/agent-*",))

    def why(principal: str) -> str | None:
        if ":role/aws-service-role/" in principal:
            return "is a service-linked role"
        if never is not None and never.match(principal):
            return "is tagwarden's own or a break-glass principal"
        if not allowed.match(principal):
            return "is outside TAGWARDEN_BRAKE_ROLES"
        return None

    return why


def notifier(
    env: Mapping[str, str], rules: RuleSet, clients: Clients, telemetry: Telemetry | None = None
) -> Notifier | None:
    """One Fanout over the configured channels (SNS and its Chatbot variant, Teams), or None:
    notifications are then still logged, one structured record each."""
    channels, failures = neutral_channels(env, rules)
    topic = env.get("TAGWARDEN_SNS_TOPIC_ARN") or rules.notifications.sns_topic_arn
    if topic:
        sns = SnsNotifier(clients, topic, env.get("TAGWARDEN_CHATBOT_TOPIC_ARN") or None)
        channels = {"sns": sns, **channels}
    return fan_out(channels, failures, telemetry)


def build_sweeper(
    env: Mapping[str, str] | None = None,
    clients: Clients | None = None,
    telemetry: Telemetry | None = None,
    ledger: Ledger | None = None,
    loaded: Loaded | None = None,
) -> AwsSweeper:
    """The sweeper. In an Organization (TAGWARDEN_MEMBER_ACCOUNTS / TAGWARDEN_ORG_ID) it acts in
    each record's account through the member sweeper role, gated as the enforcer is."""
    from tagwarden.aws.members import AccountGate, OrgSettings
    from tagwarden.aws.pacing import SWEEP_CONFIG
    from tagwarden.aws.sweeper import AwsSweeper

    env = os.environ if env is None else env
    clients = clients or Clients(config=SWEEP_CONFIG)
    rules = (loaded or load_rules_from_env(env, clients)).rules
    sweeper = AwsSweeper(
        rules=rules,
        clients=clients,
        quarantiner=quarantiner(env, clients),
        notifier=notifier(env, rules, clients),
        telemetry=telemetry or Telemetry(),
        ledger=ledger or ledger_from_env(env, clients),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
    )
    settings = OrgSettings.from_env(env)
    if settings is None:
        return sweeper
    accounts = AccountClients(
        clients,
        env.get("TAGWARDEN_ACCOUNT_ID") or None,
        settings.sweeper_role_name,
        settings.external_id,
        settings.seconds,
    )
    # S3 quarantine statements spare our member roles (the sweeper releases and deletes through one).
    own = (*csv(env.get("TAGWARDEN_OWN_ARNS")), *settings.own_arns())
    member_env = {**env, "TAGWARDEN_OWN_ARNS": ",".join(own)}
    sweeper.gate = AccountGate(settings, accounts)
    sweeper.quarantiners = lambda member, region: quarantiner(member_env, member, region)
    return sweeper
