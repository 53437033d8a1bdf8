"""Azure guardrails: the right built-in definitions and roles, effects that agree with the rules,
and Bicep the project's own Bicep checker (tests/infra/test_bicep.py) reads."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType
from typing import Any

import pytest
import yaml

from tagwarden.guardrails.azure import (
    ADD_TAG,
    INHERIT_RG_IF_MISSING,
    INHERIT_SUB_IF_MISSING,
    REQUIRE_TAG,
    TAG_CONTRIBUTOR,
    build_azure,
)
from tagwarden.guardrails.common import GuardrailError
from tagwarden.rules import load_rules_text

from conftest import EXAMPLE_RULES, ROOT

EXAMPLE_SOURCE = "functions/tagwarden/examples/rules.yaml"
COMMITTED = ROOT / "infra" / "azure" / "guardrails"
BUILTINS = {INHERIT_RG_IF_MISSING, INHERIT_SUB_IF_MISSING, ADD_TAG, REQUIRE_TAG}


@pytest.fixture(scope="module")
def bicep_checker() -> ModuleType:
    """tests/infra/test_bicep.py's parser, loaded as a library (with its folder on the path, for
    its own `infra_scripts` import, when this file runs without tests/infra)."""
    infra = str(ROOT / "tests" / "infra")
    if infra not in sys.path:
        sys.path.append(infra)
    spec = importlib.util.spec_from_file_location(
        "_bicep_checker", ROOT / "tests" / "infra" / "test_bicep.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():  # type: ignore[no-untyped-def]
    rules = load_rules_text(EXAMPLE_RULES.read_text(encoding="utf-8"), EXAMPLE_SOURCE, env={})
    return rules, build_azure(rules)


def load(**overrides: Any):  # type: ignore[no-untyped-def]
    doc: dict[str, Any] = {
        "version": 1,
        "mode": "enforce",
        "tags": {
            "Team": {"sources": [{"request_tag": "Team"}, {"resource_group_tag": "Team"}]},
            "Env": {"sources": [{"subscription_tag": "Env"}]},
            "Tier": {"sources": [{"principal_tag": "Tier"}, {"default": "bronze"}]},
            "Owner": {"sources": [{"request_tag": "Owner"}]},
            "CostCenter": {"allowed": ["1", "2"], "sources": [{"request_tag": "CostCenter"}]},
        },
        "defaults": {"on_missing": "quarantine"},
        "rules": [],
    }
    doc.update(overrides)
    return load_rules_text(yaml.safe_dump(doc), "test.yaml", env={})


def by_tag(g: Any) -> dict[tuple[str, str], Any]:
    return {(a.kind, a.tag): a for a in g.assignments}


def test_example_assignments(example: Any) -> None:
    _, g = example
    got = by_tag(g)
    assert set(got) == {
        ("inherit-resource-group", "CostCenter"),
        ("inherit-resource-group", "Outcome-ID"),
        ("require", "Agent-ID"),
        ("allowed", "CostCenter"),
    }
    for tag in ("CostCenter", "Outcome-ID"):
        a = got["inherit-resource-group", tag]
        assert a.builtin == INHERIT_RG_IF_MISSING  # "if missing": the enforcer never overwrites
        assert a.parameters == {"tagName": tag}
        assert a.modify and a.enforce and a.remediate
    require = got["require", "Agent-ID"]
    assert require.builtin == REQUIRE_TAG
    # humans and the default rule only notify, and Azure Policy cannot tell callers apart
    assert require.effect == "Audit"
    assert "humans (notify)" in require.why
    allowed = got["allowed", "CostCenter"]
    assert allowed.custom is not None
    cond = allowed.custom.policy_rule["if"]["allOf"]
    assert {"field": "tags['CostCenter']", "notIn": ["101", "102", "205", "310"]} in cond
    assert {"field": "tags['tagwarden:exempt']", "notEquals": "true"} in cond


def test_example_bicep_references_builtins_and_roles(example: Any) -> None:
    _, g = example
    text = g.bicep()
    assert f"'{INHERIT_RG_IF_MISSING}'" in text
    assert f"'{REQUIRE_TAG}'" in text
    assert (
        text.count(f"subscriptionResourceId('Microsoft.Authorization/roleDefinitions', '{TAG_CONTRIBUTOR}')")
        == 2
    )
    assert text.count("'Microsoft.PolicyInsights/remediations@") == 2
    assert "targetScope = 'subscription'" in text


def test_example_files_are_current(example: Any) -> None:
    _, g = example
    files = g.files()
    on_disk = {p.name: p.read_text(encoding="utf-8") for p in COMMITTED.iterdir() if p.is_file()}
    assert set(on_disk) == set(files), "regenerate infra/azure/guardrails with `tagwarden policy azure`"
    for name, content in files.items():
        assert on_disk[name] == content, f"{name} is stale: regenerate with `tagwarden policy azure`"


@pytest.mark.parametrize(
    "scope", ["/subscriptions/{subscriptionId}", "/providers/Microsoft.Management/managementGroups/agents"]
)
def test_bicep_reads_with_the_project_checker(bicep_checker: ModuleType, example: Any, scope: str) -> None:
    rules, _ = example
    g = build_azure(rules, scope)
    decls = bicep_checker.Parser(g.bicep()).declarations()
    file = bicep_checker.BicepFile(COMMITTED / "x.bicep", decls)
    declared = set(file.params) | set(file.vars) | set(file.resources)
    used: set[str] = set()
    for decl in file.decls:
        if decl.kind != "targetScope":
            used |= bicep_checker.walk(decl.value)
    assert used <= declared
    assert set(file.params) <= used
    assert file.target_scope == ("subscription" if "subscriptions" in scope else "managementGroup")
    for decl in file.resources.values():
        body = decl.value
        if decl.type.startswith("Microsoft.Authorization/policyAssignments@"):
            props = body["properties"]
            definition = bicep_checker.raw(props["policyDefinitionId"])
            assert any(b in definition for b in BUILTINS) or definition.endswith("Definition.id")
            if "identity" in body:
                assert body["identity"] == {"type": "SystemAssigned"}
                assert bicep_checker.raw(body["location"]) == "location"
        if decl.type.startswith("Microsoft.Authorization/roleAssignments@"):
            assert TAG_CONTRIBUTOR in bicep_checker.raw(body["properties"]["roleDefinitionId"])
            assert body["properties"]["principalType"] == "ServicePrincipal"
            assert bicep_checker.raw(body["name"]).startswith("guid(")
        if decl.type.startswith("Microsoft.PolicyInsights/remediations@"):
            mode = body["properties"]["resourceDiscoveryMode"]
            assert mode == ("ReEvaluateCompliance" if "subscriptions" in scope else "ExistingNonCompliant")
    names = [a.name for a in g.assignments]
    assert len(set(names)) == len(names)
    assert all(len(n) <= 24 for n in names)  # the management-group limit


def test_sources_pick_the_builtin() -> None:
    g = build_azure(load())
    got = by_tag(g)
    assert got["inherit-resource-group", "Team"].builtin == INHERIT_RG_IF_MISSING
    assert got["inherit-subscription", "Env"].builtin == INHERIT_SUB_IF_MISSING
    add = got["add", "Tier"]  # principal_tag never yields on Azure, so the default comes first
    assert add.builtin == ADD_TAG
    assert add.parameters == {"tagName": "Tier", "tagValue": "bronze"}
    assert ("require", "Team") not in got
    assert got["require", "Owner"].builtin == REQUIRE_TAG


def test_deny_only_where_every_rule_quarantines() -> None:
    g = build_azure(load())  # every rule (the default) quarantines, no exemptions
    got = by_tag(g)
    assert got["require", "Owner"].effect == "Deny"
    assert got["require", "Owner"].parameters["effect"] == "Deny"
    assert got["allowed", "CostCenter"].effect == "Deny"
    lenient = build_azure(
        load(rules=[{"id": "people", "match": {"actor_kind": "user"}, "on_missing": "notify"}])
    )
    assert by_tag(lenient)["require", "Owner"].effect == "Audit"
    unallocated = build_azure(
        load(rules=[{"id": "apps", "match": {"actor_kind": "app"}, "on_missing": "tag-unallocated"}])
    )
    assert by_tag(unallocated)["allowed", "CostCenter"].effect == "Audit"
    # only AWS rules: they never decide an Azure event
    aws_only = build_azure(load(rules=[{"id": "a", "match": {"provider": "aws"}, "on_missing": "notify"}]))
    assert by_tag(aws_only)["require", "Owner"].effect == "Deny"


def test_the_marker_keeps_the_builtin_require_at_audit() -> None:
    g = build_azure(load(exemptions={"marker_tag": {"key": "skip", "value": "yes"}}))
    got = by_tag(g)
    assert got["require", "Owner"].effect == "Audit"
    assert "skip" in got["require", "Owner"].why
    allowed = got["allowed", "CostCenter"]
    assert allowed.effect == "Deny"  # the custom definition skips the marker itself
    assert allowed.custom is not None
    assert {"field": "tags['skip']", "notEquals": "yes"} in allowed.custom.policy_rule["if"]["allOf"]


def test_audit_mode_changes_nothing() -> None:
    g = build_azure(load(mode="audit"))
    for a in g.assignments:
        if a.modify:
            assert not a.enforce and not a.remediate
        else:
            assert a.effect == "Audit"
    assert "Remediation" not in g.bicep()
    assert "'DoNotEnforce'" in g.bicep()


def test_transformed_sources_are_left_to_the_enforcer() -> None:
    rules = load(tags={"Team": {"sources": [{"resource_group_tag": "team-name", "case": "lower"}]}})
    g = build_azure(rules)
    assert [(a.kind, a.tag) for a in g.assignments] == [("require", "Team")]
    assert any("team-name" in n for n in g.notes)


def test_scope() -> None:
    rules = load()
    with pytest.raises(GuardrailError, match="resource group"):
        build_azure(rules, "/subscriptions/x/resourceGroups/rg")
    mg = build_azure(rules, "/providers/Microsoft.Management/managementGroups/agents")
    assert "targetScope = 'managementGroup'" in mg.bicep()
    assert f"tenantResourceId('Microsoft.Authorization/roleDefinitions', '{TAG_CONTRIBUTOR}')" in mg.bicep()


def test_policy_json(example: Any) -> None:
    _, g = example
    doc = g.policy_json()
    defined = {d["name"] for d in doc["policyDefinitions"]}
    for a in doc["policyAssignments"]:
        definition = a["properties"]["policyDefinitionId"]
        tail = definition.rsplit("/", 1)[1]
        assert tail in BUILTINS or tail in defined
        assert a["scope"] == "/subscriptions/{subscriptionId}"
    assert len(doc["roleAssignments"]) == len(doc["remediations"]) == 2
    assert all(r["roleDefinitionId"].endswith(TAG_CONTRIBUTOR) for r in doc["roleAssignments"])
    json.dumps(doc)


def test_cli_writes_bicep(tmp_path: Any) -> None:
    import argparse
    import io

    from tagwarden.cli.policy import add_policy_commands, run_policy

    parser = argparse.ArgumentParser(prog="tagwarden")
    add_policy_commands(parser.add_subparsers(dest="command", required=True))
    out = io.StringIO()
    args = parser.parse_args(["policy", "azure", "--rules", str(EXAMPLE_RULES), "--out", str(tmp_path)])
    assert run_policy(args, out, io.StringIO()) == 0
    assert {p.name for p in tmp_path.iterdir()} == {"guardrails.bicep", "policy.json", "README.md"}
    bad = parser.parse_args(["policy", "azure", "--rules", str(EXAMPLE_RULES), "--scope", "/nope"])
    assert run_policy(bad, io.StringIO(), io.StringIO()) == 3
