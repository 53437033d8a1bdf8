"""Notifications as the adapters send them (their CloudText's fix command and labels), for the
channel tests: one quarantined resource per cloud."""

from __future__ import annotations

from tagwarden.aws.text import AWS_TEXT
from tagwarden.azure.text import AZURE_TEXT
from tagwarden.lifecycle.ports import CloudText, Notification

ACCOUNT = "123456789012"
SUBSCRIPTION = "0b1f6471-1bf0-4dda-aec3-111122223333"
EC2 = f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-0abc1234def567890"
VM = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-apps/providers/Microsoft.Compute/virtualMachines/vm-build-01"
)
MISSING = ("Owner", "CostCenter")

# provider -> (resource id, type, account, region, creator, its words)
_WHERE: dict[str, tuple[str, str, str, str, str, CloudText]] = {
    "aws": (
        EC2,
        "AWS::EC2::Instance",
        ACCOUNT,
        "us-east-1",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Dev_1a2b/alice@example.com",
        AWS_TEXT,
    ),
    "azure": (
        VM,
        "Microsoft.Compute/virtualMachines",
        SUBSCRIPTION,
        "westeurope",
        "dave@contoso.com",
        AZURE_TEXT,
    ),
}


def quarantined(provider: str) -> Notification:
    rid, rtype, account, region, creator, text = _WHERE[provider]
    return Notification(
        kind="quarantined",
        provider=provider,
        resource_id=rid,
        resource_type=rtype,
        account=account,
        region=region,
        creator=creator,
        creator_address=None,
        rule="prod-owner-required",
        missing=MISSING,
        action="quarantine",
        deadline="2025-07-08T12:00:00Z",
        fix=text.fix_command(rid, rtype, MISSING),
        account_label=text.account_label,
        region_label=text.region_label,
    )
