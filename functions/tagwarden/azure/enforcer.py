"""The Azure enforcer: the core Enforcer wired to ARM (Tags API, Merge only) through the SDK.

Built once per Functions worker: rules compiled, the ARM client created. Lookups (resource
group, subscription and the resource's own current tags) are cached for one invocation only, so a
later event sees tags changed since. An Event Grid write fires on creates and updates alike; the
decision acts only when a required tag is missing, so an update with its tags in place, our own
tag write coming back, or the second event of a deployment's pair all end with nothing to write.

The lifecycle: `AzureQuarantiner` (deallocate VMs, mark the rest) acts on the rules' quarantine
decisions, and `build_sweeper` builds the timer-triggered sweeper that releases, deletes or leaves
what is marked. Notifications go to every configured channel through one `Fanout`: a Teams
Workflows webhook (TAGWARDEN_TEAMS_WEBHOOK_URL, or the rules' notifications.teams_webhook_url) and
a Storage queue (TAGWARDEN_NOTIFY_QUEUE_URL `https://<account>.queue.core.windows.net/<queue>`,
with the app's managed identity, or the rules' notifications.storage_queue; or a connection string
in TAGWARDEN_NOTIFY_QUEUE_CONNECTION with TAGWARDEN_NOTIFY_QUEUE_NAME). None configured: the
notifications are logged only. A channel that cannot be built is logged and left out; tagging goes
on.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from tagwarden.azure.arm import SUBSCRIPTION_ENV, ArmClient
from tagwarden.azure.lookups import ArmLookups
from tagwarden.azure.members import MANAGEMENT_GROUP_ENV, SUBSCRIPTIONS_ENV, SubscriptionGate
from tagwarden.azure.normalize import READER
from tagwarden.azure.notify import QueueNotifier
from tagwarden.azure.telemetry import Telemetry
from tagwarden.azure.text import AZURE_TEXT
from tagwarden.channels import fan_out, neutral_channels
from tagwarden.enforce import Enforcer, Release
from tagwarden.guards import OwnIdentity
from tagwarden.ledger.ports import Ledger
from tagwarden.ledger.records import rules_hash
from tagwarden.lifecycle.ports import LazyQuarantiner, Notifier, Quarantiner
from tagwarden.normalize import gated
from tagwarden.rules.compiled import load_rules_file_text
from tagwarden.rules.loaded import Loaded
from tagwarden.rules.model import Mode, RuleSet
from tagwarden.settings import csv, rules_from_path, rules_text_from_path

if TYPE_CHECKING:  # the sweeper is built (and imported) by the timer function only
    from tagwarden.azure.sweeper import AzureSweeper
    from tagwarden.runaway.limiter import Limiter

OWN_ENV = "TAGWARDEN_OWN_PRINCIPAL_IDS"
QUEUE_URL_ENV = "TAGWARDEN_NOTIFY_QUEUE_URL"  # https://<account>.queue.core.windows.net/<queue>
QUEUE_CONNECTION_ENV = "TAGWARDEN_NOTIFY_QUEUE_CONNECTION"  # a connection string (Azurite, keys)
QUEUE_NAME_ENV = "TAGWARDEN_NOTIFY_QUEUE_NAME"  # with the connection string
DEFAULT_QUEUE = "tagwarden-notifications"
LEDGER_ENDPOINT_ENV = "TAGWARDEN_LEDGER_TABLE_ENDPOINT"  # https://<account>.table.core.windows.net
LEDGER_CONNECTION_ENV = "TAGWARDEN_LEDGER_CONNECTION"  # a connection string (Azurite, keys)
LEDGER_TABLE_ENV = "TAGWARDEN_LEDGER_TABLE"  # the table's name
DEFAULT_LEDGER_TABLE = "tagwardenledger"


def ledger_from_env(env: Mapping[str, str]) -> Ledger:
    """The ledger: Azure Table Storage (the app's managed identity on the endpoint, or a connection
    string), else the SQLite file TAGWARDEN_LEDGER. Neither: building fails, loudly."""
    table = env.get(LEDGER_TABLE_ENV) or DEFAULT_LEDGER_TABLE
    if env.get(LEDGER_ENDPOINT_ENV) or env.get(LEDGER_CONNECTION_ENV):
        from tagwarden.azure.ledger import TableLedger

        if env.get(LEDGER_ENDPOINT_ENV):
            return TableLedger.from_endpoint(env[LEDGER_ENDPOINT_ENV], table)
        return TableLedger.from_connection_string(env[LEDGER_CONNECTION_ENV], table)
    from tagwarden.ledger.sqlite import SqliteLedger

    local = SqliteLedger.from_env(env)
    if local is not None:
        return local
    raise RuntimeError(
        f"no ledger: set {LEDGER_ENDPOINT_ENV} (Azure Table Storage), {LEDGER_CONNECTION_ENV}, "
        "or TAGWARDEN_LEDGER (a SQLite file)"
    )


class AzureEnforcer(Enforcer):
    arm: ArmClient | None = None


def rules_from_env(env: Mapping[str, str], base_dir: str | None) -> Loaded:
    """The rules file deployed with the app (TAGWARDEN_RULES_PATH), read once per worker."""
    text, name = rules_text_from_path(env, base_dir, " or TAGWARDEN_RULES_SOURCE")
    # its compiled form (`make package-azure`, `tagwarden rules compile`) when it is for this text
    return Loaded(load_rules_file_text(text, name, env), rules_hash(text), name, "")


def build(
    env: Mapping[str, str] | None = None,
    arm: ArmClient | None = None,
    telemetry: Telemetry | None = None,
    base_dir: str | None = None,
    release: Release | None = None,
    ledger: Ledger | None = None,
    loaded: Loaded | None = None,
) -> AzureEnforcer:
    """The enforcer for `loaded` (the live rules of a blob), else the deployed rules file's."""
    env = os.environ if env is None else env
    loaded = loaded or rules_from_env(env, base_dir)
    rules = loaded.rules
    arm = arm or ArmClient.from_env(env)
    telemetry = telemetry or Telemetry()
    own_ids = frozenset(csv(env.get(OWN_ENV)))
    client = arm
    # One app serving many subscriptions acts in the listed ones and those under the management
    # group only (the ARM client is per subscription already: each event's own is used); neither
    # set: any the events come from. A membership ARM cannot answer fails the event (retried).
    gate = subscription_gate(env, arm)
    reader = gated(READER, gate.allows, "subscription") if gate is not None else READER
    return AzureEnforcer(
        rules=rules,
        write=client.write,
        lookups=lambda: ArmLookups(client),  # fresh per invocation: caches live one delivery
        ledger=ledger or ledger_from_env(env),
        rules_digest=loaded.digest,  # of the rules in force: records say which version decided
        own=OwnIdentity(ids=own_ids),
        telemetry=telemetry,
        read=reader,
        text=AZURE_TEXT,
        release=release,
        quarantiner=quarantiner(arm, rules),
        notifier=notifier(env, rules, telemetry),
        arm=arm,
        limiter=limiter(env, rules, telemetry),
    )


