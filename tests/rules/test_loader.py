"""The loader: every problem in a file at once, each with file, line and key path."""

from __future__ import annotations

import textwrap

import pytest

from tagwarden.model import Action
from tagwarden.rules import RulesError, load_rules, load_rules_text
from tagwarden.rules.model import Mode, Overwrite

from conftest import EXAMPLE_RULES

MINIMAL = """\
version: 1
tags:
  CostCenter:
    sources:
      - request_tag: CostCenter
"""


def errors_of(text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(RulesError) as info:
        load_rules_text(textwrap.dedent(text), "rules.yaml", env={} if env is None else env)
    return [str(p) for p in info.value.problems]


def test_example_rules_load(example_rules) -> None:  # type: ignore[no-untyped-def]
    assert example_rules.mode is Mode.ENFORCE
    assert list(example_rules.tags) == ["Agent-ID", "CostCenter", "Outcome-ID", "Owner"]
    assert [r.id for r in example_rules.rules] == ["agents-aws", "agents-azure", "humans"]
    assert example_rules.rules[0].grace_seconds == 4 * 3600
    assert example_rules.tags["Owner"].required is False


def test_minimal_file_gets_safe_defaults() -> None:
    rs = load_rules_text(MINIMAL, env={})
    assert rs.mode is Mode.AUDIT  # a new file changes nothing until it says enforce
    assert rs.default_rule.on_missing is Action.NOTIFY
    assert rs.unallocated_value == "unallocated"
    assert rs.stamp is None
    assert rs.tags["CostCenter"].overwrite is Overwrite.NEVER
    assert rs.tags["CostCenter"].required is True


def test_issue_example_three_errors_each_with_its_line() -> None:
    """A mistyped key, a broken regex and a wrong type: three errors, three line numbers."""
    got = errors_of(
        """\
        version: 1
        tags:
          Agent-ID:
            sources:
              - actor: session_name
                patern: '^agent-(?P<value>.+)$'
          CostCenter:
            pattern: '^([0-9]{3}'
            min_length: three
        """
    )
    assert got == [
        "rules.yaml:6: tags.Agent-ID.sources[0].patern: unknown key 'patern'; did you mean 'pattern'?",
        "rules.yaml:8: tags.CostCenter.pattern: invalid regular expression '^([0-9]{3}': "
        "missing ), unterminated subpattern at position 1",
        "rules.yaml:9: tags.CostCenter.min_length: expected a whole number, got a string ('three')",
    ]


def test_golden_messages_for_common_mistakes() -> None:
    got = errors_of(
        """\
        version: 2
        mode: enforced
        tag:
          x: 1
        rules:
          - id: a
            match: {role_nme: "x", provider: aws}
            on_missing: notify
            grace: 3h
          - id: a
            on_missing: delete
            grace: forever
        exemptions:
          principals: "arn:*"
        notifications:
          sns_topic_arn: ${NOPE}
        """
    )
    assert got == [
        "rules.yaml:1: (top level): missing required key 'tags'",
        "rules.yaml:1: version: expected 1, got a number (2)",
        "rules.yaml:2: mode: expected one of audit, enforce; got 'enforced'; did you mean 'enforce'?",
        "rules.yaml:3: tag: unknown key 'tag'; did you mean 'tags'?",
        "rules.yaml:7: rules[0].match.role_nme: unknown key 'role_nme'; did you mean 'role_name'?",
        "rules.yaml:9: rules[0].grace: a grace period only applies to quarantine and delete",
        "rules.yaml:10: rules[1].id: rule id 'a' is used twice (also rules[0])",
        "rules.yaml:12: rules[1].grace: expected a duration such as 90s, 30m, 24h, 7d or 1h30m, "
        "or a number of seconds; got a string ('forever')",
        "rules.yaml:14: exemptions.principals: expected a list, got a string ('arn:*')",
        "rules.yaml:16: notifications.sns_topic_arn: environment variable NOPE is not set "
        "(write ${NOPE:-default} to allow that)",
    ]


def test_source_kind_errors() -> None:
    got = errors_of(
        """\
        version: 1
        tags:
          A:
            sources:
              - {request_tag: A, principal_tag: A}
              - {}
              - sesion_name: x
              - actor: sesion_name
              - session_name: x
              - actor: session_name
                pattern: '(a)(b)'
        """
    )
    assert got == [
        "rules.yaml:5: tags.A.sources[0]: expected exactly one source kind (request_tag, actor, principal_tag, "
        "resource_group_tag, subscription_tag, account_tag, event, event_attr, resource, default); "
        "got request_tag, principal_tag",
        "rules.yaml:6: tags.A.sources[1]: expected exactly one source kind (request_tag, actor, principal_tag, "
        "resource_group_tag, subscription_tag, account_tag, event, event_attr, resource, default); got none",
        "rules.yaml:7: tags.A.sources[2]: expected exactly one source kind (request_tag, actor, principal_tag, "
        "resource_group_tag, subscription_tag, account_tag, event, event_attr, resource, default); got none",
        "rules.yaml:7: tags.A.sources[2].sesion_name: unknown key 'sesion_name'",
        "rules.yaml:8: tags.A.sources[3].actor: expected one of kind, arn, account, role_name, role_arn, "
        "session_name, source_identity, user_name, upn, name, app_id, object_id, principal_id, invoked_by; "
        "got 'sesion_name'; did you mean 'session_name'?",
        "rules.yaml:9: tags.A.sources[4]: expected exactly one source kind (request_tag, actor, principal_tag, "
        "resource_group_tag, subscription_tag, account_tag, event, event_attr, resource, default); got none",
        "rules.yaml:9: tags.A.sources[4].session_name: unknown key 'session_name'; "
        "did you mean 'actor: session_name'?",
        "rules.yaml:11: tags.A.sources[5].pattern: has several groups: name the one to keep as (?P<value>...)",
    ]


def test_cross_checks() -> None:
    got = errors_of(
        """\
        version: 1
        stamp: {prefix: "aws:"}
        unallocated_value: "n/a (unknown)"
        tags:
          "aws:team": {}
          CostCenter:
            allowed: ["101", "abc"]
            pattern: '^[0-9]+$'
            min_length: 5
            max_length: 3
            sources:
              - default: "999"
        rules:
          - id: r
            require: [Costcenter]
            on_missing: notify
        """
    )
    assert got == [
        "rules.yaml:2: stamp.prefix: stamp keys would be rejected: tag key 'aws:created-at' uses the reserved "
        "prefix 'aws:' (aws)",
        "rules.yaml:3: unallocated_value: value 'n/a (unknown)' has characters the cloud does not accept (aws)",
        "rules.yaml:5: tags.aws:team: tag key 'aws:team' uses the reserved prefix 'aws:' (aws)",
        "rules.yaml:7: tags.CostCenter.allowed[1]: 'abc' does not match the tag's own pattern",
        "rules.yaml:9: tags.CostCenter.min_length: is greater than max_length",
        "rules.yaml:12: tags.CostCenter.sources[0].default: the default is not a valid CostCenter: "
        "'999' is shorter than 5 characters",
        "rules.yaml:15: rules[0].require[0]: 'Costcenter' is not in the tag catalogue; did you mean 'CostCenter'?",
    ]


def test_keys_equal_but_for_case_are_one_tag_on_azure() -> None:
    assert errors_of("version: 1\ntags:\n  Team: {}\n  team: {}\n") == [
        "rules.yaml:4: tags.team: 'team' and 'Team' are one tag on Azure, which ignores case in tag names"
    ]


def test_yaml_syntax_error_has_line() -> None:
    assert errors_of("version: 1\ntags: [a\n") == [
        "rules.yaml:3:1: (top level): not valid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence that starts at line 2, column 7)"
    ]


def test_duplicate_keys_are_errors_not_silently_collapsed() -> None:
    assert errors_of("version: 1\ntags:\n  A: {}\n  A: {}\n") == [
        "rules.yaml:4: tags.A: duplicate key (first given on line 3)"
    ]


def test_empty_file() -> None:
    assert errors_of("") == [
        "rules.yaml:1: (top level): the file is empty; expected a mapping with version and tags"
    ]


def test_env_substitution_with_default_and_escape() -> None:
    text = MINIMAL + "notifications:\n  sns_topic_arn: ${TOPIC}\n  teams_webhook_url: ${HOOK:-none}\n"
    rs = load_rules_text(text, env={"TOPIC": "arn:aws:sns:us-east-1:1:t"})
    assert rs.notifications.sns_topic_arn == "arn:aws:sns:us-east-1:1:t"
    assert rs.notifications.teams_webhook_url == "none"


def test_numbers_are_read_as_tag_values() -> None:
    rs = load_rules_text(MINIMAL.replace("    sources:", "    allowed: [101, 205]\n    sources:"), env={})
    assert rs.tags["CostCenter"].allowed == frozenset({"101", "205"})


def test_unreadable_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RulesError, match=r"nope.yaml: \(top level\): cannot read the file"):
        load_rules(tmp_path / "nope.yaml")


