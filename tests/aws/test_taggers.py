"""Tag writes through each service's own API, against moto.

Resources are created in moto through boto3, described as the CloudTrail catalogue would describe
them (ARN as id, native id, tagger name), tagged with write_tags, and read back through the
service's own list/describe-tags API.
"""

from __future__ import annotations

import functools
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from tagwarden.aws.clients import Clients
from tagwarden.aws.normalize.cloudtrail import normalize_record
from tagwarden.aws.taggers import (
    RGTA,
    TAGGERS,
    IdFrom,
    Kind,
    Outcome,
    TagFormat,
    TaggerSpec,
    TagResult,
    TagWrite,
    write_tags,
)
from tagwarden.model import CreationEvent, Resource

import builders

REGION = builders.REGION
ACCOUNT = builders.ACCOUNT  # moto's default account too
TAGS = {"owner": "agent-42", "cost-center": "cc-7"}
AMI = "ami-12c6146b"  # one of moto's built-in images


# --- fixtures and helpers -----------------------------------------------------------------------


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


@pytest.fixture
def clients(aws: None) -> Clients:
    """A fresh client cache per test (tests hook into its clients), over one shared session
    (loading service models is the slow part of making a client)."""
    if not _SESSIONS:
        _SESSIONS.append(boto3.session.Session())
    return Clients(_SESSIONS[0])


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@functools.cache
def client(service: str) -> Any:
    """The test's own clients, to create and read back resources (moto intercepts them in every
    mock_aws context, so one per service serves all tests)."""
    return boto3.client(service, region_name=REGION)


def res(
    arn: str, rtype: str, tagger: str | None, native: str | None = None, name: str | None = None
) -> Resource:
    """A Resource as the normalizer builds it: the native id defaults to the id."""
    return Resource(id=arn, type=rtype, name=name, native_id=native or arn, tagger=tagger)


def kv(items: list[dict[str, Any]]) -> dict[str, str]:
    out = {}
    for item in items:
        key = item.get("Key", item.get("key", item.get("TagKey")))
        out[key] = item.get("Value", item.get("value", item.get("TagValue")))
    return out


def tag_one(clients: Clients, resource: Resource, tags: dict[str, str] = TAGS, **kw: Any) -> TagResult:
    [result] = write_tags([TagWrite(resource, tags)], clients, region=REGION, sleep=Sleeps(), **kw)
    return result


def count_calls(clients: Clients, service: str, operation: str) -> list[dict[str, Any]]:
    """Record the parameters of every `operation` call made through our cached client."""
    seen: list[dict[str, Any]] = []
    c = clients.get(service, REGION)
    event = f"before-parameter-build.{c.meta.service_model.service_id.hyphenize()}.{operation}"
    c.meta.events.register(event, lambda params, **_: seen.append(params))
    return seen


def error_response(code: str, message: str, status: int = 400) -> tuple[AWSResponse, dict[str, Any]]:
    """What a before-call hook returns to make botocore raise ClientError(code)."""
    http = AWSResponse("https://example.invalid", status, {}, None)
    return http, {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}


def role_arn(name: str = "tagwarden-test-role") -> str:
    iam = client("iam")
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "*"}}]}
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(doc))["Role"]["Arn"])


def run_instances(count: int, tags: dict[str, str] | None = None) -> tuple[list[str], CreationEvent]:
    """RunInstances in moto, and the CloudTrail record of it (builders' shape, moto's real ids)."""
    reservation = client("ec2").run_instances(ImageId=AMI, MinCount=count, MaxCount=count)
    record = builders.run_instances(count=count, tags=tags)
    items = record["responseElements"]["instancesSet"]["items"]
    for item, instance in zip(items, reservation["Instances"], strict=True):
        item["instanceId"] = instance["InstanceId"]
        item["networkInterfaceSet"]["items"][0]["networkInterfaceId"] = instance["NetworkInterfaces"][0][
            "NetworkInterfaceId"
        ]
    event = normalize_record(record)
    assert isinstance(event, CreationEvent)
    return [i["InstanceId"] for i in reservation["Instances"]], event


def ec2_tags(resource_id: str) -> dict[str, str]:
    found = client("ec2").describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]}])
    return kv(found["Tags"])


# --- the table itself ---------------------------------------------------------------------------


def _rows() -> Iterator[tuple[str, TaggerSpec]]:
    for name, row in sorted(TAGGERS.items()):
        if row.kind in (Kind.API, Kind.RGTA):
            yield name, row
        for rtype, spec in sorted(row.by_type.items()):
            yield f"{name}[{rtype}]", spec


def _shape_matches(fmt: TagFormat, shape: Any) -> bool:
    def keys_of(list_shape: Any) -> set[str]:
        if list_shape.type_name != "list" or list_shape.member.type_name != "structure":
            return set()
        return set(list_shape.member.members)

    if fmt is TagFormat.MAP:
        return bool(shape.type_name == "map")
    if fmt is TagFormat.ITEMS:
        return shape.type_name == "structure" and {"Key", "Value"} <= keys_of(shape.members["Items"])
    wanted = {
        TagFormat.KV: {"Key", "Value"},
        TagFormat.KV_LOWER: {"key", "value"},
        TagFormat.TAGKEY: {"TagKey", "TagValue"},
        TagFormat.ASG: {"ResourceId", "ResourceType", "Key", "Value", "PropagateAtLaunch"},
    }[fmt]
    return wanted <= keys_of(shape)


def test_every_row_matches_the_botocore_service_model() -> None:
    """Method, id and tags parameters, tag shape and constant parameters all exist as written."""
    session = botocore.session.get_session()
    problems = []
    for label, spec in _rows():
        model = session.get_service_model(spec.service)
        ops = {botocore.xform_name(op): op for op in model.operation_names}
        if spec.method not in ops:
            problems.append(f"{label}: {spec.service} has no {spec.method}")
            continue
        shape = model.operation_model(ops[spec.method]).input_shape
        members = shape.members
        given = {spec.tags_param, *spec.extra}
        if spec.id_param is not None:
            given.add(spec.id_param)
            if spec.id_param not in members:
                problems.append(f"{label}: no parameter {spec.id_param}")
            elif (members[spec.id_param].type_name == "list") != spec.id_list:
                problems.append(f"{label}: {spec.id_param} list-ness differs from id_list")
        if spec.tags_param not in members:
            problems.append(f"{label}: no parameter {spec.tags_param}")
        elif not _shape_matches(spec.tag_format, members[spec.tags_param]):
            problems.append(f"{label}: {spec.tags_param} is not {spec.tag_format}")
        if missing := set(shape.required_members) - given:
            problems.append(f"{label}: required {sorted(missing)} not given")
        if unknown := set(spec.extra) - set(members):
            problems.append(f"{label}: unknown constant parameters {sorted(unknown)}")
        if spec.max_ids > 1 and not spec.id_list:
            problems.append(f"{label}: batches without a list parameter")
    assert not problems, "\n".join(problems)


def test_every_catalogue_tagger_is_registered() -> None:
    from tagwarden.aws.catalogue import ENTRIES

    used: dict[str, list[str]] = {}
    for entry in ENTRIES:
        for creates in entry.creates:
            used.setdefault(creates.tagger, []).append(f"{entry.service}:{entry.event}")
    missing = {name: events for name, events in used.items() if name not in TAGGERS}
    assert not missing, f"tagger names used in the catalogue but not in TAGGERS: {missing}"
    # Rows that dispatch by type must know every type the catalogue sends them.
    untyped = [
        f"{e.service}:{e.event} {c.type} -> {c.tagger}"
        for e in ENTRIES
        for c in e.creates
        if TAGGERS[c.tagger].for_type(c.type) is None
    ]
    assert not untyped, f"no row for these types: {untyped}"


