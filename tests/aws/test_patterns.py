"""The EventBridge patterns generated from the CloudTrail catalogue, and the ones in template.yaml.

Checked three ways: structurally (each catalogue row in exactly one pattern, size within the
quota, failed calls excluded), by matching real-shaped events (tests/builders.py) with a small
EventBridge matcher written here and with moto's, and against template.yaml (the deployed rules
are exactly the generated ones, and the generated blocks are current).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import botocore.session
import cfnlint
import pytest
from cfnlint.decode import decode_str
from moto.events.models import EventPattern

from tagwarden.aws.catalogue import ENTRIES
from tagwarden.aws.patterns import (
    CALL_ACTIONS,
    DETAIL_TYPE,
    MAX_PATTERN_CHARS,
    SOURCE_EXCEPTIONS,
    build_pattern,
    event_patterns,
    eventbridge_source,
    events_by_source,
    pattern_chars,
    row_actions,
    stray_pairs,
    tag_actions,
)
from tagwarden.aws.taggers import TAGGERS, Kind, TaggerSpec

import builders

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
GENERATOR = ROOT / "infra" / "aws" / "generate_template.py"

PATTERNS = event_patterns()


@cache
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_template", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def template() -> dict[str, Any]:
    decoded, errors = decode_str(TEMPLATE.read_text())
    assert not errors, errors
    plain: dict[str, Any] = json.loads(json.dumps(decoded))  # cfn-lint's node types -> plain data
    return plain


def template_patterns() -> list[dict[str, Any]]:
    rules = [
        r["Properties"]
        for r in template()["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
        and any(t["Arn"] == {"Fn::GetAtt": ["Enforcer", "Arn"]} for t in r["Properties"]["Targets"])
    ]
    return [rule["EventPattern"] for rule in rules]


# --- a small EventBridge matcher: exact-match arrays and {"exists": bool} --------------------------


def _field_matches(value: Any, present: bool, conditions: Sequence[Any]) -> bool:
    for condition in conditions:
        if isinstance(condition, Mapping):
            (operator, operand), *rest = condition.items()
            assert not rest and operator == "exists", f"matcher knows only exists, not {condition}"
            if present is operand:
                return True
        elif present and (condition in value if isinstance(value, list) else value == condition):
            return True
    return False


def matches(pattern: Mapping[str, Any], event: Mapping[str, Any]) -> bool:
    """EventBridge semantics for the subset the generated patterns use."""
    for key, rule in pattern.items():
        present = isinstance(event, Mapping) and key in event
        value = event.get(key) if present else None
        if isinstance(rule, Mapping):
            if not isinstance(value, Mapping) or not matches(rule, value):
                return False
        elif not _field_matches(value, present, rule):
            return False
    return True


def test_matcher_semantics() -> None:
    pattern = {"a": ["x", "y"], "d": {"b": ["z"], "e": [{"exists": False}]}}
    assert matches(pattern, {"a": "x", "d": {"b": "z"}})
    assert matches(pattern, {"a": ["q", "y"], "d": {"b": "z", "c": 1}})
    assert not matches(pattern, {"a": "q", "d": {"b": "z"}})
    assert not matches(pattern, {"a": "x", "d": {"b": "z", "e": "AccessDenied"}})
    assert not matches(pattern, {"a": "x"})
    assert matches({"e": [{"exists": True}]}, {"e": "x"})
    assert not matches({"e": [{"exists": True}]}, {})


# --- structure ------------------------------------------------------------------------------------


def test_every_catalogue_row_is_in_exactly_one_pattern() -> None:
    for entry in ENTRIES:
        holders = [
            p
            for p in PATTERNS
            if entry.source in p["detail"]["eventSource"] and entry.event in p["detail"]["eventName"]
        ]
        assert len(holders) == 1, (entry.source, entry.event, len(holders))


def test_every_event_source_is_in_exactly_one_pattern() -> None:
    sources = [s for p in PATTERNS for s in p["detail"]["eventSource"]]
    assert sorted(sources) == sorted({e.source for e in ENTRIES})


def test_patterns_select_successful_cloudtrail_api_calls_only() -> None:
    for pattern in PATTERNS:
        assert list(pattern) == ["source", "detail-type", "detail"]
        assert pattern["detail-type"] == [DETAIL_TYPE] == ["AWS API Call via CloudTrail"]
        assert pattern["detail"]["errorCode"] == [{"exists": False}]
        assert pattern["source"] == sorted({eventbridge_source(s) for s in pattern["detail"]["eventSource"]})


def test_patterns_fit_the_eventbridge_quota_and_are_few() -> None:
    assert MAX_PATTERN_CHARS == 2048  # the default quota; patterns must deploy without an increase
    for pattern in PATTERNS:
        assert pattern_chars(pattern) <= MAX_PATTERN_CHARS
        assert len(json.dumps(pattern, separators=(",", ":"))) <= pattern_chars(pattern)
    # No two patterns could have been one.
    for i, first in enumerate(PATTERNS):
        for second in PATTERNS[i + 1 :]:
            merged = {s: events_by_source()[s] for p in (first, second) for s in p["detail"]["eventSource"]}
            assert pattern_chars(build_pattern(merged)) > MAX_PATTERN_CHARS
    # And at most one more than the fewest that could do. k patterns cost k fixed overheads plus at
    # least every item once, less the ", " separators saved at the 3 list splits of each extra
    # pattern. That floor is a lower bound (packing is bin packing): when the patterns would have to
    # be almost exactly full to reach it, best fit may need one more.
    overhead = pattern_chars(build_pattern({}))
    content = pattern_chars(build_pattern(events_by_source())) - overhead
    floor = -(-(content + 6) // (MAX_PATTERN_CHARS - overhead + 6))
    assert floor <= len(PATTERNS) <= floor + 1, (len(PATTERNS), floor)


def test_patterns_are_deterministic_and_sorted() -> None:
    assert event_patterns(reversed(ENTRIES)) == PATTERNS == event_patterns()
    for pattern in PATTERNS:
        for values in (pattern["source"], pattern["detail"]["eventSource"], pattern["detail"]["eventName"]):
            assert values == sorted(set(values))
    assert [p["detail"]["eventSource"] for p in PATTERNS] == sorted(
        p["detail"]["eventSource"] for p in PATTERNS
    )


def test_a_source_too_large_for_one_pattern_is_refused() -> None:
    with pytest.raises(ValueError, match="exceeds"):
        event_patterns(max_chars=200)


def test_eventbridge_source_is_aws_dot_the_event_source_prefix() -> None:
    # Checked against the EventBridge events reference: CloudTrail events carry
    # source "aws.<prefix of eventSource>", whatever the service's marketing or SDK name.
    assert eventbridge_source("es.amazonaws.com") == "aws.es"
    assert eventbridge_source("monitoring.amazonaws.com") == "aws.monitoring"
    assert eventbridge_source("elasticmapreduce.amazonaws.com") == "aws.elasticmapreduce"
    assert eventbridge_source("servicecatalog-appregistry.amazonaws.com") == "aws.servicecatalog-appregistry"
    for entry in ENTRIES:
        assert entry.source.endswith(".amazonaws.com")
        if entry.source not in SOURCE_EXCEPTIONS:
            assert eventbridge_source(entry.source) == "aws." + entry.source.split(".")[0]


def test_stray_pairs_are_cross_products_only() -> None:
    stray = stray_pairs(PATTERNS)
    catalogue = {(e.source, e.event) for e in ENTRIES}
    assert not stray & catalogue
    names = {e.event for e in ENTRIES}
    assert all(name in names for _, name in stray)


# --- matching real-shaped events ------------------------------------------------------------------


def catalogue_event(source: str, name: str, error_code: str | None = None) -> dict[str, Any]:
    record = builders.cloudtrail(name, source, request={}, response={}, error_code=error_code)
    return builders.eventbridge(record)


@pytest.mark.parametrize("matcher", ["ours", "moto"])
def test_every_catalogue_event_matches_exactly_one_rule(matcher: str) -> None:
    patterns = template_patterns()
    moto_patterns = [EventPattern.load(json.dumps(p)) for p in patterns]
    for entry in ENTRIES:
        event = catalogue_event(entry.source, entry.event)
        if matcher == "ours":
            hits = [p for p in patterns if matches(p, event)]
        else:
            hits = [p for p in moto_patterns if p.matches_event(event)]
        assert len(hits) == 1, (entry.source, entry.event, len(hits))


@pytest.mark.parametrize("matcher", ["ours", "moto"])
def test_failed_and_other_calls_match_no_rule(matcher: str) -> None:
    patterns = template_patterns()
    moto_patterns = [EventPattern.load(json.dumps(p)) for p in patterns]

    def hit(event: dict[str, Any]) -> bool:
        if matcher == "ours":
            return any(matches(p, event) for p in patterns)
        return any(p.matches_event(event) for p in moto_patterns)

    for entry in ENTRIES:
        assert not hit(catalogue_event(entry.source, entry.event, error_code="AccessDenied"))
        assert not hit(catalogue_event(entry.source, entry.event, error_code="ValidationException"))
    # Our own tag writes, reads, and other detail types.
    assert not hit(catalogue_event("ec2.amazonaws.com", "CreateTags"))
    assert not hit(catalogue_event("ec2.amazonaws.com", "DescribeInstances"))
    assert not hit(catalogue_event("lambda.amazonaws.com", "TagResource"))
    assert not hit(catalogue_event("tagging.amazonaws.com", "TagResources"))
    console = catalogue_event("ec2.amazonaws.com", "RunInstances")
    console["detail-type"] = "AWS Service Event via CloudTrail"
    assert not hit(console)
    other_source = catalogue_event("ec2.amazonaws.com", "RunInstances")
    other_source["source"] = "com.example.app"
    assert not hit(other_source)


def test_a_run_instances_event_from_builders_matches() -> None:
    event = builders.eventbridge(builders.run_instances(count=2, tags={"team": "ml"}))
    assert sum(matches(p, event) for p in template_patterns()) == 1
    failed = builders.eventbridge(builders.run_instances(error_code="UnauthorizedOperation"))
    assert not any(matches(p, failed) for p in template_patterns())


# --- template.yaml --------------------------------------------------------------------------------


def test_template_rules_are_exactly_the_generated_patterns() -> None:
    deployed = sorted(template_patterns(), key=lambda p: p["detail"]["eventSource"])
    assert deployed == PATTERNS


def test_template_generated_blocks_are_current() -> None:
    text = TEMPLATE.read_text()
    gen = generator()
    assert gen.render(text, gen.current_blocks()) == text, (
        "template.yaml is stale: run .venv/bin/python infra/aws/generate_template.py"
    )


def test_render_replaces_only_between_markers() -> None:
    gen = generator()
    text = "a\n  # >>> GENERATED resources: x\n  old\n  # <<< GENERATED resources\nb\n"
    text += "  # >>> GENERATED outputs\n  # <<< GENERATED outputs\n"
    out = gen.render(text, {"resources": "  new\n", "outputs": "  out\n"})
    assert out == (
        "a\n  # >>> GENERATED resources: x\n  new\n  # <<< GENERATED resources\nb\n"
        "  # >>> GENERATED outputs\n  out\n  # <<< GENERATED outputs\n"
    )
    with pytest.raises(SystemExit):
        gen.render("no markers\n", {"resources": "", "outputs": ""})


def test_rule_targets_retry_and_dead_letter() -> None:
    resources = template()["Resources"]
    rules = {k: r for k, r in resources.items() if r["Type"] == "AWS::Events::Rule"}
    assert len(rules) == len(PATTERNS)
    policy = resources["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    allowed = policy["Condition"]["ArnEquals"]["aws:SourceArn"]
    for name, rule in rules.items():
        (target,) = rule["Properties"]["Targets"]
        assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
        assert 60 <= target["RetryPolicy"]["MaximumEventAgeInSeconds"] <= 86400
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}
        assert {"Fn::GetAtt": [name, "Arn"]} in allowed
        permission = resources[f"{name}Invoke"]["Properties"]
        assert permission["SourceArn"] == {"Fn::GetAtt": [name, "Arn"]}
        assert permission["Principal"] == "events.amazonaws.com"


# --- IAM actions of the taggers -------------------------------------------------------------------


def iam_reference() -> dict[str, Any]:
    """cfn-lint's copy of the IAM service authorization reference: prefix -> lowercased actions."""
    path = Path(cfnlint.__file__).parent / "data" / "AdditionalSpecs" / "Policies.json"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_every_catalogue_tagger_has_actions_and_they_exist_in_iam() -> None:
    perms = tag_actions(TAGGERS)
    assert perms.missing == ()
    reference = iam_reference()
    used = {c.tagger for e in ENTRIES for c in e.creates}
    declined = {name for name, spec in TAGGERS.items() if not spec.method}  # untaggable / declined: no call
    assert {"untaggable", "cloudformation", "codebuild"} <= declined
    for name in used - declined:
        assert perms.by_tagger[name], name
    for action in (*perms.actions, *(a for acts in perms.scoped.values() for a in acts)):
        prefix, _, verb = action.partition(":")
        assert "*" not in action
        assert verb.lower() in reference[prefix]["Actions"], action