def build_sweeper(
    env: Mapping[str, str] | None = None,
    arm: ArmClient | None = None,
    telemetry: Telemetry | None = None,
    base_dir: str | None = None,
    ledger: Ledger | None = None,
    loaded: Loaded | None = None,
) -> AzureSweeper:
    from tagwarden.azure.sweeper import AzureSweeper

    env = os.environ if env is None else env
    rules = loaded.rules if loaded else rules_from_path(env, base_dir)
    arm = arm or ArmClient.from_env(env)
    telemetry = telemetry or Telemetry()
    return AzureSweeper(
        rules=rules,
        arm=arm,
        quarantiner=quarantiner(arm, rules),
        notifier=notifier(env, rules, telemetry),
        telemetry=telemetry,
        subscriptions=subscriptions(env),
        ledger=ledger or ledger_from_env(env),
        gate=subscription_gate(env, arm),
    )


def subscription_gate(env: Mapping[str, str], arm: ArmClient) -> SubscriptionGate | None:
    """TAGWARDEN_SUBSCRIPTIONS and TAGWARDEN_MANAGEMENT_GROUP (tagwarden.azure.members), or None."""
    return SubscriptionGate.from_env(env, arm.group_subscriptions)


def subscriptions(env: Mapping[str, str]) -> tuple[str, ...]:
    """TAGWARDEN_SUBSCRIPTIONS (a comma list), else the function's own AZURE_SUBSCRIPTION_ID (with
    only TAGWARDEN_MANAGEMENT_GROUP: none listed, the group's are the ledger's)."""
    listed = csv(env.get(SUBSCRIPTIONS_ENV)) or csv(env.get(SUBSCRIPTION_ENV))
    if not listed and not (env.get(MANAGEMENT_GROUP_ENV) or "").strip():
        raise RuntimeError(
            f"set {SUBSCRIPTIONS_ENV}, {MANAGEMENT_GROUP_ENV} (or {SUBSCRIPTION_ENV}): "
            "the subscriptions to sweep"
        )
    return tuple(dict.fromkeys(listed))


