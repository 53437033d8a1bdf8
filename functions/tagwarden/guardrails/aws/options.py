"""The AWS limits the policies are packed into, and the options of `tagwarden policy aws`."""

from __future__ import annotations

from dataclasses import dataclass

SCP_LIMIT = 5120  # characters of the policy as stored: minified here
SCP_TARGET_LIMIT = 5  # SCPs attached to one root, OU or account (FullAWSAccess counts)
DEFAULT_MAX_SCPS = 4  # leaves the slot FullAWSAccess (or your allow list) usually holds
IDENTITY_LIMIT = 6144  # customer managed policy, whitespace not counted
IDENTITY_MAX = 10  # managed policies per role (default quota)
TAG_POLICY_LIMIT = 10000
TAG_POLICY_MAX = 10
DEFAULT_CALLED_VIA = ("cloudformation.amazonaws.com",)
VERSION = "2012-10-17"

WARNING = (
    "AWS warns that a deny on a missing aws:RequestTag breaks tools that create a resource first "
    "and tag it afterwards: CloudFormation for some resource types, some console flows, and SDK "
    "code that calls TagResource after Create. Calls made through the services in "
    "--allow-called-via ({services}) are let through (aws:CalledVia); the enforcer still checks "
    "what they create. Test in an OU with a few accounts before attaching at the root."
)


@dataclass(frozen=True, slots=True)
class AwsOptions:
    allow_called_via: tuple[str, ...] = DEFAULT_CALLED_VIA
    max_scps: int = DEFAULT_MAX_SCPS
    scp_limit: int = SCP_LIMIT
    identity_limit: int = IDENTITY_LIMIT
    max_identity_policies: int = IDENTITY_MAX
    partition: str = "aws"
    rules: tuple[str, ...] | None = None  # rule ids to prevent; None: those that quarantine/delete
    # When everything does not fit: False keeps the events that fit, in catalogue order, and
    # reports the rest; True raises DoesNotFit.
    strict: bool = False
