"""The IAM brake (moto, in process): an inline deny of the catalogue's create actions, its exact
undo, roles only, and the guard that keeps it off our own, break-glass and non-agent roles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tagwarden.aws.brake import POLICY_NAME, SID, IamBrake, brake_policy, create_actions, role_name
from tagwarden.aws.clients import Clients
from tagwarden.aws.enforcer import brake_guard
from tagwarden.runaway.ports import BrakeRecord, BrakeState

ROLE = "arn:aws:iam::123456789012:role/agents/agent-fleet-support"


@pytest.fixture
def iam() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("iam", region_name="us-east-1")
        client.create_role(RoleName="agent-fleet-support", Path="/agents/", AssumeRolePolicyDocument="{}")
        yield client


def record(undo: str) -> BrakeRecord:
    return BrakeRecord("Agent-ID=42", ROLE, "burst", "aws", BrakeState.ACTIVE, 0.0, undo=undo)


def test_policy_denies_the_catalogue_creates_and_fits_the_inline_quota() -> None:
    actions = create_actions()
    assert {
        "ec2:RunInstances",
        "sagemaker:CreateEndpoint",
        "bedrock:CreateProvisionedModelThroughput",
    } <= set(actions)
    assert "lambda:CreateFunction" in actions and "cloudwatch:PutMetricAlarm" in actions  # names fixed up
    assert not any(a.startswith("apigateway:") for a in actions)
    assert "mobiletargeting:CreateCampaign" in actions and not any(a.startswith("pinpoint:") for a in actions)
    assert "organizations:CreateAccountResult" not in actions  # a service event, not an action
    tagging = {"ec2:CreateTags", "tag:TagResources", "s3:PutBucketTagging", "rds:AddTagsToResource"}
    assert not tagging & set(actions)  # tags can still be fixed while braked
    assert len(json.dumps(brake_policy(), separators=(",", ":"))) < 10_240


def test_apply_then_release_removes_exactly_our_policy(iam: Any) -> None:
    iam.put_role_policy(
        RoleName="agent-fleet-support",
        PolicyName="own",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}
        ),
    )
    brake = IamBrake(Clients())
    result = brake.apply(ROLE, "Agent-ID=42", "burst")
    assert result.ok, result.detail
    doc = iam.get_role_policy(RoleName="agent-fleet-support", PolicyName=POLICY_NAME)["PolicyDocument"]
    assert doc["Statement"][0]["Sid"] == SID and doc["Statement"][0]["Effect"] == "Deny"
    assert brake.release(record(result.undo)).ok
    assert iam.list_role_policies(RoleName="agent-fleet-support")["PolicyNames"] == ["own"]


def test_a_policy_of_our_name_that_was_there_before_is_restored(iam: Any) -> None:
    theirs = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "Theirs", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    iam.put_role_policy(
        RoleName="agent-fleet-support", PolicyName=POLICY_NAME, PolicyDocument=json.dumps(theirs)
    )
    brake = IamBrake(Clients())
    result = brake.apply(ROLE, "Agent-ID=42", "burst")
    assert brake.release(record(result.undo)).ok
    doc = iam.get_role_policy(RoleName="agent-fleet-support", PolicyName=POLICY_NAME)["PolicyDocument"]
    assert doc["Statement"][0]["Sid"] == "Theirs"


def test_releasing_twice_or_after_a_crash_is_harmless(iam: Any) -> None:
    brake = IamBrake(Clients())
    assert brake.release(record("")).ok  # applying crashed before the policy was attached
    brake.apply(ROLE, "Agent-ID=42", "burst")
    assert brake.release(record("")).ok and brake.release(record("")).ok
    assert iam.list_role_policies(RoleName="agent-fleet-support")["PolicyNames"] == []


def test_only_roles_are_braked() -> None:
    assert role_name(ROLE) == "agent-fleet-support"
    assert role_name("arn:aws:iam::123456789012:user/alice") is None
    assert not IamBrake(Clients()).apply("arn:aws:iam::123456789012:user/alice", "x", "y").ok


def test_guard_spares_own_break_glass_service_linked_and_other_roles() -> None:
    why = brake_guard(
        {
            "TAGWARDEN_OWN_ARNS": "arn:aws:iam::*:role/tagwarden-*",
            "TAGWARDEN_BREAK_GLASS_ARNS": "arn:aws:iam::*:role/agent-break-glass",
        }
    )
    assert why("arn:aws:iam::1:role/agent-fleet-support") is None
    assert why("arn:aws:iam::1:role/agent-break-glass") == "is tagwarden's own or a break-glass principal"
    assert why("arn:aws:iam::1:role/tagwarden-enforcer") is not None
    assert why("arn:aws:iam::1:role/aws-service-role/ec2.amazonaws.com/AWSServiceRoleForEC2") is not None
    assert why("arn:aws:iam::1:role/Admin") == "is outside TAGWARDEN_BRAKE_ROLES"
