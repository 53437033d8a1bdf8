"""AWS's words in a notification and the command that fixes a resource's tags (a CloudText).

Pure: no boto3; the CLI and the sweepers use it too.
"""

from __future__ import annotations

from collections.abc import Iterable

from tagwarden.lifecycle.ports import VALUE_PLACEHOLDER

# AWS services whose ARNs carry no region; the Resource Groups Tagging API answers for them here
# (in the aws partition; elsewhere the notification's region is used).
GLOBAL_REGIONS: dict[str, str] = {
    "iam": "us-east-1",
    "cloudfront": "us-east-1",
    "route53": "us-east-1",
    "organizations": "us-east-1",
    "ecr-public": "us-east-1",
    "globalaccelerator": "us-west-2",
}


class AwsText:
    account_label = "Account"
    region_label = "Region"

    def fix_command(
        self, resource_id: str, resource_type: str, keys: Iterable[str], region: str | None = None
    ) -> str:
        """The AWS CLI command that adds `keys` (values left as `<value>`), shell-quoted, or "".

        One generic command, the Resource Groups Tagging API, which takes any taggable ARN (EC2,
        S3, Lambda, IAM roles and users ...) in the ARN's own region; ARNs without a region use the
        service's home region (GLOBAL_REGIONS), else `region` (an S3 bucket's). Exception: an EC2 id
        that is not an ARN (i-0abc...) gets `aws ec2 create-tags`.
        """
        wanted = list(dict.fromkeys(k for k in keys if k))
        if not wanted:
            return ""
        import shlex  # here: only a notification needs it, not a cold start
        rid = resource_id[:-2] if resource_id.endswith(":*") else resource_id  # log-group ARNs
        if not rid.startswith("arn:"):
            if resource_type.startswith("AWS::EC2::"):
                tags = [f"Key={k},Value={VALUE_PLACEHOLDER}" for k in wanted]
                return shlex.join(
                    ["aws", "ec2", "create-tags", *_region(region), "--resources", rid, "--tags", *tags]
                )
            rid = f"<ARN of {rid}>"  # the tagging API takes ARNs only
        else:
            parts = [*rid.split(":", 5), "", "", "", ""]
            partition, service, arn_region = parts[1], parts[2], parts[3]
            home = GLOBAL_REGIONS.get(service) if partition == "aws" else None  # not aws-cn, aws-us-gov
            region = arn_region or home or region
        tags_arg = ",".join(f"{k}={VALUE_PLACEHOLDER}" for k in wanted)
        return shlex.join([
            "aws", "resourcegroupstaggingapi", "tag-resources", *_region(region),
            "--resource-arn-list", rid, "--tags", tags_arg,
        ])  # fmt: skip


def _region(region: str | None) -> list[str]:
    return ["--region", region] if region else []


AWS_TEXT = AwsText()
