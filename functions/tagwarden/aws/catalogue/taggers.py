"""The tagger table: tagger name (as the CloudTrail catalogue writes it) -> how to tag through that
service's own API.

Names are the catalogue's `Creates.tagger` values. Every row was checked against botocore's service
model (tests/aws/test_taggers.py re-checks method, parameter names and tag shapes). Error codes are
the wire codes botocore reports in `error.response["Error"]["Code"]`, which for query-protocol
services (RDS, ElastiCache, Redshift, IAM, SNS, ELB) differ from the exception class names.

"not found" codes are retried with backoff for a short window (services are eventually consistent
right after a create) and then reported VANISHED; "busy" codes (the resource exists but is still
being created and refuses tag writes: Kinesis/DynamoDB ResourceInUseException, ElastiCache
Invalid*State ...) are retried the same way and then reported FAILED.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from types import MappingProxyType

from tagwarden.aws.catalogue.tagger_spec import (
    GENERIC_NOT_FOUND,
    IdFrom,
    Kind,
    TagFormat,
    TaggerSpec,
)

MAP, KV, KV_LOWER, TAGKEY = TagFormat.MAP, TagFormat.KV, TagFormat.KV_LOWER, TagFormat.TAGKEY


def _nf(*codes: str) -> frozenset[str]:
    return GENERIC_NOT_FOUND | frozenset(codes)


def _types(rows: dict[str, TaggerSpec]) -> MappingProxyType[str, TaggerSpec]:
    return MappingProxyType(rows)


# EC2: every "no such id" code is Invalid<Thing>ID.NotFound / Invalid<Thing>.NotFound, except these.
_EC2_NOT_FOUND = frozenset(
    {"InvalidPlacementGroup.Unknown", "NatGatewayNotFound", "InvalidID.NotFound", "InvalidAMIID.Unavailable"}
)

_IAM_NF = _nf("NoSuchEntity")


def _iam(method: str, id_param: str, id_from: IdFrom) -> TaggerSpec:
    return TaggerSpec("iam", method, id_param, id_from=id_from, not_found=_IAM_NF)


def _ssm(resource_type: str, id_from: IdFrom) -> TaggerSpec:
    return TaggerSpec(
        "ssm",
        "add_tags_to_resource",
        "ResourceId",
        id_from=id_from,
        extra=MappingProxyType({"ResourceType": resource_type}),
        not_found=_nf("InvalidResourceId", "DoesNotExistException"),
    )


def _route53(resource_type: str) -> TaggerSpec:
    return TaggerSpec(
        "route53",
        "change_tags_for_resource",
        "ResourceId",
        tags_param="AddTags",
        id_from=IdFrom.TAIL,
        max_tags=10,
        extra=MappingProxyType({"ResourceType": resource_type}),
        not_found=_nf("NoSuchHostedZone", "NoSuchHealthCheck"),
        busy=frozenset({"PriorRequestNotComplete"}),
    )


_BEDROCK_AGENT = TaggerSpec("bedrock-agent", "tag_resource", "resourceArn", "tags", MAP)
_BEDROCK_AGENT_TYPES = (
    "AWS::Bedrock::Agent",
    "AWS::Bedrock::AgentAlias",
    "AWS::Bedrock::KnowledgeBase",
    "AWS::Bedrock::Flow",
    "AWS::Bedrock::FlowAlias",
    "AWS::Bedrock::Prompt",
)

_ROWS: dict[str, TaggerSpec] = {
    # --- compute -------------------------------------------------------------------------------
    "ec2": TaggerSpec(
        "ec2",
        "create_tags",
        "Resources",
        id_from=IdFrom.NATIVE,
        id_list=True,
        max_ids=1000,
        not_found=_EC2_NOT_FOUND,
        not_found_suffixes=(".NotFound",),
    ),
    "lambda": TaggerSpec(
        "lambda",
        "tag_resource",
        "Resource",
        tag_format=MAP,
        busy=frozenset({"ResourceConflictException"}),
    ),
    "ecs": TaggerSpec(
        "ecs",
        "tag_resource",
        "resourceArn",
        "tags",
        KV_LOWER,
        not_found=_nf("ClusterNotFoundException", "ServiceNotFoundException", "TargetNotFoundException"),
    ),
    "eks": TaggerSpec("eks", "tag_resource", "resourceArn", "tags", MAP),
    "ecr": TaggerSpec(
        "ecr", "tag_resource", "resourceArn", "tags", not_found=_nf("RepositoryNotFoundException")
    ),
    "ecr-public": TaggerSpec(
        "ecr-public",
        "tag_resource",
        "resourceArn",
        "tags",
        region="us-east-1",  # the only region ECR Public has; its ARNs carry no region
        not_found=_nf("RepositoryNotFoundException"),
    ),
    "apprunner": TaggerSpec("apprunner", "tag_resource", "ResourceArn"),
    "batch": TaggerSpec("batch", "tag_resource", "resourceArn", "tags", MAP),
    "autoscaling": TaggerSpec(
        "autoscaling",
        "create_or_update_tags",
        None,
        tag_format=TagFormat.ASG,
        id_from=IdFrom.NAME,
        busy=frozenset({"ResourceContention"}),
    ),
    "lightsail": TaggerSpec("lightsail", "tag_resource", "resourceName", "tags", KV_LOWER, IdFrom.NAME),
    "elasticbeanstalk": TaggerSpec(
        "elasticbeanstalk",
        "update_tags_for_resource",
        "ResourceArn",
        "TagsToAdd",
        busy=frozenset({"OperationInProgressFailure"}),
    ),
    "workspaces": TaggerSpec("workspaces", "create_tags", "ResourceId", id_from=IdFrom.NATIVE),
    "appstream": TaggerSpec("appstream", "tag_resource", "ResourceArn", tag_format=MAP),
    "gamelift": TaggerSpec("gamelift", "tag_resource", "ResourceARN"),
    "cloud9": TaggerSpec("cloud9", "tag_resource", "ResourceARN"),
    "amplify": TaggerSpec("amplify", "tag_resource", "resourceArn", "tags", MAP),
    "elbv2": TaggerSpec(
        "elbv2",
        "add_tags",
        "ResourceArns",
        id_list=True,
        max_ids=20,
        not_found=_nf("LoadBalancerNotFound", "TargetGroupNotFound", "ListenerNotFound", "RuleNotFound"),
    ),
    "elb": TaggerSpec(
        "elb",
        "add_tags",
        "LoadBalancerNames",
        id_from=IdFrom.NAME,
        id_list=True,  # a list, but the API takes one load balancer per call
        not_found=_nf("LoadBalancerNotFound"),
    ),
    # --- storage and databases -----------------------------------------------------------------
    "s3": TaggerSpec("s3", kind=Kind.S3, id_from=IdFrom.NATIVE, not_found=_nf("NoSuchBucket")),
    "efs": TaggerSpec(
        "efs",
        "tag_resource",
        "ResourceId",
        id_from=IdFrom.NATIVE,
        not_found=_nf("FileSystemNotFound", "AccessPointNotFound"),
    ),
    "fsx": TaggerSpec(
        "fsx", "tag_resource", "ResourceARN", not_found=_nf("FileSystemNotFound", "VolumeNotFound")
    ),
    "backup": TaggerSpec("backup", "tag_resource", "ResourceArn", tag_format=MAP),
    "glacier": TaggerSpec(
        "glacier",
        "add_tags_to_vault",
        "vaultName",
        tag_format=MAP,
        id_from=IdFrom.NATIVE,
        extra=MappingProxyType({"accountId": "-"}),  # "-": the caller's account
    ),
    "datasync": TaggerSpec("datasync", "tag_resource", "ResourceArn"),
    "dynamodb": TaggerSpec(
        "dynamodb",
        "tag_resource",
        "ResourceArn",
        not_found=_nf("TableNotFoundException"),
        busy=frozenset({"ResourceInUseException"}),  # table still CREATING
    ),
    "dax": TaggerSpec(
        "dax",
        "tag_resource",
        "ResourceName",
        not_found=_nf("ClusterNotFoundFault"),
        busy=frozenset({"InvalidClusterStateFault"}),
    ),
    "rds": TaggerSpec(
        "rds",
        "add_tags_to_resource",
        "ResourceName",
        not_found=_nf("DBInstanceNotFound", "DBSnapshotNotFound", "DBParameterGroupNotFound"),
        not_found_suffixes=("NotFoundFault",),
    ),
    "elasticache": TaggerSpec(
        "elasticache",
        "add_tags_to_resource",
        "ResourceName",
        not_found=_nf("CacheClusterNotFound", "CacheParameterGroupNotFound", "SnapshotNotFoundFault"),
        not_found_suffixes=("NotFoundFault",),
        busy=frozenset(
            {"InvalidReplicationGroupState", "InvalidCacheClusterState", "InvalidServerlessCacheStateFault"}
        ),
    ),
    "memorydb": TaggerSpec(
        "memorydb",
        "tag_resource",
        "ResourceArn",
        not_found_suffixes=("NotFoundFault",),
        busy=frozenset({"InvalidClusterStateFault"}),
    ),
    "redshift": TaggerSpec(
        "redshift",
        "create_tags",
        "ResourceName",
        not_found=_nf("ClusterNotFound", "ResourceNotFoundFault", "ClusterSnapshotNotFound"),
        busy=frozenset({"InvalidClusterState"}),
    ),
    "redshift-serverless": TaggerSpec("redshift-serverless", "tag_resource", "resourceArn", "tags", KV_LOWER),
    "docdb-elastic": TaggerSpec("docdb-elastic", "tag_resource", "resourceArn", "tags", MAP),
    "timestream": TaggerSpec("timestream-write", "tag_resource", "ResourceARN"),
    "neptune-graph": TaggerSpec("neptune-graph", "tag_resource", "resourceArn", "tags", MAP),
    "dms": TaggerSpec("dms", "add_tags_to_resource", "ResourceArn", not_found=_nf("ResourceNotFoundFault")),
    # --- messaging, streaming, analytics -------------------------------------------------------
    "sqs": TaggerSpec(
        "sqs",
        "tag_queue",
        "QueueUrl",
        tag_format=MAP,
        id_from=IdFrom.QUEUE_URL,
        not_found=_nf("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue"),
    ),
    "sns": TaggerSpec("sns", "tag_resource", "ResourceArn"),
    "logs": TaggerSpec("logs", "tag_resource", "resourceArn", "tags", MAP),
    "kinesis": TaggerSpec(
        "kinesis",
        "add_tags_to_stream",
        "StreamName",
        tag_format=MAP,
        id_from=IdFrom.NAME,
        max_tags=10,  # AddTagsToStream takes at most 10 tags per call
        busy=frozenset({"ResourceInUseException"}),  # stream still CREATING
    ),
    "firehose": TaggerSpec(
        "firehose",
        "tag_delivery_stream",
        "DeliveryStreamName",
        id_from=IdFrom.NAME,
        busy=frozenset({"ResourceInUseException"}),
    ),
    "kinesisvideo": TaggerSpec("kinesisvideo", "tag_resource", "ResourceARN"),
    "kinesisanalytics": TaggerSpec(
        "kinesisanalyticsv2",
        "tag_resource",
        "ResourceARN",
        busy=frozenset({"ResourceInUseException"}),
    ),
    "kafka": TaggerSpec("kafka", "tag_resource", "ResourceArn", tag_format=MAP),
    "glue": TaggerSpec(
        "glue", "tag_resource", "ResourceArn", "TagsToAdd", MAP, not_found=_nf("EntityNotFoundException")
    ),
    "athena": TaggerSpec("athena", "tag_resource", "ResourceARN"),
    "emr": TaggerSpec("emr", "add_tags", "ResourceId", id_from=IdFrom.NATIVE),
    "emr-serverless": TaggerSpec("emr-serverless", "tag_resource", "resourceArn", "tags", MAP),
    # OpenSearch Service: one API for both the es and opensearch domain kinds (same endpoint).
    "es": TaggerSpec("opensearch", "add_tags", "ARN", "TagList"),
    "aoss": TaggerSpec("opensearchserverless", "tag_resource", "resourceArn", "tags", KV_LOWER),
    "datapipeline": TaggerSpec(
        "datapipeline",
        "add_tags",
        "pipelineId",
        "tags",
        KV_LOWER,
        IdFrom.NATIVE,
        max_tags=10,
        not_found=_nf("PipelineNotFoundException", "PipelineDeletedException"),
    ),
    "mq": TaggerSpec("mq", "create_tags", "ResourceArn", tag_format=MAP),
    "events": TaggerSpec("events", "tag_resource", "ResourceARN"),
    "scheduler": TaggerSpec("scheduler", "tag_resource", "ResourceArn"),
    "pipes": TaggerSpec("pipes", "tag_resource", "resourceArn", "tags", MAP),
    "states": TaggerSpec(
        "stepfunctions",
        "tag_resource",
        "resourceArn",
        "tags",
        KV_LOWER,
        not_found=_nf("StateMachineDoesNotExist", "ActivityDoesNotExist"),
    ),
    "ses": TaggerSpec("sesv2", "tag_resource", "ResourceArn"),
    "appsync": TaggerSpec("appsync", "tag_resource", "resourceArn", "tags", MAP),
    "apigateway": TaggerSpec("apigateway", "tag_resource", "resourceArn", "tags", MAP),
    "apigatewayv2": TaggerSpec("apigatewayv2", "tag_resource", "ResourceArn", tag_format=MAP),
    "mwaa": TaggerSpec("mwaa", "tag_resource", "ResourceArn", tag_format=MAP),
    # --- ML and AI -----------------------------------------------------------------------------
    "sagemaker": TaggerSpec("sagemaker", "add_tags", "ResourceArn"),
    # Bedrock's control plane (custom models, provisioned throughput, guardrails, jobs); agents,
    # knowledge bases, flows and prompts are tagged through bedrock-agent.
    "bedrock": TaggerSpec(
        "bedrock",
        "tag_resource",
        "resourceARN",
        "tags",
        KV_LOWER,
        by_type=_types(dict.fromkeys(_BEDROCK_AGENT_TYPES, _BEDROCK_AGENT)),
    ),
    "bedrock-agent": _BEDROCK_AGENT,
    "bedrock-agentcore": TaggerSpec("bedrock-agentcore-control", "tag_resource", "resourceArn", "tags", MAP),
    "comprehend": TaggerSpec("comprehend", "tag_resource", "ResourceArn"),
    # --- security, identity, management --------------------------------------------------------
    "iam": TaggerSpec(
        "iam",
        kind=Kind.BY_TYPE,
        by_type=_types(
            {
                "AWS::IAM::Role": _iam("tag_role", "RoleName", IdFrom.NAME),
                "AWS::IAM::User": _iam("tag_user", "UserName", IdFrom.NAME),
                "AWS::IAM::ManagedPolicy": _iam("tag_policy", "PolicyArn", IdFrom.ARN),
                "AWS::IAM::Policy": _iam("tag_policy", "PolicyArn", IdFrom.ARN),
                "AWS::IAM::InstanceProfile": _iam("tag_instance_profile", "InstanceProfileName", IdFrom.NAME),
                "AWS::IAM::OIDCProvider": _iam(
                    "tag_open_id_connect_provider", "OpenIDConnectProviderArn", IdFrom.ARN
                ),
                "AWS::IAM::SAMLProvider": _iam("tag_saml_provider", "SAMLProviderArn", IdFrom.ARN),
                "AWS::IAM::ServerCertificate": _iam(
                    "tag_server_certificate", "ServerCertificateName", IdFrom.NAME
                ),
                "AWS::IAM::VirtualMFADevice": _iam("tag_mfa_device", "SerialNumber", IdFrom.ARN),
            }
        ),
    ),
    "kms": TaggerSpec("kms", "tag_resource", "KeyId", tag_format=TAGKEY),
    "secretsmanager": TaggerSpec("secretsmanager", "tag_resource", "SecretId"),
    "acm": TaggerSpec("acm", "add_tags_to_certificate", "CertificateArn"),
    "acm-pca": TaggerSpec("acm-pca", "tag_certificate_authority", "CertificateAuthorityArn"),
    "cognito-idp": TaggerSpec("cognito-idp", "tag_resource", "ResourceArn", tag_format=MAP),
    "cognito-identity": TaggerSpec("cognito-identity", "tag_resource", "ResourceArn", tag_format=MAP),
    "ds": TaggerSpec(
        "ds",
        "add_tags_to_resource",
        "ResourceId",
        id_from=IdFrom.NATIVE,
        not_found=_nf("EntityDoesNotExistException"),
    ),
    "wafv2": TaggerSpec("wafv2", "tag_resource", "ResourceARN", not_found=_nf("WAFNonexistentItemException")),
    # WAF Classic: the global API is answered in us-east-1 only.
    "waf": TaggerSpec(
        "waf", "tag_resource", "ResourceARN", region="us-east-1", not_found=_nf("WAFNonexistentItemException")
    ),
    "waf-regional": TaggerSpec(
        "waf-regional", "tag_resource", "ResourceARN", not_found=_nf("WAFNonexistentItemException")
    ),
    "cloudhsm": TaggerSpec(
        "cloudhsmv2",
        "tag_resource",
        "ResourceId",
        "TagList",
        id_from=IdFrom.NATIVE,
        not_found=_nf("CloudHsmResourceNotFoundException"),
    ),
    # Organizations is a global service answered in us-east-1; only the management account (or a
    # delegated administrator) may tag: elsewhere the call fails with AccessDenied (FAILED).
    "organizations": TaggerSpec(
        "organizations",
        "tag_resource",
        "ResourceId",
        id_from=IdFrom.NATIVE,
        region="us-east-1",
        not_found=_nf("TargetNotFoundException", "OrganizationalUnitNotFoundException"),
        busy=frozenset({"ConcurrentModificationException"}),
    ),
    "network-firewall": TaggerSpec("network-firewall", "tag_resource", "ResourceArn"),
    "guardduty": TaggerSpec("guardduty", "tag_resource", "ResourceArn", tag_format=MAP),
    "ssm": TaggerSpec(
        "ssm",
        kind=Kind.BY_TYPE,
        by_type=_types(
            {
                "AWS::SSM::Parameter": _ssm("Parameter", IdFrom.NAME),
                "AWS::SSM::Document": _ssm("Document", IdFrom.NAME),
                "AWS::SSM::MaintenanceWindow": _ssm("MaintenanceWindow", IdFrom.TAIL),
                "AWS::SSM::PatchBaseline": _ssm("PatchBaseline", IdFrom.TAIL),
            }
        ),
    ),
    "cloudwatch": TaggerSpec("cloudwatch", "tag_resource", "ResourceARN"),
    "cloudtrail": TaggerSpec(
        "cloudtrail", "add_tags", "ResourceId", "TagsList", not_found=_nf("TrailNotFoundException")
    ),
    "config": TaggerSpec("config", "tag_resource", "ResourceArn"),
    "xray": TaggerSpec("xray", "tag_resource", "ResourceARN"),
    "transfer": TaggerSpec("transfer", "tag_resource", "Arn"),
    # --- developer tools -----------------------------------------------------------------------
    "codecommit": TaggerSpec(
        "codecommit",
        "tag_resource",
        "resourceArn",
        "tags",
        MAP,
        not_found=_nf("RepositoryDoesNotExistException"),
    ),
    "codepipeline": TaggerSpec(
        "codepipeline",
        "tag_resource",
        "resourceArn",
        "tags",
        KV_LOWER,
        not_found=_nf("PipelineNotFoundException"),
    ),
    "codeartifact": TaggerSpec("codeartifact", "tag_resource", "resourceArn", "tags", KV_LOWER),
    # --- networking and content delivery (global services) -------------------------------------
    "route53": TaggerSpec(
        "route53",
        kind=Kind.BY_TYPE,
        by_type=_types(
            {
                "AWS::Route53::HostedZone": _route53("hostedzone"),
                "AWS::Route53::HealthCheck": _route53("healthcheck"),
            }
        ),
    ),
    "cloudfront": TaggerSpec(
        "cloudfront",
        "tag_resource",
        "Resource",
        tag_format=TagFormat.ITEMS,
        region="us-east-1",  # a global service; its ARNs carry no region
        not_found=_nf("NoSuchResource", "NoSuchDistribution", "EntityNotFound"),
    ),
    # --- special rows --------------------------------------------------------------------------
    # Resources that cannot carry tags (Lambda layer versions ...): UNSUPPORTED, no call made.
    "untaggable": TaggerSpec("", kind=Kind.UNTAGGABLE, note="the resource type cannot carry tags"),
    # A stack's tags change only through UpdateStack: a deployment of someone else's stack, which
    # fails while the stack is still CREATE_IN_PROGRESS (minutes, far past the not-found window) and
    # re-tags every resource in it. Not done: UNSUPPORTED. The stack's resources are tagged from
    # their own create events (CloudFormation's calls are in CloudTrail too).
    # CodeBuild has no tag action: tags change only through UpdateProject, which can rewrite the
    # project's buildspec too. The enforcer is not granted that: recorded as UNSUPPORTED.
    "codebuild": TaggerSpec(
        "codebuild",
        kind=Kind.DECLINED,
        note="CodeBuild projects are tagged only through codebuild:UpdateProject, which the enforcer "
        "is not granted (it can also change the project's build)",
    ),
    "cloudformation": TaggerSpec(
        "cloudformation",
        kind=Kind.DECLINED,
        note="stack tags change only through UpdateStack (a redeployment); the enforcer does not "
        "update stacks, their resources are tagged from their own create events",
    ),
}


def _union(rows: Iterable[TaggerSpec]) -> tuple[frozenset[str], tuple[str, ...], frozenset[str]]:
    codes: set[str] = set(GENERIC_NOT_FOUND)
    suffixes: set[str] = set()
    busy: set[str] = set()
    for row in rows:
        for spec in (row, *row.by_type.values()):
            codes |= spec.not_found
            suffixes.update(spec.not_found_suffixes)
            busy |= spec.busy
    return frozenset(codes), tuple(sorted(suffixes)), frozenset(busy)


# The generic fallback. Its FailedResourcesMap reports the underlying service's error code, so it
# knows every service's "not found" and "busy" codes; StatusCode 404 also means not found.
_RGTA_NF, _RGTA_SUFFIXES, _RGTA_BUSY = _union(_ROWS.values())
RGTA = TaggerSpec(
    "resourcegroupstaggingapi",
    "tag_resources",
    "ResourceARNList",
    tag_format=MAP,
    id_list=True,
    max_ids=20,
    kind=Kind.RGTA,
    not_found=_RGTA_NF,
    not_found_suffixes=_RGTA_SUFFIXES,
    busy=_RGTA_BUSY,
)

# Other spellings of the same services (CloudTrail event source prefixes, boto3 client names).
ALIASES: dict[str, str] = {
    "stepfunctions": "states",
    "elasticloadbalancing": "elbv2",
    "elasticfilesystem": "efs",
    "elasticmapreduce": "emr",
    "opensearch": "es",
    "opensearchserverless": "aoss",
    "monitoring": "cloudwatch",
    "timestream-write": "timestream",
    "kinesisanalyticsv2": "kinesisanalytics",
    "sesv2": "ses",
    "email": "ses",
    "airflow": "mwaa",
}


class _Taggers(Mapping[str, TaggerSpec]):
    """The hand-written rows, and the derived catalogue's `derived:<client>` rows on demand (their
    table is read only when such a name is asked for). Iterating yields the hand-written rows only."""

    def __init__(self, rows: dict[str, TaggerSpec]) -> None:
        self._rows = rows

    def __getitem__(self, name: str) -> TaggerSpec:
        row = self._rows.get(name)
        if row is None and name.startswith("derived:"):
            from tagwarden.aws.catalogue import derived

            row = derived.tagger(name)
        if row is None:
            raise KeyError(name)
        return row

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


TAGGERS: Mapping[str, TaggerSpec] = _Taggers(
    {
        **_ROWS,
        **{alias: _ROWS[name] for alias, name in ALIASES.items()},
        "rgta": RGTA,
    }
)
