"""The quarantine table: CloudFormation resource type -> how to quarantine, release and delete it.

- AWS::EC2::Instance: stop (undo `state=running`, or `state=stopped`: nothing done) / start when it
  was running / terminate, then delete its EBS volumes that are not DeleteOnTermination.
- AWS::Lambda::Function: reserved concurrency 0 (undo `concurrency=N` or `concurrency=none`) /
  restore it / delete_function.
- AWS::S3::Bucket: add the `TagwardenQuarantine` deny statement to the bucket policy (undo
  `policy=added`, `policy=added shape=object`, `policy=created`) / remove exactly that statement
  (the policy too when nothing else is left) / delete empty buckets only.
- AWS::SageMaker::NotebookInstance: stop (undo `state=InService`) / start / stop, then delete.
- AWS::SageMaker::Endpoint: marked only / - / delete_endpoint.
- AWS::ECS::Service: desired count 0 (undo `desired=N`) / restore the count / scale 0, then delete.
- AWS::ECS::Task: marked only (stopping cannot be undone) / - / stop_task at the deadline.
- AWS::RDS::DBInstance: stop (undo `state=available`) / start / delete with a final snapshot.
- SQS, SNS, DynamoDB, Kinesis, log groups, EBS volumes, OpenSearch Serverless: marked only / - /
  one delete call. EFS, ECR: marked only, never deleted (they hold data).
- Any other type: marked only / - / UNSUPPORTED (never guessed).

`actions` lists the IAM actions each row calls; `IAM_ACTIONS` is their union, for the template.
"""

from __future__ import annotations

from types import MappingProxyType

from tagwarden.aws.quarantine import actions as a
from tagwarden.aws.quarantine.base import Row

_SAGEMAKER_GONE = (("ValidationException", "RecordNotFound"), ("ValidationException", "Could not find"))

_ROWS: dict[str, Row] = {
    "AWS::EC2::Instance": Row(
        "ec2",
        "ec2",
        a.ec2_instance_quarantine,
        a.ec2_instance_release,
        a.ec2_instance_delete,
        actions=(
            "ec2:DescribeInstances",
            "ec2:StopInstances",
            "ec2:StartInstances",
            "ec2:TerminateInstances",
            "ec2:DescribeVolumes",
            "ec2:DeleteVolume",
        ),
    ),
    "AWS::Lambda::Function": Row(
        "lambda",
        "lambda",
        a.lambda_quarantine,
        a.lambda_release,
        a.lambda_delete,
        actions=(
            "lambda:GetFunctionConcurrency",
            "lambda:PutFunctionConcurrency",
            "lambda:DeleteFunctionConcurrency",
            "lambda:DeleteFunction",
        ),
    ),
    "AWS::S3::Bucket": Row(
        "s3",
        "s3",
        a.s3_quarantine,
        a.s3_release,
        a.s3_delete,
        actions=(
            "s3:GetBucketPolicy",
            "s3:PutBucketPolicy",
            "s3:DeleteBucketPolicy",
            "s3:ListBucketVersions",
            "s3:DeleteBucket",
        ),
    ),
    "AWS::SageMaker::NotebookInstance": Row(
        "sagemaker",
        "sagemaker",
        a.notebook_quarantine,
        a.notebook_release,
        a.notebook_delete,
        actions=(
            "sagemaker:DescribeNotebookInstance",
            "sagemaker:StopNotebookInstance",
            "sagemaker:StartNotebookInstance",
            "sagemaker:DeleteNotebookInstance",
        ),
        not_found_messages=_SAGEMAKER_GONE,
    ),
    "AWS::SageMaker::Endpoint": Row(
        "sagemaker",
        "sagemaker",
        delete=a.endpoint_delete,
        actions=("sagemaker:DeleteEndpoint",),
        not_found_messages=_SAGEMAKER_GONE,
        note="an endpoint bills while it exists and has no cheap reversible stop: marked only",
    ),
    "AWS::ECS::Service": Row(
        "ecs",
        "ecs",
        a.ecs_service_quarantine,
        a.ecs_service_release,
        a.ecs_service_delete,
        actions=("ecs:DescribeServices", "ecs:UpdateService", "ecs:DeleteService"),
        not_found=frozenset({"ServiceNotActiveException"}),
    ),
    "AWS::ECS::Task": Row(  # stopping is irreversible: only the sweeper's delete does it
        "ecs",
        "ecs",
        None,
        None,
        a.ecs_task_stop,
        actions=("ecs:DescribeTasks", "ecs:StopTask"),
        note="a stopped task cannot be restarted",
    ),
    "AWS::RDS::DBInstance": Row(
        "rds",
        "rds",
        a.rds_instance_quarantine,
        a.rds_instance_release,
        a.rds_instance_delete,
        actions=(
            "rds:DescribeDBInstances",
            "rds:StopDBInstance",
            "rds:StartDBInstance",
            "rds:DeleteDBInstance",
            "rds:CreateDBSnapshot",  # the final snapshot DeleteDBInstance takes
        ),
    ),
    # --- marked only: no cheap reversible quarantine; a delete where it is one safe call ---------
    "AWS::SQS::Queue": Row("sqs", "sqs", delete=a.sqs_delete, actions=("sqs:DeleteQueue",)),
    "AWS::SNS::Topic": Row(
        "sns", "sns", delete=a.sns_delete, actions=("sns:GetTopicAttributes", "sns:DeleteTopic")
    ),
    "AWS::DynamoDB::Table": Row(
        "dynamodb", "dynamodb", delete=a.dynamodb_delete, actions=("dynamodb:DeleteTable",)
    ),
    "AWS::Kinesis::Stream": Row(
        "kinesis", "kinesis", delete=a.kinesis_delete, actions=("kinesis:DeleteStream",)
    ),
    "AWS::Logs::LogGroup": Row("logs", "logs", delete=a.logs_delete, actions=("logs:DeleteLogGroup",)),
    "AWS::EC2::Volume": Row(
        "ec2",
        "ec2",
        delete=a.ec2_volume_delete,
        actions=("ec2:DescribeVolumes", "ec2:DeleteVolume"),
        note="a volume has no cheap reversible quarantine (detaching breaks its instance): marked only",
    ),
    "AWS::OpenSearchServerless::Collection": Row(
        "opensearchserverless", "aoss", delete=a.aoss_delete, actions=("aoss:DeleteCollection",)
    ),
    # --- marked only, and never deleted by the enforcer: they hold data --------------------------
    "AWS::EFS::FileSystem": Row(
        "efs", "efs", note="a file system holds data: marked only, deleted by a person"
    ),
    "AWS::ECR::Repository": Row(
        "ecr", "ecr", note="a repository holds images: marked only, deleted by a person"
    ),
}

QUARANTINE_ROWS: MappingProxyType[str, Row] = MappingProxyType(_ROWS)

IAM_ACTIONS: tuple[str, ...] = tuple(sorted({action for row in _ROWS.values() for action in row.actions}))