def test_unknown_tagger_and_untaggable_types_are_unsupported_without_calls() -> None:
    clients = Clients(boto3.session.Session(region_name=REGION))  # never used: nothing is called
    writes = [
        TagWrite(res(f"arn:aws:foo:{REGION}:{ACCOUNT}:bar/1", "AWS::Foo::Bar", "no-such-tagger"), TAGS),
        TagWrite(
            res(f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:l:1", "AWS::Lambda::LayerVersion", "untaggable"),
            TAGS,
        ),
        TagWrite(res(f"arn:aws:iam::{ACCOUNT}:group/g", "AWS::IAM::Group", "iam"), TAGS),
        TagWrite(res("not-an-arn", "Custom::Thing", None), TAGS),
        TagWrite(
            res(
                f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/s/1",
                "AWS::CloudFormation::Stack",
                "cloudformation",
            ),
            TAGS,
        ),
    ]
    results = write_tags(writes, clients, region=REGION, sleep=Sleeps())
    assert [r.outcome for r in results] == [Outcome.UNSUPPORTED] * 5
    assert all(r.calls == 0 and r.error for r in results)
    assert "no-such-tagger" in (results[0].error or "")
    assert dict(results[0].tags) == TAGS


# --- moto round trips: create, tag, read back ---------------------------------------------------

Case = Callable[[], tuple[Resource, Callable[[], dict[str, str]]]]


def _ec2_volume() -> tuple[Resource, Callable[[], dict[str, str]]]:
    vol = client("ec2").create_volume(AvailabilityZone=f"{REGION}a", Size=1)["VolumeId"]
    return res(
        f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{vol}", "AWS::EC2::Volume", "ec2", vol
    ), lambda: ec2_tags(vol)


def _ec2_security_group() -> tuple[Resource, Callable[[], dict[str, str]]]:
    sg = client("ec2").create_security_group(GroupName="g", Description="d")["GroupId"]
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{sg}"
    return res(arn, "AWS::EC2::SecurityGroup", "ec2", sg), lambda: ec2_tags(sg)


def _lambda() -> tuple[Resource, Callable[[], dict[str, str]]]:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("app.py", "def handler(event, context):\n    return event\n")
    lam = client("lambda")
    lam.create_function(
        FunctionName="format-data",
        Runtime="python3.12",
        Role=role_arn(),
        Handler="app.handler",
        Code={"ZipFile": buf.getvalue()},
    )
    event = normalize_record(builders.create_function(name="format-data"))
    assert isinstance(event, CreationEvent)
    [resource] = event.resources
    return resource, lambda: lam.list_tags(Resource=resource.id)["Tags"]


def _dynamodb() -> tuple[Resource, Callable[[], dict[str, str]]]:
    ddb = client("dynamodb")
    table = ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    arn = table["TableArn"]
    return res(arn, "AWS::DynamoDB::Table", "dynamodb", name="t"), lambda: kv(
        ddb.list_tags_of_resource(ResourceArn=arn)["Tags"]
    )


def _sqs() -> tuple[Resource, Callable[[], dict[str, str]]]:
    sqs = client("sqs")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"
    return res(arn, "AWS::SQS::Queue", "sqs", url, "q"), lambda: sqs.list_queue_tags(QueueUrl=url).get(
        "Tags", {}
    )


def _sqs_without_url() -> tuple[Resource, Callable[[], dict[str, str]]]:
    """The queue URL is derived from the ARN when the record did not carry it."""
    sqs = client("sqs")
    url = sqs.create_queue(QueueName="q2")["QueueUrl"]
    arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:q2"
    return res(arn, "AWS::SQS::Queue", "sqs", name="q2"), lambda: sqs.list_queue_tags(QueueUrl=url).get(
        "Tags", {}
    )


def _sns() -> tuple[Resource, Callable[[], dict[str, str]]]:
    sns = client("sns")
    arn = sns.create_topic(Name="t")["TopicArn"]
    return res(arn, "AWS::SNS::Topic", "sns"), lambda: kv(sns.list_tags_for_resource(ResourceArn=arn)["Tags"])


def _logs() -> tuple[Resource, Callable[[], dict[str, str]]]:
    logs = client("logs")
    logs.create_log_group(logGroupName="/app/x")
    arn = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/app/x"
    return res(arn + ":*", "AWS::Logs::LogGroup", "logs", name="/app/x"), lambda: logs.list_tags_for_resource(
        resourceArn=arn
    )["tags"]


def _kinesis() -> tuple[Resource, Callable[[], dict[str, str]]]:
    kin = client("kinesis")
    kin.create_stream(StreamName="s", ShardCount=1)
    arn = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s"
    return res(arn, "AWS::Kinesis::Stream", "kinesis", "s", "s"), lambda: kv(
        kin.list_tags_for_stream(StreamName="s")["Tags"]
    )


def _iam_role() -> tuple[Resource, Callable[[], dict[str, str]]]:
    arn = role_arn("app-role")
    iam = client("iam")
    return res(arn, "AWS::IAM::Role", "iam", name="app-role"), lambda: kv(
        iam.list_role_tags(RoleName="app-role")["Tags"]
    )


def _iam_user() -> tuple[Resource, Callable[[], dict[str, str]]]:
    iam = client("iam")
    arn = iam.create_user(UserName="bob", Path="/team/")["User"]["Arn"]
    # No name on the resource: the user name is the ARN's last path segment.
    return res(arn, "AWS::IAM::User", "iam"), lambda: kv(iam.list_user_tags(UserName="bob")["Tags"])


def _iam_policy() -> tuple[Resource, Callable[[], dict[str, str]]]:
    iam = client("iam")
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:List*", "Resource": "*"}]}
    arn = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(doc))["Policy"]["Arn"]
    return res(arn, "AWS::IAM::ManagedPolicy", "iam", name="p"), lambda: kv(
        iam.list_policy_tags(PolicyArn=arn)["Tags"]
    )


def _iam_instance_profile() -> tuple[Resource, Callable[[], dict[str, str]]]:
    iam = client("iam")
    arn = iam.create_instance_profile(InstanceProfileName="ip")["InstanceProfile"]["Arn"]
    return res(arn, "AWS::IAM::InstanceProfile", "iam", name="ip"), lambda: kv(
        iam.get_instance_profile(InstanceProfileName="ip")["InstanceProfile"].get("Tags", [])
    )


def _kms() -> tuple[Resource, Callable[[], dict[str, str]]]:
    kms = client("kms")
    arn = kms.create_key()["KeyMetadata"]["Arn"]
    return res(arn, "AWS::KMS::Key", "kms"), lambda: kv(kms.list_resource_tags(KeyId=arn)["Tags"])


def _secret() -> tuple[Resource, Callable[[], dict[str, str]]]:
    sm = client("secretsmanager")
    arn = sm.create_secret(Name="s", SecretString="x")["ARN"]
    return res(arn, "AWS::SecretsManager::Secret", "secretsmanager", name="s"), lambda: kv(
        sm.describe_secret(SecretId=arn).get("Tags", [])
    )


