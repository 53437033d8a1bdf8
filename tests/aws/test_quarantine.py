"""Quarantine, release and delete per resource type, against moto.

Each resource is created in moto through boto3, described as the CloudTrail catalogue would
describe it (ARN as id, native id, name, tagger), acted on through `AwsQuarantiner`, and its real
state read back through the service's own API. Dry runs are checked twice: the state read before
and after is the same, and every call made was a read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.ec2 import utils as ec2_utils

from tagwarden.attribution.limits import LIMITS
from tagwarden.aws.clients import Clients
from tagwarden.aws.quarantine import IAM_ACTIONS, QUARANTINE_ROWS, AwsQuarantiner
from tagwarden.aws.quarantine.actions import SID, SPARED_ACTIONS
from tagwarden.aws.quarantine.base import undo_token
from tagwarden.lifecycle.ports import ActionResult, Status
from tagwarden.model import Provider, Resource

import builders

REGION = builders.REGION
ACCOUNT = builders.ACCOUNT
AMI = "ami-12c6146b"  # one of moto's built-in images
ENFORCER = f"arn:aws:iam::{ACCOUNT}:role/tagwarden-enforcer"
BREAK_GLASS = f"arn:aws:iam::{ACCOUNT}:role/break-glass-*"
READS = ("Describe", "Get", "List", "BatchGet")

DONE, DRY_RUN, VANISHED, FAILED = Status.DONE, Status.DRY_RUN, Status.VANISHED, Status.FAILED
MARKED_ONLY, UNSUPPORTED = Status.MARKED_ONLY, Status.UNSUPPORTED


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_EC2"):
        monkeypatch.delenv(var, raising=False)
    with mock_aws():
        yield


_SESSIONS: list[boto3.session.Session] = []
_CLIENTS: dict[str, Any] = {}


class RecordingClients(Clients):
    """Clients that record the operation name of every call made through them."""

    def __init__(self, session: boto3.session.Session) -> None:
        super().__init__(session)
        self.calls: list[str] = []
        self._hooked: set[int] = set()

    def get(self, service: str, region: str | None = None) -> Any:
        c = super().get(service, region)
        if id(c) not in self._hooked:
            self._hooked.add(id(c))
            c.meta.events.register("before-call", lambda model, **_: self.calls.append(model.name))
        return c

    def changes(self) -> list[str]:
        return [op for op in self.calls if not op.startswith(READS)]


@pytest.fixture
def clients(aws: None) -> RecordingClients:
    if not _SESSIONS:
        _SESSIONS.append(boto3.session.Session())
    return RecordingClients(_SESSIONS[0])


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def q(clients: RecordingClients, sleeps: Sleeps) -> AwsQuarantiner:
    return AwsQuarantiner(
        clients,
        REGION,
        enforcer_principals=(ENFORCER,),
        break_glass=(BREAK_GLASS,),
        sleep=sleeps,
        wait_seconds=30,
    )


def client(service: str) -> Any:
    """The test's own clients (moto intercepts them in every mock_aws context)."""
    if service not in _CLIENTS:
        _CLIENTS[service] = boto3.client(service, region_name=REGION)
    return _CLIENTS[service]


def fits(token: str) -> str:
    assert LIMITS[Provider.AWS].value_problem(token) is None, token
    return token


def quarantined(q: AwsQuarantiner, r: Resource, undo: str) -> ActionResult:
    result = q.quarantine(r, dry_run=False)
    assert (result.status, result.undo) == (DONE, undo), result
    assert result.action == "quarantine" and result.resource is r
    fits(result.undo)
    return result


def code_of(call: Callable[[], Any]) -> str | None:
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return None


# --- EC2 instances ------------------------------------------------------------------------------

