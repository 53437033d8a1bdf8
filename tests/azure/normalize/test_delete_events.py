"""Event Grid deletes -> a Removal (the record is closed), or a Skipped when no resource went."""

from __future__ import annotations

from tagwarden.azure.normalize import READER
from tagwarden.azure.normalize.delete_events import removal
from tagwarden.azure.normalize.eventgrid import normalize_eventgrid
from tagwarden.model import ActorKind, CreationEvent, Provider, Removal, SkipKind, Skipped
from tagwarden.normalize import gated, route

import builders as b

VM = b.resource_id("rg-agent-customer-support", "Microsoft.Compute/virtualMachines", "vm-agent-1")


def test_a_delete_is_a_removal_of_its_resource() -> None:
    raw = b.eventgrid_delete(VM, b.user_claims(), event_time="2026-11-29T11:00:00.5Z", principal_type="User")
    (found,) = route(raw, READER)
    assert isinstance(found, Removal)
    assert (found.resource_id, found.provider, found.account) == (VM, Provider.AZURE, b.SUBSCRIPTION)
    assert found.event_name == "Microsoft.Compute/virtualMachines/delete"
    assert found.time == "2026-11-29T11:00:00.5Z"
    assert found.actor.kind is ActorKind.USER and found.actor.upn == "alice@contoso.com"
    assert found.event_id == raw["id"]


def test_the_cloudevents_schema_too() -> None:
    (found,) = route(b.as_cloudevent(b.eventgrid_delete(VM)), READER)
    assert isinstance(found, Removal) and found.resource_id == VM


def test_writes_and_other_types_are_not_removals() -> None:
    assert removal(b.eventgrid_write(VM)) is None
    for other in ("ResourceDeleteFailure", "ResourceDeleteCancel", "ResourceActionSuccess"):
        assert removal(b.eventgrid_write(VM, event_type=f"Microsoft.Resources.{other}")) is None
        (skipped,) = route(b.eventgrid_write(VM, event_type=f"Microsoft.Resources.{other}"), READER)
        assert isinstance(skipped, Skipped)
    (write,) = route(b.eventgrid_write(VM), READER)
    assert isinstance(write, CreationEvent)


def test_deleting_the_tags_of_a_resource_is_not_a_delete_of_it() -> None:
    tags = VM + "/providers/Microsoft.Resources/tags/default"
    found = removal(b.eventgrid_delete(tags, operation="Microsoft.Resources/tags/delete"))
    assert isinstance(found, Skipped) and found.kind is SkipKind.TAG_WRITE


def test_a_delete_of_no_resource_id_is_skipped_with_the_reason() -> None:
    raw = b.eventgrid_delete(VM)
    raw["data"]["resourceUri"] = raw["subject"] = "/not/an/arm/id"
    found = removal(raw)
    assert (
        isinstance(found, Skipped) and found.kind is SkipKind.NO_RESOURCE and "not a resource" in found.reason
    )
    del raw["data"]["resourceUri"], raw["subject"]
    found = removal(raw)
    assert isinstance(found, Skipped) and found.kind is SkipKind.NO_RESOURCE


def test_a_delete_in_a_subscription_not_served_is_a_foreign_skip() -> None:
    only_other = gated(READER, lambda sub: sub == "ffffffff-0000-0000-0000-000000000000", "subscription")
    (found,) = route(b.eventgrid_delete(VM), only_other)
    assert isinstance(found, Skipped) and found.kind is SkipKind.FOREIGN_ACCOUNT


def test_the_create_normalizer_alone_still_says_a_delete_is_no_create() -> None:
    skipped = normalize_eventgrid(b.eventgrid_delete(VM))
    assert isinstance(skipped, Skipped) and skipped.kind is SkipKind.NOT_A_CREATE