def _ecs() -> tuple[Resource, Callable[[], dict[str, str]]]:
    ecs = client("ecs")
    arn = ecs.create_cluster(clusterName="c")["cluster"]["clusterArn"]
    return res(arn, "AWS::ECS::Cluster", "ecs", name="c"), lambda: kv(
        ecs.list_tags_for_resource(resourceArn=arn)["tags"]
    )


def _eks() -> tuple[Resource, Callable[[], dict[str, str]]]:
    eks = client("eks")
    arn = eks.create_cluster(name="k", roleArn=role_arn(), resourcesVpcConfig={})["cluster"]["arn"]
    return res(arn, "AWS::EKS::Cluster", "eks", name="k"), lambda: eks.list_tags_for_resource(
        resourceArn=arn
    )["tags"]


def _ecr() -> tuple[Resource, Callable[[], dict[str, str]]]:
    ecr = client("ecr")
    arn = ecr.create_repository(repositoryName="repo")["repository"]["repositoryArn"]
    return res(arn, "AWS::ECR::Repository", "ecr", name="repo"), lambda: kv(
        ecr.list_tags_for_resource(resourceArn=arn)["tags"]
    )


def _rds() -> tuple[Resource, Callable[[], dict[str, str]]]:
    rds = client("rds")
    arn = rds.create_db_instance(
        DBInstanceIdentifier="db1", DBInstanceClass="db.t3.micro", Engine="postgres", AllocatedStorage=20
    )["DBInstance"]["DBInstanceArn"]
    return res(arn, "AWS::RDS::DBInstance", "rds", name="db1"), lambda: kv(
        rds.list_tags_for_resource(ResourceName=arn)["TagList"]
    )


def _elasticache() -> tuple[Resource, Callable[[], dict[str, str]]]:
    ec = client("elasticache")
    ec.create_cache_cluster(
        CacheClusterId="cache1", Engine="redis", CacheNodeType="cache.t3.micro", NumCacheNodes=1
    )
    arn = f"arn:aws:elasticache:{REGION}:{ACCOUNT}:cluster:cache1"
    return res(arn, "AWS::ElastiCache::CacheCluster", "elasticache", "cache1", "cache1"), lambda: kv(
        ec.list_tags_for_resource(ResourceName=arn)["TagList"]
    )


def _sagemaker() -> tuple[Resource, Callable[[], dict[str, str]]]:
    sm = client("sagemaker")
    arn = sm.create_model(
        ModelName="m", ExecutionRoleArn=role_arn(), PrimaryContainer={"Image": "img:latest"}
    )["ModelArn"]
    return res(arn, "AWS::SageMaker::Model", "sagemaker", name="m"), lambda: kv(
        sm.list_tags(ResourceArn=arn)["Tags"]
    )


def _states() -> tuple[Resource, Callable[[], dict[str, str]]]:
    sfn = client("stepfunctions")
    definition = json.dumps({"StartAt": "A", "States": {"A": {"Type": "Pass", "End": True}}})
    arn = sfn.create_state_machine(name="sm", definition=definition, roleArn=role_arn())["stateMachineArn"]
    return res(arn, "AWS::StepFunctions::StateMachine", "states", name="sm"), lambda: kv(
        sfn.list_tags_for_resource(resourceArn=arn)["tags"]
    )


def _opensearch() -> tuple[Resource, Callable[[], dict[str, str]]]:
    os_ = client("opensearch")
    arn = os_.create_domain(DomainName="search")["DomainStatus"]["ARN"]
    return res(arn, "AWS::OpenSearchService::Domain", "es", name="search"), lambda: kv(
        os_.list_tags(ARN=arn)["TagList"]
    )


def _glue() -> tuple[Resource, Callable[[], dict[str, str]]]:
    glue = client("glue")
    glue.create_database(DatabaseInput={"Name": "db"})
    arn = f"arn:aws:glue:{REGION}:{ACCOUNT}:database/db"
    return res(arn, "AWS::Glue::Database", "glue", "db", "db"), lambda: glue.get_tags(ResourceArn=arn)["Tags"]


def _athena() -> tuple[Resource, Callable[[], dict[str, str]]]:
    athena = client("athena")
    athena.create_work_group(Name="wg")
    arn = f"arn:aws:athena:{REGION}:{ACCOUNT}:workgroup/wg"
    return res(arn, "AWS::Athena::WorkGroup", "athena", "wg", "wg"), lambda: kv(
        athena.list_tags_for_resource(ResourceARN=arn)["Tags"]
    )


def _efs() -> tuple[Resource, Callable[[], dict[str, str]]]:
    efs = client("efs")
    fs = efs.create_file_system(CreationToken="tok")
    return res(fs["FileSystemArn"], "AWS::EFS::FileSystem", "efs", fs["FileSystemId"]), lambda: kv(
        efs.list_tags_for_resource(ResourceId=fs["FileSystemId"])["Tags"]
    )


def _redshift() -> tuple[Resource, Callable[[], dict[str, str]]]:
    rs = client("redshift")
    rs.create_cluster(
        ClusterIdentifier="wh", NodeType="dc2.large", MasterUsername="admin", MasterUserPassword="Passw0rd!"
    )
    arn = f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:wh"

    def read() -> dict[str, str]:
        return kv([t["Tag"] for t in rs.describe_tags(ResourceName=arn)["TaggedResources"]])

    return res(arn, "AWS::Redshift::Cluster", "redshift", "wh", "wh"), read


def _memorydb() -> tuple[Resource, Callable[[], dict[str, str]]]:
    mdb = client("memorydb")
    arn = mdb.create_cluster(ClusterName="mc", NodeType="db.t4g.small", ACLName="open-access")["Cluster"][
        "ARN"
    ]
    return res(arn, "AWS::MemoryDB::Cluster", "memorydb", "mc", "mc"), lambda: kv(
        mdb.list_tags(ResourceArn=arn)["TagList"]
    )


def _emr() -> tuple[Resource, Callable[[], dict[str, str]]]:
    emr = client("emr")
    cluster = emr.run_job_flow(
        Name="etl",
        ReleaseLabel="emr-7.0.0",
        Instances={
            "MasterInstanceType": "m5.xlarge",
            "InstanceCount": 1,
            "KeepJobFlowAliveWhenNoSteps": True,
        },
        JobFlowRole="EMR_EC2_DefaultRole",
        ServiceRole="EMR_DefaultRole",
    )
    cid = cluster["JobFlowId"]
    return res(cluster["ClusterArn"], "AWS::EMR::Cluster", "emr", cid, "etl"), lambda: kv(
        emr.describe_cluster(ClusterId=cid)["Cluster"]["Tags"]
    )


def _elasticbeanstalk() -> tuple[Resource, Callable[[], dict[str, str]]]:
    eb = client("elasticbeanstalk")
    eb.create_application(ApplicationName="app")
    env = eb.create_environment(ApplicationName="app", EnvironmentName="app-prod")
    arn = env["EnvironmentArn"]  # moto keeps tags on environments only
    return res(arn, "AWS::ElasticBeanstalk::Environment", "elasticbeanstalk", name="app-prod"), lambda: kv(
        eb.list_tags_for_resource(ResourceArn=arn)["ResourceTags"]
    )


def _autoscaling() -> tuple[Resource, Callable[[], dict[str, str]]]:
    asg = client("autoscaling")
    asg.create_launch_configuration(LaunchConfigurationName="lc", ImageId=AMI, InstanceType="t3.micro")
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web",
        LaunchConfigurationName="lc",
        MinSize=0,
        MaxSize=1,
        AvailabilityZones=[f"{REGION}a"],
    )

    def read() -> dict[str, str]:
        return kv(asg.describe_tags(Filters=[{"Name": "auto-scaling-group", "Values": ["web"]}])["Tags"])

    # The catalogue has no ARN for a group (it embeds a UUID): id and name are the group name.
    return res("web", "AWS::AutoScaling::AutoScalingGroup", "autoscaling", "web", "web"), read


