"""infra/azure/subscriptions.bicep: one function app serving many subscriptions, checked with the
Bicep reader of test_bicep.py: a module per listed subscription at that subscription's scope,
reusing main.bicep's modules pointed at the app, and the app acting on exactly those."""

from __future__ import annotations

from test_bicep import (
    AZURE,
    MAIN,
    READER,
    TAG_CONTRIBUTOR,
    VIRTUAL_MACHINE_CONTRIBUTOR,
    Loop,
    bicep,
    module_file,
    raw,
    role_guids,
)

SUBSCRIPTIONS = AZURE / "subscriptions.bicep"
MEMBER = AZURE / "modules" / "member-subscription.bicep"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"


def test_a_module_per_listed_subscription_at_its_scope() -> None:
    file = bicep(SUBSCRIPTIONS)
    assert file.target_scope == "managementGroup"
    assert file.params["subscriptionIds"].type == "array"
    (members,) = file.modules.values()
    assert isinstance(members.value, Loop)
    assert members.value.names == ("subscriptionId",) and raw(members.value.iterable) == "subscriptionIds"
    body = members.value.body
    assert raw(body["scope"]) == "subscription(subscriptionId)"
    assert "subscriptionId" in raw(body["name"])  # deployment names unique per subscription
    assert module_file(SUBSCRIPTIONS, members).path == MEMBER
    assert bicep(MEMBER).target_scope == "subscription"


def test_each_member_reuses_main_bicep_modules_pointed_at_the_app() -> None:
    member = bicep(MEMBER)
    main_modules = {module_file(MAIN, d).path for d in bicep(MAIN).modules.values()}
    used = {module_file(MEMBER, d).path for d in member.modules.values()}
    assert {p for p in used if p.name != "dead-letter-writer.bicep"} <= main_modules
    topic = member.modules["systemTopic"].value
    assert raw(topic["scope"]) == "rg"
    assert topic["params"]["grantDeadLetterWriter"] is False  # the storage is in the app's subscription
    events = member.modules["eventSubscription"].value
    assert raw(events["scope"]) == "rg"
    assert raw(events["params"]["appSubscriptionId"]) == "appSubscriptionId"
    assert raw(events["params"]["appResourceGroupName"]) == "appResourceGroupName"
    writer = member.modules["deadLetterWriter"].value
    assert raw(writer["scope"]) == "resourceGroup(appSubscriptionId, appResourceGroupName)"
    assert raw(writer["params"]["principalId"]) == "systemTopic.outputs.principalId"


def test_the_event_subscription_finds_the_app_in_its_own_resource_group() -> None:
    events = bicep(AZURE / "modules" / "event-subscription.bicep")
    for name in ("functionApp", "storage"):
        decl = events.resources[name]
        assert decl.existing
        assert raw(decl.value["scope"]) == "resourceGroup(appSubscriptionId, appResourceGroupName)"
    # Alone (main.bicep), the defaults are its own subscription and group.
    assert raw(events.params["appSubscriptionId"].value) == "subscription().subscriptionId"
    assert raw(events.params["appResourceGroupName"].value) == "resourceGroup().name"


def test_each_member_grants_the_apps_identity_the_same_roles_as_its_own_subscription() -> None:
    member = bicep(MEMBER)
    roles = member.modules["subscriptionRoles"].value
    assert "scope" not in roles  # the member subscription itself
    assert raw(roles["params"]["principalId"]) == "principalId"
    target = module_file(MEMBER, member.modules["subscriptionRoles"])
    assignments = [d for d in target.resources.values() if "roleDefinitionId" in d.value.get("properties", {})]
    granted = set().union(*(role_guids(target, d, d.value) for d in assignments))
    # built-in Tag Contributor and Reader, plus the custom lifecycle role (never VM Contributor)
    assert {TAG_CONTRIBUTOR, READER} <= granted and VIRTUAL_MACHINE_CONTRIBUTOR not in granted
    assert any("lifecycleRole" in raw(d.value["properties"]["roleDefinitionId"]) for d in assignments)
    writer = module_file(MEMBER, member.modules["deadLetterWriter"])
    grant = writer.resources["memberTopicWriter"]
    assert role_guids(writer, grant, grant.value) == {STORAGE_BLOB_DATA_CONTRIBUTOR}
    assert raw(grant.value["scope"]) == "deadLetterContainer"


def test_every_member_parameter_is_fed_from_the_management_group_deployment() -> None:
    file = bicep(SUBSCRIPTIONS)
    (members,) = file.modules.values()
    passed = members.value.body["params"]
    assert set(passed) == set(bicep(MEMBER).params)
    for name, value in passed.items():
        assert raw(value) == name, name  # passed through under the same name


def test_the_app_acts_on_its_own_and_the_member_subscriptions() -> None:
    main = bicep(MAIN)
    assert main.params["memberSubscriptionIds"].type == "array"
    assert main.params["memberSubscriptionIds"].value == []  # one subscription by default
    assert raw(main.modules["app"].value["params"]["memberSubscriptionIds"]) == "memberSubscriptionIds"
    # With the join policy: the group's subscriptions are members, no list (empty: the list only).
    assert main.params["managementGroupId"].type == "string"
    assert main.params["managementGroupId"].value == ""
    assert raw(main.modules["app"].value["params"]["managementGroupId"]) == "managementGroupId"
