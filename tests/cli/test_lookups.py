"""The lookups file: per-principal maps (exact, then globs), located errors for unknown keys and tags."""

from __future__ import annotations

import pytest

from tagwarden.cli.lookups import parse
from tagwarden.model import Actor, ActorKind, Provider
from tagwarden.rules.errors import RulesError

TAGS = ("Agent-ID", "CostCenter")


def actor(role: str) -> Actor:
    return Actor(
        ActorKind.ASSUMED_ROLE,
        arn=f"arn:aws:sts::1:assumed-role/{role}/s",
        role_arn=f"arn:aws:iam::1:role/{role}",
    )


def test_per_principal_exact_then_glob_then_default() -> None:
    lookups = parse(
        "principals:\n"
        "  'arn:aws:iam::1:role/agent-*': {CostCenter: '205'}\n"
        "  arn:aws:iam::1:role/agent-fleet: {CostCenter: '101'}\n"
        "principal_tags: {CostCenter: '999'}\n",
        "lookups.yaml",
        TAGS,
    )
    assert lookups.principal_tags(Provider.AWS, actor("agent-fleet")) == {"CostCenter": "101"}
    assert lookups.principal_tags(Provider.AWS, actor("agent-adhoc")) == {"CostCenter": "205"}
    assert lookups.principal_tags(Provider.AWS, actor("developer")) == {"CostCenter": "999"}


def test_unknown_keys_and_tag_names_are_located_errors() -> None:
    with pytest.raises(RulesError) as caught:
        parse(
            "principal_tag: {CostCenter: '1'}\nresources:\n  r1: {Costcenter: '2'}\ncontainers: [1]\n",
            "lookups.yaml",
            TAGS,
        )
    text = str(caught.value)
    assert (
        "lookups.yaml:1: principal_tag: unknown key 'principal_tag'; did you mean 'principal_tags'?" in text
    )
    assert (
        "lookups.yaml:3: resources.r1.Costcenter: tag 'Costcenter' is not in the rules' tags; did you mean 'CostCenter'?"
        in text
    )
    assert "lookups.yaml:4: containers: expected a mapping of id -> tags" in text