def test_tag_actions_write_tags_only() -> None:
    perms = tag_actions(TAGGERS)
    for action in perms.actions:
        verb = action.partition(":")[2]
        assert "Tag" in verb, action
        assert not verb.startswith(("Delete", "Remove", "Untag", "Terminate", "Detach")), action
    assert "s3:GetBucketTagging" in perms.actions  # S3 read-merge-write
    assert "tag:TagResources" in perms.actions  # the generic fallback
    assert not any(a.startswith("codebuild:") for a in perms.actions)  # see RGTA_SERVICE_ACTIONS
    assert dict(perms.scoped) == {
        "arn:${AWS::Partition}:apigateway:*::/tags/*": ("apigateway:POST", "apigateway:PUT")
    }


def test_iam_action_names_are_the_boto3_operations() -> None:
    session = botocore.session.get_session()
    for name, row in TAGGERS.items():
        for spec in (row, *row.by_type.values()):
            if spec.kind is not Kind.API or (spec.service, spec.method) in CALL_ACTIONS:
                continue
            model = session.get_service_model(spec.service)
            by_method = {botocore.xform_name(op): op for op in model.operation_names}
            (action,) = row_actions(spec)
            assert action.partition(":")[2] == by_method[spec.method], (name, spec.service, spec.method)


