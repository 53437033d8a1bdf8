"""The ARM fake speaks ARM: the real SDK's operations and models against it, and raw HTTP for the rest."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.core.pipeline.policies import RetryPolicy
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.resources.models import Tags, TagsPatchResource, TagsResource

from tagwarden.azure.arm import StaticBearerPolicy, StaticToken
from tagwarden_testing.arm_fake import ArmFake, arm_fake

SUB = "5f0c1c2d-0000-4000-8000-00000000beef"
RG = f"/subscriptions/{SUB}/resourceGroups/Data"
ACCOUNT = f"{RG}/providers/Microsoft.Storage/storageAccounts/lake1"


@pytest.fixture
def fake() -> Iterator[ArmFake]:
    with arm_fake() as f:
        f.add_resource(ACCOUNT, {"owner": "ops", "env": "dev"}, location="northeurope", kind="StorageV2")
        yield f


@pytest.fixture
def sdk(fake: ArmFake) -> Iterator[ResourceManagementClient]:
    client = ResourceManagementClient(
        StaticToken("t"),
        SUB,
        base_url=fake.endpoint,
        authentication_policy=StaticBearerPolicy("t"),
        retry_policy=RetryPolicy.no_retries(),
        polling_interval=0,
    )
    with client:
        yield client


def put(sdk: ResourceManagementClient, scope: str, tags: dict[str, str]) -> TagsResource:
    body = TagsResource(properties=Tags(tags=tags))
    return sdk.tags.begin_create_or_update_at_scope(scope, body).result()


def patch(sdk: ResourceManagementClient, scope: str, operation: str, tags: dict[str, str]) -> TagsResource:
    body = TagsPatchResource(operation=operation, properties=Tags(tags=tags))
    return sdk.tags.begin_update_at_scope(scope, body).result()


def raw(fake: ArmFake, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(fake.endpoint + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def test_models_deserialize(sdk: ResourceManagementClient) -> None:
    group = sdk.resource_groups.get("DATA")  # case-insensitive
    assert group.name == "Data" and group.location == "northeurope"
    assert group.properties is not None and group.properties.provisioning_state == "Succeeded"
    assert group.tags is None  # ARM leaves `tags` out when there are none
    res = sdk.resources.get_by_id(ACCOUNT, api_version="2023-05-01")
    assert (res.id, res.name, res.kind, res.location) == (ACCOUNT, "lake1", "StorageV2", "northeurope")
    assert res.type == "Microsoft.Storage/storageAccounts" and res.tags == {"owner": "ops", "env": "dev"}
    tags = sdk.tags.get_at_scope(ACCOUNT)
    assert tags.name == "default" and tags.type == "Microsoft.Resources/tags"
    assert tags.id == ACCOUNT + "/providers/Microsoft.Resources/tags/default"
    assert tags.properties.tags == {"owner": "ops", "env": "dev"}


def test_put_replaces_and_patch_operations(sdk: ResourceManagementClient, fake: ArmFake) -> None:
    assert put(sdk, ACCOUNT, {"a": "1"}).properties.tags == {"a": "1"}
    assert patch(sdk, ACCOUNT, "Merge", {"B": "2", "A": "one"}).properties.tags == {"A": "one", "B": "2"}
    assert patch(sdk, ACCOUNT, "Delete", {"b": "wrong value"}).properties.tags == {"A": "one", "B": "2"}
    assert patch(sdk, ACCOUNT, "Delete", {"b": "2"}).properties.tags == {"A": "one"}
    assert patch(sdk, ACCOUNT, "Delete", {"a": ""}).properties.tags is None  # `properties: {}`
    assert patch(sdk, ACCOUNT, "Replace", {"x": "y"}).properties.tags == {"x": "y"}
    assert fake.tags_of(ACCOUNT) == {"x": "y"}
    with pytest.raises(HttpResponseError) as info:
        patch(sdk, ACCOUNT, "Upsert", {"x": "y"})
    assert info.value.error is not None and info.value.error.code == "InvalidRequestContent"


@pytest.mark.parametrize(
    ("tags", "code"),
    [
        ({"a<b": "x"}, "InvalidTagNameCharacters"),
        ({"tab\there": "x"}, "InvalidTagNameCharacters"),
        ({" ": "x"}, "InvalidTagName"),
        ({"k" * 129: "x"}, "InvalidTagName"),  # 128 on a storage account
        ({"k": "v" * 257}, "InvalidTagValueLength"),
        ({f"n{i}": "v" for i in range(49)}, "InvalidTags"),  # 2 + 49 > 50
    ],
)
def test_limits_answer_400_with_arm_errors(
    sdk: ResourceManagementClient, fake: ArmFake, tags: dict[str, str], code: str
) -> None:
    with pytest.raises(HttpResponseError) as info:
        patch(sdk, ACCOUNT, "Merge", tags)
    assert info.value.status_code == 400
    assert info.value.error is not None and info.value.error.code == code
    assert fake.tags_of(ACCOUNT) == {"owner": "ops", "env": "dev"}


def test_512_character_names_elsewhere(sdk: ResourceManagementClient, fake: ArmFake) -> None:
    vm = fake.add_resource(f"{RG}/providers/Microsoft.Compute/virtualMachines/vm")
    assert patch(sdk, vm, "Merge", {"k" * 512: "x"}).properties.tags == {"k" * 512: "x"}
    with pytest.raises(HttpResponseError):
        patch(sdk, vm, "Merge", {"k" * 513: "x"})


def test_missing_scopes_are_404(sdk: ResourceManagementClient, fake: ArmFake) -> None:
    missing = f"{RG}/providers/Microsoft.Compute/disks/none"
    for call in (
        lambda: sdk.tags.get_at_scope(missing),
        lambda: patch(sdk, missing, "Merge", {"a": "1"}),
        lambda: put(sdk, missing, {"a": "1"}),
        lambda: sdk.resources.get_by_id(missing, api_version="2024-03-02"),
        lambda: sdk.resource_groups.get("nope"),
    ):
        with pytest.raises(ResourceNotFoundError):
            call()
    fake.delete_resource(RG)
    with pytest.raises(ResourceNotFoundError):
        sdk.tags.get_at_scope(ACCOUNT)
    assert fake.tags_of(f"/subscriptions/{SUB}") == {}


def test_auth_and_api_version_are_required(fake: ArmFake) -> None:
    status, body = raw(fake, ACCOUNT + "?api-version=2023-05-01")
    assert status == 401 and body["error"]["code"] == "AuthenticationFailed"
    status, body = raw(fake, ACCOUNT, {"Authorization": "Bearer x"})
    assert status == 400 and body["error"]["code"] == "MissingApiVersionParameter"
    status, body = raw(fake, f"/subscriptions/{SUB}?api-version=2022-12-01", {"Authorization": "Bearer x"})
    assert status == 200 and body["subscriptionId"] == SUB


def test_throttle_and_fail_hit_the_requests_they_name(sdk: ResourceManagementClient, fake: ArmFake) -> None:
    fake.throttle(1, retry_after=7)
    assert sdk.tags.get_at_scope(ACCOUNT).properties.tags  # reads are not throttled by default
    with pytest.raises(HttpResponseError) as info:
        patch(sdk, ACCOUNT, "Merge", {"a": "1"})
    assert info.value.status_code == 429 and info.value.response.headers["Retry-After"] == "7"
    assert info.value.error is not None and info.value.error.code == "SubscriptionRequestsThrottled"
    fake.fail(1, 503)
    with pytest.raises(HttpResponseError) as info:
        sdk.tags.get_at_scope(ACCOUNT)
    assert info.value.status_code == 503
    assert patch(sdk, ACCOUNT, "Merge", {"a": "1"}).properties.tags["a"] == "1"
    assert [(r.method, r.status) for r in fake.requests] == [
        ("GET", 200),
        ("PATCH", 429),
        ("GET", 503),
        ("PATCH", 200),
    ]


def test_long_running_put_applies_when_done(sdk: ResourceManagementClient, fake: ArmFake) -> None:
    fake.long_running(1, polls=1)
    poller = sdk.tags.begin_create_or_update_at_scope(ACCOUNT, TagsResource(properties=Tags(tags={"n": "1"})))
    assert poller.result().properties.tags == {"n": "1"}
    assert [r.status for r in fake.calls("GET", "operationStatuses")] == [200, 200]
    assert fake.calls("PUT")[0].status == 202