def test_example_file_is_shipped_in_the_package() -> None:
    assert EXAMPLE_RULES.is_file()


def test_the_deployment_mode_overrides_the_file() -> None:
    enforce = MINIMAL + "mode: enforce\n"
    assert load_rules_text(enforce, env={}).mode is Mode.ENFORCE
    assert load_rules_text(enforce, env={"TAGWARDEN_MODE": "audit"}).mode is Mode.AUDIT
    assert load_rules_text(MINIMAL, env={"TAGWARDEN_MODE": "enforce"}).mode is Mode.ENFORCE
    assert load_rules_text(MINIMAL, env={"TAGWARDEN_MODE": "enforce"}).warnings == ()
    assert errors_of(MINIMAL, env={"TAGWARDEN_MODE": "on"}) == [
        "rules.yaml: mode: TAGWARDEN_MODE='on': expected audit or enforce"
    ]


def test_an_implicit_mode_is_audit_with_a_warning() -> None:
    rs = load_rules_text(MINIMAL, env={})
    assert rs.mode is Mode.AUDIT
    assert rs.warnings == (
        "mode is not set, so the rules only report (audit); write `mode: audit` or `mode: enforce`",
    )
    assert load_rules_text(MINIMAL + "mode: audit\n", env={}).warnings == ()
