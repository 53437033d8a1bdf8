"""The table of create-like events that make nothing tagwarden can tag: its evidence and its use."""

from __future__ import annotations

from typing import Any

import botocore.session
import pytest

from tagwarden.aws.catalogue import CATALOGUE, derived, untaggable
from tagwarden.aws.catalogue.untaggable import UNTAGGABLE, Gap, Why
from tagwarden.cli.normalize import normalize
from tagwarden.model import SkipKind, Skipped

from builders import cloudtrail

_SESSION = botocore.session.get_session()
_SERVICES = frozenset(_SESSION.get_available_services())
# Members through which a create takes tags (infra/aws/derive_catalogue.py's TAG_MEMBERS).
_TAG_MEMBERS = {"tags", "tagspecifications", "taglist", "tag", "resourcetags", "tagslist", "tagset"}


def _ids(item: tuple[tuple[str, str], Gap]) -> str:
    (source, event), _ = item
    return f"{source.removesuffix('.amazonaws.com')}:{event}"


ROWS = sorted(UNTAGGABLE.items())


def _input_members(service: str, operation: str) -> set[str]:
    op = _SESSION.get_service_model(service).operation_model(operation)
    return {m.lower() for m in (op.input_shape.members if op.input_shape else {})}


@pytest.mark.parametrize("item", ROWS, ids=_ids)
def test_the_row_agrees_with_botocore(item: tuple[tuple[str, str], Gap]) -> None:
    (source, event), gap = item
    assert gap.reason and source.endswith(".amazonaws.com")
    if gap.model is None:
        assert gap.why in (Why.NOT_A_RESOURCE, Why.NO_API), (
            "only console, data-plane or SDK-less calls lack a model"
        )
        return
    service, operation = gap.model
    if gap.why is Why.RETIRED:
        assert service not in _SERVICES, f"{service} is still in botocore: not retired"
        return
    assert operation == event
    members = _input_members(service, operation)
    if gap.why in (Why.NOT_A_RESOURCE, Why.UNTAGGABLE):
        assert not members & _TAG_MEMBERS, f"{service}.{operation} takes tags: {members & _TAG_MEMBERS}"
    if gap.why is Why.UNIDENTIFIABLE:
        output = _SESSION.get_service_model(service).operation_model(operation).output_shape
        assert output is not None
        assert list(output.members) == ["OperationId"], "the response names only the operation"


@pytest.mark.parametrize("item", ROWS, ids=_ids)
def test_no_row_is_also_in_the_catalogue(item: tuple[tuple[str, str], Gap]) -> None:
    key, _ = item
    assert key not in CATALOGUE
    assert derived.lookup(*key) is None


def test_a_deferred_create_names_the_event_the_catalogue_covers() -> None:
    deferred = [g for g in UNTAGGABLE.values() if g.why is Why.DEFERRED]
    assert deferred
    for gap in deferred:
        assert gap.later in CATALOGUE, gap


def test_only_unidentifiable_retired_and_api_less_rows_count_as_taggable() -> None:
    assert {w for w in Why if w.taggable} == {Why.UNIDENTIFIABLE, Why.NO_API, Why.RETIRED}


def _skip(record: dict[str, Any]) -> Skipped:
    (result,) = normalize(record)
    assert isinstance(result, Skipped), result
    return result


def test_the_reader_gives_the_reason_for_an_untaggable_create() -> None:
    record = cloudtrail(
        "CreateAlias",
        "kms.amazonaws.com",
        {"aliasName": "alias/app", "targetKeyId": "1234abcd-12ab-34cd-56ef-1234567890ab"},
        None,
    )
    skipped = _skip(record)
    assert skipped.kind is SkipKind.NOT_A_CREATE
    assert "KMS aliases cannot be tagged" in skipped.reason


def test_a_taggable_gap_is_still_not_in_the_catalogue_with_its_reason() -> None:
    record = cloudtrail(
        "CreatePublicDnsNamespace",
        "servicediscovery.amazonaws.com",
        {"name": "example.com", "creatorRequestId": "1234"},
        {"operationId": "unmipghn37443trlkgpf4idvvitec6fw-2example"},
    )
    skipped = _skip(record)
    assert skipped.kind is SkipKind.NOT_IN_CATALOGUE
    assert "operation id" in skipped.reason
    assert untaggable.lookup("servicediscovery.amazonaws.com", "CreatePublicDnsNamespace") is not None


def test_an_unknown_create_is_still_reported_as_not_in_the_catalogue() -> None:
    skipped = _skip(cloudtrail("CreateWidget", "widgets.amazonaws.com", {"name": "w"}, {"widgetId": "w-1"}))
    assert skipped.kind is SkipKind.NOT_IN_CATALOGUE
    assert skipped.reason == "widgets.amazonaws.com CreateWidget is not in the catalogue"