RUNAWAY_TABLE_ENV = "TAGWARDEN_RUNAWAY_TABLE"  # the table's name (default tagwardenrunaway)
RUNAWAY_TABLE_URL_ENV = "TAGWARDEN_RUNAWAY_TABLE_URL"  # https://<account>.table.core.windows.net
RUNAWAY_TABLE_CONNECTION_ENV = "TAGWARDEN_RUNAWAY_TABLE_CONNECTION"  # a connection string (Azurite)


def limiter(env: Mapping[str, str], rules: RuleSet, rates: Telemetry | None = None) -> Limiter | None:
    """Runaway agents, when the rules have limits: counts in an Azure Table (the account URL with the
    app's managed identity, or a connection string); neither set: in the worker's memory (local runs).

    Alert only, no brake, on Azure (README, Runaway agents): the closest reversible control would be
    deleting the agent's role assignment, which needs Microsoft.Authorization/roleAssignments/write
    and /delete, the right to grant any role to anyone. quarantine-new acts through the quarantiner.
    """
    if not rules.limits:
        return None
    from tagwarden.runaway.limiter import Limiter
    from tagwarden.runaway.ports import RunawayStore

    name = env.get(RUNAWAY_TABLE_ENV) or "tagwardenrunaway"
    store: RunawayStore
    if connection := env.get(RUNAWAY_TABLE_CONNECTION_ENV):
        from tagwarden.runaway.azure.table import AzureTableRunawayStore

        store = AzureTableRunawayStore.from_connection_string(connection, name)
    elif url := env.get(RUNAWAY_TABLE_URL_ENV):
        from azure.data.tables import TableClient
        from azure.identity import DefaultAzureCredential

        from tagwarden.runaway.azure.table import AzureTableRunawayStore

        store = AzureTableRunawayStore(TableClient(url, name, credential=DefaultAzureCredential()))
    else:
        from tagwarden.runaway.sqlite import SqliteRunawayStore

        store = SqliteRunawayStore(":memory:")
    return Limiter(
        limits=rules.limits,
        store=store,
        brake=None,
        rates=rates,
        act=rules.mode is Mode.ENFORCE and not rules.lifecycle.dry_run,
    )


def quarantiner(arm: ArmClient, rules: RuleSet) -> Quarantiner:
    """Built on the first quarantine: most events never need the quarantine table."""

    def build_it() -> Quarantiner:
        from tagwarden.azure.quarantine import AzureQuarantiner

        # No protect check of its own: the enforcer and the sweeper judge protection from the tags
        # they trust (a protect tag pre-set in the create request is the creator's: it does not count).
        return AzureQuarantiner(arm, protect_tag="")

    return LazyQuarantiner(build_it)


def notifier(env: Mapping[str, str], rules: RuleSet, telemetry: Telemetry | None = None) -> Notifier | None:
    """One Fanout over the configured channels (Teams, the queue), or None when none is."""
    channels, failures = neutral_channels(env, rules)
    queue_url = (env.get(QUEUE_URL_ENV) or rules.notifications.storage_queue or "").strip()
    connection = (env.get(QUEUE_CONNECTION_ENV) or "").strip()
    try:
        if queue_url:
            account, _, name = queue_url.split("?", 1)[0].rstrip("/").rpartition("/")
            if not account.startswith(("https://", "http://")) or not name:
                raise ValueError(f"{QUEUE_URL_ENV} is not https://<account>.queue.core.windows.net/<queue>")
            channels["queue"] = QueueNotifier(account, name)
        elif connection:
            channels["queue"] = QueueNotifier(connection, env.get(QUEUE_NAME_ENV) or DEFAULT_QUEUE)
    except (ValueError, ImportError) as exc:
        failures.append(f"queue: {exc}")
    return fan_out(channels, failures, telemetry)
