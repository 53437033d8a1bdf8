"""`tagwarden policy aws|azure`: preventive guardrails from the rules file.

Exit codes: 0 written (or printed); 1 invalid rules (raised to the caller as RulesError); 3 the
guardrails cannot be made as asked (they do not fit the cloud's limits with --strict, an unknown
--rule, a --scope Azure cannot take).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any, TextIO

from tagwarden.rules import load_rules

EXIT_OK, EXIT_GUARDRAILS = 0, 3

# Files a previous run may have left that this one would not overwrite (fewer SCPs than before).
_GENERATED = re.compile(r"(scp|identity-policy|tag-policy|bedrock-scp)(-\d+)?\.json")


def register(subparsers: Any) -> None:
    add_policy_commands(subparsers)


def add_policy_commands(subparsers: Any) -> None:
    """Add `policy aws` and `policy azure` to the top-level subparsers."""
    from tagwarden.guardrails.aws import DEFAULT_CALLED_VIA, DEFAULT_MAX_SCPS, SCP_TARGET_LIMIT
    from tagwarden.guardrails.azure import DEFAULT_SCOPE

    policy = subparsers.add_parser(
        "policy", help="generate preventive guardrails (SCPs, tag policy, Azure Policy) from the rules"
    ).add_subparsers(dest="policy_command", required=True, metavar="CLOUD")

    aws = policy.add_parser(
        "aws",
        help="SCPs and identity policies denying creates without the required tags, and a tag policy",
        description="Deny create calls that lack a required tag (aws:RequestTag), for the principals of "
        "the rules that quarantine or delete; write an AWS Organizations tag policy; report which "
        "catalogued create events only the enforcer can catch.",
    )
    aws.set_defaults(run=run_policy)
    aws.add_argument("--rules", required=True, metavar="FILE")
    aws.add_argument("--out", metavar="DIR", help="write the files here (default: print the report)")
    aws.add_argument(
        "--allow-called-via",
        action="append",
        metavar="SERVICE",
        help="let calls made through this service pass (aws:CalledVia), for tools that create first "
        f"and tag afterwards; repeatable (default: {', '.join(DEFAULT_CALLED_VIA)}; 'none' for none)",
    )
    aws.add_argument(
        "--max-scps",
        type=int,
        default=DEFAULT_MAX_SCPS,
        choices=range(1, SCP_TARGET_LIMIT + 1),
        metavar="N",
        help=f"SCPs to fill (default {DEFAULT_MAX_SCPS}: AWS allows {SCP_TARGET_LIMIT} per target, "
        "and FullAWSAccess usually holds one)",
    )
    aws.add_argument(
        "--rule",
        action="append",
        metavar="ID",
        help="deny for this rule (repeatable; default: the rules whose on_missing is quarantine or delete)",
    )
    aws.add_argument("--partition", default="aws", help="ARN partition (aws, aws-cn, aws-us-gov)")
    aws.add_argument(
        "--strict",
        action="store_true",
        help="fail (exit 3) when some preventable event does not fit, instead of leaving it out",
    )
    aws.add_argument(
        "--bedrock-principal-tag",
        action="append",
        metavar="KEY",
        help="also write bedrock-scp.json: deny invoking Bedrock models to principals without this "
        "principal tag (repeatable; e.g. Agent-ID), so Bedrock's per-principal cost attribution has it",
    )
    aws.add_argument(
        "--bedrock-role",
        action="append",
        metavar="GLOB",
        help="with --bedrock-principal-tag: only for roles named like this (default: every principal)",
    )

    azure = policy.add_parser(
        "azure",
        help="Azure Policy assignments (inherit from the resource group, require a tag, allowed values)",
        description="Write Azure Policy as Bicep (guardrails.bicep) and plain JSON (policy.json).",
    )
    azure.set_defaults(run=run_policy)
    azure.add_argument("--rules", required=True, metavar="FILE")
    azure.add_argument("--out", metavar="DIR", help="write the files here (default: print the Bicep)")
    azure.add_argument(
        "--scope",
        default=DEFAULT_SCOPE,
        help=f"a subscription or management group id (default: the placeholder {DEFAULT_SCOPE})",
    )


def run_policy(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from tagwarden.guardrails import GuardrailError

    rules = load_rules(args.rules)
    try:
        if args.policy_command == "aws":
            from tagwarden.guardrails.aws import DEFAULT_CALLED_VIA, AwsOptions, build_aws

            called_via = tuple(args.allow_called_via or DEFAULT_CALLED_VIA)
            if called_via == ("none",):
                called_via = ()
            options = AwsOptions(
                allow_called_via=called_via,
                max_scps=args.max_scps,
                partition=args.partition,
                rules=tuple(args.rule) if args.rule else None,
                strict=args.strict,
            )
            aws = build_aws(rules, options)
            files, summary, text = aws.files(), aws.headline(), aws.report()
            if args.bedrock_principal_tag:
                from tagwarden.guardrails.bedrock import build_bedrock

                bedrock = build_bedrock(
                    rules, args.bedrock_principal_tag, args.bedrock_role or (), args.partition
                )
                files.update(bedrock.files())
                files["README.md"] = files.get("README.md", "") + bedrock.report()
                summary, text = [*summary, *bedrock.headline()], text + bedrock.report()
        else:
            from tagwarden.guardrails.azure import build_azure

            azure = build_azure(rules, args.scope)
            files, summary, text = azure.files(), azure.headline(), azure.bicep()
    except GuardrailError as exc:
        print(f"tagwarden: {exc}", file=err)
        return EXIT_GUARDRAILS
    if not args.out:
        out.write(text)
        return EXIT_OK
    write_files(Path(args.out), files)
    for line in summary:
        print(line, file=out)
    print(f"wrote {len(files)} files to {args.out}", file=out)
    return EXIT_OK


def write_files(directory: Path, files: dict[str, str]) -> None:
    """Write the files, removing generated ones a previous run left that this one does not write."""
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.iterdir():
        if _GENERATED.fullmatch(stale.name) and stale.name not in files:
            stale.unlink()
    for name, content in files.items():
        (directory / name).write_text(content, encoding="utf-8")
