"""The two functions' objects built from the rules in force: the packaged file's (built once), or
those of TAGWARDEN_RULES_SOURCE, rebuilt when a new valid version is read (tagwarden.rules.live).

One `LiveRules` per container serves the enforcer and the sweeper (the enforcer's releases run
the sweeper): they read the store once per max_age and decide with the same version. The ledger
and the clients outlive a rebuild; what the rules shape (decisions, records' rules digest, the
notification channels, the runaway limits) is built again from the new version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from tagwarden.aws.clients import Clients
from tagwarden.aws.enforcer import AwsEnforcer, build, build_sweeper, ledger_from_env
from tagwarden.aws.telemetry import Telemetry
from tagwarden.enforce import Release
from tagwarden.ledger.ports import Ledger
from tagwarden.rules.loaded import Loaded

if TYPE_CHECKING:
    from tagwarden.aws.sweeper import AwsSweeper
    from tagwarden.rules.live import LiveEnforcer, LiveRules, LiveSweeper  # rules from a store only


def enforcer_from_env(
    live: LiveRules | None,
    env: Mapping[str, str],
    clients: Clients | None = None,
    telemetry: Telemetry | None = None,
    release: Release | None = None,
    ledger: Ledger | None = None,
) -> AwsEnforcer | LiveEnforcer[AwsEnforcer]:
    """The packaged rules' enforcer when `live` is None, else one rebuilt on each new version."""
    if live is None:
        return build(env, clients, telemetry, release, ledger)
    from tagwarden.rules.live import LiveEnforcer, Rebuilt

    clients = clients or Clients()
    kept = ledger or ledger_from_env(env, clients)

    def for_rules(loaded: Loaded) -> AwsEnforcer:
        return build(env, clients, telemetry, release, kept, loaded)

    return LiveEnforcer(Rebuilt(live, for_rules))


def sweeper_from_env(
    live: LiveRules | None,
    env: Mapping[str, str],
    clients: Clients | None = None,
    telemetry: Telemetry | None = None,
    ledger: Ledger | None = None,
) -> AwsSweeper | LiveSweeper[AwsSweeper]:
    if live is None:
        return build_sweeper(env, clients, telemetry, ledger)
    from tagwarden.aws.pacing import SWEEP_CONFIG
    from tagwarden.rules.live import LiveSweeper, Rebuilt

    clients = clients or Clients(config=SWEEP_CONFIG)  # the sweeper's: adaptive retries
    kept = ledger or ledger_from_env(env, clients)

    def for_rules(loaded: Loaded) -> AwsSweeper:
        return build_sweeper(env, clients, telemetry, kept, loaded)

    return LiveSweeper(Rebuilt(live, for_rules))