def _backup() -> tuple[Resource, Callable[[], dict[str, str]]]:
    backup = client("backup")
    arn = backup.create_backup_vault(BackupVaultName="v")["BackupVaultArn"]
    return res(arn, "AWS::Backup::BackupVault", "backup", name="v"), lambda: backup.list_tags(
        ResourceArn=arn
    )["Tags"]


def _cloudwatch() -> tuple[Resource, Callable[[], dict[str, str]]]:
    cw = client("cloudwatch")
    cw.put_metric_alarm(
        AlarmName="high",
        MetricName="CPUUtilization",
        Namespace="AWS/EC2",
        Statistic="Average",
        Period=60,
        EvaluationPeriods=1,
        Threshold=90.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    arn = cw.describe_alarms(AlarmNames=["high"])["MetricAlarms"][0]["AlarmArn"]
    return res(arn, "AWS::CloudWatch::Alarm", "cloudwatch", name="high"), lambda: kv(
        cw.list_tags_for_resource(ResourceARN=arn)["Tags"]
    )


def _events() -> tuple[Resource, Callable[[], dict[str, str]]]:
    ev = client("events")
    arn = ev.put_rule(Name="r", ScheduleExpression="rate(5 minutes)")["RuleArn"]
    return res(arn, "AWS::Events::Rule", "events", name="r"), lambda: kv(
        ev.list_tags_for_resource(ResourceARN=arn)["Tags"]
    )


def _ssm_parameter() -> tuple[Resource, Callable[[], dict[str, str]]]:
    ssm = client("ssm")
    ssm.put_parameter(Name="/app/db/url", Value="x", Type="String")
    arn = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/app/db/url"
    return res(arn, "AWS::SSM::Parameter", "ssm", name="/app/db/url"), lambda: kv(
        ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId="/app/db/url")["TagList"]
    )


def _acm() -> tuple[Resource, Callable[[], dict[str, str]]]:
    acm = client("acm")
    arn = acm.request_certificate(DomainName="example.com")["CertificateArn"]
    return res(arn, "AWS::CertificateManager::Certificate", "acm"), lambda: kv(
        acm.list_tags_for_certificate(CertificateArn=arn)["Tags"]
    )


def _route53() -> tuple[Resource, Callable[[], dict[str, str]]]:
    r53 = client("route53")
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="ref")["HostedZone"][
        "Id"
    ]  # /hostedzone/Z..
    zid = zone.rsplit("/", 1)[-1]
    arn = f"arn:aws:route53:::hostedzone/{zid}"
    return res(arn, "AWS::Route53::HostedZone", "route53", zone, "example.com"), lambda: kv(
        r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zid)["ResourceTagSet"]["Tags"]
    )


def _apigateway() -> tuple[Resource, Callable[[], dict[str, str]]]:
    """A stage (CreateStage / CreateDeployment with a stage): moto keeps tags on stages only."""
    apigw = client("apigateway")
    api = apigw.create_rest_api(name="api")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api, stageName="dev")
    arn = f"arn:aws:apigateway:{REGION}::/restapis/{api}/stages/dev"
    return res(arn, "AWS::ApiGateway::Stage", "apigateway", "dev", "dev"), lambda: apigw.get_stage(
        restApiId=api, stageName="dev"
    ).get("tags", {})


def _elbv2() -> tuple[Resource, Callable[[], dict[str, str]]]:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"][
            "SubnetId"
        ]
        for i, az in enumerate("ab")
    ]
    elb = client("elbv2")
    arn = elb.create_load_balancer(Name="lb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    return res(arn, "AWS::ElasticLoadBalancingV2::LoadBalancer", "elbv2", name="lb"), lambda: kv(
        elb.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]["Tags"]
    )


def _firehose() -> tuple[Resource, Callable[[], dict[str, str]]]:
    client("s3").create_bucket(Bucket="firehose-dest")
    fh = client("firehose")
    arn = fh.create_delivery_stream(
        DeliveryStreamName="fh",
        S3DestinationConfiguration={"RoleARN": role_arn(), "BucketARN": "arn:aws:s3:::firehose-dest"},
    )["DeliveryStreamARN"]
    return res(arn, "AWS::KinesisFirehose::DeliveryStream", "firehose", "fh", "fh"), lambda: kv(
        fh.list_tags_for_delivery_stream(DeliveryStreamName="fh")["Tags"]
    )


def _kafka() -> tuple[Resource, Callable[[], dict[str, str]]]:
    kafka = client("kafka")
    arn = kafka.create_cluster(
        ClusterName="msk",
        KafkaVersion="3.6.0",
        NumberOfBrokerNodes=2,
        BrokerNodeGroupInfo={"InstanceType": "kafka.m5.large", "ClientSubnets": ["subnet-1", "subnet-2"]},
    )["ClusterArn"]
    return res(arn, "AWS::MSK::Cluster", "kafka", name="msk"), lambda: kafka.list_tags_for_resource(
        ResourceArn=arn
    )["Tags"]


def _aoss() -> tuple[Resource, Callable[[], dict[str, str]]]:
    aoss = client("opensearchserverless")
    rules = [{"ResourceType": "collection", "Resource": ["collection/logs-coll"]}]
    aoss.create_security_policy(
        name="enc",
        type="encryption",
        policy=json.dumps({"Rules": rules, "KmsARN": f"arn:aws:kms:{REGION}:{ACCOUNT}:key/k"}),
    )
    detail = aoss.create_collection(name="logs-coll")["createCollectionDetail"]
    arn = detail["arn"]
    return res(arn, "AWS::OpenSearchServerless::Collection", "aoss", name="logs-coll"), lambda: kv(
        aoss.list_tags_for_resource(resourceArn=arn)["tags"]
    )


def _mq() -> tuple[Resource, Callable[[], dict[str, str]]]:
    mq = client("mq")
    broker = mq.create_broker(
        BrokerName="b",
        DeploymentMode="SINGLE_INSTANCE",
        EngineType="ACTIVEMQ",
        EngineVersion="5.17.6",
        HostInstanceType="mq.t3.micro",
        PubliclyAccessible=False,
        AutoMinorVersionUpgrade=True,
        Users=[{"Username": "admin", "Password": "Passw0rd-long"}],
    )
    arn = broker["BrokerArn"]
    return res(arn, "AWS::AmazonMQ::Broker", "mq", name="b"), lambda: mq.list_tags(ResourceArn=arn)["Tags"]


def _cloudtrail() -> tuple[Resource, Callable[[], dict[str, str]]]:
    client("s3").create_bucket(Bucket="trail-logs")
    ct = client("cloudtrail")
    arn = ct.create_trail(Name="trail", S3BucketName="trail-logs")["TrailARN"]
    return res(arn, "AWS::CloudTrail::Trail", "cloudtrail", name="trail"), lambda: kv(
        ct.list_tags(ResourceIdList=[arn])["ResourceTagList"][0]["TagsList"]
    )


