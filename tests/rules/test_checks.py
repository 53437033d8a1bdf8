"""The semantic checks: every check in one file, in the order the loader reports them."""

from __future__ import annotations

import textwrap

import pytest

from tagwarden.rules import RulesError, load_rules_text
from tagwarden.rules.checks import semantic_problems

EVERY_CHECK = """\
version: 1
stamp: {prefix: "aws:"}
unallocated_value: "n/a <unknown>"
tags:
  "aws:team": {}
  "AWS:Team": {}
  "a?b": {}
  CostCenter:
    allowed: ["101", "abc"]
    pattern: '^[0-9]+$'
    min_length: 5
    max_length: 3
    sources:
      - default: "999"
      - default: "x"
        map: {a: b}
      - request_tag: Cost
        pattern: '(?P<value>.*)'
        default: "1"
  Owner:
    max_length: three
    sources:
      - default: "far too long"
rules:
  - id: r
    require: [Costcenter, Owner, Nope]
    on_missing: notify
  - id: r
    on_missing: notify
  - id: 5
    require: [Nope]
    on_missing: notify
"""


def test_golden_report_of_every_check() -> None:
    """Messages on one key path keep their order (each cloud in turn, then the Azure case clash);
    a tag with a shape error gets no semantic check (CostCenter, Owner)."""
    with pytest.raises(RulesError) as info:
        load_rules_text(EVERY_CHECK, "rules.yaml", env={})
    assert info.value.render() == textwrap.dedent(
        """\
        13 errors in rules
          rules.yaml:2: stamp.prefix: stamp keys would be rejected: tag key 'aws:created-at' uses the reserved prefix 'aws:' (aws)
          rules.yaml:3: unallocated_value: value 'n/a <unknown>' has characters the cloud does not accept (aws)
          rules.yaml:5: tags.aws:team: tag key 'aws:team' uses the reserved prefix 'aws:' (aws)
          rules.yaml:6: tags.AWS:Team: tag key 'AWS:Team' uses the reserved prefix 'aws:' (aws)
          rules.yaml:6: tags.AWS:Team: 'AWS:Team' and 'aws:team' are one tag on Azure, which ignores case in tag names
          rules.yaml:7: tags.a?b: tag key 'a?b' has characters the cloud does not accept (aws)
          rules.yaml:7: tags.a?b: tag key 'a?b' contains '?', which the cloud does not accept (azure)
          rules.yaml:17: tags.CostCenter.sources[2]: expected exactly one source kind (request_tag, actor, principal_tag, resource_group_tag, subscription_tag, account_tag, event, event_attr, resource, default); got request_tag, default
          rules.yaml:21: tags.Owner.max_length: expected a whole number, got a string ('three')
          rules.yaml:26: rules[0].require[0]: 'Costcenter' is not in the tag catalogue; did you mean 'CostCenter'?
          rules.yaml:26: rules[0].require[2]: 'Nope' is not in the tag catalogue
          rules.yaml:28: rules[1].id: rule id 'r' is used twice (also rules[0])
          rules.yaml:30: rules[2].id: expected a string, got a number (5)"""
    )


def test_checks_skip_the_parts_with_shape_errors() -> None:
    data = {
        "tags": {"A": {"min_length": 4, "max_length": 2}, "B": {"min_length": 4, "max_length": 2}},
        "unallocated_value": "<bad>",
        "stamp": {"prefix": "aws:"},
    }
    everything = semantic_problems(data, set())
    assert [path for path, _ in everything] == [
        ("tags", "A", "min_length"),
        ("tags", "B", "min_length"),
        ("unallocated_value",),
        ("stamp", "prefix"),
    ]
    broken = {("tags", "A", "sources"), ("unallocated_value",), ("stamp",)}
    assert semantic_problems(data, broken) == [(("tags", "B", "min_length"), "is greater than max_length")]
