"""What each `Creates.tagger` name means: the tag call a tagger of that name makes.

`id` is Resource.id (the ARN, except where noted in the catalogue row), `native` is
Resource.native_id (what the row's `native` path found, else the raw id). Every tagger merges the
new tags with the request's; none removes a tag.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

TAGGERS: Mapping[str, str] = MappingProxyType(
    {
        "rgta": "resourcegroupstaggingapi:TagResources(ResourceARNList=[id]) in the resource's region",
        "untaggable": "none: the resource cannot carry tags; rules may only notify or delete",
        # compute and containers
        "ec2": "ec2:CreateTags(Resources=[native]) (instance, volume, snapshot, AMI, VPC objects ...)",
        "lambda": "lambda:TagResource(Resource=id)",
        "ecs": "ecs:TagResource(resourceArn=id)",
        "eks": "eks:TagResource(resourceArn=id)",
        "ecr": "ecr:TagResource(resourceArn=id)",
        "ecr-public": "ecr-public:TagResource(resourceArn=id) in us-east-1",
        "apprunner": "apprunner:TagResource(ResourceArn=id)",
        "batch": "batch:TagResource(resourceArn=id)",
        "autoscaling": "autoscaling:CreateOrUpdateTags(ResourceId=native, ResourceType=auto-scaling-group)",
        "lightsail": "lightsail:TagResource(resourceName=native)",
        "elasticbeanstalk": "elasticbeanstalk:UpdateTagsForResource(ResourceArn=id, TagsToAdd)",
        "gamelift": "gamelift:TagResource(ResourceARN=id)",
        "cloud9": "cloud9:TagResource(ResourceARN=id)",
        "amplify": "amplify:TagResource(resourceArn=id)",
        "workspaces": "workspaces:CreateTags(ResourceId=native)",
        # storage and databases
        "s3": "s3:PutBucketTagging(Bucket=native), merged with GetBucketTagging (it replaces the set)",
        "efs": "efs:TagResource(ResourceId=native)",
        "glacier": "glacier:AddTagsToVault(vaultName=native)",
        "fsx": "fsx:TagResource(ResourceARN=id)",
        "backup": "backup:TagResource(ResourceArn=id)",
        "datasync": "datasync:TagResource(ResourceArn=id)",
        "dax": "dax:TagResource(ResourceName=id)",
        "dynamodb": "dynamodb:TagResource(ResourceArn=id)",
        "rds": "rds:AddTagsToResource(ResourceName=id)",
        "elasticache": "elasticache:AddTagsToResource(ResourceName=id)",
        "memorydb": "memorydb:TagResource(ResourceArn=id)",
        "redshift": "redshift:CreateTags(ResourceName=id)",
        "redshift-serverless": "redshift-serverless:TagResource(resourceArn=id)",
        "docdb-elastic": "docdb-elastic:TagResource(resourceArn=id)",
        "timestream": "timestream-write:TagResource(ResourceARN=id)",
        "neptune-graph": "neptune-graph:TagResource(resourceArn=id)",
        "dms": "dms:AddTagsToResource(ResourceArn=id)",
        # analytics
        "kinesis": "kinesis:AddTagsToStream(StreamName=native)",
        "firehose": "firehose:TagDeliveryStream(DeliveryStreamName=native)",
        "kinesisvideo": "kinesisvideo:TagResource(ResourceARN=id)",
        "kinesisanalytics": "kinesisanalyticsv2:TagResource(ResourceARN=id)",
        "kafka": "kafka:TagResource(ResourceArn=id)",
        "glue": "glue:TagResource(ResourceArn=id)",
        "athena": "athena:TagResource(ResourceARN=id)",
        "emr": "emr:AddTags(ResourceId=native)",
        "es": "opensearch:AddTags(ARN=id)",
        "aoss": "opensearchserverless:TagResource(resourceArn=id)",
        "emr-serverless": "emr-serverless:TagResource(resourceArn=id)",
        "datapipeline": "datapipeline:AddTags(pipelineId=native)",
        # AI
        "bedrock": "bedrock:TagResource(resourceARN=id)",
        "bedrock-agent": "bedrock-agent:TagResource(resourceArn=id) (agents, aliases, KBs, flows, prompts)",
        "comprehend": "comprehend:TagResource(ResourceArn=id)",
        "sagemaker": "sagemaker:AddTags(ResourceArn=id)",
        # integration
        "sqs": "sqs:TagQueue(QueueUrl=native)",
        "sns": "sns:TagResource(ResourceArn=id)",
        "mq": "mq:CreateTags(ResourceArn=id)",
        "states": "stepfunctions:TagResource(resourceArn=id)",
        "events": "events:TagResource(ResourceARN=id)",
        "pipes": "pipes:TagResource(resourceArn=id)",
        "scheduler": "scheduler:TagResource(ResourceArn=id)",
        "appsync": "appsync:TagResource(resourceArn=id)",
        "apigateway": "apigateway:TagResource(resourceArn=id)",
        "apigatewayv2": "apigatewayv2:TagResource(ResourceArn=id)",
        # security and identity
        "iam": "iam:Tag{Role,User,InstanceProfile}(name=native) / Tag{Policy,OpenIDConnectProvider,"
        "SAMLProvider}(arn=id), by resource type",
        "kms": "kms:TagResource(KeyId=native) with {TagKey, TagValue}",
        "secretsmanager": "secretsmanager:TagResource(SecretId=id)",
        "acm": "acm:AddTagsToCertificate(CertificateArn=id)",
        "acm-pca": "acm-pca:TagCertificateAuthority(CertificateAuthorityArn=id)",
        "cloudhsm": "cloudhsmv2:TagResource(ResourceId=native)",
        "cognito-idp": "cognito-idp:TagResource(ResourceArn=id)",
        "cognito-identity": "cognito-identity:TagResource(ResourceArn=id)",
        "wafv2": "wafv2:TagResource(ResourceARN=id)",
        "organizations": "organizations:TagResource(ResourceId=native) from the management account",
        "cloudtrail": "cloudtrail:AddTags(ResourceId=id)",
        # networking, monitoring, deployment
        "elb": "elb:AddTags(LoadBalancerNames=[native]) (classic load balancers)",
        "elbv2": "elbv2:AddTags(ResourceArns=[id])",
        "route53": "route53:ChangeTagsForResource(ResourceType=hostedzone|healthcheck, ResourceId=native)",
        "cloudfront": "cloudfront:TagResource(Resource=id) in us-east-1",
        "cloudformation": "declined: stack tags change only through UpdateStack (a redeployment)",
        "codebuild": "declined: projects are tagged only through UpdateProject",
        "cloudwatch": "cloudwatch:TagResource(ResourceARN=id)",
        "codepipeline": "codepipeline:TagResource(resourceArn=id)",
        "codecommit": "codecommit:TagResource(resourceArn=id)",
        "transfer": "transfer:TagResource(Arn=id)",
        "logs": "logs:TagResource(resourceArn=id) (log-group ARN without the trailing :*)",
    }
)