_NON_DOT = [{"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 8, "DeleteOnTermination": False}}]


def ec2_instance(**kw: Any) -> Resource:
    iid = client("ec2").run_instances(ImageId=AMI, MinCount=1, MaxCount=1, **kw)["Instances"][0]["InstanceId"]
    return Resource(
        id=f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{iid}",
        type="AWS::EC2::Instance",
        native_id=iid,
        tagger="ec2",
    )


def instance(r: Resource) -> dict[str, Any]:
    return dict(
        client("ec2").describe_instances(InstanceIds=[r.native_id])["Reservations"][0]["Instances"][0]
    )


def instance_state(r: Resource) -> str:
    return str(instance(r)["State"]["Name"])


def volumes(ids: list[str]) -> dict[str, str]:
    found = client("ec2").describe_volumes(Filters=[{"Name": "volume-id", "Values": ids}])["Volumes"]
    return {v["VolumeId"]: v["State"] for v in found}


def test_ec2_instance_stopped_then_started(q: AwsQuarantiner) -> None:
    r = ec2_instance()
    assert instance_state(r) == "running"
    result = quarantined(q, r, "state=running")
    assert f"stop instance {r.native_id}" in result.detail
    assert instance_state(r) == "stopped"
    released = q.release(r, result.undo, dry_run=False)
    assert released.status is DONE and released.action == "release"
    assert instance_state(r) == "running"


def test_ec2_instance_already_stopped_is_left_stopped(q: AwsQuarantiner) -> None:
    r = ec2_instance()
    client("ec2").stop_instances(InstanceIds=[r.native_id])
    result = quarantined(q, r, "state=stopped")
    assert "already stopped" in result.detail
    assert q.release(r, result.undo, dry_run=False).status is DONE
    assert instance_state(r) == "stopped"


def test_ec2_release_leaves_an_instance_its_owner_started(q: AwsQuarantiner) -> None:
    r = ec2_instance()
    undo = quarantined(q, r, "state=running").undo
    client("ec2").start_instances(InstanceIds=[r.native_id])
    released = q.release(r, undo, dry_run=False)
    assert released.status is DONE and "already running" in released.detail


def test_ec2_delete_terminates_and_deletes_volumes_that_would_outlive_it(
    q: AwsQuarantiner, sleeps: Sleeps
) -> None:
    r = ec2_instance(BlockDeviceMappings=_NON_DOT)
    [vid] = [m["Ebs"]["VolumeId"] for m in instance(r)["BlockDeviceMappings"]]
    result = q.delete(r, dry_run=False)
    assert result.status is DONE, result
    assert instance_state(r) == "terminated"
    assert volumes([vid]) == {}
    assert f"delete volume {vid}" in result.detail
    assert sleeps == []  # moto detaches at once: no wait


def test_ec2_delete_of_a_protected_instance_fails_with_the_code(q: AwsQuarantiner) -> None:
    r = ec2_instance()
    client("ec2").modify_instance_attribute(InstanceId=r.native_id, DisableApiTermination={"Value": True})
    result = q.delete(r, dry_run=False)
    assert result.status is FAILED and "OperationNotPermitted" in result.detail
    assert instance_state(r) == "running"


class StubEc2:
    """An instance whose non-DOT volume detaches only after `detach_after` polls (or never)."""

    def __init__(self, detach_after: int | None) -> None:
        self.detach_after, self.polls, self.calls = detach_after, 0, []

    def describe_instances(self, **_: Any) -> dict[str, Any]:
        bdm = [{"DeviceName": "/dev/sdf", "Ebs": {"VolumeId": "vol-1", "DeleteOnTermination": False}}]
        inst = {"InstanceId": "i-1", "State": {"Name": "running"}, "BlockDeviceMappings": bdm}
        return {"Reservations": [{"Instances": [inst]}]}

    def terminate_instances(self, **_: Any) -> dict[str, Any]:
        self.calls.append("terminate")
        return {}

    def describe_volumes(self, **_: Any) -> dict[str, Any]:
        self.polls += 1
        detached = self.detach_after is not None and self.polls > self.detach_after
        return {"Volumes": [{"VolumeId": "vol-1", "State": "available" if detached else "in-use"}]}

    def delete_volume(self, **kw: Any) -> dict[str, Any]:
        self.calls.append(f"delete {kw['VolumeId']}")
        return {}


class StubClients:
    region = REGION

    def __init__(self, stub: Any) -> None:
        self.stub = stub

    def get(self, service: str, region: str | None = None) -> Any:
        return self.stub


@pytest.mark.parametrize(
    ("detach_after", "status", "calls", "slept"),
    [
        (2, DONE, ["terminate", "delete vol-1"], [5.0, 5.0]),
        (None, FAILED, ["terminate"], [5.0] * 6),  # 30 s window, polled every 5 s, then given up
    ],
)
def test_ec2_delete_waits_for_volumes_a_bounded_time(
    detach_after: int | None, status: Status, calls: list[str], slept: list[float]
) -> None:
    stub, sleeps = StubEc2(detach_after), Sleeps()
    q = AwsQuarantiner(StubClients(stub), REGION, sleep=sleeps, wait_seconds=30, poll_seconds=5)  # type: ignore[arg-type]
    r = Resource(id="i-1", type="AWS::EC2::Instance", native_id="i-1")
    result = q.delete(r, dry_run=False)
    assert result.status is status, result
    assert stub.calls == calls
    assert sleeps == slept
    if status is FAILED:
        assert "vol-1 still attached" in result.detail and "after 30 s" in result.detail


# --- Lambda -------------------------------------------------------------------------------------


def role_arn() -> str:
    iam = client("iam")
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "*"}}]}
    try:
        return str(iam.get_role(RoleName="fn-role")["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        return str(
            iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(doc))["Role"]["Arn"]
        )


