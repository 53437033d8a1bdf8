"""Bedrock guardrail: only principals that carry an `Agent-ID` principal tag may invoke models.

Bedrock records the calling IAM principal of every inference request; with the principal's tags
activated as cost allocation tags, Cost Explorer and CUR 2.0 attribute the spend to them with no
code change. That only works if every role allowed to invoke carries the tags: this SCP denies
the invoke actions to a principal without them (`Null aws:PrincipalTag/<key>`), optionally only
for the roles named (`--bedrock-role agent-*`), never for the rules' exempt principals or
service-linked roles. The same document works as an identity policy outside an Organization.

CLI: `tagwarden policy aws --rules R --bedrock-principal-tag Agent-ID [--bedrock-role GLOB] --out D`
writes `bedrock-scp.json` beside the other guardrails.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tagwarden.guardrails.common import GuardrailError, patterns
from tagwarden.guardrails.iamdb import IamDatabase, default_database
from tagwarden.rules.model import RuleSet

SCP_LIMIT = 5120
# Converse needs bedrock:InvokeModel, ConverseStream bedrock:InvokeModelWithResponseStream.
INVOKE_ACTIONS = (
    "InvokeModel",
    "InvokeModelWithResponseStream",
    "CreateModelInvocationJob",  # batch inference
    "InvokeAgent",
    "InvokeInlineAgent",
    "InvokeFlow",
)
SERVICE_LINKED = "arn:{partition}:iam::*:role/aws-service-role/*"


@dataclass(frozen=True, slots=True)
class BedrockGuardrail:
    tags: tuple[str, ...]
    roles: tuple[str, ...]
    policy: dict[str, Any]
    notes: tuple[str, ...]

    def minified(self) -> str:
        return json.dumps(self.policy, separators=(",", ":"))

    def files(self) -> dict[str, str]:
        return {"bedrock-scp.json": self.minified()}

    def headline(self) -> list[str]:
        who = ", ".join(self.roles) if self.roles else "every principal"
        return [
            f"Bedrock: deny invoking models to {who} without principal tag {', '.join(self.tags)} "
            f"({len(self.minified()):,} characters; limit {SCP_LIMIT:,})"
        ]

    def report(self) -> str:
        lines = ["", "## Bedrock: principal tags required to invoke", "", *self.headline(), ""]
        lines += [f"- {n}" for n in self.notes]
        lines += ["", "```json", json.dumps(self.policy, indent=2), "```", ""]
        return "\n".join(lines)


def _role_arns(glob: str, partition: str) -> list[str]:
    return [f"arn:{partition}:iam::*:role/{glob}", f"arn:{partition}:iam::*:role/*/{glob}"]


def _exempt_arns(rules: RuleSet, partition: str) -> tuple[list[str], list[str]]:
    """aws:PrincipalArn patterns of the rules' exempt principals (role ARNs for sessions)."""
    out: list[str] = []
    notes: list[str] = []
    principals = rules.exemptions.principals
    for glob in patterns(principals) if principals is not None else ():
        parts = glob.split(":", 5)
        if len(parts) < 6 or not glob.lower().startswith("arn:"):
            notes.append(f"exemption {glob!r} is not an ARN: the SCP cannot exempt it")
            continue
        _, part, service, _region, account, resource = parts
        part = partition if part in ("", "*") else part
        if service == "sts" and resource.startswith("assumed-role/"):
            role = resource.removeprefix("assumed-role/").split("/")[0]
            out += [f"arn:{part}:iam::{account}:role/{role}", f"arn:{part}:iam::{account}:role/*/{role}"]
        else:
            out.append(glob.replace("[", "*").replace("]", "*") if "[" in glob else glob)
    return out, notes


def build_bedrock(
    rules: RuleSet,
    tags: Sequence[str] = ("Agent-ID",),
    roles: Sequence[str] = (),
    partition: str = "aws",
    db: IamDatabase | None = None,
) -> BedrockGuardrail:
    if not tags:
        raise GuardrailError("--bedrock-principal-tag: name at least one tag key")
    db = db or default_database()
    notes: list[str] = []
    actions: list[str] = []
    for name in INVOKE_ACTIONS:
        spelled = db.action_name("bedrock", name)
        if spelled is None:
            notes.append(f"bedrock:{name} is not in the IAM database ({db.version}): left out")
        else:
            actions.append(f"bedrock:{spelled}")
    exempt, exempt_notes = _exempt_arns(rules, partition)
    notes += exempt_notes
    exempt = sorted({*exempt, SERVICE_LINKED.format(partition=partition)})
    statements = []
    for key in tags:
        condition: dict[str, dict[str, Any]] = {
            "Null": {f"aws:PrincipalTag/{key}": "true"},
            "ArnNotLike": {"aws:PrincipalArn": exempt},
        }
        if roles:
            condition["ArnLike"] = {
                "aws:PrincipalArn": sorted({a for g in roles for a in _role_arns(g, partition)})
            }
        statements.append(
            {
                "Sid": "TagwardenBedrockRequires" + "".join(c for c in key if c.isalnum()),
                "Effect": "Deny",
                "Action": actions,
                "Resource": "*",
                "Condition": condition,
            }
        )
    policy = {"Version": "2012-10-17", "Statement": statements}
    made = BedrockGuardrail(tuple(tags), tuple(roles), policy, tuple(notes))
    if len(made.minified()) > SCP_LIMIT:
        raise GuardrailError(f"the Bedrock SCP is {len(made.minified())} characters, over {SCP_LIMIT}")
    notes.append(
        "activate the tag keys as cost allocation tags (Billing console) so Cost Explorer and CUR 2.0 "
        "show Bedrock spend per principal tag"
    )
    return BedrockGuardrail(tuple(tags), tuple(roles), policy, tuple(notes))
