"""infra/aws/org: the hub (bus, template.yaml nested, member access, StackSet) and the generated
spoke (forwarding rules, member role): lint-clean, and generated from the same catalogue as
template.yaml."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from tagwarden.aws.lookups import IAM_ACTIONS as LOOKUP_ACTIONS
from tagwarden.aws.patterns import event_patterns, tag_actions
from tagwarden.aws.taggers import TAGGERS

from infra_scripts import load, script

ROOT = Path(__file__).resolve().parents[2]
ORG = ROOT / "infra" / "aws" / "org"
HUB, SPOKE, TEMPLATE = ORG / "hub.yaml", ORG / "spoke.yaml", ROOT / "template.yaml"
OPS = ROOT / "infra" / "aws" / "ops.yaml"  # linted here with the other stacks
DESTRUCTIVE = ("Delete", "Terminate", "Remove", "Detach", "Disable", "Untag")


def generator() -> Any:
    return script("aws/org/generate_spoke.py")


def test_spoke_is_generated_from_the_current_catalogue() -> None:
    assert SPOKE.read_text() == generator().current(), "run infra/aws/org/generate_spoke.py"


@pytest.mark.parametrize("path", [HUB, SPOKE, OPS], ids=["hub", "spoke", "ops"])
def test_cfn_lint_finds_no_errors_or_warnings(path: Path) -> None:
    matches = lint(path.read_text(), config=ManualArgs(regions=["us-east-1", "eu-west-1"]))
    found = [m for m in matches if m.rule.id.startswith(("E", "W"))]
    assert not found, "\n".join(str(m) for m in found)


def test_sam_validate_lint_the_hub() -> None:
    local = ROOT / ".venv-sam" / "bin" / "sam"
    sam = str(local) if local.exists() else shutil.which("sam")
    if sam is None:
        assert not os.environ.get("CI"), "SAM CLI missing in CI: `make test` installs it into .venv-sam"
        pytest.skip("SAM CLI not installed (make test installs it into .venv-sam)")
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [sam, "validate", "--lint", "--template", str(HUB), "--region", "us-east-1"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ORG,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


# --- the spoke ----------------------------------------------------------------------------------


def _rules() -> dict[str, dict[str, Any]]:
    return {k: r for k, r in load(SPOKE)["Resources"].items() if r["Type"] == "AWS::Events::Rule"}


def test_the_spoke_forwards_every_create_pattern_and_the_tag_writes_to_the_hub_bus() -> None:
    rules = _rules()
    patterns = [
        r["Properties"]["EventPattern"] for k, r in sorted(rules.items()) if k.startswith("ForwardCreate")
    ]
    assert sorted(map(json.dumps, patterns)) == sorted(json.dumps(dict(p)) for p in event_patterns())
    # The tag writes go to the hub's sweeper: the same pattern as its TagWrites rule in template.yaml.
    sweeper = load(TEMPLATE)["Resources"]["Sweeper"]["Properties"]["Events"]["TagWrites"]["Properties"]
    assert sweeper["EventBusName"] == {"Ref": "EventBusName"}
    assert rules["ForwardTagWrites"]["Properties"]["EventPattern"] == sweeper["Pattern"]
    hub_bus = {
        "Fn::Sub": "arn:${AWS::Partition}:events:${HubRegion}:${HubAccountId}:event-bus/${HubEventBusName}"
    }
    for rule in rules.values():
        assert "EventBusName" not in rule["Properties"]  # the account's default bus, where CloudTrail lands
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == hub_bus
        assert target["RoleArn"] == {"Fn::GetAtt": ["ForwardRole", "Arn"]}
    (policy,) = load(SPOKE)["Resources"]["ForwardRole"]["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Sid": "HubBus", "Effect": "Allow", "Action": ["events:PutEvents"], "Resource": hub_bus}
    ]


def test_the_member_role_trusts_only_the_hub_with_the_external_id_inside_the_organization() -> None:
    role = load(SPOKE)["Resources"]["MemberRole"]
    assert role["Condition"] == "CreatesMemberRole"  # one region creates it: IAM is global
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Ref": "HubPrincipalArns"}}
    assert trust["Action"] == "sts:AssumeRole"
    assert trust["Condition"] == {
        "StringEquals": {
            "sts:ExternalId": {"Ref": "MemberExternalId"},
            "aws:PrincipalOrgID": {"Ref": "OrgId"},
        }
    }


def test_the_member_role_holds_only_tag_quarantine_and_lookup_actions() -> None:
    resources = load(SPOKE)["Resources"]
    (policy,) = resources["MemberRole"]["Properties"]["Policies"]
    granted = {a for s in policy["PolicyDocument"]["Statement"] for a in s["Action"]}
    # the tag writes: managed policies (too large for a role's inline quota), packed to IAM's limit
    extra = resources.pop("MemberExtraTagWritePolicy")  # the deployer's ExtraTagActions, tag writes only
    assert extra["Condition"] == "CreatesExtraTagPolicy"
    (statement,) = extra["Properties"]["PolicyDocument"]["Statement"]
    both = [{"Ref": "MemberRole"}, {"Ref": "MemberSweeperRole"}]  # the sweeper writes marks
    assert statement["Action"] == {"Ref": "ExtraTagActions"} and extra["Properties"]["Roles"] == both
    managed = [
        r
        for r in resources.values()
        if r["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": "MemberRole"} in r["Properties"]["Roles"]
    ]
    assert 2 <= len(managed) <= 8
    for res in managed:
        assert res["Properties"]["Roles"] == both and res["Condition"] == "CreatesMemberRole"
        document = res["Properties"]["PolicyDocument"]
        assert len(json.dumps(document, separators=(",", ":"))) <= 6144
        granted |= {a for s in document["Statement"] for a in s["Action"]}
    perms = tag_actions(TAGGERS)
    tags = set(perms.actions) | {a for acts in perms.scoped.values() for a in acts}
    quarantine = set(script("aws/generate_template.py").quarantine_actions())
    assert granted == tags | quarantine | set(LOOKUP_ACTIONS)
    assert not [a for a in granted if a.partition(":")[2].startswith(DESTRUCTIVE)]
    assert not [a for a in granted if "*" in a]


def test_the_member_sweeper_role_trusts_only_the_hubs_sweeper_under_the_same_conditions() -> None:
    roles = load(SPOKE)["Resources"]
    sweeper, enforcer = roles["MemberSweeperRole"], roles["MemberRole"]
    assert sweeper["Condition"] == "CreatesMemberRole"
    (trust,) = sweeper["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": {"Ref": "HubSweeperPrincipalArns"}}
    (enforcer_trust,) = enforcer["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == enforcer_trust["Condition"]  # external id and Organization
    assert sweeper["Properties"]["RoleName"] == {"Ref": "MemberSweeperRoleName"}


def _managed_statements(doc: dict[str, Any], role: str) -> dict[str, set[str]]:
    """Sid -> actions of the managed policies attached to `role` (packed parts share a Sid)."""
    out: dict[str, set[str]] = {}
    for res in doc["Resources"].values():
        props = res["Properties"]
        if res["Type"] == "AWS::IAM::ManagedPolicy" and {"Ref": role} in props["Roles"]:
            for s in props["PolicyDocument"]["Statement"]:
                if s["Action"] != {"Ref": "ExtraTagActions"}:
                    out.setdefault(s["Sid"], set()).update(s["Action"])
    return out


def test_the_member_sweeper_role_is_the_hub_sweepers_lifecycle_share() -> None:
    """What the sweeper does in a member account, as template.yaml's SweeperRole grants it in one
    account: the same release and delete split, the marked-only condition, the protect deny, the
    same marker writes and removals."""
    spoke, template = load(SPOKE), load(TEMPLATE)
    (policy,) = spoke["Resources"]["MemberSweeperRole"]["Properties"]["Policies"]
    statements = {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}
    hub = {
        s["Sid"]: s
        for s in template["Resources"]["SweeperLifecyclePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    }
    for sid in ("Release", "DeleteMarked", "DeleteLeftovers", "ProtectedStayUntouched"):
        assert statements[sid]["Action"] == hub[sid]["Action"], sid
        assert statements[sid]["Effect"] == hub[sid]["Effect"], sid
        assert statements[sid].get("Condition") == hub[sid].get("Condition"), sid
    assert statements["ReadTags"]["Action"] == ["tag:GetResources"]
    # marker writes and removals: the same managed-policy statements as the hub sweeper's
    assert _managed_statements(spoke, "MemberSweeperRole") == _managed_statements(template, "SweeperRole")
    granted = {a for s in statements.values() if s["Effect"] == "Allow" for a in s["Action"]}
    assert not [a for a in granted if "*" in a]
    assert not granted & {"sts:AssumeRole", "iam:PassRole", "dynamodb:PutItem"}  # nothing but the lifecycle


def test_the_spoke_forwards_only_cloudtrails_own_tag_writes() -> None:
    pattern = _rules()["ForwardTagWrites"]["Properties"]["EventPattern"]
    assert pattern["source"] == [{"prefix": "aws."}]  # EventBridge refuses PutEvents with aws.* sources


def test_the_spoke_stacks_parameters_are_all_given_by_the_hubs_stackset() -> None:
    spoke = load(SPOKE)["Parameters"]
    stackset = load(HUB)["Resources"]["Spokes"]["Properties"]
    given = {p["ParameterKey"] for p in stackset["Parameters"]}
    assert given == set(spoke)
    assert stackset["PermissionModel"] == "SERVICE_MANAGED"
    assert stackset["AutoDeployment"] == {"Enabled": True, "RetainStacksOnAccountRemoval": False}
    # The member role is created in the hub's region: that region must be among the spoke regions.
    member_region = next(p for p in stackset["Parameters"] if p["ParameterKey"] == "MemberRoleRegion")
    assert member_region["ParameterValue"] == {"Ref": "AWS::Region"}


# --- the hub ------------------------------------------------------------------------------------


def test_the_hub_bus_admits_the_organization_only() -> None:
    policy = load(HUB)["Resources"]["HubBusPolicy"]["Properties"]
    assert policy["Statement"]["Action"] == "events:PutEvents"
    assert policy["Statement"]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": {"Ref": "OrgId"}}}


def test_the_hub_is_template_yaml_on_the_hub_bus() -> None:
    app = load(HUB)["Resources"]["Tagwarden"]["Properties"]
    assert (ORG / app["Location"]).resolve() == TEMPLATE
    main = load(TEMPLATE)
    assert set(app["Parameters"]) <= set(main["Parameters"])
    assert app["Parameters"]["EventBusName"] == {"Ref": "HubBus"}
    assert app["Parameters"]["OrgId"] == {"Ref": "OrgId"}
    for name, rule in main["Resources"].items():
        if rule["Type"] == "AWS::Events::Rule":
            assert rule["Properties"]["EventBusName"] == {"Ref": "EventBusName"}, name
    # Every output of template.yaml the hub reads exists.
    used = {
        attribute.removeprefix("Outputs.")
        for resource, attribute in _get_atts(load(HUB))
        if resource == "Tagwarden"
    }
    assert used >= {"EnforcerRoleName", "EnforcerRoleArn", "EnforcerFunctionArn", "NotificationTopicArn"}
    assert used <= set(main["Outputs"])


def _get_atts(node: Any) -> list[tuple[str, str]]:
    if isinstance(node, dict):
        found = [tuple(node["Fn::GetAtt"])] if "Fn::GetAtt" in node else []
        return found + [x for v in node.values() for x in _get_atts(v)]
    if isinstance(node, list):
        return [x for v in node for x in _get_atts(v)]
    return []


def test_the_hub_assumes_member_roles_only_inside_the_organization() -> None:
    (assume, describe) = load(HUB)["Resources"]["MemberAccess"]["Properties"]["PolicyDocument"]["Statement"]
    assert assume["Action"] == "sts:AssumeRole"
    assert assume["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"}
    assert assume["Condition"] == {"StringEquals": {"aws:ResourceOrgID": {"Ref": "OrgId"}}}
    assert describe["Action"] == "organizations:DescribeAccount"
    access = load(HUB)["Resources"]["SweeperMemberAccess"]["Properties"]
    assert access["Roles"] == [{"Fn::GetAtt": ["Tagwarden", "Outputs.SweeperRoleName"]}]
    (assume, describe) = access["PolicyDocument"]["Statement"]
    assert assume["Resource"] == {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberSweeperRoleName}"}
    assert assume["Condition"] == {"StringEquals": {"aws:ResourceOrgID": {"Ref": "OrgId"}}}
    assert describe["Action"] == "organizations:DescribeAccount"


# Operations (infra/aws/ops.yaml: alarms and dashboard): tests/infra/test_ops.py.


@pytest.mark.parametrize("role", ["MemberRole", "MemberSweeperRole"])
def test_each_member_roles_inline_policies_fit_iams_limit(role: str) -> None:
    """IAM allows 10,240 characters of inline policy per role (whitespace not counted): the
    catalogue's tag actions grow; the StackSet would fail in every account past it."""
    policies = load(SPOKE)["Resources"][role]["Properties"]["Policies"]
    size = sum(len(json.dumps(p["PolicyDocument"], separators=(",", ":"))) for p in policies)
    assert size <= 10_240, f"{role}: {size} characters of inline policy"


def test_the_spoke_forwards_and_grants_the_rules_files_own_entries_as_the_template() -> None:
    spoke, template = load(SPOKE), load(ROOT / "template.yaml")
    for name in ("ExtraEventSources", "ExtraEventNames", "ExtraTagActions"):
        mine, theirs = spoke["Parameters"][name], template["Parameters"][name]
        assert (mine["Type"], mine["Default"], mine["AllowedPattern"]) == (
            theirs["Type"],
            theirs["Default"],
            theirs["AllowedPattern"],
        )
    rule = spoke["Resources"]["ForwardExtraCreateEvents"]
    assert rule["Condition"] == "HasExtraEvents"
    extra = template["Resources"]["CreateEventsRuleExtra"]["Properties"]["EventPattern"]
    assert rule["Properties"]["EventPattern"] == extra
    hub = load(HUB)
    given = {
        p["ParameterKey"]: p["ParameterValue"] for p in hub["Resources"]["Spokes"]["Properties"]["Parameters"]
    }
    nested = hub["Resources"]["Tagwarden"]["Properties"]["Parameters"]
    for name in ("ExtraEventSources", "ExtraEventNames", "ExtraTagActions"):
        assert given[name] == nested[name] == {"Ref": name}