def _wafv2() -> tuple[Resource, Callable[[], dict[str, str]]]:
    waf = client("wafv2")
    arn = waf.create_ip_set(Name="ips", Scope="REGIONAL", IPAddressVersion="IPV4", Addresses=["10.0.0.0/8"])[
        "Summary"
    ]["ARN"]
    return res(arn, "AWS::WAFv2::IPSet", "wafv2", name="ips"), lambda: kv(
        waf.list_tags_for_resource(ResourceARN=arn)["TagInfoForResource"]["TagList"]
    )


def _appsync() -> tuple[Resource, Callable[[], dict[str, str]]]:
    appsync = client("appsync")
    arn = appsync.create_graphql_api(name="gql", authenticationType="API_KEY")["graphqlApi"]["arn"]
    return res(
        arn, "AWS::AppSync::GraphQLApi", "appsync", name="gql"
    ), lambda: appsync.list_tags_for_resource(resourceArn=arn)["tags"]


def _scheduler() -> tuple[Resource, Callable[[], dict[str, str]]]:
    sch = client("scheduler")
    arn = sch.create_schedule_group(Name="grp")["ScheduleGroupArn"]
    return res(arn, "AWS::Scheduler::ScheduleGroup", "scheduler", name="grp"), lambda: kv(
        sch.list_tags_for_resource(ResourceArn=arn)["Tags"]
    )


def _elb() -> tuple[Resource, Callable[[], dict[str, str]]]:
    elb = client("elb")
    elb.create_load_balancer(
        LoadBalancerName="classic",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        AvailabilityZones=[f"{REGION}a"],
    )
    arn = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/classic"
    return res(arn, "AWS::ElasticLoadBalancing::LoadBalancer", "elb", "classic", "classic"), lambda: kv(
        elb.describe_tags(LoadBalancerNames=["classic"])["TagDescriptions"][0]["Tags"]
    )


def _dax() -> tuple[Resource, Callable[[], dict[str, str]]]:
    dax = client("dax")
    arn = dax.create_cluster(
        ClusterName="daxc", NodeType="dax.t3.small", ReplicationFactor=1, IamRoleArn=role_arn()
    )["Cluster"]["ClusterArn"]
    return res(arn, "AWS::DAX::Cluster", "dax", name="daxc"), lambda: kv(
        dax.list_tags(ResourceName=arn)["Tags"]
    )


def _timestream() -> tuple[Resource, Callable[[], dict[str, str]]]:
    ts = client("timestream-write")
    arn = ts.create_database(DatabaseName="metrics")["Database"]["Arn"]
    return res(arn, "AWS::Timestream::Database", "timestream", name="metrics"), lambda: kv(
        ts.list_tags_for_resource(ResourceARN=arn)["Tags"]
    )


def _organizations() -> tuple[Resource, Callable[[], dict[str, str]]]:
    org = client("organizations")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="team")["OrganizationalUnit"]
    return res(
        ou["Arn"], "AWS::Organizations::OrganizationalUnit", "organizations", ou["Id"], "team"
    ), lambda: kv(org.list_tags_for_resource(ResourceId=ou["Id"])["Tags"])


def _cloudhsm() -> tuple[Resource, Callable[[], dict[str, str]]]:
    hsm = client("cloudhsmv2")
    cid = hsm.create_cluster(HsmType="hsm1.medium", SubnetIds=["subnet-12345678"])["Cluster"]["ClusterId"]
    arn = f"arn:aws:cloudhsm:{REGION}:{ACCOUNT}:cluster/{cid}"
    return res(arn, "AWS::CloudHSM::Cluster", "cloudhsm", cid), lambda: kv(
        hsm.list_tags(ResourceId=cid)["TagList"]
    )


def _acm_pca() -> tuple[Resource, Callable[[], dict[str, str]]]:
    pca = client("acm-pca")
    arn = pca.create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": "RSA_2048",
            "SigningAlgorithm": "SHA256WITHRSA",
            "Subject": {"CommonName": "example.com"},
        },
        CertificateAuthorityType="ROOT",
    )["CertificateAuthorityArn"]
    return res(arn, "AWS::ACMPCA::CertificateAuthority", "acm-pca"), lambda: kv(
        pca.list_tags(CertificateAuthorityArn=arn)["Tags"]
    )


def _bedrock_customization_job() -> tuple[Resource, Callable[[], dict[str, str]]]:
    br = client("bedrock")
    arn = br.create_model_customization_job(
        jobName="tune",
        customModelName="tuned",
        roleArn=role_arn(),
        baseModelIdentifier="anthropic.claude-v2",
        trainingDataConfig={"s3Uri": "s3://training/data.jsonl"},
        outputDataConfig={"s3Uri": "s3://training/out/"},
        hyperParameters={},
    )["jobArn"]
    return res(arn, "AWS::Bedrock::ModelCustomizationJob", "bedrock", name="tune"), lambda: kv(
        br.list_tags_for_resource(resourceARN=arn)["tags"]
    )


def _bedrock_agent() -> tuple[Resource, Callable[[], dict[str, str]]]:
    ba = client("bedrock-agent")
    arn = ba.create_agent(agentName="helper", agentResourceRoleArn=role_arn(), foundationModel="m")["agent"][
        "agentArn"
    ]
    # The catalogue names agents "bedrock-agent"; through "bedrock" the type routes them there too.
    return res(arn, "AWS::Bedrock::Agent", "bedrock", name="helper"), lambda: ba.list_tags_for_resource(
        resourceArn=arn
    )["tags"]