def test_row_actions_by_kind() -> None:
    assert row_actions(TaggerSpec("s3", kind=Kind.S3)) == ("s3:GetBucketTagging", "s3:PutBucketTagging")
    assert row_actions(TAGGERS["untaggable"]) == ()
    assert row_actions(TAGGERS["cloudformation"]) == ()
    assert row_actions(TAGGERS["elbv2"]) == ("elasticloadbalancing:AddTags",)
    assert row_actions(TAGGERS["states"]) == ("states:TagResource",)
    assert set(row_actions(TAGGERS["iam"])) >= {"iam:TagRole", "iam:TagUser", "iam:TagOpenIDConnectProvider"}
    assert set(row_actions(TAGGERS["bedrock"])) == {"bedrock:TagResource"}


def test_template_tag_policy_is_the_generated_one() -> None:
    statements = template()["Resources"]["TagWritePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    perms = tag_actions(TAGGERS)
    assert statements[0]["Action"] == list(perms.actions)
    assert statements[0]["Resource"] == "*"
    scoped = {s["Resource"]["Fn::Sub"]: tuple(s["Action"]) for s in statements[1:]}
    assert scoped == dict(perms.scoped)


# --- untag actions (the sweeper removes marker tags) ------------------------------------------------


def test_every_tag_action_has_an_untag_counterpart_that_exists_in_iam() -> None:
    gen = generator()
    perms = tag_actions(TAGGERS)
    untag = gen.untag_actions(perms)
    reference = iam_reference()
    for action in (*untag.actions, *(a for acts in untag.scoped.values() for a in acts)):
        prefix, _, verb = action.partition(":")
        assert "*" not in action
        assert verb.lower() in reference[prefix]["Actions"], action
    assert dict(untag.scoped) == {"arn:${AWS::Partition}:apigateway:*::/tags/*": ("apigateway:DELETE",)}
    assert {
        action: gen.untag_action(action)
        for action in (
            "ec2:CreateTags",
            "sagemaker:AddTags",
            "elasticloadbalancing:AddTags",
            "rds:AddTagsToResource",
            "kinesis:AddTagsToStream",
            "iam:TagRole",
            "sqs:TagQueue",
            "tag:TagResources",
            "s3:PutBucketTagging",
        )
    } == {
        "ec2:CreateTags": ("ec2:DeleteTags",),
        "sagemaker:AddTags": ("sagemaker:DeleteTags",),
        "elasticloadbalancing:AddTags": ("elasticloadbalancing:RemoveTags",),
        "rds:AddTagsToResource": ("rds:RemoveTagsFromResource",),
        "kinesis:AddTagsToStream": ("kinesis:RemoveTagsFromStream",),
        "iam:TagRole": ("iam:UntagRole",),
        "sqs:TagQueue": ("sqs:UntagQueue",),
        "tag:TagResources": ("tag:UntagResources",),
        "s3:PutBucketTagging": ("s3:PutBucketTagging",),  # DeleteBucketTagging is authorized by it
    }
    with pytest.raises(SystemExit, match="UNTAG_EXCEPTIONS"):
        gen.untag_action("example:FrobnicateTags")


def test_untag_action_names_are_the_boto3_operations() -> None:
    """Each tag call's counterpart is an operation of the same service (the sweeper calls it, or
    tag:UntagResources needs it)."""
    gen = generator()
    session = botocore.session.get_session()
    checked = 0
    for row in TAGGERS.values():
        for spec in (row, *row.by_type.values()):
            if spec.kind not in (Kind.API, Kind.RGTA) or (spec.service, spec.method) in CALL_ACTIONS:
                continue
            (action,) = row_actions(spec)
            for untag in gen.untag_action(action):
                model = session.get_service_model(spec.service)
                assert untag.partition(":")[2] in model.operation_names, (spec.service, untag)
                checked += 1
    assert checked > 50


def test_template_lifecycle_policies_are_the_generated_ones() -> None:
    from tagwarden.aws.quarantine import IAM_ACTIONS

    gen = generator()
    resources = template()["Resources"]
    enforcer = {
        s["Sid"]: s for s in resources["EnforcerQuarantinePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    }
    assert resources["EnforcerQuarantinePolicy"]["Properties"]["RoleName"] == {"Ref": "EnforcerRole"}
    granted = [*enforcer["Quarantine"]["Action"], *enforcer["QuarantineBuckets"]["Action"]]
    assert sorted(granted) == sorted(gen.quarantine_actions(IAM_ACTIONS))
    sweeper = resources["SweeperLifecyclePolicy"]["Properties"]
    assert sweeper["RoleName"] == {"Ref": "SweeperRole"}
    statements = {s["Sid"]: s for s in sweeper["PolicyDocument"]["Statement"]}
    release, marked, unmarked = gen.split_lifecycle(IAM_ACTIONS)
    assert statements["Release"]["Action"] == list(release)
    assert statements["DeleteMarked"]["Action"] == list(marked)
    assert statements["DeleteLeftovers"]["Action"] == list(unmarked)
    assert sorted([*release, *marked, *unmarked]) == sorted(IAM_ACTIONS)
    assert statements["ProtectedStayUntouched"]["Action"] == list(gen.sweeper_denied(IAM_ACTIONS))
    untag = gen.untag_actions(tag_actions(TAGGERS))
    assert statements["MarkerRemoval"]["Action"] == list(untag.actions)
    assert statements["MarkerRemovalOnPath1"]["Action"] == ["apigateway:DELETE"]
