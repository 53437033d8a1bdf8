"""Organization mode on moto: a hub enforcer acting in two member accounts and two regions through
the member role (moto keeps one backend per account, and maps assumed-role keys to the role's account)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tagwarden.aws.clients import AccountClients, Clients, assumed_session
from tagwarden.aws.enforcer import AwsEnforcer, build
from tagwarden.aws.members import by_account, event_account
from tagwarden.aws.telemetry import Telemetry

import builders as b
from conftest import EXAMPLE_RULES

HUB = "123456789012"  # moto's default account: the hub's own credentials
MEMBER_A, MEMBER_B, OUTSIDER = "111111111111", "222222222222", "999999999999"
REGIONS = ("us-east-1", "eu-west-1")


def member_session(account: str, region: str) -> boto3.session.Session:
    sts = boto3.client("sts", region_name=region)
    return assumed_session(sts, f"arn:aws:iam::{account}:role/admin", None, region)


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        for account, outcome in ((MEMBER_A, "OUT-1111"), (MEMBER_B, "OUT-2222")):
            iam = member_session(account, "us-east-1").client("iam")
            iam.create_role(
                RoleName="agent-fleet-support",
                AssumeRolePolicyDocument="{}",
                Tags=[{"Key": "Outcome-ID", "Value": outcome}],
            )
        yield


def hub(**env: str) -> AwsEnforcer:
    settings = {
        "TAGWARDEN_LEDGER": os.environ["TAGWARDEN_LEDGER"], "TAGWARDEN_RULES_PATH": str(EXAMPLE_RULES),
        "TAGWARDEN_NOT_FOUND_WINDOW": "0.5",
        "TAGWARDEN_OWN_ARNS": "arn:aws:iam::*:role/tagwarden-enforcer*",
        "TAGWARDEN_MEMBER_ACCOUNTS": f"{MEMBER_A},{MEMBER_B}",
        "TAGWARDEN_MEMBER_EXTERNAL_ID": "tagwarden-o-example",
        **env,
    }
    return build(
        settings, clients=Clients(boto3.session.Session(region_name="us-east-1")), telemetry=Telemetry()
    )


def launch(account: str, region: str) -> tuple[dict[str, Any], str]:
    """An agent in `account` runs an instance in `region`: the real instance and its event."""
    ec2 = member_session(account, region).client("ec2")
    got = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
    enis = [n["NetworkInterfaceId"] for n in got.get("NetworkInterfaces", [])]
    record = b.run_instances(
        identity=b.assumed_role("agent-fleet-support", "agent-42", account=account),
        instances=[(got["InstanceId"], enis)],
        account=account,
        region=region,
    )
    return b.eventbridge(record), got["InstanceId"]


def tags_in(account: str | None, region: str, instance: str) -> dict[str, str]:
    session = member_session(account, region) if account else boto3.session.Session(region_name=region)
    found = session.client("ec2").describe_tags(Filters=[{"Name": "resource-id", "Values": [instance]}])
    return {t["Key"]: t["Value"] for t in found["Tags"]}


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize(("account", "outcome"), [(MEMBER_A, "OUT-1111"), (MEMBER_B, "OUT-2222")])
def test_hub_tags_in_the_member_account_with_its_principal_tags(
    org: None, account: str, outcome: str, region: str
) -> None:
    event, instance = launch(account, region)
    report = hub().handle(event)["events"][0]
    assert report["skipped"] is None
    assert report["resources"][0]["outcome"] == "tagged"
    tags = tags_in(account, region, instance)
    # Outcome-ID is only on the member account's role: it was read there, not in the hub
    assert tags["Outcome-ID"] == outcome
    assert tags["Agent-ID"] == "42"
    assert tags_in(None, region, instance) == {}  # nothing written in the hub's own backend


def test_a_principal_of_another_member_is_read_in_its_own_account(org: None) -> None:
    event, instance = launch(MEMBER_A, "us-east-1")
    event["detail"]["userIdentity"] = b.assumed_role("agent-fleet-support", "agent-7", account=MEMBER_B)
    assert hub().handle(event)["events"][0]["resources"][0]["outcome"] == "tagged"
    assert tags_in(MEMBER_A, "us-east-1", instance)["Outcome-ID"] == "OUT-2222"  # B's role's tag


def test_a_principal_outside_the_allowed_accounts_has_no_readable_tags(org: None) -> None:
    event, instance = launch(MEMBER_A, "us-east-1")
    event["detail"]["userIdentity"] = b.assumed_role("agent-fleet-support", "agent-7", account=OUTSIDER)
    hub().handle(event)
    assert "Outcome-ID" not in tags_in(MEMBER_A, "us-east-1", instance)


def test_an_outside_account_is_skipped_and_never_assumed(org: None) -> None:
    event, instance = launch(OUTSIDER, "us-east-1")
    enforcer = hub()
    assumed: list[str] = []
    enforcer.clients.get("sts", "us-east-1").meta.events.register(
        "provide-client-params.sts.AssumeRole", lambda params, **_: assumed.append(params["RoleArn"])
    )
    report = enforcer.handle(event)["events"][0]
    assert report["kind"] == "foreign-account"
    assert OUTSIDER in report["skipped"]
    assert tags_in(OUTSIDER, "us-east-1", instance) == {}
    assert assumed == []


def test_a_mixed_delivery_is_split_by_account(org: None) -> None:
    (a, ia), (o, io), (m, im) = (
        launch(MEMBER_A, "us-east-1"),
        launch(OUTSIDER, "us-east-1"),
        launch(MEMBER_B, "eu-west-1"),
    )
    reports = hub().handle([a, o, m])["events"]
    assert sorted(str(r.get("kind") or r["resources"][0]["outcome"]) for r in reports) == [
        "foreign-account",
        "tagged",
        "tagged",
    ]
    assert tags_in(MEMBER_A, "us-east-1", ia)["Outcome-ID"] == "OUT-1111"
    assert tags_in(MEMBER_B, "eu-west-1", im)["Outcome-ID"] == "OUT-2222"
    assert tags_in(OUTSIDER, "us-east-1", io) == {}


def test_the_hub_account_itself_still_uses_its_own_clients(org: None) -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_role(
        RoleName="agent-fleet-support",
        AssumeRolePolicyDocument="{}",
        Tags=[{"Key": "Outcome-ID", "Value": "OUT-0001"}],
    )
    ec2 = boto3.client("ec2", region_name="us-east-1")
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    event = b.eventbridge(b.run_instances(instances=[(instance, [])], account=HUB))
    assert hub().handle(event)["events"][0]["resources"][0]["outcome"] == "tagged"
    assert tags_in(None, "us-east-1", instance)["Outcome-ID"] == "OUT-0001"


def test_single_account_mode_is_unchanged(org: None) -> None:
    enforcer = build(
        {"TAGWARDEN_LEDGER": os.environ["TAGWARDEN_LEDGER"], "TAGWARDEN_RULES_PATH": str(EXAMPLE_RULES)},
        clients=Clients(boto3.session.Session(region_name="us-east-1")),
        telemetry=Telemetry(),
    )
    assert enforcer.members is None


def test_clients_are_cached_per_account_and_credentials_refreshed(org: None) -> None:
    local = Clients(boto3.session.Session(region_name="us-east-1"))
    calls: list[str] = []
    local.get("sts", "us-east-1").meta.events.register(
        "provide-client-params.sts.AssumeRole",
        lambda params, **_: calls.append(params.get("ExternalId", "") + "@" + params["RoleArn"]),
    )
    accounts = AccountClients(local, None, "tagwarden-member", "ext-id-1", seconds=3600)
    assert accounts.local_account == HUB
    assert accounts.get(HUB) is local
    member = accounts.get(MEMBER_A)
    assert accounts.get(MEMBER_A) is member
    assert member.get("ec2", "eu-west-1") is member.get("ec2", "eu-west-1")
    for _ in range(3):
        member.get("sts", "us-east-1").get_caller_identity()
    assert calls == [f"ext-id-1@arn:aws:iam::{MEMBER_A}:role/tagwarden-member"]  # one while fresh
    # A 15-minute session is inside botocore's refresh window at once: every use refreshes first.
    short = AccountClients(local, HUB, "tagwarden-member", "ext-id-1", seconds=900).get(MEMBER_B)
    for _ in range(2):
        assert short.get("sts", "us-east-1").get_caller_identity()["Account"] == MEMBER_B
    assert len(calls) >= 3


def test_event_account_prefers_the_records_recipient() -> None:
    record = b.run_instances(account=MEMBER_A)
    assert event_account(b.eventbridge(record)) == MEMBER_A
    assert event_account(record) == MEMBER_A
    assert event_account({"account": MEMBER_B, "detail": {}}) == MEMBER_B
    assert event_account("x") is None
    one = {"Records": [record, b.run_instances(account=MEMBER_A)]}
    assert by_account(one) == [(MEMBER_A, one)]
    mixed = by_account([record, b.run_instances(account=MEMBER_B)])
    assert [acct for acct, _ in mixed] == [MEMBER_A, MEMBER_B]


def test_with_an_org_id_any_account_of_the_organization_is_served(org: None) -> None:
    orgs = boto3.client("organizations", region_name="us-east-1")
    org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    created = orgs.create_account(AccountName="team-x", Email="team-x@example.com")["CreateAccountStatus"]
    member = created["AccountId"]
    member_session(member, "us-east-1").client("iam").create_role(
        RoleName="agent-fleet-support",
        AssumeRolePolicyDocument="{}",
        Tags=[{"Key": "Outcome-ID", "Value": "OUT-4242"}],
    )
    enforcer = hub(TAGWARDEN_MEMBER_ACCOUNTS="", TAGWARDEN_ORG_ID=org_id)
    event, instance = launch(member, "eu-west-1")
    assert enforcer.handle(event)["events"][0]["resources"][0]["outcome"] == "tagged"
    assert tags_in(member, "eu-west-1", instance)["Outcome-ID"] == "OUT-4242"
    # An account Organizations does not know is refused, and never assumed into.
    outside, _ = launch(OUTSIDER, "us-east-1")
    assert enforcer.handle(outside)["events"][0]["kind"] == "foreign-account"


def test_an_account_that_left_the_organization_is_refused_once_the_answer_is_old(org: None) -> None:
    from tagwarden.aws.members import AccountGate, OrgSettings

    orgs = boto3.client("organizations", region_name="us-east-1")
    org_id = orgs.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    member = orgs.create_account(AccountName="team-y", Email="team-y@example.com")["CreateAccountStatus"][
        "AccountId"
    ]
    now = [0.0]
    local = Clients(boto3.session.Session(region_name="us-east-1"))
    gate = AccountGate(
        OrgSettings(members=frozenset(), org_id=org_id),
        AccountClients(local, HUB, "tagwarden-member-sweeper"),
        ttl=900.0,
        clock=lambda: now[0],
    )
    assert gate.allows(member)
    orgs.remove_account_from_organization(AccountId=member)
    now[0] = 899.0
    assert gate.allows(member)  # the answer is cached for the TTL: one call per account per 15 min
    now[0] = 900.0
    assert not gate.allows(member)