def _cloudfront() -> tuple[Resource, Callable[[], dict[str, str]]]:
    cf = client("cloudfront")
    dist = cf.create_distribution(
        DistributionConfig={
            "CallerReference": "ref",
            "Comment": "",
            "Enabled": True,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "o",
                        "DomainName": "example.com",
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "https-only",
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "o",
                "ViewerProtocolPolicy": "allow-all",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )["Distribution"]
    arn = dist["ARN"]
    return res(arn, "AWS::CloudFront::Distribution", "cloudfront", dist["Id"]), lambda: kv(
        cf.list_tags_for_resource(Resource=arn)["Tags"]["Items"]
    )


CASES: dict[str, Case] = {
    "ec2-volume": _ec2_volume,
    "ec2-security-group": _ec2_security_group,
    "lambda": _lambda,
    "dynamodb": _dynamodb,
    "sqs": _sqs,
    "sqs-url-from-arn": _sqs_without_url,
    "sns": _sns,
    "logs": _logs,
    "kinesis": _kinesis,
    "iam-role": _iam_role,
    "iam-user": _iam_user,
    "iam-policy": _iam_policy,
    "iam-instance-profile": _iam_instance_profile,
    "kms": _kms,
    "secretsmanager": _secret,
    "ecs": _ecs,
    "eks": _eks,
    "ecr": _ecr,
    "rds": _rds,
    "elasticache": _elasticache,
    "sagemaker": _sagemaker,
    "states": _states,
    "es": _opensearch,
    "glue": _glue,
    "athena": _athena,
    "efs": _efs,
    "redshift": _redshift,
    "memorydb": _memorydb,
    "emr": _emr,
    "elasticbeanstalk": _elasticbeanstalk,
    "autoscaling": _autoscaling,
    "backup": _backup,
    "cloudwatch": _cloudwatch,
    "events": _events,
    "ssm-parameter": _ssm_parameter,
    "acm": _acm,
    "route53": _route53,
    "apigateway": _apigateway,
    "elbv2": _elbv2,
    "firehose": _firehose,
    "kafka": _kafka,
    "aoss": _aoss,
    "mq": _mq,
    "cloudtrail": _cloudtrail,
    "wafv2": _wafv2,
    "appsync": _appsync,
    "scheduler": _scheduler,
    "elb": _elb,
    "dax": _dax,
    "timestream": _timestream,
    "organizations": _organizations,
    "cloudhsm": _cloudhsm,
    "acm-pca": _acm_pca,
    "bedrock": _bedrock_customization_job,
    "bedrock-agent-by-type": _bedrock_agent,
    "cloudfront": _cloudfront,
}


@pytest.mark.parametrize("case", list(CASES))
def test_tags_written_through_the_service_api(clients: Clients, case: str) -> None:
    resource, read = CASES[case]()
    result = tag_one(clients, resource)
    assert result.outcome is Outcome.TAGGED, result.error
    assert result.error is None
    assert result.calls >= 1
    assert result.attempts == 1
    assert TAGS.items() <= read().items()


def test_run_instances_tags_instances_and_network_interfaces(clients: Clients) -> None:
    ids, event = run_instances(2, tags={"team": "data"})
    assert {r.type for r in event.resources} == {"AWS::EC2::Instance", "AWS::EC2::NetworkInterface"}
    calls = count_calls(clients, "ec2", "CreateTags")
    results = write_tags([TagWrite(r, TAGS) for r in event.resources], clients, region=REGION, sleep=Sleeps())
    assert [r.outcome for r in results] == [Outcome.TAGGED] * 4
    assert len(calls) == 1  # instances and their interfaces share the tag set: one CreateTags
    for r in event.resources:
        assert TAGS.items() <= ec2_tags(r.native_id or "").items()
    assert ec2_tags(ids[0])["owner"] == "agent-42"


# --- EC2 batching -------------------------------------------------------------------------------


def test_one_create_tags_call_for_150_instances_with_the_same_tags(clients: Clients) -> None:
    ids, event = run_instances(150)
    instances = [r for r in event.resources if r.type == "AWS::EC2::Instance"]
    calls = count_calls(clients, "ec2", "CreateTags")
    results = write_tags([TagWrite(r, TAGS) for r in instances], clients, region=REGION, sleep=Sleeps())
    assert len(calls) == 1
    assert sorted(calls[0]["Resources"]) == sorted(ids)
    assert all(r.outcome is Outcome.TAGGED and r.calls == 1 for r in results)
    assert ec2_tags(ids[-1]) == TAGS


def test_different_tag_sets_are_different_calls(clients: Clients) -> None:
    _, event = run_instances(4)
    instances = [r for r in event.resources if r.type == "AWS::EC2::Instance"]
    calls = count_calls(clients, "ec2", "CreateTags")
    writes = [TagWrite(r, {"owner": "a" if i % 2 else "b"}) for i, r in enumerate(instances)]
    results = write_tags(writes, clients, region=REGION, sleep=Sleeps())
    assert len(calls) == 2
    assert all(r.outcome is Outcome.TAGGED for r in results)


def test_1001_instances_take_two_calls(clients: Clients) -> None:
    ids, event = run_instances(1001)
    instances = [r for r in event.resources if r.type == "AWS::EC2::Instance"]
    calls = count_calls(clients, "ec2", "CreateTags")
    results = write_tags([TagWrite(r, TAGS) for r in instances], clients, region=REGION, sleep=Sleeps())
    assert sorted(len(c["Resources"]) for c in calls) == [1, 1000]
    assert all(r.outcome is Outcome.TAGGED for r in results)
    assert ec2_tags(ids[0]) == TAGS and ec2_tags(ids[-1]) == TAGS


def test_a_missing_id_in_a_batch_does_not_fail_the_others(clients: Clients) -> None:
    ids, event = run_instances(3)
    instances = [r for r in event.resources if r.type == "AWS::EC2::Instance"]
    ghost_id = "vol-0123456789abcdef0"  # moto's CreateTags checks that volumes exist
    ghost = res(f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{ghost_id}", "AWS::EC2::Volume", "ec2", ghost_id)
    calls = count_calls(clients, "ec2", "CreateTags")
    sleeps = Sleeps()
    results = write_tags(
        [TagWrite(r, TAGS) for r in [*instances, ghost]],
        clients,
        region=REGION,
        sleep=sleeps,
        not_found_window=3.0,
    )
    assert [r.outcome for r in results] == [Outcome.TAGGED] * 3 + [Outcome.VANISHED]
    assert (results[3].error or "").startswith("InvalidVolume.NotFound")
    # The failed batch named the ghost: the other three were re-sent together at once.
    assert calls[0]["Resources"] == [*ids, ghost_id]
    assert calls[1]["Resources"] == ids
    assert all(r.calls == 2 for r in results[:3])
    assert results[3].calls == results[3].attempts == len(sleeps) + 1
    assert len(calls) == 2 + len(sleeps)
    assert all(ec2_tags(i) == TAGS for i in ids)


def test_an_unnamed_not_found_in_a_batch_is_bisected(clients: Clients) -> None:
    """When the message names no id, the batch is split in halves until the missing one is alone."""
    ids, event = run_instances(4)
    instances = [r for r in event.resources if r.type == "AWS::EC2::Instance"]
    sent = count_calls(clients, "ec2", "CreateTags")

    def hook(**_: Any) -> Any:
        if ids[2] in sent[-1]["Resources"]:
            return error_response("InvalidInstanceID.NotFound", "One or more instances do not exist")
        return None

    clients.get("ec2", REGION).meta.events.register("before-call.ec2.CreateTags", hook)
    results = write_tags(
        [TagWrite(r, TAGS) for r in instances], clients, region=REGION, sleep=Sleeps(), not_found_window=0
    )
    assert [r.outcome for r in results] == [Outcome.TAGGED, Outcome.TAGGED, Outcome.VANISHED, Outcome.TAGGED]
    assert [c["Resources"] for c in sent] == [ids, ids[:2], ids[2:], [ids[2]], [ids[3]]]


# --- S3: read, merge, write ---------------------------------------------------------------------


def test_s3_merge_keeps_existing_tags_and_values(clients: Clients) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="agent-scratch-0001")
    s3.put_bucket_tagging(
        Bucket="agent-scratch-0001",
        Tagging={"TagSet": [{"Key": "owner", "Value": "alice"}, {"Key": "app", "Value": "etl"}]},
    )
    event = normalize_record(builders.create_bucket("agent-scratch-0001"))
    assert isinstance(event, CreationEvent)
    [bucket] = event.resources
    assert bucket.tagger == "s3"
    result = tag_one(clients, bucket, {"owner": "agent-42", "cost-center": "cc-7"})
    assert result.outcome is Outcome.TAGGED
    assert result.calls == 2  # one read, one write
    assert dict(result.tags) == {"cost-center": "cc-7"}  # what was actually added
    got = kv(s3.get_bucket_tagging(Bucket="agent-scratch-0001")["TagSet"])
    assert got == {"owner": "alice", "app": "etl", "cost-center": "cc-7"}


def test_s3_bucket_without_tags_and_nothing_new(clients: Clients) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="plain")
    bucket = res("arn:aws:s3:::plain", "AWS::S3::Bucket", "s3", "plain", "plain")
    first = tag_one(clients, bucket)
    assert first.outcome is Outcome.TAGGED and first.calls == 2
    assert kv(s3.get_bucket_tagging(Bucket="plain")["TagSet"]) == TAGS
    again = tag_one(clients, bucket)  # every key already there: read only
    assert again.outcome is Outcome.TAGGED and again.calls == 1 and dict(again.tags) == {}


