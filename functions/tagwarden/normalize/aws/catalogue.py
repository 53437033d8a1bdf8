"""The CloudTrail catalogue: for each create event, where its resources are in the record.

One row per (eventSource, eventName). Each row lists what the call creates: the resource type,
the path to its identifiers, how to build its ARN, where the request's tags are, and which tagger
writes tags to it. Paths are dotted (see tagwarden.attribution.paths); ARN templates take
{partition}, {region}, {account}, {id} and {name}. Adding a service is adding rows here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Creates:
    """One kind of resource an event creates."""

    type: str  # CloudFormation-style type, e.g. AWS::EC2::Instance
    ids: str  # path to the identifier(s) in the record; a list yields one resource each
    arn: str | None = None  # "arn:..." template, or a path to the ARN; None: the id is the ARN
    name: str | None = None  # path to the name(s); default: none
    native: str | None = None  # path to what the service's tag API takes, when not the id
    tags: str | None = None  # path to request tags: a {k: v} map or a list of {Key, Value}
    tag_spec: str | None = None  # EC2 TagSpecification resourceType to read tags from
    tagger: str = "rgta"  # which tagger writes to it (tagwarden.aws.taggers)


@dataclass(frozen=True, slots=True)
class Entry:
    source: str  # eventSource, e.g. ec2.amazonaws.com
    event: str  # eventName
    creates: tuple[Creates, ...]

    @property
    def service(self) -> str:
        return self.source.removesuffix(".amazonaws.com")


def _e(service: str, event: str, *creates: Creates) -> Entry:
    return Entry(f"{service}.amazonaws.com", event, creates)


_EC2_TAGS = "requestParameters.tagSpecificationSet.items"


def _ec2(event: str, rtype: str, ids: str, arn_kind: str, tag_spec: str) -> Entry:
    return _e(
        "ec2",
        event,
        Creates(
            rtype,
            ids=ids,
            arn=f"arn:{{partition}}:ec2:{{region}}:{{account}}:{arn_kind}/{{id}}",
            tags=_EC2_TAGS,
            tag_spec=tag_spec,
            tagger="ec2",
        ),
    )


ENTRIES: tuple[Entry, ...] = (
    # --- EC2 -----------------------------------------------------------------------------------
    _e(
        "ec2",
        "RunInstances",
        Creates(
            "AWS::EC2::Instance",
            ids="responseElements.instancesSet.items.instanceId",
            arn="arn:{partition}:ec2:{region}:{account}:instance/{id}",
            tags=_EC2_TAGS,
            tag_spec="instance",
            tagger="ec2",
        ),
        Creates(
            "AWS::EC2::NetworkInterface",
            ids="responseElements.instancesSet.items.networkInterfaceSet.items.networkInterfaceId",
            arn="arn:{partition}:ec2:{region}:{account}:network-interface/{id}",
            tags=_EC2_TAGS,
            tag_spec="network-interface",
            tagger="ec2",
        ),
    ),
    _ec2("CreateVolume", "AWS::EC2::Volume", "responseElements.volumeId", "volume", "volume"),
    _ec2(
        "CreateSecurityGroup",
        "AWS::EC2::SecurityGroup",
        "responseElements.groupId",
        "security-group",
        "security-group",
    ),
    # --- S3 ------------------------------------------------------------------------------------
    _e(
        "s3",
        "CreateBucket",
        Creates(
            "AWS::S3::Bucket",
            ids="requestParameters.bucketName",
            arn="arn:{partition}:s3:::{id}",
            name="requestParameters.bucketName",
            tags="requestParameters.CreateBucketConfiguration.Tags.Tag",
            tagger="s3",
        ),
    ),
    # --- Lambda --------------------------------------------------------------------------------
    _e(
        "lambda",
        "CreateFunction20150331",
        Creates(
            "AWS::Lambda::Function",
            ids="responseElements.functionArn",
            name="responseElements.functionName",
            tags="requestParameters.tags",
            tagger="lambda",
        ),
    ),
    # --- DynamoDB ------------------------------------------------------------------------------
    _e(
        "dynamodb",
        "CreateTable",
        Creates(
            "AWS::DynamoDB::Table",
            ids="responseElements.tableDescription.tableArn",
            name="responseElements.tableDescription.tableName",
            tags="requestParameters.tags",
            tagger="dynamodb",
        ),
    ),
    # --- SQS / SNS -----------------------------------------------------------------------------
    _e(
        "sqs",
        "CreateQueue",
        Creates(
            "AWS::SQS::Queue",
            ids="requestParameters.queueName",
            arn="arn:{partition}:sqs:{region}:{account}:{id}",
            name="requestParameters.queueName",
            native="responseElements.queueUrl",
            tags="requestParameters.tags",
            tagger="sqs",
        ),
    ),
    _e(
        "sns",
        "CreateTopic",
        Creates(
            "AWS::SNS::Topic",
            ids="responseElements.topicArn",
            name="requestParameters.name",
            tags="requestParameters.tags",
            tagger="sns",
        ),
    ),
)

CATALOGUE: dict[tuple[str, str], Entry] = {(e.source, e.event): e for e in ENTRIES}
