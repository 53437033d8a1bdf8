"""The rules file's `catalogue:` section: user-defined create events, validated with located errors."""

from __future__ import annotations

import textwrap

import pytest

from tagwarden.rules import RulesError, load_rules_text
from tagwarden.rules.model import CatalogueEntry

HEAD = """\
version: 1
tags:
  CostCenter:
    sources:
      - request_tag: CostCenter
catalogue:
"""

GOOD = """\
  - event_source: quantumledger.amazonaws.com
    event_name: CreateVault
    id_path: responseElements.vault.vaultArn
    resource_type: AWS::QuantumLedger::Vault
    tags_path: requestParameters.tags
"""


def errors_of(body: str) -> list[str]:
    with pytest.raises(RulesError) as info:
        load_rules_text(HEAD + textwrap.dedent(body), "rules.yaml", env={})
    return [str(p) for p in info.value.problems]


def test_an_entry_compiles_with_the_default_tagger() -> None:
    rules = load_rules_text(HEAD + GOOD, "rules.yaml", env={})
    assert rules.catalogue == (
        CatalogueEntry(
            "quantumledger.amazonaws.com",
            "CreateVault",
            "responseElements.vault.vaultArn",
            "AWS::QuantumLedger::Vault",
            "requestParameters.tags",
            "rgta",
        ),
    )


def test_no_section_is_no_entries() -> None:
    assert load_rules_text(HEAD.removesuffix("catalogue:\n"), "r.yaml", env={}).catalogue == ()


def test_bad_entries_are_reported_with_file_line_and_key() -> None:
    errors = errors_of(
        """\
          - event_source: quantumledger
            event_name: createVault
            id_path: requestParameters.vaultArn
            resource_type: Vault
            taggr: rgta
          - event_source: quantumledger.amazonaws.com
        """
    )
    text = "\n".join(errors)
    assert "rules.yaml:7: catalogue[0].event_source" in text and "event source" in text
    assert "rules.yaml:8: catalogue[0].event_name" in text
    # What the caller sent cannot name the created resource: a forged request would aim elsewhere.
    assert "rules.yaml:9: catalogue[0].id_path" in text and "under responseElements" in text
    assert "rules.yaml:10: catalogue[0].resource_type" in text
    assert "catalogue[0].taggr" in text
    assert "catalogue[1]" in text and "event_name" in text and "required" in text


def test_an_event_defined_twice_is_reported_at_the_second() -> None:
    errors = errors_of(GOOD + GOOD)
    assert any(
        "rules.yaml:12: catalogue[1]" in e and "defined twice (also catalogue[0])" in e for e in errors
    )
