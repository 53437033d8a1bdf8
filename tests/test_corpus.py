"""Every real-world event in ../shared/corpus is decided or skipped with a reason: never an exception."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tagwarden.attribution.context import StaticLookups
from tagwarden.decide import decide
from tagwarden.model import CreationEvent, Skipped
from tagwarden.rules.model import RuleSet

from conftest import CORPUS

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside the repo")


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p
        for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix in (".json", ".txt") and not p.name.startswith("README")
    )


def test_every_corpus_event_is_decided_or_skipped(example_rules: RuleSet) -> None:
    from tagwarden.cli.normalize import normalize

    files = corpus_files()
    assert len(files) > 1000
    decided = skipped = unreadable = 0
    for path in files:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            unreadable += 1  # not JSON as found (documented in the corpus README): nothing to deliver
            continue
        for result in normalize(raw):  # MalformedEvent or anything else fails the test with the file
            if isinstance(result, Skipped):
                assert result.reason, path
                skipped += 1
                continue
            assert isinstance(result, CreationEvent)
            decisions = decide(result, example_rules, StaticLookups())
            assert len(decisions) == len(result.resources) > 0, path
            assert all(
                d.action and (d.attributed or d.missing or d.invalid or d.exemption) for d in decisions
            )
            decided += 1
    assert unreadable <= 3
    assert decided > 20 and skipped > 1000
