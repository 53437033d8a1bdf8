"""The EventBridge patterns generated from the CloudTrail catalogue, and the ones in template.yaml.

Checked three ways: structurally (each catalogue row in exactly one pattern, size within the
quota, failed calls excluded), by matching real-shaped events (tests/builders.py) with a small
EventBridge matcher written here and with moto's, and against template.yaml (the deployed rules
are exactly the generated ones, and the generated blocks are current).
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
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

from tagwarden.aws.catalogue import ENTRIES, all_entries
from tagwarden.aws.normalize.tag_events import TAG_EVENT_IDS
from tagwarden.aws.patterns import (
    CALL_ACTIONS,
    DETAIL_TYPE,
    MAX_MANAGED_POLICY_CHARS,
    MAX_PATTERN_CHARS,
    SERVICE_DETAIL_TYPE,
    SOURCE_EXCEPTIONS,
    UNGRANTED,
    build_pattern,
    event_patterns,
    eventbridge_source,
    events_by_source,
    extra_parameters,
    extra_pattern,
    pack,
    pattern_chars,
    policy_chars,
    rgta_service_actions,
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
ALL = all_entries()  # the whole catalogue: hand-written and derived


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
    """The catalogue rules' patterns (not the rules file's extra rule, which has a condition)."""
    rules = [
        r["Properties"]
        for r in template()["Resources"].values()
        if r["Type"] == "AWS::Events::Rule"
        and "Condition" not in r
        and any(t["Arn"] == {"Fn::GetAtt": ["Enforcer", "Arn"]} for t in r["Properties"]["Targets"])
    ]
    return [rule["EventPattern"] for rule in rules]


# --- a small EventBridge matcher: exact-match arrays, {"exists": bool}, {"prefix": str} ------------


def _field_matches(value: Any, present: bool, conditions: Sequence[Any]) -> bool:
    for condition in conditions:
        if isinstance(condition, Mapping):
            (operator, operand), *rest = condition.items()
            assert not rest and operator in ("exists", "prefix"), (
                f"matcher knows exists and prefix: {condition}"
            )
            if operator == "exists" and present is operand:
                return True
            if operator == "prefix" and isinstance(value, str) and value.startswith(operand):
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
    assert matches({"s": [{"prefix": "aws."}]}, {"s": "aws.ec2"})
    assert not matches({"s": [{"prefix": "aws."}]}, {"s": "com.aws.ec2"})
    assert not matches({"s": [{"prefix": "aws."}]}, {})


# --- structure ------------------------------------------------------------------------------------


def test_the_patterns_cover_the_whole_catalogue() -> None:
    assert len(ALL) > len(ENTRIES) + 900 and any(e.derived for e in ALL)
    assert event_patterns(ALL) == PATTERNS


def test_every_catalogue_row_is_in_exactly_one_pattern() -> None:
    for entry in ALL:
        holders = [
            p
            for p in PATTERNS
            if entry.source in p["detail"]["eventSource"] and entry.event in p["detail"]["eventName"]
        ]
        assert len(holders) == 1, (entry.source, entry.event, len(holders))


CALL_PATTERNS = [p for p in PATTERNS if p["detail-type"] == [DETAIL_TYPE]]


@pytest.mark.parametrize("detail_type", [DETAIL_TYPE, SERVICE_DETAIL_TYPE])
def test_every_event_source_is_in_exactly_one_pattern_of_its_detail_type(detail_type: str) -> None:
    service = detail_type == SERVICE_DETAIL_TYPE
    sources = [s for p in PATTERNS if p["detail-type"] == [detail_type] for s in p["detail"]["eventSource"]]
    assert sorted(sources) == sorted({e.source for e in ALL if e.service_event is service})


def test_service_events_have_their_own_pattern() -> None:
    """CloudTrail delivers what a service does on its own (Organizations' CreateAccountResult) as
    "AWS Service Event via CloudTrail": an API-call pattern never sees it."""
    services = [e for e in ALL if e.service_event]
    assert {(e.source, e.event) for e in services} >= {("organizations.amazonaws.com", "CreateAccountResult")}
    (pattern,) = [p for p in PATTERNS if p["detail-type"] == [SERVICE_DETAIL_TYPE]]
    assert SERVICE_DETAIL_TYPE == "AWS Service Event via CloudTrail"
    assert sorted(pattern["detail"]["eventName"]) == sorted({e.event for e in services})


def test_patterns_select_successful_cloudtrail_events_only() -> None:
    for pattern in PATTERNS:
        assert list(pattern) == ["source", "detail-type", "detail"]
        assert pattern["detail-type"] in ([DETAIL_TYPE], [SERVICE_DETAIL_TYPE])
        assert pattern["detail"]["errorCode"] == [{"exists": False}]
        # Only AWS may put "aws.*" sources on a bus: a principal with events:PutEvents cannot forge.
        assert pattern["source"] == [{"prefix": "aws."}]
        assert all(eventbridge_source(s).startswith("aws.") for s in pattern["detail"]["eventSource"])
        assert all(isinstance(name, str) for name in pattern["detail"]["eventName"])  # exact, no prefix


def test_no_rule_takes_a_tag_write() -> None:
    """Tag writes go to the sweeper's TagWrites rule (release), never to the enforcer's create rules."""
    for pattern in PATTERNS:
        assert not set(pattern["detail"]["eventName"]) & set(TAG_EVENT_IDS)


def test_patterns_fit_the_eventbridge_quota_and_are_few() -> None:
    assert MAX_PATTERN_CHARS == 2048  # the default quota; patterns must deploy without an increase
    for pattern in PATTERNS:
        assert pattern_chars(pattern) <= MAX_PATTERN_CHARS
        assert len(json.dumps(pattern, separators=(",", ":"))) <= pattern_chars(pattern)
    # No two patterns could have been one.
    calls = events_by_source(e for e in ALL if not e.service_event)
    for i, first in enumerate(CALL_PATTERNS):
        for second in CALL_PATTERNS[i + 1 :]:
            merged = {s: calls[s] for p in (first, second) for s in p["detail"]["eventSource"]}
            assert pattern_chars(build_pattern(merged)) > MAX_PATTERN_CHARS
    # And close to the fewest that could do. k patterns cost k fixed overheads plus at least every
    # item once, less the ", " separators saved at the 2 list splits of each extra pattern. Best
    # fit is not optimal bin packing: with the whole catalogue it may land up to 2 above that bound.
    overhead = pattern_chars(build_pattern({}))
    content = pattern_chars(build_pattern(calls)) - overhead
    floor = -(-(content + 4) // (MAX_PATTERN_CHARS - overhead + 4))
    assert floor <= len(CALL_PATTERNS) <= floor + 2, (len(CALL_PATTERNS), floor)
    assert len(PATTERNS) + 2 <= 300 / 10  # a small share of the rules a bus takes (300 by default)


def test_patterns_are_deterministic_and_sorted() -> None:
    assert event_patterns(reversed(ALL)) == PATTERNS == event_patterns()
    for pattern in PATTERNS:
        for values in (pattern["detail"]["eventSource"], pattern["detail"]["eventName"]):
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
    for entry in ALL:
        assert entry.source.endswith(".amazonaws.com")
        if entry.source not in SOURCE_EXCEPTIONS:
            assert eventbridge_source(entry.source) == "aws." + entry.source.split(".")[0]


def test_stray_pairs_are_cross_products_only() -> None:
    stray = stray_pairs(PATTERNS)
    catalogue = {(e.source, e.event) for e in ALL}
    assert not stray & catalogue
    names = {e.event for e in ALL}
    assert all(name in names for _, name in stray)


# --- matching real-shaped events ------------------------------------------------------------------


SERVICE_EVENTS = {(e.source, e.event) for e in ALL if e.service_event}


def catalogue_event(source: str, name: str, error_code: str | None = None) -> dict[str, Any]:
    record = builders.cloudtrail(name, source, request={}, response={}, error_code=error_code)
    if (source, name) in SERVICE_EVENTS:
        record["eventType"] = "AwsServiceEvent"  # delivered as "AWS Service Event via CloudTrail"
    return builders.eventbridge(record)


@pytest.mark.parametrize("matcher", ["ours", "moto"])
def test_every_catalogue_event_matches_exactly_one_rule(matcher: str) -> None:
    patterns = template_patterns()
    moto_patterns = [EventPattern.load(json.dumps(p)) for p in patterns]
    for entry in ALL:
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

    for entry in ALL:
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
    other_source["source"] = "com.example.app"  # a forged create put by an application
    assert not hit(other_source)
    derived = next(e for e in ALL if e.derived)
    assert not hit(catalogue_event(derived.source, derived.event, error_code="AccessDenied"))


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
    text += "  # >>> GENERATED parameters\n  # <<< GENERATED parameters\n"
    text += "  # >>> GENERATED conditions\n  # <<< GENERATED conditions\n"
    blocks = {"resources": "  new\n", "outputs": "  out\n", "parameters": "  p\n", "conditions": "  c\n"}
    out = gen.render(text, blocks)
    assert out == (
        "a\n  # >>> GENERATED resources: x\n  new\n  # <<< GENERATED resources\nb\n"
        "  # >>> GENERATED outputs\n  out\n  # <<< GENERATED outputs\n"
        "  # >>> GENERATED parameters\n  p\n  # <<< GENERATED parameters\n"
        "  # >>> GENERATED conditions\n  c\n  # <<< GENERATED conditions\n"
    )
    with pytest.raises(SystemExit):
        gen.render("no markers\n", dict.fromkeys(blocks, ""))


def test_rule_targets_retry_and_dead_letter() -> None:
    resources = template()["Resources"]
    rules = {k: r for k, r in resources.items() if r["Type"] == "AWS::Events::Rule"}
    assert len(rules) == len(PATTERNS) + 1  # and the rules file's extra rule
    policy = resources["DeadLetterQueuePolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    allowed = policy["Condition"]["ArnEquals"]["aws:SourceArn"]
    extra = {"Fn::GetAtt": ["CreateEventsRuleExtra", "Arn"]}
    assert {"Fn::If": ["HasExtraEvents", extra, {"Ref": "AWS::NoValue"}]} in allowed
    allowed = [*allowed, extra]
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
    used = {c.tagger for e in ALL for c in e.creates}
    declined = {name for name, spec in TAGGERS.items() if not spec.method}  # untaggable / declined: no call
    assert {"untaggable", "cloudformation", "codebuild"} <= declined
    for name in used - declined:
        assert perms.by_tagger[name], name
    for action in (*perms.actions, *(a for acts in perms.scoped.values() for a in acts)):
        prefix, _, verb = action.partition(":")
        assert "*" not in action
        assert verb.lower() in reference[prefix]["Actions"], action
    for action in UNGRANTED:  # not in the reference: not granted (cfn-lint refuses them)
        prefix, _, verb = action.partition(":")
        assert verb.lower() not in reference.get(prefix, {}).get("Actions", {}), action
        assert action not in perms.actions


def test_the_tagging_api_route_gets_each_services_own_tag_permission() -> None:
    """tag:TagResources also needs the owning service's tag permission: its own tagger's actions
    where it has one (rds:AddTagsToResource, apigateway's PUT), else <prefix>:TagResource."""
    perms = tag_actions(TAGGERS)
    granted = {*perms.actions, *(a for acts in perms.scoped.values() for a in acts)}
    rgta = {e.service for e in ALL for c in e.creates if c.tagger == "rgta"}
    assert len(rgta) > 50
    for service in rgta:
        assert set(rgta_service_actions(service, granted)) <= granted, service
    assert rgta_service_actions("rds", granted) == ("rds:AddTagsToResource",)
    assert rgta_service_actions("apigateway", granted) == ("apigateway:POST", "apigateway:PUT")
    assert rgta_service_actions("keyspaces") == ("cassandra:TagResource",)
    assert rgta_service_actions("codebuild") == ()  # see RGTA_SERVICE_ACTIONS


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


def managed_policies(prefix: str) -> list[dict[str, Any]]:
    resources = template()["Resources"]
    names = sorted(
        (k for k in resources if k.removeprefix(prefix).isdigit()), key=lambda k: int(k[len(prefix) :])
    )
    return [resources[name] for name in names]


def test_template_tag_policies_are_the_generated_ones_and_fit_iam() -> None:
    perms = tag_actions(TAGGERS)
    policies = managed_policies("TagWritePolicy")
    assert len(policies) >= 2  # the derived catalogue's actions do not fit one
    actions: list[str] = []
    scoped: dict[str, tuple[str, ...]] = {}
    for policy in policies:
        assert policy["Type"] == "AWS::IAM::ManagedPolicy"
        props = policy["Properties"]
        assert props["Roles"] == [{"Ref": "EnforcerRole"}, {"Ref": "SweeperRole"}]
        assert policy_chars(props["PolicyDocument"]) <= MAX_MANAGED_POLICY_CHARS
        for statement in props["PolicyDocument"]["Statement"]:
            if statement["Resource"] == "*":
                assert statement["Sid"] == "TagWrites"
                actions += statement["Action"]
            else:
                scoped[statement["Resource"]["Fn::Sub"]] = tuple(statement["Action"])
    assert actions == list(perms.actions)
    assert scoped == dict(perms.scoped)


def inline_chars(role: str) -> int:
    """A role's inline policies as IAM counts them (whitespace excluded), conditions all true."""
    resources = template()["Resources"]
    docs = [p["PolicyDocument"] for p in resources[role]["Properties"].get("Policies", [])]
    docs += [
        r["Properties"]["PolicyDocument"]
        for r in resources.values()
        if r["Type"] == "AWS::IAM::RolePolicy" and r["Properties"]["RoleName"] == {"Ref": role}
    ]
    return sum(policy_chars(doc) for doc in docs)


@pytest.mark.parametrize("role", ["EnforcerRole", "SweeperRole"])
def test_each_role_stays_within_the_iam_quotas(role: str) -> None:
    resources = template()["Resources"]
    managed = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": role} in r["Properties"]["Roles"]
    ]
    assert len(managed) + len(resources[role]["Properties"].get("ManagedPolicyArns", [])) <= 10
    assert inline_chars(role) <= 10240, inline_chars(role)
    for policy in managed:
        assert policy_chars(policy["Properties"]["PolicyDocument"]) <= MAX_MANAGED_POLICY_CHARS


def test_pack_keeps_order_and_room() -> None:
    actions = [f"svc{n}:TagResource" for n in range(100)]
    parts = pack(actions, 500)
    assert [a for part in parts for a in part] == actions
    assert all(len(json.dumps(list(part), separators=(",", ":"))) <= 500 for part in parts)
    assert len(parts) == len(pack(actions, 500)) > 1
    for first, second in itertools.pairwise(parts):  # greedy: the next action did not fit
        assert len(json.dumps([*first, second[0]], separators=(",", ":"))) > 500
    with pytest.raises(ValueError, match="exceeds"):
        pack(["x" * 600], 500)


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
        s["Sid"]: s
        for s in resources["EnforcerQuarantinePolicy"]["Properties"]["PolicyDocument"]["Statement"]
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
    assert "MarkerRemoval" not in statements  # in MarkerRemovalPolicy*: too large for inline
    removal: list[str] = []
    on_path: list[str] = []
    for policy in managed_policies("MarkerRemovalPolicy"):
        assert policy["Properties"]["Roles"] == [{"Ref": "SweeperRole"}]
        assert policy_chars(policy["Properties"]["PolicyDocument"]) <= MAX_MANAGED_POLICY_CHARS
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            (removal if statement["Sid"] == "MarkerRemoval" else on_path).extend(statement["Action"])
    assert removal == list(untag.actions)
    assert on_path == ["apigateway:DELETE"]


# --- the rules file's own catalogue entries (parameters ExtraEventSources / Names / TagActions) ----


def _resolved(node: Any, values: Mapping[str, list[str]]) -> Any:
    """`node` with each {"Ref": parameter} replaced by its list, as CloudFormation does."""
    if isinstance(node, dict):
        if set(node) == {"Ref"} and node["Ref"] in values:
            return values[node["Ref"]]
        return {k: _resolved(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolved(v, values) for v in node]
    return node


def test_the_extra_rule_routes_the_parameters_events_only() -> None:
    resources = template()["Resources"]
    rule = resources["CreateEventsRuleExtra"]
    assert rule["Condition"] == "HasExtraEvents"
    assert resources["CreateEventsRuleExtraInvoke"]["Condition"] == "HasExtraEvents"
    pattern = rule["Properties"]["EventPattern"]
    assert pattern == extra_pattern({"Ref": "ExtraEventSources"}, {"Ref": "ExtraEventNames"})
    values = {"ExtraEventSources": ["quantumledger.amazonaws.com"], "ExtraEventNames": ["CreateVault"]}
    live = _resolved(pattern, values)
    assert pattern_chars(live) <= MAX_PATTERN_CHARS
    moto = EventPattern.load(json.dumps(live))
    for matcher in (lambda e: matches(live, e), moto.matches_event):
        assert matcher(catalogue_event("quantumledger.amazonaws.com", "CreateVault"))
        assert not matcher(catalogue_event("quantumledger.amazonaws.com", "CreateVault", "AccessDenied"))
        assert not matcher(catalogue_event("quantumledger.amazonaws.com", "TagResource"))
        assert not matcher(catalogue_event("ec2.amazonaws.com", "CreateVault"))
        forged = catalogue_event("quantumledger.amazonaws.com", "CreateVault")
        forged["source"] = "com.example.app"
        assert not matcher(forged)
    conditions = template()["Conditions"]
    assert conditions["HasExtraEvents"] == {
        "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "ExtraEventSources"}]}, ""]}]
    }


def test_extra_tag_actions_are_tag_writes_only() -> None:
    gen = generator()
    params = template()["Parameters"]
    pattern = params["ExtraTagActions"]["AllowedPattern"]
    assert (
        params["ExtraTagActions"]["Type"] == "CommaDelimitedList"
        and params["ExtraTagActions"]["Default"] == ""
    )

    for ok in ("", "quantumledger:TagResource", "foo-bar:AddTagsToThing", "svc:CreateTags"):
        assert re.fullmatch(pattern, ok), ok
    for bad in (
        "iam:PassRole",
        "s3:*",
        "*",
        "ec2:TerminateInstances",
        "svc:TagResource,iam:*",
        "sts:AssumeRole",
    ):
        assert not re.fullmatch(pattern, bad), bad
    assert pattern == f"^$|{gen.TAG_ACTION_PATTERN}"
    policy = template()["Resources"]["ExtraTagWritePolicy"]
    assert policy["Condition"] == "HasExtraTagActions"
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == {"Ref": "ExtraTagActions"} and statement["Resource"] == "*"


def test_extra_parameters_from_a_rules_files_entries() -> None:
    from tagwarden.aws.catalogue import user
    from tagwarden.rules.model import CatalogueEntry

    entries = user.index(
        [
            CatalogueEntry(
                "quantumledger.amazonaws.com",
                "CreateVault",
                "responseElements.arn",
                "AWS::QL::Vault",
                tagger="rgta",
            ),
            CatalogueEntry(
                "quantumledger.amazonaws.com",
                "CreateShelf",
                "responseElements.arn",
                "AWS::QL::Shelf",
                tagger="rgta",
            ),
            CatalogueEntry(
                "sqs.amazonaws.com",
                "CreateQueueV2",
                "responseElements.queueUrl",
                "AWS::SQS::Queue",
                tagger="sqs",
            ),
            CatalogueEntry(
                "polly.amazonaws.com",
                "CreateVoice",
                "responseElements.arn",
                "AWS::Polly::Voice",
                tagger="derived:polly",
            ),
        ]
    ).values()
    params = extra_parameters(entries, TAGGERS)
    assert params == {
        "ExtraEventSources": "polly.amazonaws.com,quantumledger.amazonaws.com,sqs.amazonaws.com",
        "ExtraEventNames": "CreateQueueV2,CreateShelf,CreateVault,CreateVoice",
        # tag:TagResources and sqs:TagQueue are granted already; the new service's own permission is
        # not, nor an UNGRANTED one (polly) an entry's tagger needs
        "ExtraTagActions": "polly:TagResource,quantumledger:TagResource",
    }


def test_the_readme_figures_are_the_generated_ones() -> None:
    readme = (ROOT / "README.md").read_text()
    words = {
        17: "Seventeen",
        18: "Eighteen",
        19: "Nineteen",
        20: "Twenty",
        21: "Twenty-one",
        22: "Twenty-two",
    }
    assert f"{words[len(PATTERNS)]} EventBridge rules (generated from the whole catalogue" in readme
    assert f"`TagWritePolicy1..{len(managed_policies('TagWritePolicy'))}`" in readme
    assert f"`MarkerRemovalPolicy1..{len(managed_policies('MarkerRemovalPolicy'))}`" in readme
    assert f"{len(PATTERNS)} of the 300 rules a bus takes" in readme
    for action in UNGRANTED:
        assert f"`{action.partition(':')[0]}`" in readme


def test_few_stray_pairs_are_real_apis() -> None:
    """A pattern matches its sources x its names; of those ~13,000 pairs that are not catalogue rows,
    the ones that are real operations of the service (botocore, by endpoint prefix) reach the
    function and are skipped there. They stay few (16 with 1,278 events: apigateway CreateDeployment,
    kms CreateAlias ...): packing by shared names keeps them so."""
    session = botocore.session.get_session()
    operations: dict[str, set[str]] = {}
    for name in session.get_available_services():
        model = session.get_service_model(name)
        operations.setdefault(f"{model.metadata['endpointPrefix']}.amazonaws.com", set()).update(
            model.operation_names
        )
    real = {(source, name) for source, name in stray_pairs(PATTERNS) if name in operations.get(source, ())}
    assert len(real) <= 25, sorted(real)
    assert not {name for _, name in real} & set(TAG_EVENT_IDS)
