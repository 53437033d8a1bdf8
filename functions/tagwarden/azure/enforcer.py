"""The Azure enforcer: the core Enforcer wired to ARM (Tags API, Merge only) through the SDK.

Built once per Functions worker: rules compiled, the ARM client created. Lookups (resource
group, subscription and the resource's own current tags) are cached for one invocation only, so a
later event sees tags changed since. An Event Grid write fires on creates and updates alike; the
decision acts only when a required tag is missing, so an update with its tags in place, our own
tag write coming back, or the second event of a deployment's pair all end with nothing to write.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from tagwarden.azure.arm import ArmClient
from tagwarden.azure.lookups import ArmLookups
from tagwarden.azure.telemetry import Telemetry
from tagwarden.claims import MemoryClaims
from tagwarden.enforce import Enforcer
from tagwarden.guards import OwnIdentity
from tagwarden.model import CreationEvent
from tagwarden.rules import load_rules

RULES_ENV = "TAGWARDEN_RULES_PATH"
OWN_ENV = "TAGWARDEN_OWN_PRINCIPAL_IDS"


def write_key(event: CreationEvent) -> str:
    """One claim per (ARM operation, resource): Event Grid redeliveries share the event id, and the
    two events a deployment can emit for one resource share the correlation id."""
    resource = event.resources[0].id.lower() if event.resources else ""
    return f"{event.correlation_id or event.event_id}|{resource}"


@dataclass
class AzureEnforcer(Enforcer):
    arm: ArmClient | None = None


def build(
    env: Mapping[str, str] | None = None,
    arm: ArmClient | None = None,
    telemetry: Telemetry | None = None,
    base_dir: str | None = None,
) -> AzureEnforcer:
    env = os.environ if env is None else env
    path = env.get(RULES_ENV)
    if not path:
        raise RuntimeError(f"set {RULES_ENV}: the rules file deployed with the function app")
    if not os.path.isabs(path):
        path = os.path.join(base_dir or os.getcwd(), path)
    rules = load_rules(path, env)
    arm = arm or ArmClient.from_env(env)
    own_ids = frozenset(i.strip() for i in env.get(OWN_ENV, "").split(",") if i.strip())
    client = arm
    return AzureEnforcer(
        rules=rules,
        write=client.write,
        lookups=lambda: ArmLookups(client),  # fresh per invocation: caches live one delivery
        claims=MemoryClaims(),
        own=OwnIdentity(ids=own_ids),
        telemetry=telemetry or Telemetry(),
        claim_key=write_key,
        arm=arm,
    )
