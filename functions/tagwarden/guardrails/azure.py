"""Azure guardrails from the rules file: Azure Policy assignments, as Bicep and as plain JSON.

Per catalogue tag, in the order of its sources (the first that yields wins, as in the enforcer):
- a `resource_group_tag` / `subscription_tag` source with the same key, or a plain `default`, that
  no earlier Azure source could pre-empt: the built-in "Inherit a tag from the resource group if
  missing" (or "... from the subscription if missing", or "Add a tag to resources"), a modify
  effect that never overwrites, like the enforcer. Each assignment gets a system-assigned identity
  holding Tag Contributor and a remediation task for the resources that already exist.
- a required tag none of those can fill: the built-in "Require a tag on resources" (effect Deny
  or Audit).
- `allowed` values: a custom definition denying (or auditing) other values of the tag.

Azure Policy cannot tell callers apart, so a Deny applies to every caller at the scope. It is used
only when every rule that can decide an Azure event quarantines or deletes without the tag (see
`tagwarden.guardrails.common.blanket_verdict`), and nothing in the rules' exemptions is beyond what
a policy can express; otherwise the effect is Audit, and the report says why. In audit mode every
assignment is DoNotEnforce (modify) or Audit, and no remediation runs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tagwarden.attribution.sources import Source
from tagwarden.guardrails.common import (
    GuardrailError,
    Verdict,
    blanket_verdict,
    patterns,
    reachable_rules,
    slug,
)
from tagwarden.model import Action, Provider
from tagwarden.rules.model import Mode, RuleSet

BUILTIN = "/providers/Microsoft.Authorization/policyDefinitions/"
ROLE_DEFINITIONS = "/providers/Microsoft.Authorization/roleDefinitions/"
ASSIGNMENTS = "/providers/Microsoft.Authorization/policyAssignments/"
# Built-in definitions (checked against Azure/azure-policy built-in-policies/policyDefinitions/Tags).
INHERIT_RG_IF_MISSING = "ea3f2387-9b95-492a-a190-fcdc54f7b070"  # InheritTag_Add_Modify.json
INHERIT_RG = (
    "cd3aa116-8754-49c9-a813-ad46512ece54"  # InheritTag_AddOrReplace_Modify.json (overwrites: unused)
)
INHERIT_SUB_IF_MISSING = "40df99da-1232-49b1-a39a-6da8d878f469"  # InheritTag_Add_FromSubscription.json
ADD_TAG = "4f9dc7db-30c1-420c-b61a-e1d640128d26"  # AddTag_Modify.json ("Add a tag to resources")
REQUIRE_TAG = "871b6d14-10aa-478d-b590-94f262ecfa99"  # RequireTag.json v2: effect Deny/Audit/Disabled
TAG_CONTRIBUTOR = "4a9ae827-6dc8-4573-8ac7-8239d42aa03f"

API = {
    "policyDefinitions": "Microsoft.Authorization/policyDefinitions@2023-04-01",
    "policyAssignments": "Microsoft.Authorization/policyAssignments@2023-04-01",
    "roleAssignments": "Microsoft.Authorization/roleAssignments@2022-04-01",
    "remediations": "Microsoft.PolicyInsights/remediations@2021-10-01",
}

DEFAULT_SCOPE = "/subscriptions/{subscriptionId}"
_SUBSCRIPTION = re.compile(r"/subscriptions/[^/]+")
_MANAGEMENT_GROUP = re.compile(r"/providers/Microsoft\.Management/managementGroups/[^/]+", re.IGNORECASE)

# Sources that never yield on Azure (the enforcer's Azure lookups answer None, or the field is AWS's).
_AWS_ONLY_ACTOR = {
    "arn",
    "role_name",
    "role_arn",
    "session_name",
    "source_identity",
    "user_name",
    "invoked_by",
}


def _aws_only(src: Source) -> bool:
    return src.kind in ("principal_tag", "account_tag") or (
        src.kind == "actor" and src.arg in _AWS_ONLY_ACTOR
    )


@dataclass(frozen=True, slots=True)
class Definition:
    """A custom policy definition."""

    name: str
    symbol: str
    display_name: str
    description: str
    parameters: Mapping[str, Any]
    policy_rule: Mapping[str, Any]

    def properties(self) -> dict[str, Any]:
        return {
            "policyType": "Custom",
            "mode": "Indexed",
            "displayName": self.display_name,
            "description": self.description,
            "metadata": {"category": "Tags", "source": "tagwarden"},
            "parameters": dict(self.parameters),
            "policyRule": dict(self.policy_rule),
        }


@dataclass(frozen=True, slots=True)
class Assignment:
    kind: str  # inherit-resource-group | inherit-subscription | add | require | allowed
    tag: str
    name: str  # at most 24 characters (the management-group limit)
    symbol: str
    display_name: str
    description: str
    builtin: str | None  # built-in definition GUID, or None for `custom`
    custom: Definition | None
    parameters: Mapping[str, Any]
    enforce: bool  # enforcementMode Default (True) or DoNotEnforce
    modify: bool  # needs an identity with Tag Contributor, and a remediation task
    effect: str | None = None  # Deny / Audit, for require and allowed
    why: str = ""

    @property
    def definition_id(self) -> str:
        if self.builtin is not None:
            return BUILTIN + self.builtin
        assert self.custom is not None
        return self.custom.name

    @property
    def remediate(self) -> bool:
        return self.modify and self.enforce


@dataclass(frozen=True)
class AzureGuardrails:
    source: str
    scope: str
    mode: Mode
    assignments: tuple[Assignment, ...]
    notes: tuple[str, ...] = field(default=())

    @property
    def scope_kind(self) -> str:
        return "managementGroup" if _MANAGEMENT_GROUP.fullmatch(self.scope) else "subscription"

    @property
    def definitions(self) -> tuple[Definition, ...]:
        return tuple(a.custom for a in self.assignments if a.custom is not None)

    def headline(self) -> list[str]:
        def names(kind: str) -> str:
            found = [a for a in self.assignments if a.kind == kind]
            detail = ", ".join(a.tag + (f" ({a.effect})" if a.effect else "") for a in found)
            return f"{len(found)}" + (f" [{detail}]" if found else "")

        inherit = [a for a in self.assignments if a.modify]
        return [
            f"Azure ({self.scope}): {len(self.assignments)} policy assignments, "
            f"{len(self.definitions)} custom definitions",
            f"  inherit/add if missing: {len(inherit)} [{', '.join(f'{a.tag} ({a.kind})' for a in inherit)}]"
            + ("" if all(a.remediate for a in inherit) else ", not enforced (audit mode)"),
            f"  require a tag: {names('require')}",
            f"  allowed values: {names('allowed')}",
        ]

    # --- plain JSON ------------------------------------------------------------------------------

    def policy_json(self) -> dict[str, Any]:
        """ARM-shaped objects: custom definitions, assignments, role assignments, remediations."""
        defs = [{"name": d.name, "properties": d.properties()} for d in self.definitions]
        scope = self.scope
        custom_prefix = f"{scope}/providers/Microsoft.Authorization/policyDefinitions/"
        assignments = []
        roles = []
        remediations = []
        for a in self.assignments:
            body: dict[str, Any] = {
                "name": a.name,
                "scope": scope,
                "properties": self._assignment_properties(
                    a, BUILTIN + a.builtin if a.builtin else custom_prefix + a.definition_id
                ),
            }
            if a.modify:
                body["identity"] = {"type": "SystemAssigned"}
                body["location"] = "{location}"
                roles.append(
                    {
                        "scope": scope,
                        "principalId": f"{{identity of {a.name}}}",
                        "roleDefinitionId": f"{ROLE_DEFINITIONS}{TAG_CONTRIBUTOR}",
                        "principalType": "ServicePrincipal",
                    }
                )
            if a.remediate:
                remediations.append(
                    {
                        "name": a.name,
                        "scope": scope,
                        "properties": {
                            "policyAssignmentId": f"{scope}{ASSIGNMENTS}{a.name}",
                            "resourceDiscoveryMode": self._discovery,
                        },
                    }
                )
            assignments.append(body)
        return {
            "source": f"tagwarden policy azure --rules {self.source}",
            "scope": scope,
            "policyDefinitions": defs,
            "policyAssignments": assignments,
            "roleAssignments": roles,
            "remediations": remediations,
        }

    @property
    def _discovery(self) -> str:
        # Re-evaluation is a subscription-scope feature; at a management group, remediate what the
        # last compliance scan found (run one, or wait for the daily scan, before remediating).
        return "ReEvaluateCompliance" if self.scope_kind == "subscription" else "ExistingNonCompliant"

    def _assignment_properties(self, a: Assignment, definition_id: Any) -> dict[str, Any]:
        props: dict[str, Any] = {
            "displayName": a.display_name,
            "description": a.description,
            "policyDefinitionId": definition_id,
            "parameters": {k: {"value": v} for k, v in a.parameters.items()},
            "enforcementMode": "Default" if a.enforce else "DoNotEnforce",
            "metadata": {"source": "tagwarden", "tag": a.tag},
        }
        if a.effect is not None:
            props["nonComplianceMessages"] = [{"message": f"tagwarden: {a.description}"}]
        return props

    # --- Bicep -----------------------------------------------------------------------------------

    def bicep(self) -> str:
        mg = self.scope_kind == "managementGroup"
        role_id = (
            f"tenantResourceId('Microsoft.Authorization/roleDefinitions', '{TAG_CONTRIBUTOR}')"
            if mg
            else f"subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{TAG_CONTRIBUTOR}')"
        )
        lines = [
            f"// Generated by `tagwarden policy azure --rules {self.source}`. Regenerate instead of editing.",
            f"// Scope: {self.scope}. Deploy with",
            "//   az deployment "
            + ("mg create -m <management group>" if mg else "sub create")
            + " -l <region> -f guardrails.bicep",
            "// The deploying identity needs Resource Policy Contributor and User Access Administrator",
            "// (or Owner) at the scope.",
            f"targetScope = '{self.scope_kind}'",
            "",
        ]
        if any(a.modify for a in self.assignments):
            lines += [
                "@description('Region of the policy assignments\\' managed identities')",
                "param location string = deployment().location",
                "",
            ]
        for d in self.definitions:
            lines += [
                f"// {d.display_name}",
                f"resource {d.symbol} '{API['policyDefinitions']}' = "
                + _bicep({"name": d.name, "properties": d.properties()}),
                "",
            ]
        for a in self.assignments:
            definition: Any = (
                _Raw(f"tenantResourceId('Microsoft.Authorization/policyDefinitions', '{a.builtin}')")
                if a.builtin
                else _Raw(f"{a.custom.symbol}.id" if a.custom else "")
            )
            body: dict[str, Any] = {"name": a.name}
            if a.modify:
                body["location"] = _Raw("location")
                body["identity"] = {"type": "SystemAssigned"}
            body["properties"] = self._assignment_properties(a, definition)
            comment = f"// {a.display_name}" + (f" ({a.why})" if a.why else "")
            lines += [comment, f"resource {a.symbol} '{API['policyAssignments']}' = " + _bicep(body), ""]
            if a.modify:
                role = {
                    "name": _Raw(f"guid({a.symbol}.id, '{TAG_CONTRIBUTOR}')"),
                    "properties": {
                        "roleDefinitionId": _Raw(role_id),
                        "principalId": _Raw(f"{a.symbol}.identity.principalId"),
                        "principalType": "ServicePrincipal",
                    },
                }
                lines += [
                    f"// Tag Contributor for the identity of {a.name}: the modify effect writes tags",
                    f"resource {a.symbol}Role '{API['roleAssignments']}' = " + _bicep(role),
                    "",
                ]
            if a.remediate:
                rem = {
                    "name": a.name,
                    "properties": {
                        "policyAssignmentId": _Raw(f"{a.symbol}.id"),
                        "resourceDiscoveryMode": self._discovery,
                    },
                    "dependsOn": [_Raw(f"{a.symbol}Role")],
                }
                lines += [
                    f"// Tag the resources that already exist ({a.name})",
                    f"resource {a.symbol}Remediation '{API['remediations']}' = " + _bicep(rem),
                    "",
                ]
        return "\n".join(lines).rstrip() + "\n"

    def report(self) -> str:
        lines = [
            "# Azure guardrails (generated)",
            "",
            f"Generated by `tagwarden policy azure --rules {self.source}`. Regenerate instead of editing.",
            "",
            "```",
            *self.headline(),
            "```",
            "",
            "- `guardrails.bicep`: the definitions, assignments, Tag Contributor role assignments and",
            "  remediation tasks, for `az deployment "
            + ("mg" if self.scope_kind == "managementGroup" else "sub")
            + " create`.",
            "- `policy.json`: the same as plain ARM objects (for the portal, Terraform or the CLI).",
            "",
            "| assignment | definition | tag | effect | why |",
            "| --- | --- | --- | --- | --- |",
        ]
        for a in self.assignments:
            effect = a.effect or ("Modify" if a.enforce else "Modify (DoNotEnforce)")
            definition = f"built-in `{a.builtin}`" if a.builtin else f"custom `{a.definition_id}`"
            lines.append(f"| {a.name} | {definition} | {a.tag} | {effect} | {a.why} |")
        lines.append("")
        if self.notes:
            lines += ["## Notes", "", *(f"- {n}" for n in self.notes), ""]
        lines += [
            "A new role assignment can take a few minutes to reach the remediation service; if a",
            "remediation task fails right after the first deployment, start it again from the portal",
            "(Policy > Remediation) or redeploy.",
            "",
        ]
        return "\n".join(lines)

    def files(self) -> dict[str, str]:
        return {
            "guardrails.bicep": self.bicep(),
            "policy.json": json.dumps(self.policy_json(), indent=2, ensure_ascii=False) + "\n",
            "README.md": self.report(),
        }


# --- building -----------------------------------------------------------------------------------


def build_azure(rules: RuleSet, scope: str = DEFAULT_SCOPE) -> AzureGuardrails:
    if not (_SUBSCRIPTION.fullmatch(scope) or _MANAGEMENT_GROUP.fullmatch(scope)):
        raise GuardrailError(
            f"--scope {scope!r}: give a subscription (/subscriptions/<id>) or a management group "
            "(/providers/Microsoft.Management/managementGroups/<name>); custom definitions cannot "
            "live in a resource group"
        )
    notes: list[str] = []
    gaps_every, gaps_builtin = _exemption_gaps(rules)
    unallocated = any(r.on_missing is Action.TAG_UNALLOCATED for r in reachable_rules(rules, Provider.AZURE))
    out: list[Assignment] = []
    used: set[str] = set()
    for key, spec in rules.tags.items():
        filled = _filler(key, spec.sources, notes)
        if filled is not None:
            out.append(_fill_assignment(key, filled, used, audit=rules.mode is Mode.AUDIT))
        elif spec.required:
            out.append(_require_assignment(rules, key, used, gaps_builtin))
        if spec.allowed is not None:
            out.append(_allowed_assignment(rules, key, spec.allowed, used, gaps_every, unallocated))
            if spec.allowed_folded is None:
                notes.append(f"{key}: Azure Policy compares values ignoring case; the rules do not")
    for key, spec in rules.tags.items():
        if spec.pattern is not None or spec.min_length is not None or spec.max_length is not None:
            notes.append(f"{key}: pattern and length checks are left to the enforcer")
    return AzureGuardrails(rules.source, scope, rules.mode, tuple(out), tuple(dict.fromkeys(notes)))


Filler = tuple[str, str, dict[str, Any], str]  # (kind, built-in definition, parameters, what it does)


def _fill_assignment(key: str, filled: Filler, used: set[str], audit: bool) -> Assignment:
    """A built-in modify policy that fills the tag the way its first source would."""
    kind, builtin, params, what = filled
    short = kind.split("-")[0]
    return Assignment(
        kind=kind,
        tag=key,
        name=_name(short, key, used),
        symbol=_symbol(short, key),
        display_name=f"tagwarden: {what}",
        description=f"{what}, as the enforcer would",
        builtin=builtin,
        custom=None,
        parameters=params,
        enforce=not audit,
        modify=True,
        why="the first source of the tag that a policy can read"
        + ("; audit mode: not enforced, no remediation" if audit else ""),
    )


def _require_assignment(rules: RuleSet, key: str, used: set[str], gaps: Sequence[str]) -> Assignment:
    """The built-in Require a tag policy, for a required tag no policy can derive."""
    effect, why = _effect(blanket_verdict(rules, Provider.AZURE, key), gaps)
    return Assignment(
        kind="require",
        tag=key,
        name=_name("require", key, used),
        symbol=_symbol("require", key),
        display_name=f"tagwarden: require the {key} tag",
        description=f"resources need the {key} tag (no policy can derive it)",
        builtin=REQUIRE_TAG,
        custom=None,
        parameters={"tagName": key, "effect": effect},
        enforce=True,
        modify=False,
        effect=effect,
        why=why,
    )


def _allowed_assignment(
    rules: RuleSet, key: str, allowed: frozenset[str], used: set[str], gaps: Sequence[str], unallocated: bool
) -> Assignment:
    """A custom definition of the tag's allowed values (and the unallocated marker, when the enforcer
    writes it and the policy denies)."""
    effect, why = _effect(blanket_verdict(rules, Provider.AZURE, key), gaps)
    values = sorted(allowed)
    if effect == "Deny" and unallocated:
        values = sorted({*values, rules.unallocated_value})  # the enforcer writes it
    definition = _allowed_definition(rules, key, values)
    return Assignment(
        kind="allowed",
        tag=key,
        name=_name("allowed", key, used),
        symbol=_symbol("allowed", key),
        display_name=definition.display_name,
        description=f"{key} must be one of {', '.join(values)}",
        builtin=None,
        custom=definition,
        parameters={"effect": effect},
        enforce=True,
        modify=False,
        effect=effect,
        why=why,
    )


# Sources a built-in modify policy reproduces when they read the tag's own name, as is.
_INHERITS: dict[str, tuple[str, str, str]] = {
    "resource_group_tag": ("inherit-resource-group", INHERIT_RG_IF_MISSING, "the resource group"),
    "subscription_tag": ("inherit-subscription", INHERIT_SUB_IF_MISSING, "the subscription"),
}


def _filler(key: str, sources: Sequence[Source], notes: list[str]) -> Filler | None:
    """The built-in modify policy for a tag's first source that can yield on Azure, if any can."""
    for src in sources:
        if src.kind == "request_tag" and src.arg.lower() == key.lower():
            continue  # "if missing": a tag already given is kept, as the enforcer keeps it
        if _aws_only(src):
            continue
        filled = _policy_for(key, src)
        if filled is None:
            notes.append(_why_no_policy(key, src))
        return filled
    return None