def function(name: str = "fn", reserved: int | None = None) -> Resource:
    lam = client("lambda")
    arn = lam.create_function(
        FunctionName=name, Runtime="python3.12", Role=role_arn(), Handler="a.h", Code={"ZipFile": b"x"}
    )["FunctionArn"]
    if reserved is not None:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
    return Resource(id=arn, type="AWS::Lambda::Function", name=name, native_id=arn, tagger="lambda")


def concurrency(r: Resource) -> int | None:
    value = client("lambda").get_function_concurrency(FunctionName=r.id).get("ReservedConcurrentExecutions")
    return None if value is None else int(value)


@pytest.mark.parametrize(
    ("reserved", "undo"), [(None, "concurrency=none"), (25, "concurrency=25"), (0, "concurrency=0")]
)
def test_lambda_concurrency_zeroed_then_restored_exactly(
    q: AwsQuarantiner, reserved: int | None, undo: str
) -> None:
    r = function(reserved=reserved)
    quarantined(q, r, undo)
    assert concurrency(r) == 0
    assert q.release(r, undo, dry_run=False).status is DONE
    assert concurrency(r) == reserved  # None: no reserved concurrency at all, as before


def test_lambda_release_leaves_concurrency_its_owner_set_since(q: AwsQuarantiner) -> None:
    r = function()
    undo = quarantined(q, r, "concurrency=none").undo
    client("lambda").put_function_concurrency(FunctionName=r.id, ReservedConcurrentExecutions=7)
    released = q.release(r, undo, dry_run=False)
    assert released.status is DONE and "changed since" in released.detail
    assert concurrency(r) == 7


def test_lambda_delete(q: AwsQuarantiner) -> None:
    r = function()
    assert q.delete(r, dry_run=False).status is DONE
    assert code_of(lambda: client("lambda").get_function(FunctionName=r.id)) == "ResourceNotFoundException"


# --- S3 -----------------------------------------------------------------------------------------


def bucket(name: str = "quarantine-me", policy: dict[str, Any] | None = None) -> Resource:
    s3 = client("s3")
    s3.create_bucket(Bucket=name)
    if policy is not None:
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    return Resource(id=f"arn:aws:s3:::{name}", type="AWS::S3::Bucket", native_id=name, tagger="s3")


def policy(r: Resource) -> dict[str, Any] | None:
    s3 = client("s3")
    if code_of(lambda: s3.get_bucket_policy(Bucket=r.native_id)) == "NoSuchBucketPolicy":
        return None
    return dict(json.loads(s3.get_bucket_policy(Bucket=r.native_id)["Policy"]))


