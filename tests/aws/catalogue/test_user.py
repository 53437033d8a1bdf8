"""User-defined catalogue entries (rules file `catalogue:`): `tagwarden explain` reads a record of a
service neither the hand-written nor the derived catalogue knows; they never redefine a known event."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tagwarden.aws.catalogue import CATALOGUE, derived, user
from tagwarden.aws.normalize.cloudtrail import normalize_record
from tagwarden.cli.main import main
from tagwarden.model import CreationEvent, SkipKind, Skipped
from tagwarden.rules.model import CatalogueEntry

SOURCE, EVENT = "quantumledger.amazonaws.com", "CreateVault"
ARN = "arn:aws:quantumledger:eu-west-1:123456789012:vault/ledger-7"

RULES = """\
version: 1
mode: enforce
tags:
  CostCenter:
    sources:
      - request_tag: CostCenter
catalogue:
  - event_source: quantumledger.amazonaws.com
    event_name: CreateVault
    id_path: responseElements.vault.vaultArn
    resource_type: AWS::QuantumLedger::Vault
    tags_path: requestParameters.tags
    tagger: {tagger}
"""

RECORD = {
    "eventVersion": "1.09",
    "eventSource": SOURCE,
    "eventName": EVENT,
    "eventID": "ev-1",
    "eventTime": "2026-12-02T10:00:00Z",
    "awsRegion": "eu-west-1",
    "recipientAccountId": "123456789012",
    "userIdentity": {
        "type": "IAMUser",
        "accountId": "123456789012",
        "arn": "arn:aws:iam::123456789012:user/ana",
    },
    "requestParameters": {"vaultName": "ledger-7", "tags": {"CostCenter": "cc-42"}},
    "responseElements": {"vault": {"vaultArn": ARN, "state": "CREATING"}},
}


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def files(tmp_path: Path, tagger: str = "rgta") -> tuple[str, str]:
    rules, event = tmp_path / "rules.yaml", tmp_path / "event.json"
    rules.write_text(RULES.format(tagger=tagger))
    event.write_text(json.dumps(RECORD))
    return str(rules), str(event)


def test_the_service_is_in_neither_catalogue() -> None:
    assert (SOURCE, EVENT) not in CATALOGUE and derived.lookup(SOURCE, EVENT) is None
    result = normalize_record(RECORD)
    assert isinstance(result, Skipped) and result.kind is SkipKind.NOT_IN_CATALOGUE


def test_explain_identifies_the_record_with_the_rules_entry(tmp_path: Path) -> None:
    rules, event = files(tmp_path)
    code, out, err = run("explain", "--rules", rules, "--event", event, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["skipped"] is None
    (resource,) = report["resources"]
    assert resource["id"] == ARN and resource["type"] == "AWS::QuantumLedger::Vault"
    (decision,) = report["decisions"]
    # The request's tags were read from tags_path: CostCenter is already there, nothing to do.
    assert decision["sources"] == {"CostCenter": "existing"} and decision["missing"] == []
    assert "CostCenter = 'cc-42' from existing" in decision["reasons"]
    # Outside explain (no rules in context) the reader knows nothing of it.
    assert isinstance(normalize_record(RECORD), Skipped)


def test_an_unknown_tagger_is_an_input_error(tmp_path: Path) -> None:
    rules, event = files(tmp_path, tagger="no-such-tagger")
    code, _, err = run("explain", "--rules", rules, "--event", event)
    assert code == 2
    assert "no tagger named 'no-such-tagger'" in err and "rules.yaml" in err


def test_a_user_entry_never_redefines_a_known_event() -> None:
    """An attacker-edited rules file cannot re-aim a known create at another resource."""
    known = next(iter(CATALOGUE.values()))
    victim = "arn:aws:s3:::someone-elses-bucket"
    forged = CatalogueEntry(known.source, known.event, "responseElements.forged", "AWS::X::Y")
    record = {
        **RECORD,
        "eventSource": known.source,
        "eventName": known.event,
        "responseElements": {"forged": victim},
    }
    with user.using([forged]):
        result = normalize_record(record)
    ids = [r.id for r in result.resources] if isinstance(result, CreationEvent) else []
    assert victim not in ids


def test_using_restores_the_previous_entries() -> None:
    entry = CatalogueEntry(SOURCE, EVENT, "responseElements.vault.vaultArn", "AWS::QuantumLedger::Vault")
    with user.using([entry]):
        assert user.lookup(SOURCE, EVENT) is not None
        inside = normalize_record(RECORD)
    assert isinstance(inside, CreationEvent) and inside.resources[0].id == ARN
    assert user.lookup(SOURCE, EVENT) is None
    with pytest.raises(ValueError, match="no tagger named"):
        user.index([CatalogueEntry(SOURCE, EVENT, "responseElements.a", "AWS::A::B", tagger="nope")])