def test_s3_over_50_tags_is_failed_and_nothing_written(clients: Clients) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="full")
    existing = [{"Key": f"k{i}", "Value": "v"} for i in range(49)]
    s3.put_bucket_tagging(Bucket="full", Tagging={"TagSet": existing})
    result = tag_one(clients, res("arn:aws:s3:::full", "AWS::S3::Bucket", "s3", "full"))
    assert result.outcome is Outcome.FAILED
    assert (result.error or "").startswith("TooManyTags")
    assert len(s3.get_bucket_tagging(Bucket="full")["TagSet"]) == 49


def test_s3_missing_bucket_vanishes(clients: Clients) -> None:
    sleeps = Sleeps()
    [result] = write_tags(
        [TagWrite(res("arn:aws:s3:::gone", "AWS::S3::Bucket", "s3", "gone"), TAGS)],
        clients,
        region=REGION,
        sleep=sleeps,
        not_found_window=2.0,
    )
    assert result.outcome is Outcome.VANISHED
    assert (result.error or "").startswith("NoSuchBucket")
    assert sum(sleeps) == pytest.approx(2.0)


# --- not found: retried, then vanished ----------------------------------------------------------


def test_a_volume_that_never_existed_vanishes_within_the_window(clients: Clients) -> None:
    ghost_id = "vol-0fedcba9876543210"
    ghost = res(f"arn:aws:ec2:{REGION}:{ACCOUNT}:volume/{ghost_id}", "AWS::EC2::Volume", "ec2", ghost_id)
    sleeps = Sleeps()
    [result] = write_tags([TagWrite(ghost, TAGS)], clients, region=REGION, sleep=sleeps)
    assert result.outcome is Outcome.VANISHED
    assert (result.error or "").startswith("InvalidVolume.NotFound")
    assert ghost_id in (result.error or "")
    assert dict(result.tags) == TAGS  # what it would have been tagged with
    assert len(sleeps) >= 3
    assert all(s > 0 for s in sleeps)
    assert sum(sleeps) == pytest.approx(20.0)  # the last sleep is cut to the window
    assert sleeps[1] > sleeps[0] / 2  # growing (each is drawn from [d/2, d], d doubling)
    assert result.attempts == len(sleeps) + 1 == result.calls


def test_zero_window_means_a_single_try(clients: Clients) -> None:
    ghost = res("arn:aws:ec2:us-east-1:123456789012:volume/vol-0123456789abcdef0", "AWS::EC2::Volume", "ec2",
                "vol-0123456789abcdef0")  # fmt: skip
    sleeps = Sleeps()
    [result] = write_tags([TagWrite(ghost, TAGS)], clients, region=REGION, sleep=sleeps, not_found_window=0)
    assert result.outcome is Outcome.VANISHED and result.attempts == 1 and sleeps == []


def test_a_resource_visible_on_the_second_attempt_is_tagged(clients: Clients) -> None:
    """EC2 eventual consistency: the first CreateTags answers NotFound, the second succeeds."""
    ids, event = run_instances(1)
    [instance] = [r for r in event.resources if r.type == "AWS::EC2::Instance"]
    answers = [error_response("InvalidInstanceID.NotFound", f"The instance ID '{ids[0]}' does not exist")]
    clients.get("ec2", REGION).meta.events.register(
        "before-call.ec2.CreateTags", lambda **_: answers.pop() if answers else None
    )
    sleeps = Sleeps()
    [result] = write_tags([TagWrite(instance, TAGS)], clients, region=REGION, sleep=sleeps)
    assert result.outcome is Outcome.TAGGED
    assert result.attempts == 2 and result.calls == 2 and len(sleeps) == 1
    assert ec2_tags(ids[0]) == TAGS


def test_a_queue_created_while_we_wait_is_tagged(clients: Clients) -> None:
    """The queue does not exist at the first try; it appears during the backoff sleep."""
    sqs = client("sqs")
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/late"
    queue = res(f"arn:aws:sqs:{REGION}:{ACCOUNT}:late", "AWS::SQS::Queue", "sqs", url, "late")
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 2:
            sqs.create_queue(QueueName="late")

    [result] = write_tags([TagWrite(queue, TAGS)], clients, region=REGION, sleep=sleep)
    assert result.outcome is Outcome.TAGGED
    assert result.attempts == 3
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == TAGS


def test_busy_is_retried_then_failed_not_vanished(clients: Clients) -> None:
    """A stream still CREATING refuses tags (ResourceInUseException): retried, then FAILED."""
    _kinesis()
    resource = res(
        f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/s", "AWS::Kinesis::Stream", "kinesis", "s", "s"
    )
    clients.get("kinesis", REGION).meta.events.register(
        "before-call.kinesis.AddTagsToStream",
        lambda **_: error_response("ResourceInUseException", "Stream s is in CREATING state"),
    )
    sleeps = Sleeps()
    [result] = write_tags(
        [TagWrite(resource, TAGS)], clients, region=REGION, sleep=sleeps, not_found_window=5
    )
    assert result.outcome is Outcome.FAILED
    assert (result.error or "").startswith("ResourceInUseException")
    assert sum(sleeps) == pytest.approx(5.0) and result.attempts == len(sleeps) + 1


def test_kinesis_writes_more_than_10_tags_in_several_calls(clients: Clients) -> None:
    resource, read = _kinesis()
    calls = count_calls(clients, "kinesis", "AddTagsToStream")
    many = {f"k{i:02}": str(i) for i in range(23)}
    result = tag_one(clients, resource, many)
    assert result.outcome is Outcome.TAGGED and result.calls == 3
    assert [len(c["Tags"]) for c in calls] == [10, 10, 3]
    assert read() == many


# --- errors that are final ----------------------------------------------------------------------


def test_access_denied_is_failed_with_the_code(clients: Clients) -> None:
    resource, _ = _sns()
    clients.get("sns", REGION).meta.events.register(
        "before-call.sns.TagResource",
        lambda **_: error_response(
            "AuthorizationError", "User is not authorized to perform sns:TagResource", 403
        ),
    )
    sleeps = Sleeps()
    [result] = write_tags([TagWrite(resource, TAGS)], clients, region=REGION, sleep=sleeps)
    assert result.outcome is Outcome.FAILED
    assert result.error == "AuthorizationError: User is not authorized to perform sns:TagResource"
    assert result.attempts == 1 and result.calls == 1 and sleeps == []


def test_access_denied_for_a_batch_fails_every_member_in_one_call(clients: Clients) -> None:
    _, event = run_instances(3)
    calls = count_calls(clients, "ec2", "CreateTags")
    clients.get("ec2", REGION).meta.events.register(
        "before-call.ec2.CreateTags",
        lambda **_: error_response(
            "UnauthorizedOperation", "You are not authorized to perform this operation."
        ),
    )
    results = write_tags([TagWrite(r, TAGS) for r in event.resources], clients, region=REGION, sleep=Sleeps())
    assert {r.outcome for r in results} == {Outcome.FAILED}
    assert len(calls) == 1
    assert all((r.error or "").startswith("UnauthorizedOperation") for r in results)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def test_throttling_is_retried_by_botocore(clients: Clients, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two throttled HTTP answers, then moto's: one API call, TAGGED, botocore retried twice."""
    import botocore.retries.standard

    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)
    resource, read = _dynamodb()
    ddb = clients.get("dynamodb", REGION)
    throttles = [2]

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        if throttles[0] == 0:
            return None  # on to moto
        throttles[0] -= 1
        body = json.dumps(
            {"__type": "ThrottlingException", "message": "Rate of requests exceeds the allowed throughput."}
        )
        return AWSResponse(
            request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body.encode())
        )

    ddb.meta.events.register_first("before-send.dynamodb.TagResource", before_send)
    http_attempts: list[int] = []
    ddb.meta.events.register(
        "after-call.dynamodb.TagResource",
        lambda parsed, **_: http_attempts.append(parsed["ResponseMetadata"]["RetryAttempts"]),
    )
    result = tag_one(clients, resource)
    assert result.outcome is Outcome.TAGGED, result.error
    assert result.calls == 1
    assert http_attempts == [2]
    assert TAGS.items() <= read().items()