def owner_policy(name: str, *, single: bool = False) -> dict[str, Any]:
    read = {
        "Sid": "AllowReadFromRoot",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{name}/*",
    }
    tls = {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return {"Version": "2012-10-17", "Id": "owner", "Statement": read if single else [read, tls]}


def test_s3_deny_statement_added_beside_the_owners_and_removed_exactly(q: AwsQuarantiner) -> None:
    before = owner_policy("quarantine-me")
    r = bucket(policy=before)
    quarantined(q, r, "policy=added")
    during = policy(r)
    assert during is not None
    *owners, ours = during["Statement"]
    assert owners == before["Statement"]  # the owner's statements intact, in order
    assert {k: v for k, v in during.items() if k != "Statement"} == {"Version": "2012-10-17", "Id": "owner"}
    assert ours == {
        "Sid": SID,
        "Effect": "Deny",
        "Principal": "*",
        "NotAction": list(SPARED_ACTIONS),
        "Resource": ["arn:aws:s3:::quarantine-me", "arn:aws:s3:::quarantine-me/*"],
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": [ENFORCER, BREAK_GLASS]}},
    }
    assert q.release(r, "policy=added", dry_run=False).status is DONE
    assert policy(r) == before


def test_s3_single_statement_policy_restored_in_its_own_shape(q: AwsQuarantiner) -> None:
    before = owner_policy("quarantine-me", single=True)
    r = bucket(policy=before)
    quarantined(q, r, "policy=added shape=object")
    assert [s["Sid"] for s in policy(r)["Statement"]] == ["AllowReadFromRoot", SID]  # type: ignore[index]
    assert q.release(r, "policy=added shape=object", dry_run=False).status is DONE
    assert policy(r) == before


def test_s3_policy_created_then_deleted(q: AwsQuarantiner) -> None:
    r = bucket()
    quarantined(q, r, "policy=created")
    assert [s["Sid"] for s in policy(r)["Statement"]] == [SID]  # type: ignore[index]
    # quarantining again (a retry) keeps a single statement
    assert q.quarantine(r, dry_run=False).undo == "policy=created"
    assert len(policy(r)["Statement"]) == 1  # type: ignore[index]
    assert q.release(r, "policy=created", dry_run=False).status is DONE
    assert policy(r) is None


def test_s3_release_keeps_statements_the_owner_added_meanwhile(q: AwsQuarantiner) -> None:
    r = bucket()
    quarantined(q, r, "policy=created")
    doc = policy(r)
    assert doc is not None
    added = owner_policy("quarantine-me")["Statement"][0]
    doc["Statement"].insert(0, added)
    client("s3").put_bucket_policy(Bucket=r.native_id, Policy=json.dumps(doc))
    assert q.release(r, "policy=created", dry_run=False).status is DONE
    assert policy(r) == {"Version": "2012-10-17", "Statement": [added]}


def test_s3_refuses_to_quarantine_without_an_enforcer_principal(clients: RecordingClients) -> None:
    r = bucket()
    result = AwsQuarantiner(clients, REGION).quarantine(r, dry_run=False)
    assert result.status is FAILED and "NoEnforcerPrincipal" in result.detail
    assert policy(r) is None


def test_s3_delete_only_empty_buckets(q: AwsQuarantiner) -> None:
    s3 = client("s3")
    full = bucket("full-bucket")
    s3.put_object(Bucket="full-bucket", Key="k", Body=b"x")
    versioned = bucket("versioned-bucket")
    s3.put_bucket_versioning(Bucket="versioned-bucket", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="versioned-bucket", Key="k", Body=b"x")
    s3.delete_object(Bucket="versioned-bucket", Key="k")  # only a version and a delete marker left
    empty = bucket("empty-bucket")
    for r in (full, versioned):
        result = q.delete(r, dry_run=False)
        assert result.status is UNSUPPORTED, result
        assert "bucket not empty: left for a person" in result.detail
        s3.head_bucket(Bucket=r.native_id)
    assert q.delete(empty, dry_run=False).status is DONE
    assert code_of(lambda: s3.head_bucket(Bucket="empty-bucket")) == "404"


# --- SageMaker ----------------------------------------------------------------------------------


def notebook() -> Resource:
    arn = client("sagemaker").create_notebook_instance(
        NotebookInstanceName="nb", InstanceType="ml.t3.medium", RoleArn=role_arn()
    )["NotebookInstanceArn"]
    return Resource(
        id=arn, type="AWS::SageMaker::NotebookInstance", name="nb", native_id=arn, tagger="sagemaker"
    )


def notebook_status() -> str:
    return str(
        client("sagemaker").describe_notebook_instance(NotebookInstanceName="nb")["NotebookInstanceStatus"]
    )


def test_sagemaker_notebook_stopped_started_deleted(q: AwsQuarantiner) -> None:
    r = notebook()
    assert notebook_status() == "InService"
    undo = quarantined(q, r, "state=InService").undo
    assert notebook_status() == "Stopped"
    assert q.release(r, undo, dry_run=False).status is DONE
    assert notebook_status() == "InService"
    assert q.delete(r, dry_run=False).status is DONE  # stopped first, then deleted
    assert code_of(notebook_status) == "ValidationException"


def test_sagemaker_endpoint_marked_only_then_deleted(q: AwsQuarantiner) -> None:
    sm = client("sagemaker")
    sm.create_model(ModelName="m", ExecutionRoleArn=role_arn(), PrimaryContainer={"Image": "img"})
    sm.create_endpoint_config(
        EndpointConfigName="ec",
        ProductionVariants=[
            {"VariantName": "v", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.t2.medium"}
        ],
    )
    arn = sm.create_endpoint(EndpointName="ep", EndpointConfigName="ec")["EndpointArn"]
    r = Resource(id=arn, type="AWS::SageMaker::Endpoint", name="ep", native_id=arn, tagger="sagemaker")
    result = q.quarantine(r, dry_run=False)
    assert (result.status, result.undo) == (MARKED_ONLY, "")
    assert q.delete(r, dry_run=False).status is DONE
    assert code_of(lambda: sm.describe_endpoint(EndpointName="ep")) == "ValidationException"
    assert q.delete(r, dry_run=False).status is VANISHED


# --- ECS ----------------------------------------------------------------------------------------


def ecs_service(desired: int = 3) -> Resource:
    ecs = client("ecs")
    ecs.create_cluster(clusterName="c")
    ecs.register_task_definition(
        family="f", containerDefinitions=[{"name": "a", "image": "nginx", "memory": 128}]
    )
    arn = ecs.create_service(cluster="c", serviceName="svc", taskDefinition="f", desiredCount=desired)[
        "service"
    ]["serviceArn"]
    return Resource(id=arn, type="AWS::ECS::Service", name="svc", native_id=arn, tagger="ecs")


def service(r: Resource) -> dict[str, Any]:
    return dict(client("ecs").describe_services(cluster="c", services=[r.id])["services"][0])


def test_ecs_service_scaled_to_zero_restored_deleted(q: AwsQuarantiner) -> None:
    r = ecs_service(3)
    undo = quarantined(q, r, "desired=3").undo
    assert service(r)["desiredCount"] == 0
    assert q.release(r, undo, dry_run=False).status is DONE
    assert service(r)["desiredCount"] == 3
    assert q.delete(r, dry_run=False).status is DONE  # scaled to 0, then deleted
    assert service(r)["status"] == "INACTIVE"
    assert q.delete(r, dry_run=False).status is VANISHED


def test_ecs_task_marked_at_quarantine_stopped_only_at_delete(q: AwsQuarantiner) -> None:
    ecs = client("ecs")
    ecs.create_cluster(clusterName="c")
    ec2 = boto3.resource("ec2", region_name=REGION)
    host = ec2.create_instances(ImageId=AMI, MinCount=1, MaxCount=1)[0]
    doc = json.dumps(ec2_utils.generate_instance_identity_document(host))
    ecs.register_container_instance(cluster="c", instanceIdentityDocument=doc)
    ecs.register_task_definition(
        family="t", containerDefinitions=[{"name": "a", "image": "nginx", "memory": 128}]
    )
    arn = ecs.run_task(cluster="c", taskDefinition="t", count=1)["tasks"][0]["taskArn"]
    r = Resource(id=arn, type="AWS::ECS::Task", native_id=arn, tagger="ecs")
    result = q.quarantine(r, dry_run=False)
    assert result.status is MARKED_ONLY  # stopping cannot be undone: not before the grace period ends
    assert ecs.describe_tasks(cluster="c", tasks=[arn])["tasks"][0]["desiredStatus"] == "RUNNING"
    assert q.delete(r, dry_run=False).status is DONE
    task = ecs.describe_tasks(cluster="c", tasks=[arn])["tasks"][0]
    assert task["desiredStatus"] == "STOPPED" and task["stoppedReason"].startswith("tagwarden")


# --- RDS ----------------------------------------------------------------------------------------


def db() -> Resource:
    arn = client("rds").create_db_instance(
        DBInstanceIdentifier="db1", DBInstanceClass="db.t3.micro", Engine="postgres", AllocatedStorage=20
    )["DBInstance"]["DBInstanceArn"]
    return Resource(id=arn, type="AWS::RDS::DBInstance", name="db1", native_id="db1", tagger="rds")


def db_status() -> str:
    return str(
        client("rds").describe_db_instances(DBInstanceIdentifier="db1")["DBInstances"][0]["DBInstanceStatus"]
    )


def test_rds_instance_stopped_started_deleted_with_final_snapshot(q: AwsQuarantiner) -> None:
    r = db()
    undo = quarantined(q, r, "state=available").undo
    assert db_status() == "stopped"
    assert q.release(r, undo, dry_run=False).status is DONE
    assert db_status() == "available"
    result = q.delete(r, dry_run=False)
    assert result.status is DONE and "tagwarden-final-db1" in result.detail
    assert code_of(db_status) == "DBInstanceNotFound"
    snaps = client("rds").describe_db_snapshots(DBSnapshotIdentifier="tagwarden-final-db1")["DBSnapshots"]
    assert [s["DBInstanceIdentifier"] for s in snaps] == ["db1"]


# --- marked-only types --------------------------------------------------------------------------


@dataclass
class Made:
    resource: Resource
    exists: Callable[[], bool]


def _sqs() -> Made:
    url = client("sqs").create_queue(QueueName="q1")["QueueUrl"]
    r = Resource(
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:q1", "AWS::SQS::Queue", name="q1", native_id=url, tagger="sqs"
    )
    return Made(r, lambda: url in client("sqs").list_queues().get("QueueUrls", []))


def _sns() -> Made:
    arn = client("sns").create_topic(Name="t1")["TopicArn"]
    r = Resource(arn, "AWS::SNS::Topic", name="t1", native_id=arn, tagger="sns")
    return Made(r, lambda: arn in [t["TopicArn"] for t in client("sns").list_topics()["Topics"]])


def _dynamodb() -> Made:
    client("dynamodb").create_table(
        TableName="tbl",
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tbl"
    return Made(
        Resource(arn, "AWS::DynamoDB::Table", name="tbl", native_id=arn, tagger="dynamodb"),
        lambda: "tbl" in client("dynamodb").list_tables()["TableNames"],
    )


def _kinesis() -> Made:
    client("kinesis").create_stream(StreamName="st", ShardCount=1)
    arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/st"
    return Made(
        Resource(arn, "AWS::Kinesis::Stream", name="st", native_id=arn, tagger="kinesis"),
        lambda: "st" in client("kinesis").list_streams()["StreamNames"],
    )


def _logs() -> Made:
    client("logs").create_log_group(logGroupName="/app/x")
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app/x:*"  # no name: taken from the ARN
    return Made(
        Resource(arn, "AWS::Logs::LogGroup", native_id=arn, tagger="logs"),
        lambda: bool(client("logs").describe_log_groups(logGroupNamePrefix="/app/x")["logGroups"]),
    )


def _volume() -> Made:
    vid = client("ec2").create_volume(Size=1, AvailabilityZone=f"{REGION}a")["VolumeId"]
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{vid}"
    return Made(Resource(arn, "AWS::EC2::Volume", native_id=vid, tagger="ec2"), lambda: bool(volumes([vid])))


def _aoss() -> Made:
    aoss = client("opensearchserverless")
    rule = {"ResourceType": "collection", "Resource": ["collection/col"]}
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"  # moto insists on a key
    aoss.create_security_policy(
        name="enc",
        type="encryption",
        policy=json.dumps({"Rules": [rule], "AWSOwnedKey": False, "KmsARN": key}),
    )
    detail = aoss.create_collection(name="col")["createCollectionDetail"]
    return Made(
        Resource(detail["arn"], "AWS::OpenSearchServerless::Collection", name="col", native_id=detail["arn"]),
        lambda: bool(aoss.batch_get_collection(ids=[detail["id"]])["collectionDetails"]),
    )


MARKED_ONLY_TYPES = {
    "sqs": _sqs,
    "sns": _sns,
    "dynamodb": _dynamodb,
    "kinesis": _kinesis,
    "logs": _logs,
    "volume": _volume,
    "aoss": _aoss,
}


@pytest.mark.parametrize("make", MARKED_ONLY_TYPES.values(), ids=MARKED_ONLY_TYPES.keys())
def test_marked_only_types(q: AwsQuarantiner, clients: RecordingClients, make: Callable[[], Made]) -> None:
    made = make()
    r = made.resource
    result = q.quarantine(r, dry_run=False)
    assert (result.status, result.undo) == (MARKED_ONLY, "")
    assert q.release(r, "", dry_run=False).status is DONE
    assert clients.calls == []  # marking and releasing need no call
    assert q.delete(r, dry_run=True).status is DRY_RUN
    assert made.exists()
    assert clients.changes() == []
    result = q.delete(r, dry_run=False)
    assert result.status is DONE, result
    assert not made.exists()
    assert q.delete(r, dry_run=False).status is VANISHED


def test_attached_volume_is_not_deleted(q: AwsQuarantiner) -> None:
    inst = ec2_instance(BlockDeviceMappings=_NON_DOT)
    [vid] = [m["Ebs"]["VolumeId"] for m in instance(inst)["BlockDeviceMappings"]]
    r = Resource(vid, "AWS::EC2::Volume", native_id=vid, tagger="ec2")
    result = q.delete(r, dry_run=False)
    assert result.status is UNSUPPORTED and inst.native_id in result.detail  # type: ignore[operator]
    assert volumes([vid]) == {vid: "in-use"}


def test_unknown_type_marked_only_never_deleted(q: AwsQuarantiner, clients: RecordingClients) -> None:
    r = Resource(f"arn:aws:foo:{REGION}:{ACCOUNT}:thing/x", "AWS::Foo::Thing", native_id="x")
    assert (q.quarantine(r, dry_run=False).status, q.quarantine(r, dry_run=False).undo) == (MARKED_ONLY, "")
    assert q.quarantine(r, dry_run=True).status is DRY_RUN
    assert q.release(r, "", dry_run=False).status is DONE
    bad = q.release(r, "state=running", dry_run=False)
    assert bad.status is FAILED and "not guessed" in bad.detail
    assert q.delete(r, dry_run=False).status is UNSUPPORTED
    efs = Resource(f"arn:aws:elasticfilesystem:{REGION}:{ACCOUNT}:file-system/fs-1", "AWS::EFS::FileSystem")
    deleted = q.delete(efs, dry_run=False)
    assert deleted.status is UNSUPPORTED and "holds data" in deleted.detail
    assert clients.calls == []


# --- dry runs -----------------------------------------------------------------------------------


def _ec2_case() -> tuple[Resource, Callable[[], Any]]:
    r = ec2_instance(BlockDeviceMappings=_NON_DOT)
    vids = [m["Ebs"]["VolumeId"] for m in instance(r)["BlockDeviceMappings"]]
    return r, lambda: (instance_state(r), volumes(vids))


def _lambda_case() -> tuple[Resource, Callable[[], Any]]:
    r = function(reserved=25)
    return r, lambda: (concurrency(r), code_of(lambda: client("lambda").get_function(FunctionName=r.id)))


def _s3_case() -> tuple[Resource, Callable[[], Any]]:
    r = bucket(policy=owner_policy("quarantine-me"))
    return r, lambda: (policy(r), code_of(lambda: client("s3").head_bucket(Bucket=r.native_id)))


def _notebook_case() -> tuple[Resource, Callable[[], Any]]:
    return notebook(), notebook_status


def _ecs_case() -> tuple[Resource, Callable[[], Any]]:
    r = ecs_service(2)
    return r, lambda: (service(r)["status"], service(r)["desiredCount"])


def _rds_case() -> tuple[Resource, Callable[[], Any]]:
    return db(), db_status


DRY_CASES = {
    "ec2": _ec2_case,
    "lambda": _lambda_case,
    "s3": _s3_case,
    "notebook": _notebook_case,
    "ecs": _ecs_case,
    "rds": _rds_case,
}


@pytest.mark.parametrize("make", DRY_CASES.values(), ids=DRY_CASES.keys())
def test_dry_run_changes_nothing(
    q: AwsQuarantiner, clients: RecordingClients, make: Callable[[], tuple[Resource, Callable[[], Any]]]
) -> None:
    r, read = make()

    def dry(act: Callable[[], ActionResult]) -> None:
        before = read()
        result = act()
        assert result.status is DRY_RUN, result
        # a dry quarantine reports the undo it would record (the enforcer writes it to the ledger
        # before the real one); a dry release or delete has none
        assert (result.undo != "") is (result.action == "quarantine") or result.undo == ""
        assert "would " in result.detail
        assert read() == before
        assert clients.changes() == []

    dry(lambda: q.quarantine(r, dry_run=True))
    dry(lambda: q.delete(r, dry_run=True))
    undo = q.quarantine(r, dry_run=False).undo
    clients.calls.clear()
    dry(lambda: q.release(r, undo, dry_run=True))
    dry(lambda: q.delete(r, dry_run=True))


def test_dry_run_tells_the_undo_it_would_return(q: AwsQuarantiner) -> None:
    r = function(reserved=25)
    result = q.quarantine(r, dry_run=True)
    assert result.detail.startswith("dry run: would set reserved concurrency")
    assert "undo would be 'concurrency=25'" in result.detail


# --- vanished and failed ------------------------------------------------------------------------

_GONE = [
    pytest.param(
        Resource(f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0", "AWS::EC2::Instance"),
        "state=running",
        id="ec2-instance",
    ),
    pytest.param(
        Resource(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:nope", "AWS::Lambda::Function"),
        "concurrency=none",
        id="lambda",
    ),
    pytest.param(
        Resource("arn:aws:s3:::no-such-bucket-here", "AWS::S3::Bucket", native_id="no-such-bucket-here"),
        "policy=added",
        id="s3",
    ),
    pytest.param(
        Resource(
            f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:notebook-instance/nope", "AWS::SageMaker::NotebookInstance"
        ),
        "state=InService",
        id="notebook",
    ),
    pytest.param(
        Resource(f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/c/nope", "AWS::ECS::Service"),
        "desired=1",
        id="ecs-service",
    ),
    pytest.param(
        Resource(f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/no-cluster/nope", "AWS::ECS::Service"),
        "desired=1",
        id="ecs-cluster",
    ),
    pytest.param(
        Resource(f"arn:aws:rds:{REGION}:{ACCOUNT}:db:nope", "AWS::RDS::DBInstance", native_id="nope"),
        "state=available",
        id="rds",
    ),
]


@pytest.mark.parametrize(("r", "undo"), _GONE)
def test_vanished_resources(q: AwsQuarantiner, r: Resource, undo: str) -> None:
    client("ecs").create_cluster(clusterName="c")
    for result in (
        q.quarantine(r, dry_run=False),
        q.delete(r, dry_run=False),
        q.delete(r, dry_run=True),  # reads show it gone even in a dry run
    ):
        assert result.status is VANISHED, result
        assert result.undo == ""
    released = q.release(r, undo, dry_run=False)
    assert released.status is VANISHED


def test_other_errors_fail_with_code_and_message_never_raise(q: AwsQuarantiner) -> None:
    r = function()
    result = q.release(r, "concurrency=lots", dry_run=False)
    assert result.status is FAILED and result.detail.startswith("BadUndo")
    r = db()
    client("rds").stop_db_instance(DBInstanceIdentifier="db1")
    # a stopped DB instance cannot be stopped again: the quarantine sees it and does nothing
    assert q.quarantine(r, dry_run=False).undo == "state=stopped"
    client("rds").create_db_snapshot(DBInstanceIdentifier="db1", DBSnapshotIdentifier="tagwarden-final-db1")
    result = q.delete(r, dry_run=False)  # the final snapshot's name is taken
    assert result.status is FAILED and "DBSnapshotAlreadyExists" in result.detail
    assert db_status() == "stopped"


# --- undo tokens and the IAM actions ---------------------------------------------------------------


def test_every_undo_shape_fits_in_a_tag_value() -> None:
    for token in (
        undo_token(state="running"),
        undo_token(state="InService"),
        undo_token(concurrency="none"),
        undo_token(concurrency=1000),
        undo_token(desired=10000),
        undo_token(policy="added", shape="object"),
    ):
        fits(token)
    with pytest.raises(ValueError, match="would not fit"):
        undo_token(state="a b,c")


_IAM_SERVICES = {"aoss": "opensearchserverless", "logs": "logs"}
_IAM_NOT_OPERATIONS = {"s3:ListBucketVersions": "ListObjectVersions"}


def test_iam_actions_name_real_operations() -> None:
    session = botocore.session.get_session()
    for action in IAM_ACTIONS:
        prefix, operation = action.split(":")
        model = session.get_service_model(_IAM_SERVICES.get(prefix, prefix))
        assert _IAM_NOT_OPERATIONS.get(action, operation) in model.operation_names, action
    rows_actions = {a for row in QUARANTINE_ROWS.values() for a in row.actions}
    assert set(IAM_ACTIONS) == rows_actions


@pytest.mark.parametrize(
    ("arn", "rtype", "name"),
    [
        ("arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/fn", "AWS::Logs::LogGroup", "fn"),
        ("arn:aws:ecs:us-east-1:123456789012:task/c/0123", "AWS::ECS::Task", "0123"),
        ("arn:aws:ec2:us-east-1:123456789012:instance/i-1", "AWS::EC2::Instance", "i-1"),
        ("arn:aws:s3:::agent-bucket", "AWS::S3::Bucket", "agent-bucket"),
        ("arn:aws:sqs:us-east-1:123456789012:jobs", "AWS::SQS::Queue", "jobs"),
        ("arn:aws:rds:us-east-1:123456789012:db:db1", "AWS::RDS::DBInstance", "db1"),
        ("arn:aws:lambda:us-east-1:123456789012:function:f", "AWS::Lambda::Function", "f"),
    ],
)
def test_resource_from_arn(arn: str, rtype: str, name: str) -> None:
    from tagwarden.aws.sweeper import resource_from_arn

    r = resource_from_arn(arn)
    assert (r.type, r.name) == (rtype, name)


# --- many instances at once (scale) ---------------------------------------------------------------


def ec2_instances(n: int) -> list[Resource]:
    got = client("ec2").run_instances(ImageId=AMI, MinCount=n, MaxCount=n)["Instances"]
    return [
        Resource(
            id=f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{i['InstanceId']}",
            type="AWS::EC2::Instance",
            native_id=i["InstanceId"],
            tagger="ec2",
        )
        for i in got
    ]


def test_many_instances_are_stopped_in_batched_calls(q: AwsQuarantiner, clients: RecordingClients) -> None:
    resources = ec2_instances(600)
    already = resources[:3]
    client("ec2").stop_instances(InstanceIds=[r.native_id for r in already])
    other = bucket()  # another type in the same event: quarantined on its own, in order
    results = q.quarantine_many([*resources, other], dry_run=False)
    assert [r.resource for r in results] == [*resources, other]
    assert results[-1].status is DONE and results[-1].undo
    by_id = {r.resource.id: r for r in results}
    assert {by_id[r.id].undo for r in already} == {"state=stopped"}
    assert {by_id[r.id].undo for r in resources[3:]} == {"state=running"}
    assert {by_id[r.id].status for r in resources} == {DONE}
    assert {instance_state(r) for r in resources[::50]} == {"stopped"}
    # 600 ids: two StopInstances (500 a call), no per-instance read or stop.
    ec2_calls = [c for c in clients.calls if c in ("StopInstances", "DescribeInstances")]
    assert ec2_calls == ["StopInstances", "StopInstances"]


def test_a_refused_batch_is_read_and_the_rest_still_stopped(q: AwsQuarantiner, clients: RecordingClients) -> None:
    resources = ec2_instances(40)
    gone = resources[7]
    client("ec2").terminate_instances(InstanceIds=[gone.native_id])
    results = q.quarantine_many(resources, dry_run=False)
    by_id = {r.resource.id: r for r in results}
    assert by_id[gone.id].status in (VANISHED, DONE)  # moto may still list it as shutting-down
    others = [r for r in resources if r is not gone]
    assert {by_id[r.id].status for r in others} == {DONE}
    assert {instance_state(r) for r in others} == {"stopped"}
    assert clients.calls.count("DescribeInstances") <= 1


def test_batched_dry_run_changes_nothing(q: AwsQuarantiner, clients: RecordingClients) -> None:
    resources = ec2_instances(30)
    results = q.quarantine_many(resources, dry_run=True)
    assert {r.status for r in results} == {DRY_RUN}
    assert all("undo would be 'state=running'" in r.detail for r in results)
    assert clients.changes() == []
    assert {instance_state(r) for r in resources} == {"running"}