def _policy_for(key: str, src: Source) -> Filler | None:
    if src.pattern is not None or src.mapping is not None or src.case is not None:
        return None  # the value is transformed: only the enforcer can
    if src.kind in _INHERITS and src.arg.lower() == key.lower():
        kind, builtin, container = _INHERITS[src.kind]
        return kind, builtin, {"tagName": key}, f"inherit {key} from {container} if missing"
    if src.kind == "default":
        return "add", ADD_TAG, {"tagName": key, "tagValue": src.arg}, f"add {key}={src.arg} if missing"
    return None


def _why_no_policy(key: str, src: Source) -> str:
    if src.kind in _INHERITS:
        return f"{key}: source {src.label} renames or transforms the value; left to the enforcer"
    return (
        f"{key}: its first Azure source ({src.label}) is the enforcer's alone, so no policy fills "
        "the tag (a later source would pre-empt it)"
    )


def _exemption_gaps(rules: RuleSet) -> tuple[list[str], list[str]]:
    """Exemptions an assignment cannot honour, as (for every definition, for built-ins only): any
    of them keeps Deny effects off, so a policy never blocks what the enforcer would leave alone."""
    ex = rules.exemptions
    every: list[str] = []
    if ex.principals is not None:
        azure_side = [p for p in patterns(ex.principals) if not p.lower().startswith("arn:")]
        if azure_side:
            every.append(f"exempt principals {', '.join(azure_side)}: Azure Policy cannot tell callers apart")
    if ex.resource_types is not None:
        azure_types = [t for t in ex.resource_types.patterns if t.lower().startswith("microsoft.")]
        if azure_types:
            every.append(f"exempt resource types {', '.join(azure_types)}: the definitions do not skip them")
    builtin = list(every)
    if ex.marker_key is not None:
        builtin.append(f"the exemption tag {ex.marker_key}: the built-in Require definition cannot skip it")
    return every, builtin


