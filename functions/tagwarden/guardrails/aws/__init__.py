"""AWS guardrails from the rules file: SCPs (and identity policies) that deny a create request
lacking a required tag, and an AWS Organizations tag policy.

One module per concern, in the order the build runs:
- `preventable`: which catalogue events a deny at creation can cover (`coverage()`), and why not;
- `principals`: a rule's callers as `aws:PrincipalArn` patterns and StringLike keys, and the
  callers taken out (exempt principals, earlier rules' principals);
- `scope`: one rule as IAM conditions and events (`scope_rule`), or why it is skipped;
- `deny`: the deny statements per rule and tag, action lists compressed (`compress`);
- `packing`: statements fitted into policies within AWS's size and count limits (`pack`, `fit`);
- `tag_policy`: the AWS Organizations tag policy;
- `report`, `build`: the result (`AwsGuardrails`: files, coverage, README) and `build_aws`.

Who is denied is decided per rule: only rules that quarantine or delete an unattributed resource
(see `tagwarden.guardrails.common`), scoped to the principals the rule names.
"""

from __future__ import annotations

from tagwarden.guardrails.aws.build import build_aws
from tagwarden.guardrails.aws.deny import Statement, compress, statements
from tagwarden.guardrails.aws.options import (
    DEFAULT_CALLED_VIA,
    DEFAULT_MAX_SCPS,
    IDENTITY_LIMIT,
    IDENTITY_MAX,
    SCP_LIMIT,
    SCP_TARGET_LIMIT,
    TAG_POLICY_LIMIT,
    TAG_POLICY_MAX,
    VERSION,
    WARNING,
    AwsOptions,
)
from tagwarden.guardrails.aws.packing import Fitted, fit, minified, pack
from tagwarden.guardrails.aws.preventable import Coverage, EventCoverage, coverage
from tagwarden.guardrails.aws.report import AwsGuardrails
from tagwarden.guardrails.aws.scope import Condition, RuleScope, SkippedRule, scope_rule
from tagwarden.guardrails.aws.tag_policy import tag_policies

__all__ = [
    "DEFAULT_CALLED_VIA",
    "DEFAULT_MAX_SCPS",
    "IDENTITY_LIMIT",
    "IDENTITY_MAX",
    "SCP_LIMIT",
    "SCP_TARGET_LIMIT",
    "TAG_POLICY_LIMIT",
    "TAG_POLICY_MAX",
    "VERSION",
    "WARNING",
    "AwsGuardrails",
    "AwsOptions",
    "Condition",
    "Coverage",
    "EventCoverage",
    "Fitted",
    "RuleScope",
    "SkippedRule",
    "Statement",
    "build_aws",
    "compress",
    "coverage",
    "fit",
    "minified",
    "pack",
    "scope_rule",
    "statements",
    "tag_policies",
]