def test_throttling_that_persists_is_failed_with_the_throttling_code(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.retries.standard

    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)
    resource, _ = _dynamodb()
    ddb = clients.get("dynamodb", REGION)
    sent = []

    def before_send(request: Any, **_: Any) -> AWSResponse:
        sent.append(1)
        body = json.dumps({"__type": "ThrottlingException", "message": "slow down"}).encode()
        return AWSResponse(request.url, 400, {}, _Raw(body))

    ddb.meta.events.register_first("before-send.dynamodb.TagResource", before_send)
    result = tag_one(clients, resource)
    assert result.outcome is Outcome.FAILED
    assert (result.error or "").startswith("ThrottlingException")
    assert len(sent) == 7  # the first try and the client's max_attempts=6 retries


def test_endpoint_errors_are_results_not_exceptions(clients: Clients) -> None:
    from botocore.exceptions import EndpointConnectionError

    resource, _ = _sns()

    def boom(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://sns.us-east-1.amazonaws.com")

    clients.get("sns", REGION).meta.events.register("before-call.sns.TagResource", boom)
    result = tag_one(clients, resource)
    assert result.outcome is Outcome.FAILED
    assert (result.error or "").startswith("EndpointConnectionError")


# --- Resource Groups Tagging API fallback -------------------------------------------------------


def _topics(n: int) -> list[Resource]:
    sns = client("sns")
    return [res(sns.create_topic(Name=f"t{i}")["TopicArn"], "AWS::SNS::Topic", "rgta") for i in range(n)]


def test_rgta_tags_resources_in_one_call(clients: Clients) -> None:
    topics = _topics(3)
    calls = count_calls(clients, "resourcegroupstaggingapi", "TagResources")
    results = write_tags([TagWrite(r, TAGS) for r in topics], clients, region=REGION, sleep=Sleeps())
    assert [r.outcome for r in results] == [Outcome.TAGGED] * 3
    assert len(calls) == 1
    sns = client("sns")
    assert all(kv(sns.list_tags_for_resource(ResourceArn=t.id)["Tags"]) == TAGS for t in topics)


def test_rgta_batches_20_arns_per_call(clients: Clients) -> None:
    topics = _topics(21)
    calls = count_calls(clients, "resourcegroupstaggingapi", "TagResources")
    results = write_tags([TagWrite(r, TAGS) for r in topics], clients, region=REGION, sleep=Sleeps())
    assert sorted(len(c["ResourceARNList"]) for c in calls) == [1, 20]
    assert all(r.outcome is Outcome.TAGGED for r in results)


def test_rgta_failed_resources_map_is_read_per_arn(clients: Clients) -> None:
    topics = _topics(4)
    failures = {
        topics[1].id: {
            "StatusCode": 400,
            "ErrorCode": "InvalidParameterException",
            "ErrorMessage": "bad tag",
        },
        topics[2].id: {"StatusCode": 404, "ErrorCode": "ResourceNotFoundException", "ErrorMessage": "gone"},
    }

    c = clients.get("resourcegroupstaggingapi", REGION)
    service_id = c.meta.service_model.service_id.hyphenize()
    sent: list[str] = []

    def before_call(params: dict[str, Any], **_: Any) -> None:
        sent[:] = params["ResourceARNList"]

    c.meta.events.register(f"before-parameter-build.{service_id}.TagResources", before_call)

    def after_call(parsed: dict[str, Any], **_: Any) -> None:
        # moto tagged them all; the answer says two of them failed.
        parsed["FailedResourcesMap"] = {arn: f for arn, f in failures.items() if arn in sent}

    c.meta.events.register(f"after-call.{service_id}.TagResources", after_call)
    sleeps = Sleeps()
    results = write_tags(
        [TagWrite(r, TAGS) for r in topics], clients, region=REGION, sleep=sleeps, not_found_window=1.0
    )
    assert [r.outcome for r in results] == [Outcome.TAGGED, Outcome.FAILED, Outcome.VANISHED, Outcome.TAGGED]
    assert (results[1].error or "").startswith("InvalidParameterException: bad tag")
    assert results[1].attempts == 1
    assert results[2].attempts > 1 and sum(sleeps) == pytest.approx(1.0)
    sns = client("sns")
    assert kv(sns.list_tags_for_resource(ResourceArn=topics[0].id)["Tags"]) == TAGS
    assert kv(sns.list_tags_for_resource(ResourceArn=topics[3].id)["Tags"]) == TAGS


def test_rgta_service_side_failure_is_failed_not_vanished(clients: Clients) -> None:
    """moto answers 404 InternalServiceException for an ARN no backend owns: a service failure."""
    unknown = res(f"arn:aws:nosuchservice:{REGION}:{ACCOUNT}:thing/x", "AWS::No::Such", None)
    result = tag_one(clients, unknown)
    assert result.outcome is Outcome.FAILED
    assert (result.error or "").startswith("InternalServiceException")


def test_resource_without_tagger_uses_rgta_when_it_has_an_arn(clients: Clients) -> None:
    [topic] = _topics(1)
    result = tag_one(clients, Resource(id=topic.id, type="AWS::SNS::Topic"))
    assert result.outcome is Outcome.TAGGED


# --- regions ------------------------------------------------------------------------------------


def test_the_arn_region_wins_over_the_event_region(clients: Clients) -> None:
    sns = boto3.client("sns", region_name="eu-west-1")
    arn = sns.create_topic(Name="eu")["TopicArn"]
    [result] = write_tags(
        [TagWrite(res(arn, "AWS::SNS::Topic", "sns"), TAGS)], clients, region="us-east-1", sleep=Sleeps()
    )
    assert result.outcome is Outcome.TAGGED
    assert kv(sns.list_tags_for_resource(ResourceArn=arn)["Tags"]) == TAGS


def test_empty_tags_make_no_call(clients: Clients) -> None:
    [topic] = _topics(1)
    calls = count_calls(clients, "resourcegroupstaggingapi", "TagResources")
    result = tag_one(clients, topic, {})
    assert result.outcome is Outcome.TAGGED and result.calls == 0 and calls == []


def test_rows_are_data() -> None:
    """A few rows spelled out, as the catalogue relies on them."""
    assert TAGGERS["ec2"].max_ids == 1000 and TAGGERS["ec2"].id_from is IdFrom.NATIVE
    assert TAGGERS["rgta"] is RGTA and RGTA.max_ids == 20
    assert TAGGERS["sqs"].id_from is IdFrom.QUEUE_URL
    assert TAGGERS["kms"].tag_format is TagFormat.TAGKEY
    assert TAGGERS["ecs"].tag_format is TagFormat.KV_LOWER
    assert TAGGERS["iam"].for_type("AWS::IAM::Role") is not None
    assert TAGGERS["iam"].for_type("AWS::IAM::Group") is None