def _effect(verdict: Verdict, gaps: Sequence[str]) -> tuple[str, str]:
    """Deny or Audit, and why."""
    if not verdict.deny:
        return "Audit", verdict.reason
    if gaps:
        return "Audit", "; ".join(gaps)
    return "Deny", verdict.reason


def _allowed_definition(rules: RuleSet, key: str, values: list[str]) -> Definition:
    field_ref = f"tags['{key.replace(chr(39), chr(39) * 2)}']"
    conditions: list[dict[str, Any]] = [
        {"field": field_ref, "exists": "true"},
        {"field": field_ref, "notIn": values},
    ]
    ex = rules.exemptions
    if ex.marker_key is not None:
        marker = f"tags['{ex.marker_key.replace(chr(39), chr(39) * 2)}']"
        conditions.append(
            {"field": marker, "notEquals": ex.marker_value}
            if ex.marker_value is not None
            else {"field": marker, "exists": "false"}
        )
    return Definition(
        name=_def_name(key),
        symbol=_symbol("allowed", key) + "Definition",
        display_name=f"tagwarden: allowed values of {key}",
        description=f"{key} must be one of the values the tagwarden rules allow",
        parameters={
            "effect": {
                "type": "String",
                "allowedValues": ["Deny", "Audit", "Disabled"],
                "defaultValue": "Audit",
                "metadata": {"displayName": "Effect"},
            }
        },
        policy_rule={"if": {"allOf": conditions}, "then": {"effect": "[parameters('effect')]"}},
    )


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:6]


