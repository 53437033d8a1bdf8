"""AWS's words and fix commands for notifications (the CloudText the AWS adapter hands the lifecycle)."""

from __future__ import annotations

from tagwarden.aws.text import AWS_TEXT

ACCOUNT = "123456789012"
EC2 = f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc1234def567890"


def test_words() -> None:
    assert (AWS_TEXT.account_label, AWS_TEXT.region_label) == ("Account", "Region")


def test_fix_ec2_instance() -> None:
    assert AWS_TEXT.fix_command(EC2, "AWS::EC2::Instance", ["Owner", "CostCenter"]) == (
        "aws resourcegroupstaggingapi tag-resources --region us-east-1 "
        f"--resource-arn-list {EC2} --tags 'Owner=<value>,CostCenter=<value>'"
    )


def test_fix_ec2_native_id_uses_ec2_create_tags() -> None:
    assert AWS_TEXT.fix_command(
        "i-0abc1234def567890", "AWS::EC2::Instance", ["Owner"], region="eu-west-1"
    ) == (
        "aws ec2 create-tags --region eu-west-1 --resources i-0abc1234def567890 --tags 'Key=Owner,Value=<value>'"
    )


def test_fix_s3_bucket_takes_the_buckets_region() -> None:
    arn = "arn:aws:s3:::scratch-data-2024"
    assert AWS_TEXT.fix_command(arn, "AWS::S3::Bucket", ["Owner"], region="us-west-2") == (
        f"aws resourcegroupstaggingapi tag-resources --region us-west-2 --resource-arn-list {arn} --tags 'Owner=<value>'"
    )
    # region unknown: the CLI's configured region applies
    assert AWS_TEXT.fix_command(arn, "AWS::S3::Bucket", ["Owner"]) == (
        f"aws resourcegroupstaggingapi tag-resources --resource-arn-list {arn} --tags 'Owner=<value>'"
    )


def test_fix_lambda_function() -> None:
    arn = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:billing-export"
    assert AWS_TEXT.fix_command(arn, "AWS::Lambda::Function", ["CostCenter"], region="us-east-1") == (
        f"aws resourcegroupstaggingapi tag-resources --region eu-west-1 --resource-arn-list {arn} "
        "--tags 'CostCenter=<value>'"
    )


def test_fix_global_services_use_their_home_region() -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/ci-deployer"
    assert "--region us-east-1 " in AWS_TEXT.fix_command(
        role, "AWS::IAM::Role", ["Owner"], region="eu-west-1"
    )
    dist = f"arn:aws:cloudfront::{ACCOUNT}:distribution/E2ABCDEF"
    assert "--region us-east-1 " in AWS_TEXT.fix_command(dist, "AWS::CloudFront::Distribution", ["Owner"])


def test_fix_other_partitions_keep_the_given_region() -> None:
    role = "arn:aws-cn:iam::123456789012:role/ci"
    assert "--region cn-north-1 " in AWS_TEXT.fix_command(
        role, "AWS::IAM::Role", ["Owner"], region="cn-north-1"
    )


def test_fix_log_group_arn_loses_its_wildcard() -> None:
    arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/x:*"
    assert f"--resource-arn-list {arn[:-2]} " in AWS_TEXT.fix_command(arn, "AWS::Logs::LogGroup", ["Owner"])


def test_fix_non_arn_id_of_other_types_asks_for_the_arn() -> None:
    cmd = AWS_TEXT.fix_command("orders-queue", "AWS::SQS::Queue", ["Owner"], region="us-east-1")
    assert cmd == (
        "aws resourcegroupstaggingapi tag-resources --region us-east-1 "
        "--resource-arn-list '<ARN of orders-queue>' --tags 'Owner=<value>'"
    )


def test_fix_nothing_missing_is_empty() -> None:
    assert AWS_TEXT.fix_command(EC2, "AWS::EC2::Instance", []) == ""
