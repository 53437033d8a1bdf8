"""The compiled form of a deployed rules file: the same rules as the YAML, used only for the text it
was written for, and every reason not to use it logged (the YAML is read instead, same errors)."""

from __future__ import annotations

import enum
import json
import logging
import re
import shutil
import textwrap
from pathlib import Path
from typing import Any

import msgspec
import pytest

from tagwarden.cli.main import main
from tagwarden.rules import RulesError, load_rules_text
from tagwarden.rules.compiled import (
    NotCompilable,
    compile_text,
    compiled_path,
    load_rules_file_text,
    write_compiled,
)
from tagwarden.rules.model import Mode, RuleSet

from conftest import EXAMPLE_RULES

LIMITS = """
limits:
  checks:
    - {id: burst, per: {tag: Agent-ID}, creates: 50, window: 10m, actions: [alert]}
"""


def shape(value: Any) -> Any:
    """A RuleSet as plain data: patterns by their text, resolvers by their name (closures differ)."""
    if isinstance(value, msgspec.Struct):
        return {name: shape(getattr(value, name)) for name in value.__struct_fields__}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (re.Pattern,)) or (hasattr(value, "pattern") and hasattr(value, "fullmatch")):
        return ("pattern", value.pattern)
    if callable(value):
        return ("callable", getattr(value, "__qualname__", type(value).__name__))
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [shape(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted(shape(v) for v in value)
    return value


def deployed(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    write_compiled(path)
    return path


def from_file(path: Path, env: dict[str, str]) -> RuleSet:
    return load_rules_file_text(path.read_text(encoding="utf-8"), str(path), env)


@pytest.mark.parametrize("extra", ["", LIMITS], ids=["example", "with-limits"])
@pytest.mark.parametrize("env", [{}, {"TAGWARDEN_SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:1:t"}])
def test_the_compiled_form_gives_the_rules_the_yaml_gives(
    tmp_path: Path, extra: str, env: dict[str, str]
) -> None:
    path = deployed(tmp_path, EXAMPLE_RULES.read_text(encoding="utf-8") + extra)
    fast = from_file(path, env)
    assert shape(fast) == shape(load_rules_text(path.read_text(encoding="utf-8"), str(path), env))
    assert fast.notifications.sns_topic_arn == (env.get("TAGWARDEN_SNS_TOPIC_ARN") or "")
    assert bool(fast.limits) == bool(extra)


def test_the_deployment_mode_still_overrides_and_a_bad_one_is_the_same_error(tmp_path: Path) -> None:
    path = deployed(tmp_path, EXAMPLE_RULES.read_text(encoding="utf-8"))
    assert from_file(path, {"TAGWARDEN_MODE": "audit"}).mode is Mode.AUDIT
    with pytest.raises(RulesError) as fast:
        from_file(path, {"TAGWARDEN_MODE": "loud"})
    with pytest.raises(RulesError) as slow:
        load_rules_text(path.read_text(encoding="utf-8"), str(path), {"TAGWARDEN_MODE": "loud"})
    assert str(fast.value) == str(slow.value)
    assert "TAGWARDEN_MODE='loud'" in str(fast.value)


def test_a_stale_compiled_form_is_not_used_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = deployed(tmp_path, EXAMPLE_RULES.read_text(encoding="utf-8"))
    edited = path.read_text(encoding="utf-8").replace("grace: 4h", "grace: 5h")
    assert edited != path.read_text(encoding="utf-8")
    path.write_text(edited, encoding="utf-8")  # edited after packaging
    with caplog.at_level(logging.INFO, logger="tagwarden.rules.compiled"):
        rules = from_file(path, {})
    assert rules.rules[0].grace_seconds == 5 * 3600  # the file's text wins
    assert "are stale" in caplog.text
    assert str(compiled_path(path)) in caplog.text


@pytest.mark.parametrize(
    "content", ["{not json", json.dumps({"format": 99, "sha256": "x", "data": {}})], ids=["garbage", "format"]
)
def test_an_unreadable_compiled_form_is_not_used_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str
) -> None:
    path = deployed(tmp_path, EXAMPLE_RULES.read_text(encoding="utf-8"))
    Path(compiled_path(path)).write_text(content, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="tagwarden.rules.compiled"):
        rules = from_file(path, {})
    assert list(rules.tags) == ["Agent-ID", "CostCenter", "Outcome-ID", "Owner"]
    assert "reading the YAML" in caplog.text


def test_without_a_compiled_form_the_yaml_is_read_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "rules.yaml"
    shutil.copy(EXAMPLE_RULES, path)
    with caplog.at_level(logging.INFO, logger="tagwarden.rules.compiled"):
        rules = from_file(path, {})
    assert rules.mode is Mode.ENFORCE
    assert "no compiled rules" in caplog.text


def test_an_unset_variable_is_the_yamls_error_with_its_line(tmp_path: Path) -> None:
    text = EXAMPLE_RULES.read_text(encoding="utf-8").replace(
        "${TAGWARDEN_SNS_TOPIC_ARN:-}", "${TAGWARDEN_SNS_TOPIC_ARN}"
    )
    path = deployed(tmp_path, text)
    with pytest.raises(RulesError) as info:
        from_file(path, {})
    (problem,) = info.value.problems
    assert problem.line is not None
    assert "TAGWARDEN_SNS_TOPIC_ARN is not set" in str(problem)


def test_only_free_strings_may_be_substituted_in_a_compiled_file() -> None:
    text = EXAMPLE_RULES.read_text(encoding="utf-8").replace("mode: enforce", "mode: ${MODE:-enforce}")
    assert "${MODE" in text
    with pytest.raises(NotCompilable, match="at mode"):
        compile_text(text, "rules.yaml")


def test_an_invalid_file_is_not_compiled_and_an_older_compiled_form_goes(tmp_path: Path) -> None:
    path = deployed(tmp_path, EXAMPLE_RULES.read_text(encoding="utf-8"))
    path.write_text("version: 1\ntags:\n  CostCenter:\n    pattern: '('\n", encoding="utf-8")
    with pytest.raises(RulesError, match=r"rules\.yaml:4"):
        write_compiled(path)
    assert not Path(compiled_path(path)).exists()


def test_yaml_values_json_cannot_hold_are_not_compiled() -> None:
    text = textwrap.dedent("""\
        version: 1
        mode: audit
        tags:
          CostCenter:
            sources:
              - request_tag: CostCenter
                map: {a: .nan}
        """)
    load_rules_text(text, "rules.yaml", {})  # valid: a number is read as a string
    with pytest.raises(NotCompilable, match="JSON would not give back"):
        compile_text(text, "rules.yaml")


def test_the_shipped_example_has_its_current_compiled_form() -> None:
    written = Path(compiled_path(EXAMPLE_RULES)).read_text(encoding="utf-8")
    assert written == compile_text(EXAMPLE_RULES.read_text(encoding="utf-8"), str(EXAMPLE_RULES)), (
        "run `make compile-rules`"
    )


def test_the_cli_compiles_and_refuses_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "rules.yaml"
    shutil.copy(EXAMPLE_RULES, good)
    assert main(["rules", "compile", str(good)]) == 0
    assert Path(compiled_path(good)).exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nmode: ${MODE}\ntags: {}\n", encoding="utf-8")
    assert main(["rules", "compile", str(bad)]) != 0
    assert "not compiled" in capsys.readouterr().err