def _name(kind: str, key: str, used: set[str]) -> str:
    """An assignment name: at most 24 characters (the management-group limit), stable per tag."""
    base = re.sub(r"[^a-z0-9-]+", "-", f"tw-{kind}-{key.lower()}").strip("-")
    name = base if len(base) <= 24 else f"{base[:17]}-{_hash(key)}"
    if name in used:
        name = f"{base[:17]}-{_hash(kind + key)}"
    used.add(name)
    return name


def _def_name(key: str) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", f"tagwarden-allowed-{key.lower()}").strip("-")
    return f"{base[:56]}-{_hash(key)}"


def _symbol(kind: str, key: str) -> str:
    return f"{kind}{slug(key, 40)}{_hash(key)[:4]}"


# --- a small Bicep writer ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Raw:
    """A Bicep expression written as is."""

    text: str


_KEYWORDS = {
    "if", "for", "in", "existing", "true", "false", "null", "resource", "module", "param", "var",
    "output", "targetScope", "import", "metadata", "type", "func", "assert", "with", "as",
}  # fmt: skip
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _bicep_string(text: str) -> str:
    return (
        "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("${", "\\${").replace("\n", "\\n") + "'"
    )


def _bicep(value: Any, indent: int = 0) -> str:
    if isinstance(value, _Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return _bicep_string(value)
    if isinstance(value, Mapping):
        return _bicep_object(value, indent)
    if isinstance(value, (list, tuple)):
        return _bicep_array(value, indent)
    raise TypeError(f"cannot write {type(value).__name__} as Bicep")


def _bicep_object(value: Mapping[str, Any], indent: int) -> str:
    if not value:
        return "{}"
    pad = "  " * (indent + 1)
    rows = []
    for k, v in value.items():
        key = k if _IDENT.fullmatch(k) and k not in _KEYWORDS else _bicep_string(k)
        rows.append(f"{pad}{key}: {_bicep(v, indent + 1)}")
    return "{\n" + "\n".join(rows) + f"\n{'  ' * indent}}}"


def _bicep_array(value: Sequence[Any], indent: int) -> str:
    if not value:
        return "[]"
    pad = "  " * (indent + 1)
    return "[\n" + "\n".join(f"{pad}{_bicep(v, indent + 1)}" for v in value) + f"\n{'  ' * indent}]"
