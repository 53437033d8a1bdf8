"""infra/aws/extra_parameters.py: the template parameters for a rules file's own catalogue entries,
and the README's example of them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from infra_scripts import ROOT, script

RULES = """\
version: 1
tags:
  CostCenter: {}
catalogue:
"""


def readme_catalogue() -> str:
    """The README's `catalogue:` example (the yaml block of its user-defined create events)."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("### User-defined create events") :]
    start = section.index("```yaml\ncatalogue:\n") + len("```yaml\ncatalogue:\n")
    return section[start : section.index("```\n", start)]


def test_the_readme_example_gives_the_readme_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES + readme_catalogue())
    assert script("aws/extra_parameters.py").main([str(rules)]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed == (
        "ExtraEventSources=quantumledger.amazonaws.com ExtraEventNames=CreateVault "
        "ExtraTagActions=quantumledger:TagResource"
    )
    text = (ROOT / "README.md").read_text()
    shown = re.search(r"--parameter-overrides \\\n  (.+) \\\n  (.+)\n", text)
    assert shown is not None
    assert " ".join(shown.groups()) == printed


def test_json_and_several_entries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "rules.yaml"
    entry = "  - event_source: {0}\n    event_name: {1}\n    id_path: responseElements.arn\n    resource_type: {2}\n"
    rules.write_text(
        RULES
        + entry.format("clouddirectory.amazonaws.com", "CreateDirectory", "AWS::CloudDirectory::Directory")
        + entry.format("clouddirectory.amazonaws.com", "CreateSchema", "AWS::CloudDirectory::Schema")
        + entry.format("s3.amazonaws.com", "CreateBucketV9", "AWS::S3::Bucket")  # s3:TagResource is new too
    )
    assert script("aws/extra_parameters.py").main([str(rules), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "ExtraEventSources": "clouddirectory.amazonaws.com,s3.amazonaws.com",
        "ExtraEventNames": "CreateBucketV9,CreateDirectory,CreateSchema",
        "ExtraTagActions": "clouddirectory:TagResource,s3:TagResource",
    }


def test_a_rules_file_with_an_unknown_tagger_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        RULES + "  - event_source: clouddirectory.amazonaws.com\n    event_name: CreateDirectory\n"
        "    id_path: responseElements.directoryArn\n    resource_type: AWS::CloudDirectory::Directory\n"
        "    tagger: frobnicate\n"
    )
    assert script("aws/extra_parameters.py").main([str(rules)]) == 2
    assert "no tagger named 'frobnicate'" in capsys.readouterr().err
    assert script("aws/extra_parameters.py").main([str(tmp_path / "missing.yaml")]) == 2
