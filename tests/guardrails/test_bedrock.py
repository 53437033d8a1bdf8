"""Bedrock attribution by IAM principal: the SCP requiring principal tags to invoke, and agent roles
created through iam:CreateRole getting Agent-ID / CostCenter from the enforcer."""

from __future__ import annotations

import fnmatch
import importlib.machinery
import importlib.util
import io
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from tagwarden.aws.catalogue import ENTRIES
from tagwarden.cli.main import main
from tagwarden.guardrails.bedrock import build_bedrock
from tagwarden.guardrails.common import GuardrailError
from tagwarden.rules import load_rules

from conftest import EXAMPLE_RULES


def lint(text: str) -> list[tuple[str, str]]:
    """parliament's findings (the same shim as tests/guardrails/test_aws.py: parliament 1.6 imports
    pkg_resources only for its own files)."""
    if "pkg_resources" not in sys.modules and importlib.util.find_spec("pkg_resources") is None:
        shim = types.ModuleType("pkg_resources")
        shim.__spec__ = importlib.machinery.ModuleSpec("pkg_resources", None)
        spec = importlib.util.find_spec("parliament")
        assert spec is not None and spec.submodule_search_locations
        root = Path(next(iter(spec.submodule_search_locations)))
        shim.resource_filename = lambda _package, name: str(root / name)  # type: ignore[attr-defined]
        sys.modules["pkg_resources"] = shim
    from parliament import analyze_policy_string

    return [(f.issue, f.detail) for f in analyze_policy_string(text).findings]


def denied(policy: dict[str, Any], action: str, principal_arn: str, principal_tags: dict[str, str]) -> bool:
    """Evaluate the SCP's deny for one request (the condition operators it uses)."""
    for st in policy["Statement"]:
        if action not in st["Action"]:
            continue
        cond = st["Condition"]
        null_ok = all(
            (k.split("/", 1)[1] not in principal_tags) == (v == "true") for k, v in cond["Null"].items()
        )
        not_like = not any(
            fnmatch.fnmatchcase(principal_arn, p) for p in cond["ArnNotLike"]["aws:PrincipalArn"]
        )
        like = "ArnLike" not in cond or any(
            fnmatch.fnmatchcase(principal_arn, p) for p in cond["ArnLike"]["aws:PrincipalArn"]
        )
        if null_ok and not_like and like:
            return True
    return False


def test_untagged_agent_roles_cannot_invoke_models():
    rules = load_rules(EXAMPLE_RULES, env={})
    g = build_bedrock(rules, ["Agent-ID"], ["agent-*"])
    policy = g.policy
    agent = "arn:aws:iam::123456789012:role/agent-fleet-support"
    assert denied(policy, "bedrock:InvokeModel", agent, {})
    assert not denied(policy, "bedrock:InvokeModel", agent, {"Agent-ID": "42"})
    assert denied(policy, "bedrock:InvokeModelWithResponseStream", agent, {"CostCenter": "101"})
    # not an agent role, an exempt break-glass role, a service-linked role: never denied here
    assert not denied(policy, "bedrock:InvokeModel", "arn:aws:iam::123456789012:role/data-team", {})
    assert not denied(policy, "bedrock:InvokeModel", "arn:aws:iam::123456789012:role/BreakGlassAdmin", {})
    assert not denied(
        policy, "bedrock:InvokeModel", "arn:aws:iam::123456789012:role/aws-service-role/agent-x", {}
    )
    assert lint(g.minified()) == []
    assert len(g.minified()) <= 5120


def test_every_principal_and_several_tags():
    rules = load_rules(EXAMPLE_RULES, env={})
    g = build_bedrock(rules, ["Agent-ID", "CostCenter"])
    assert len(g.policy["Statement"]) == 2
    human = "arn:aws:iam::123456789012:user/alice"
    assert denied(g.policy, "bedrock:InvokeModel", human, {"Agent-ID": "x"})  # CostCenter missing
    assert not denied(g.policy, "bedrock:InvokeModel", human, {"Agent-ID": "x", "CostCenter": "101"})
    assert lint(g.minified()) == []
    with pytest.raises(GuardrailError, match="at least one tag"):
        build_bedrock(rules, [])


def test_policy_aws_writes_the_bedrock_scp(tmp_path):
    out = io.StringIO()
    code = main(
        [
            "policy",
            "aws",
            "--rules",
            str(EXAMPLE_RULES),
            "--out",
            str(tmp_path),
            "--bedrock-principal-tag",
            "Agent-ID",
            "--bedrock-role",
            "agent-*",
        ],
        out,
        io.StringIO(),
    )
    assert code == 0
    doc = json.loads((tmp_path / "bedrock-scp.json").read_text())
    assert doc["Statement"][0]["Condition"]["Null"] == {"aws:PrincipalTag/Agent-ID": "true"}
    assert "Bedrock: deny invoking models to agent-*" in out.getvalue()
    assert "## Bedrock: principal tags required to invoke" in (tmp_path / "README.md").read_text()
    # without the flag, a stale file from an earlier run is removed
    assert (
        main(
            ["policy", "aws", "--rules", str(EXAMPLE_RULES), "--out", str(tmp_path)],
            io.StringIO(),
            io.StringIO(),
        )
        == 0
    )
    assert not (tmp_path / "bedrock-scp.json").exists()


# --- agent roles made with iam:CreateRole get the tags Bedrock attributes by -------------------------


def test_the_catalogue_covers_create_role():
    [entry] = [e for e in ENTRIES if e.source == "iam.amazonaws.com" and e.event == "CreateRole"]
    assert [c.type for c in entry.creates] == ["AWS::IAM::Role"]


def test_a_role_an_agent_creates_is_tagged_with_agent_id_and_cost_center(monkeypatch):
    """The real enforcer, against moto in-process, on the CloudTrail record of CreateRole made by
    agent 42's session: the new role carries Agent-ID and CostCenter, so Bedrock calls made with it
    are attributed by principal tags in Cost Explorer / CUR."""
    moto = pytest.importorskip("moto")
    import boto3

    from tagwarden.aws.clients import Clients
    from tagwarden.aws.enforcer import build
    from tagwarden.aws.telemetry import Telemetry
    from tagwarden_testing.events import assumed_role, cloudtrail, eventbridge

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with moto.mock_aws():
        iam = boto3.client("iam", region_name="us-east-1")
        trust = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
        iam.create_role(RoleName="agent-fleet-support", AssumeRolePolicyDocument=trust)
        made = iam.create_role(RoleName="agent-42-worker", AssumeRolePolicyDocument=trust)["Role"]
        record = cloudtrail(
            "CreateRole",
            "iam.amazonaws.com",
            request={"roleName": "agent-42-worker", "assumeRolePolicyDocument": trust},
            response={
                "role": {
                    "path": "/",
                    "roleName": made["RoleName"],
                    "roleId": made["RoleId"],
                    "arn": made["Arn"],
                    "createDate": "Nov 29, 2026 10:00:00 AM",
                }
            },
            identity=assumed_role("agent-fleet-support", "agent-42"),
        )
        enforcer = build(
            {
                "TAGWARDEN_RULES_PATH": str(EXAMPLE_RULES),
                "TAGWARDEN_NOT_FOUND_WINDOW": "0.5",
                "TAGWARDEN_LEDGER": ":memory:",
            },
            clients=Clients(),
            telemetry=Telemetry(),
        )
        enforcer.handle(eventbridge(record))
        tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName="agent-42-worker")["Tags"]}
    assert tags["Agent-ID"] == "42"  # from the session name agent-42
    assert tags["CostCenter"] == "101"  # the creating role agent-fleet-support maps to 101
