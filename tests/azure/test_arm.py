"""The ARM port with the real SDK (azure-mgmt-resource) against the local fake over HTTP.

Every sleep (throttling, backoff, LRO polling) goes through the injected `sleep`, recorded here,
so nothing waits for real.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tagwarden.attribution.context import ResourceGone, Scope
from tagwarden.azure.arm import (
    ANY_SUBSCRIPTION,
    ArmCallFailed,
    ArmClient,
    Retry,
    StaticBearerPolicy,
    type_tagging,
)
from tagwarden.azure.lookups import ArmLookups, LookupFailed, ResourceVanished
from tagwarden.model import Actor, ActorKind, Provider, Resource
from tagwarden.tagging import Outcome, TagWrite
from tagwarden_testing.arm_fake import ArmFake, arm_fake

SUB = "0b1f6471-1bf0-4dda-aec3-111122223333"
RG = f"/subscriptions/{SUB}/resourceGroups/RG-Apps"
VM = f"{RG}/providers/Microsoft.Compute/virtualMachines/vm-1"
STORAGE = f"{RG}/providers/Microsoft.Storage/storageAccounts/stacc1"
API = "2025-04-01"
TAGS_PATH = "/providers/Microsoft.Resources/tags/default"


@pytest.fixture
def fake() -> Iterator[ArmFake]:
    with arm_fake() as f:
        f.add_subscription(SUB, {"billing": "corp"})
        f.add_resource_group(SUB, "RG-Apps", {"team": "payments", "CostCenter": "cc-42"})
        f.add_resource(VM, {"owner": "alice", "env": "prod"})
        f.add_resource(STORAGE)
        yield f


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def arm(fake: ArmFake, sleeps: list[float]) -> Iterator[ArmClient]:
    with ArmClient.local(fake.endpoint, sleep=sleeps.append, retry=Retry(lro_interval=0.25)) as client:
        yield client


def writes(fake: ArmFake) -> list[tuple[str, int]]:
    return [(r.method, r.status) for r in fake.requests if r.method != "GET"]


# --- reads ----------------------------------------------------------------------------------------


def test_get_tags_at_resource_group_and_subscription_scope(arm: ArmClient, fake: ArmFake) -> None:
    assert arm.get_tags(VM) == {"owner": "alice", "env": "prod"}
    assert arm.get_tags(STORAGE) == {}  # ARM answers `properties: {}` for an untagged scope
    assert arm.get_tags(RG) == {"team": "payments", "CostCenter": "cc-42"}
    assert arm.get_tags(f"/subscriptions/{SUB}") == {"billing": "corp"}
    assert arm.get_tags(f"{RG}/providers/Microsoft.Compute/virtualMachines/gone") is None
    assert {r.api_version for r in fake.requests} == {API}
    assert all(r.path.endswith(TAGS_PATH) for r in fake.requests)


def test_resource_group_and_subscription_tags(arm: ArmClient, fake: ArmFake) -> None:
    assert arm.resource_group_tags(SUB, "rg-apps") == {"team": "payments", "CostCenter": "cc-42"}
    assert arm.resource_group_tags(SUB, "no-such-rg") is None
    assert arm.subscription_tags(SUB) == {"billing": "corp"}
    assert arm.subscription_tags("9d0c0c8e-0000-0000-0000-000000000000") is None
    rg_get = fake.calls("GET", "/resourcegroups/rg-apps")[0]
    assert rg_get.path == f"/subscriptions/{SUB}/resourcegroups/rg-apps"  # the SDK's own casing


def test_get_resource_by_id(arm: ArmClient) -> None:
    found = arm.get_resource(VM, api_version="2024-07-01")
    assert found is not None
    assert (found.name, found.type, found.location) == (
        "vm-1",
        "Microsoft.Compute/virtualMachines",
        "westeurope",
    )
    assert found.tags == {"owner": "alice", "env": "prod"}
    assert arm.get_resource(VM + "x", api_version="2024-07-01") is None


def test_one_sdk_client_per_subscription_reused(arm: ArmClient) -> None:
    assert arm.client() is arm.client(ANY_SUBSCRIPTION)
    assert arm.client(SUB) is arm.client(SUB)
    assert arm.client(SUB) is not arm.client()


# --- merge ----------------------------------------------------------------------------------------


def test_merge_adds_tags_and_keeps_the_existing_ones(arm: ArmClient, fake: ArmFake) -> None:
    result = arm.merge_tags(VM, {"cost-center": "cc-7", "created-by": "bob@example.com"})
    assert result.outcome is Outcome.TAGGED, result.error
    assert (result.calls, result.attempts, result.error) == (1, 1, None)
    assert result.resource.id == VM and result.resource.type == "Microsoft.Compute/virtualMachines"
    assert fake.tags_of(VM) == {
        "owner": "alice",
        "env": "prod",
        "cost-center": "cc-7",
        "created-by": "bob@example.com",
    }
    (patch,) = fake.calls("PATCH")
    assert patch.path == VM + TAGS_PATH and patch.api_version == API
    assert patch.body == {"operation": "Merge", "properties": {"tags": result.tags}}
    assert not fake.calls("PUT") and not fake.calls("DELETE")


def test_merge_never_removes_a_tag(arm: ArmClient, fake: ArmFake) -> None:
    existing = {f"k{i}": f"v{i}" for i in range(30)}
    fake.add_resource(VM, existing)
    for batch in ({"a": "1"}, {"K3": "changed", "b": "2"}, {"k29": "v29"}):
        assert arm.merge_tags(VM, batch).outcome is Outcome.TAGGED
    after = fake.tags_of(VM)
    assert after is not None
    assert {k.lower() for k in existing} <= {k.lower() for k in after}
    assert len(after) == 32
    assert all(r.body["operation"] == "Merge" for r in fake.calls("PATCH"))


def test_merge_matches_names_case_insensitively(arm: ArmClient, fake: ArmFake) -> None:
    fake.add_resource(VM, {"CostCenter": "old", "owner": "alice"})
    assert arm.merge_tags(VM, {"costcenter": "new"}).outcome is Outcome.TAGGED
    assert fake.tags_of(VM) == {"owner": "alice", "costcenter": "new"}  # one tag per name


def test_merge_at_resource_group_and_subscription_scope(arm: ArmClient, fake: ArmFake) -> None:
    assert arm.merge_tags(RG, {"team": "payments", "tier": "gold"}).outcome is Outcome.TAGGED
    assert fake.tags_of(RG) == {"team": "payments", "CostCenter": "cc-42", "tier": "gold"}
    assert arm.merge_tags(f"/subscriptions/{SUB}", {"owner": "finops"}).outcome is Outcome.TAGGED
    assert fake.tags_of(f"/subscriptions/{SUB}") == {"billing": "corp", "owner": "finops"}


def test_merge_with_known_current_tags_skips_what_is_already_there(arm: ArmClient, fake: ArmFake) -> None:
    current = {"owner": "alice", "env": "prod"}
    nothing = arm.merge_tags(VM, {"OWNER": "alice"}, current=current)
    assert (nothing.outcome, nothing.calls) == (Outcome.TAGGED, 0)
    assert not fake.requests
    some = arm.merge_tags(VM, {"Owner": "alice", "team": "payments"}, current=current)
    assert some.outcome is Outcome.TAGGED
    assert some.tags == {"team": "payments"}  # what was written
    assert fake.calls("PATCH")[0].body["properties"]["tags"] == {"team": "payments"}


def test_write_port_returns_one_result_per_write_in_order(arm: ArmClient, fake: ArmFake) -> None:
    vm = Resource(id=VM, type="Microsoft.Compute/virtualMachines", name="vm-1", resource_group="RG-Apps")
    lock = Resource(
        id=f"{RG}/providers/Microsoft.Authorization/locks/no-delete", type="Microsoft.Authorization/locks"
    )
    results = arm.write([TagWrite(vm, {"a": "1"}), TagWrite(lock, {"a": "1"})], None)
    assert [(r.resource, r.outcome) for r in results] == [(vm, Outcome.TAGGED), (lock, Outcome.UNSUPPORTED)]


# --- throttling, transient failures, vanished resources ------------------------------------------


def test_429_honours_retry_after(arm: ArmClient, fake: ArmFake, sleeps: list[float]) -> None:
    fake.throttle(2, retry_after=3)
    result = arm.merge_tags(VM, {"a": "1"})
    assert result.outcome is Outcome.TAGGED, result.error
    assert sleeps == [3.0, 3.0]
    assert (result.attempts, result.calls) == (3, 3)
    assert writes(fake) == [("PATCH", 429), ("PATCH", 429), ("PATCH", 200)]
    assert fake.tags_of(VM) == {"owner": "alice", "env": "prod", "a": "1"}


def test_a_long_retry_after_is_capped(fake: ArmFake, sleeps: list[float]) -> None:
    fake.throttle(1, retry_after=600)
    with ArmClient.local(fake.endpoint, sleep=sleeps.append, retry=Retry(max_retry_after=20)) as arm:
        assert arm.merge_tags(VM, {"a": "1"}).outcome is Outcome.TAGGED
    assert sleeps == [20.0]


def test_throttled_reads_are_retried_too(arm: ArmClient, fake: ArmFake, sleeps: list[float]) -> None:
    fake.throttle(1, retry_after=2, methods=["GET"])
    assert arm.get_tags(VM) == {"owner": "alice", "env": "prod"}
    assert sleeps == [2.0]


def test_5xx_is_retried_with_backoff(arm: ArmClient, fake: ArmFake, sleeps: list[float]) -> None:
    fake.fail(1, 500)
    fake.fail(1, 503)
    result = arm.merge_tags(VM, {"a": "1"})
    assert result.outcome is Outcome.TAGGED, result.error
    assert result.attempts == 3
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # exponential, jittered
    assert writes(fake) == [("PATCH", 500), ("PATCH", 503), ("PATCH", 200)]


def test_persistent_5xx_fails_after_the_attempts(arm: ArmClient, fake: ArmFake, sleeps: list[float]) -> None:
    fake.fail(100, 500)
    result = arm.merge_tags(VM, {"a": "1"})
    assert result.outcome is Outcome.FAILED
    assert result.error is not None and result.error.startswith("InternalServerError:")
    assert result.attempts == 5 and len(sleeps) == 4
    assert fake.tags_of(VM) == {"owner": "alice", "env": "prod"}


def test_404_is_vanished_after_the_not_found_window(fake: ArmFake, sleeps: list[float]) -> None:
    gone = f"{RG}/providers/Microsoft.Compute/disks/deleted-disk"
    with ArmClient.local(fake.endpoint, sleep=sleeps.append, retry=Retry(not_found_window=1.0)) as arm:
        result = arm.merge_tags(gone, {"a": "1"})
    assert result.outcome is Outcome.VANISHED
    assert result.error is not None and "ResourceNotFound" in result.error
    assert sleeps and sum(sleeps) <= 1.0 + 1e-9
    assert all(status == 404 for _, status in writes(fake))


def test_a_resource_deleted_before_the_write_is_vanished(arm: ArmClient, fake: ArmFake) -> None:
    fake.delete_resource(RG)  # the group takes the VM with it
    assert arm.merge_tags(VM, {"a": "1"}).outcome is Outcome.VANISHED
    assert arm.get_tags(VM) is None


def test_a_failing_read_raises_after_its_retries(arm: ArmClient, fake: ArmFake) -> None:
    fake.fail(100, 502, methods=["GET"])
    with pytest.raises(ArmCallFailed) as info:
        arm.get_tags(VM)
    assert (info.value.status, info.value.code, info.value.attempts) == (502, "BadGateway", 5)


# --- limits, checked before any call -------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "tags", "reason"),
    [
        (VM, {"team/name": "x"}, "InvalidTag"),
        (VM, {"a" * 513: "x"}, "InvalidTag"),
        (STORAGE, {"k" * 129: "x"}, "InvalidTag"),  # 128 on storage accounts
        (VM, {"owner": "v" * 257}, "InvalidTag"),
        (VM, {f"k{i}": "v" for i in range(51)}, "TooManyTags"),
        (VM, {"Team": "a", "team": "b"}, "InvalidTag"),  # one name to Azure
        (f"{RG}/providers/Microsoft.Authorization/roleAssignments/ra-1", {"a": "1"}, "Untaggable"),
        (f"{VM}/providers/Microsoft.Insights/diagnosticSettings/diag", {"a": "1"}, "Untaggable"),
        (f"{RG}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/default", {"a": "1"}, "Untaggable"),
        (
            f"/subscriptions/{SUB}/providers/Microsoft.ClassicCompute/domainNames/old",
            {"a": "1"},
            "Untaggable",
        ),
        (f"{RG}/providers/Microsoft.Sql/servers/sql1/databases/master", {"a": "1"}, "Untaggable"),
        (f"{RG}/providers/Microsoft.Network/dnszones/example.com", {"cost center": "x"}, "TypeLimit"),
        (f"{RG}/providers/Microsoft.Network/trafficManagerProfiles/tm", {"1st": "x"}, "TypeLimit"),
        (f"{RG}/providers/Microsoft.Network/frontDoors/fd", {"team:name": "x"}, "TypeLimit"),
    ],
)
def test_limits_are_enforced_before_any_call(
    arm: ArmClient, fake: ArmFake, target: str, tags: dict[str, str], reason: str
) -> None:
    result = arm.merge_tags(target, tags)
    assert result.outcome is Outcome.UNSUPPORTED
    assert result.error is not None and result.error.startswith(reason + ":"), result.error
    assert (result.calls, result.attempts) == (0, 0)
    assert fake.requests == []


def test_the_50_tag_limit_is_checked_against_known_current_tags(arm: ArmClient, fake: ArmFake) -> None:
    current = {f"k{i}": "v" for i in range(48)}
    fine = arm.merge_tags(VM, {"K1": "v", "new": "1"}, current=current)  # K1 is k1: 49 in all
    assert fine.outcome is Outcome.TAGGED
    fake.clear_log()
    over = arm.merge_tags(VM, {"x": "1", "y": "2", "z": "3"}, current=current)
    assert over.outcome is Outcome.UNSUPPORTED
    assert over.error is not None and over.error.startswith("TooManyTags:")
    assert fake.requests == []


def test_arm_400_is_not_retried(arm: ArmClient, fake: ArmFake, sleeps: list[float]) -> None:
    fake.add_resource(VM, {f"k{i}": "v" for i in range(49)})
    result = arm.merge_tags(VM, {"x": "1", "y": "2"})  # current unknown: ARM says no
    assert result.outcome is Outcome.UNSUPPORTED
    assert result.error is not None and result.error.startswith("InvalidTags:")
    assert writes(fake) == [("PATCH", 400)] and sleeps == []


def test_types_with_15_tags_read_their_tags_first(arm: ArmClient, fake: ArmFake) -> None:
    zone = f"{RG}/providers/Microsoft.Network/dnszones/example.com"
    fake.add_resource(zone, {f"k{i}": "v" for i in range(14)})
    assert type_tagging("Microsoft.Network/dnsZones") is not None
    full = arm.merge_tags(zone, {"a": "1", "b": "2"})
    assert full.outcome is Outcome.UNSUPPORTED
    assert full.error is not None and full.error.startswith("TypeLimit:")
    assert [(r.method, r.path) for r in fake.requests] == [("GET", zone + TAGS_PATH)]
    fits = arm.merge_tags(zone, {"a": "1"})
    assert (fits.outcome, fits.calls) == (Outcome.TAGGED, 2)  # a GET and the PATCH


# --- long-running operations ----------------------------------------------------------------------


def test_lro_with_azure_async_operation_is_polled(arm: ArmClient, fake: ArmFake, sleeps: list[float]) -> None:
    fake.long_running(1, polls=2)
    result = arm.merge_tags(VM, {"a": "1"})
    assert result.outcome is Outcome.TAGGED, result.error
    statuses = fake.calls("GET", "/operationStatuses/")
    assert [r.status for r in statuses] == [200, 200, 200]  # InProgress, InProgress, Succeeded
    assert sleeps == [0.25, 0.25]  # the polling interval, through our sleep
    assert fake.calls("GET", TAGS_PATH)  # the final GET of the tags
    assert fake.tags_of(VM) == {"owner": "alice", "env": "prod", "a": "1"}
    assert writes(fake) == [("PATCH", 202)]


def test_lro_with_location_only_is_polled(arm: ArmClient, fake: ArmFake) -> None:
    fake.long_running(1, polls=1, style="location")
    assert arm.merge_tags(VM, {"a": "1"}).outcome is Outcome.TAGGED
    assert [r.status for r in fake.calls("GET", "/operationResults/")] == [202, 200]
    assert fake.tags_of(VM) == {"owner": "alice", "env": "prod", "a": "1"}


def test_lro_that_never_finishes_fails_within_its_budget(fake: ArmFake, sleeps: list[float]) -> None:
    fake.long_running(1, polls=1000)
    retry = Retry(lro_interval=1.0, lro_timeout=5.0)
    with ArmClient.local(fake.endpoint, sleep=sleeps.append, retry=retry) as arm:
        result = arm.merge_tags(VM, {"a": "1"})
    assert result.outcome is Outcome.FAILED
    assert result.error is not None and result.error.startswith("OperationTimeout:")
    assert sum(sleeps) <= 5.0
    assert fake.tags_of(VM) == {"owner": "alice", "env": "prod"}  # never completed


# --- lookups --------------------------------------------------------------------------------------


def test_lookups_answer_and_cache_for_the_invocation(arm: ArmClient, fake: ArmFake) -> None:
    lookups = ArmLookups(arm)
    vm = Resource(id=VM, type="Microsoft.Compute/virtualMachines", name="vm-1", resource_group="RG-Apps")
    for _ in range(3):
        assert lookups.container_tags(Provider.AZURE, Scope.RESOURCE_GROUP, RG) == {
            "team": "payments",
            "CostCenter": "cc-42",
        }
        assert lookups.container_tags(Provider.AZURE, Scope.RESOURCE_GROUP, RG.lower()) is not None
        assert lookups.container_tags(Provider.AZURE, Scope.SUBSCRIPTION, f"/subscriptions/{SUB}") == {
            "billing": "corp"
        }
        assert lookups.resource_tags(Provider.AZURE, vm) == {"owner": "alice", "env": "prod"}
    assert len(fake.requests) == 3 and lookups.calls == 3
    lookups.clear()
    assert lookups.resource_tags(Provider.AZURE, vm) == {"owner": "alice", "env": "prod"}
    assert len(fake.requests) == 4


def test_lookups_what_they_do_not_know(arm: ArmClient, fake: ArmFake) -> None:
    lookups = ArmLookups(arm)
    user = Actor(kind=ActorKind.USER, upn="bob@example.com")
    assert lookups.principal_tags(Provider.AZURE, user) is None
    assert lookups.container_tags(Provider.AZURE, Scope.ACCOUNT, "123456789012") is None
    assert lookups.container_tags(Provider.AWS, Scope.RESOURCE_GROUP, RG) is None
    lock = Resource(
        id=f"{RG}/providers/Microsoft.Authorization/locks/l", type="Microsoft.Authorization/locks"
    )
    assert lookups.resource_tags(Provider.AZURE, lock) == {}  # no tags to read: no call
    assert fake.requests == []


def test_lookups_raise_for_gone_and_for_failures(arm: ArmClient, fake: ArmFake) -> None:
    lookups = ArmLookups(arm)
    gone = Resource(id=f"{RG}/providers/Microsoft.Compute/disks/gone", type="Microsoft.Compute/disks")
    with pytest.raises(ResourceGone) as vanished:  # the core records it as vanished, no retry
        lookups.resource_tags(Provider.AZURE, gone)
    assert isinstance(vanished.value, ResourceVanished) and vanished.value.resource_id == gone.id
    with pytest.raises(ResourceVanished):
        lookups.container_tags(
            Provider.AZURE, Scope.RESOURCE_GROUP, f"/subscriptions/{SUB}/resourceGroups/nope"
        )
    fake.fail(100, 500, methods=["GET"])
    vm = Resource(id=VM, type="Microsoft.Compute/virtualMachines")
    with pytest.raises(LookupFailed) as info:
        lookups.resource_tags(Provider.AZURE, vm)
    assert not isinstance(info.value, ResourceVanished)


# --- construction ---------------------------------------------------------------------------------


def test_from_env_uses_the_local_endpoint_with_a_static_token(fake: ArmFake) -> None:
    env = {"TAGWARDEN_ARM_ENDPOINT": fake.endpoint, "TAGWARDEN_ARM_TOKEN": "t0k"}
    with ArmClient.from_env(env) as arm:
        assert arm.endpoint == fake.endpoint
        assert arm.get_tags(VM) == {"owner": "alice", "env": "prod"}


def test_from_env_defaults_to_the_public_cloud_and_default_credential() -> None:
    from azure.identity import DefaultAzureCredential

    with ArmClient.from_env({"AZURE_SUBSCRIPTION_ID": SUB}) as arm:
        assert arm.endpoint == "https://management.azure.com"
        client = arm.client()
        assert isinstance(client._config.credential, DefaultAzureCredential)
        assert client._config.subscription_id == SUB
        assert client._config.credential_scopes == ["https://management.azure.com/.default"]
        assert not isinstance(client._config.authentication_policy, StaticBearerPolicy)
