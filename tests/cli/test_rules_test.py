"""`tagwarden rules test`: the shipped cases pass; a changed rule fails with a readable diff; JUnit XML."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from xml.etree import ElementTree as ET

from tagwarden.cli.main import main

from conftest import EXAMPLE_RULES

CASES = EXAMPLE_RULES.parent / "tests"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_shipped_cases_pass_and_write_junit(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    code, out, _ = run("rules", "test", str(CASES), "--rules", str(EXAMPLE_RULES), "--junit", str(junit))
    assert code == 0, out
    cases = len(list(CASES.glob("*.yaml")))
    assert out.splitlines()[-1] == f"{cases} passed, 0 failed"
    suite = ET.parse(junit).getroot()
    assert suite.tag == "testsuite" and suite.get("tests") == str(cases) and suite.get("failures") == "0"


def test_a_changed_rule_fails_with_a_diff(tmp_path: Path) -> None:
    rules = tmp_path / "rules.yaml"
    # the agents rule now only notifies: the quarantine case must fail and say why
    text = EXAMPLE_RULES.read_text().replace("on_missing: quarantine", "on_missing: notify")
    rules.write_text(text.replace("    grace: 4h\n", ""))
    junit = tmp_path / "junit.xml"
    code, out, _ = run("rules", "test", str(CASES), "--rules", str(rules), "--junit", str(junit))
    assert code == 1
    assert "FAIL unattributed-bucket.yaml" in out
    assert "arn:aws:s3:::agent-scratch-pdf-reader: action: expected 'quarantine', got 'notify'" in out
    failure = ET.parse(junit).getroot().find("testcase[@name='unattributed-bucket.yaml']/failure")
    assert failure is not None and "expected 'quarantine'" in (failure.get("message") or "")


def test_tag_and_missing_diffs_and_bad_cases(tmp_path: Path) -> None:
    folder = tmp_path / "cases"
    folder.mkdir()
    shutil.copy(CASES / "unattributed-bucket.yaml", folder / "a.yaml")
    text = (folder / "a.yaml").read_text()
    (folder / "a.yaml").write_text(
        text.replace('{Agent-ID: "77"}', '{Agent-ID: "78"}')
        .replace("[CostCenter, Outcome-ID]", "[CostCenter]")
        .replace("event: ../events/", f"event: {CASES.parent}/events/")
    )
    (folder / "b.yaml").write_text("event: {}\nexpect: [{acton: tag}]\n")
    code, out, _ = run("rules", "test", str(folder), "--rules", str(EXAMPLE_RULES))
    assert code == 1
    assert "tags.Agent-ID: expected '78', got '77'" in out
    assert "missing: expected ['CostCenter'], got ['CostCenter', 'Outcome-ID']" in out
    assert "unknown expect key(s) acton" in out
    assert out.splitlines()[-1] == "0 passed, 2 failed"


def test_empty_folder_is_an_input_error(tmp_path: Path) -> None:
    code, _, err = run("rules", "test", str(tmp_path), "--rules", str(EXAMPLE_RULES))
    assert code == 2 and "no case files" in err
