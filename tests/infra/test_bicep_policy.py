"""infra/azure/policy: the DeployIfNotExists policy that joins every subscription of a management
group (new ones included) to the one function app. The definition is JSON
(join-subscription.policy.json, loaded by join-subscriptions.bicep): its deployment must create
the same system topic and event subscriptions as main.bicep's modules, skip what the code skips,
and pass every parameter through; the Bicep grants custom roles only at the management group."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from test_bicep import AZURE, STORAGE_BLOB_DATA_CONTRIBUTOR, bicep, module_file, raw

from tagwarden.azure.normalize.eventgrid import _SKIP_OPERATIONS

POLICY = AZURE / "policy"
DEFINITION = json.loads((POLICY / "join-subscription.policy.json").read_text())
BICEP = POLICY / "join-subscriptions.bicep"
EVENTS = AZURE / "modules" / "event-subscription.bicep"
TOPIC = AZURE / "modules" / "system-topic.bicep"
ROLES = AZURE / "modules" / "subscription-roles.bicep"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"
PARAM_REF = re.compile(r"parameters\('(\w+)'\)")


def details() -> dict[str, Any]:
    found: dict[str, Any] = DEFINITION["policyRule"]["then"]["details"]
    return found


def template() -> dict[str, Any]:
    found: dict[str, Any] = details()["deployment"]["properties"]["template"]
    return found


def nested(name: str) -> dict[str, Any]:
    (dep,) = [
        r
        for r in template()["resources"]
        if r["type"] == "Microsoft.Resources/deployments" and name in r["name"]
    ]
    return dep


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def refs(value: Any) -> set[str]:
    return {m for s in strings(value) for m in PARAM_REF.findall(s)}


def test_it_deploys_into_subscriptions_lacking_the_topic() -> None:
    rule = DEFINITION["policyRule"]
    assert DEFINITION["mode"] == "All"  # subscriptions are evaluated in mode All only
    assert rule["if"] == {"field": "type", "equals": "Microsoft.Resources/subscriptions"}
    assert rule["then"]["effect"] == "[parameters('effect')]"
    effect = DEFINITION["parameters"]["effect"]
    assert effect["defaultValue"] == "DeployIfNotExists"
    assert set(effect["allowedValues"]) == {"DeployIfNotExists", "AuditIfNotExists", "Disabled"}
    d = details()
    assert d["type"] == "Microsoft.EventGrid/systemTopics"
    assert d["name"] == "[parameters('systemTopicName')]"
    assert d["resourceGroupName"] == "[parameters('resourceGroupName')]"
    assert d["existenceCondition"] == {
        "field": "Microsoft.EventGrid/systemTopics/topicType",
        "equals": "Microsoft.Resources.Subscriptions",
    }
    assert d["deploymentScope"] == "subscription"  # the resource group is created by the deployment
    assert d["deployment"]["location"] == "[parameters('location')]"
    assert "roleDefinitionIds" not in d  # added by the Bicep: the custom role's id is known there


def test_every_parameter_reaches_the_deployment_and_each_nested_template_uses_its_own() -> None:
    policy_params = set(DEFINITION["parameters"]) - {"effect"}
    passed = details()["deployment"]["properties"]["parameters"]
    assert passed == {n: {"value": f"[parameters('{n}')]"} for n in policy_params}
    outer = template()
    assert set(outer["parameters"]) == policy_params
    kinds = {"String": "string", "Integer": "int"}
    for name, spec in outer["parameters"].items():
        assert spec["type"] == kinds[DEFINITION["parameters"][name]["type"]], name
    top_level = [{k: v for k, v in r.items() if k != "properties"} for r in outer["resources"]]
    used = refs(top_level) | {
        n for r in outer["resources"] for n in refs(r.get("properties", {}).get("parameters", {}))
    }
    assert used == policy_params, policy_params ^ used
    for dep in (r for r in outer["resources"] if r["type"] == "Microsoft.Resources/deployments"):
        inner = dep["properties"]
        assert inner["expressionEvaluationOptions"] == {"scope": "inner"}, dep["name"]
        assert set(inner["parameters"]) == set(inner["template"]["parameters"]), dep["name"]
        assert refs(inner["template"]) == set(inner["template"]["parameters"]), dep["name"]
        assert refs(inner["parameters"]) <= policy_params | {"resourceGroupName"}, dep["name"]


def test_the_topic_is_main_bicep_s_topic() -> None:
    topic = bicep(TOPIC).resources["systemTopic"].value
    inner = nested("system-topic")["properties"]["template"]["resources"]
    (res,) = [r for r in inner if r["type"] == "Microsoft.EventGrid/systemTopics"]
    assert res["type"] == topic_type(TOPIC, "systemTopic")
    assert res["apiVersion"] == api(TOPIC, "systemTopic")
    assert res["location"] == topic["location"] == "global"
    assert res["identity"] == topic["identity"] == {"type": "SystemAssigned"}
    assert res["properties"]["topicType"] == topic["properties"]["topicType"]
    assert (
        res["properties"]["source"] == "[subscription().id]"
        and raw(topic["properties"]["source"]) == "subscription().id"
    )


def topic_type(path: Any, name: str) -> str:
    return bicep(path).resources[name].type.split("@")[0]


def api(path: Any, name: str) -> str:
    return bicep(path).resources[name].type.split("@")[1]


@pytest.mark.parametrize(("decl", "param"), [("resourceWrites", "name"), ("tagWrites", "tagWritesName")])
def test_the_event_subscriptions_are_main_bicep_s(decl: str, param: str) -> None:
    file = bicep(EVENTS)
    ours = file.resources[decl]
    name = file.params[param].value
    inner = nested("event-subscriptions")["properties"]["template"]
    (res,) = [r for r in inner["resources"] if r["name"].endswith(f"/{name}')]")]
    assert res["type"] == ours.type.split("@")[0] and res["apiVersion"] == ours.type.split("@")[1]
    theirs = ours.value["properties"]
    props = res["properties"]
    assert props["filter"] == theirs["filter"]  # the same types and advanced filters, literally
    assert props["eventDeliverySchema"] == theirs["eventDeliverySchema"]
    dest = props["destination"]
    assert dest["endpointType"] == "AzureFunction"
    batch = {k: v for k, v in theirs["destination"]["properties"].items() if k != "resourceId"}
    assert {k: v for k, v in dest["properties"].items() if k != "resourceId"} == batch
    assert dest["properties"]["resourceId"] == "[variables('functionId')]"
    function_id = inner["variables"]["functionId"]
    assert (
        "'Microsoft.Web/sites/functions', parameters('functionAppName'), parameters('functionName')"
        in function_id
    )
    dead = props["deadLetterWithResourceIdentity"]
    assert dead["identity"] == {"type": "SystemAssigned"}  # through the topic's identity only
    assert (
        dead["deadLetterDestination"]["properties"]["blobContainerName"]
        == "[parameters('deadLetterContainerName')]"
    )
    assert set(props["retryPolicy"]) == set(theirs["retryPolicy"])


def test_the_resource_writes_skip_what_the_code_skips() -> None:
    inner = nested("event-subscriptions")["properties"]["template"]
    (writes,) = [r for r in inner["resources"] if "resource-writes" in r["name"]]
    (skip,) = writes["properties"]["filter"]["advancedFilters"]
    assert skip["operatorType"] == "StringNotIn" and skip["key"] == "data.operationName"
    # what the code skips anyway (it skips more: those never reach it as creates either)
    assert {v.lower() for v in skip["values"]} <= {v.lower() for v in _SKIP_OPERATIONS}
    assert "microsoft.resources/tags/write" in {v.lower() for v in skip["values"]}  # our own tag writes


def test_dead_letters_are_granted_before_the_event_subscriptions_are_made() -> None:
    writer = nested("dead-letter")
    assert writer["subscriptionId"] == "[parameters('appSubscriptionId')]"
    assert writer["resourceGroup"] == "[parameters('appResourceGroupName')]"
    (grant,) = writer["properties"]["template"]["resources"]
    assert grant["type"] == "Microsoft.Authorization/roleAssignments"
    assert grant["properties"]["roleDefinitionId"].endswith(f"'{STORAGE_BLOB_DATA_CONTRIBUTOR}')]")
    assert grant["properties"]["principalType"] == "ServicePrincipal"
    assert "containers/{1}" in grant["scope"]  # the container, not the account
    principal = writer["properties"]["parameters"]["principalId"]["value"]
    assert "tagwarden-system-topic" in principal and principal.endswith(".outputs.principalId.value]")
    events = nested("event-subscriptions")
    assert any("tagwarden-dead-letter-" in d for d in events["dependsOn"])
    assert any("tagwarden-system-topic" in d for d in events["dependsOn"])


def test_each_joined_topic_alerts_like_main_bicep_s() -> None:
    """The same metric alerts as modules/dead-letter-alert.bicep, when given the action group."""
    file = bicep(AZURE / "modules" / "dead-letter-alert.bicep")
    ours = file.resources["alerts"]
    inner = nested("system-topic")["properties"]["template"]
    (alert,) = [r for r in inner["resources"] if r["type"] == "Microsoft.Insights/metricAlerts"]
    assert alert["apiVersion"] == ours.type.split("@")[1]
    assert alert["condition"] == "[not(empty(parameters('actionGroupId')))]"
    assert inner["variables"]["metrics"] == file.resolve(ours.value.iterable)
    assert alert["copy"]["count"] == "[length(variables('metrics'))]"
    theirs = ours.value.body["properties"]
    props = alert["properties"]
    for key in ("severity", "enabled", "evaluationFrequency", "windowSize", "autoMitigate"):
        assert props[key] == theirs[key], key
    (criterion,) = props["criteria"]["allOf"]
    (their_criterion,) = theirs["criteria"]["allOf"]
    same = {k: v for k, v in their_criterion.items() if not hasattr(v, "raw")}
    assert {k: criterion[k] for k in same} == same
    assert criterion["metricName"] == "[variables('metrics')[copyIndex()].metric]"
    assert props["actions"] == [{"actionGroupId": "[parameters('actionGroupId')]"}]
    assert props["scopes"] == [
        "[resourceId('Microsoft.EventGrid/systemTopics', parameters('systemTopicName'))]"
    ]


# --- the Bicep ---------------------------------------------------------------------------------------


def test_the_bicep_loads_the_definition_and_adds_the_wiring_role() -> None:
    file = bicep(BICEP)
    assert file.target_scope == "managementGroup"
    assert raw(file.vars["definition"].value) == "loadJsonContent('join-subscription.policy.json')"
    props = file.resources["joinDefinition"].value["properties"]
    assert props["policyType"] == "Custom"
    assert raw(props["policyRule"]["if"]) == "definition.policyRule.if"
    details_expr = raw(props["policyRule"]["then"]["details"])
    assert (
        details_expr.startswith("union(definition.policyRule.then.details,")
        and "wiringRole.id" in details_expr
    )
    assignment = file.resources["joinAssignment"].value
    assert assignment["identity"] == {"type": "SystemAssigned"}  # DeployIfNotExists remediates with it
    assert len(assignment["name"]) <= 24  # Azure's limit at management-group scope
    assert set(assignment["properties"]["parameters"]) == set(DEFINITION["parameters"])
    for name, value in assignment["properties"]["parameters"].items():
        assert raw(value["value"]) == name
        if name != "effect":
            default = DEFINITION["parameters"][name].get("defaultValue")
            if default is not None:
                assert file.params[name].value == default, name  # the same defaults both sides


def test_management_group_grants_are_custom_roles_scoped_to_the_group() -> None:
    file = bicep(BICEP)
    wiring = file.resources["wiringRole"].value["properties"]
    (perms,) = wiring["permissions"]
    actions = perms["actions"]
    assert not any("*" in a for a in actions)
    writes = {a for a in actions if not a.endswith("/read")}
    assert writes == {
        "Microsoft.Resources/subscriptions/resourceGroups/write",
        "Microsoft.Resources/deployments/write",
        "Microsoft.EventGrid/systemTopics/write",
        "Microsoft.EventGrid/systemTopics/eventSubscriptions/write",
        "Microsoft.Insights/metricAlerts/write",
    }
    for role in ("wiringRole", "appRole"):
        scopes = file.resources[role].value["properties"]["assignableScopes"]
        assert [raw(s) for s in scopes] == ["managementGroup().id"], role
    grants = {d.name: d.value["properties"] for d in file.resources.values() if "roleAssignments" in d.type}
    assert raw(grants["wiringGrant"]["roleDefinitionId"]) == "wiringRole.id"
    assert raw(grants["wiringGrant"]["principalId"]) == "joinAssignment.identity.principalId"
    assert raw(grants["appGrant"]["roleDefinitionId"]) == "appRole.id"
    assert raw(grants["appGrant"]["principalId"]) == "principalId"


def test_the_apps_role_is_reads_tags_and_the_lifecycle_role() -> None:
    file = bicep(BICEP)
    (perms,) = file.resources["appRole"].value["properties"]["permissions"]
    actions = raw(perms["actions"])
    assert "'*/read'" in actions and "'Microsoft.Resources/tags/*'" in actions
    # the membership gate's read at the group (tests/azure/test_azure_role.py measures it)
    assert "'Microsoft.Management/managementGroups/descendants/read'" in actions
    assert "allowQuarantine ? lifecycleActions : []" in actions
    lifecycle = bicep(ROLES).resources["lifecycleRole"].value["properties"]["permissions"][0]["actions"]
    assert file.vars["lifecycleActions"].value == lifecycle  # in step with the per-subscription role


def test_the_policy_identity_may_grant_only_the_dead_letter_role_on_the_apps_storage() -> None:
    file = bicep(BICEP)
    module = file.modules["deadLetterDelegation"]
    assert raw(module.value["scope"]) == "resourceGroup(appSubscriptionId, appResourceGroupName)"
    assert raw(module.value["params"]["principalId"]) == "joinAssignment.identity.principalId"
    target = module_file(BICEP, module)
    grant = target.resources["delegation"].value
    assert raw(grant["scope"]) == "storage"
    assert RBAC_ADMINISTRATOR in json.dumps(target.vars["rbacAdministrator"].value)
    assert "rbacAdministrator" in raw(grant["properties"]["roleDefinitionId"])
    condition = raw(grant["properties"]["condition"])
    assert grant["properties"]["conditionVersion"] == "2.0"
    assert condition.count("GuidEquals {${storageBlobDataContributor}}") == 2  # write and delete
    assert target.vars["storageBlobDataContributor"].value == STORAGE_BLOB_DATA_CONTRIBUTOR
