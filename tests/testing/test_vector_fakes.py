"""The vector stand-ins refuse what the services refuse (so the adapters cannot pass by accident)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from tagwarden_testing.vector_fakes import AzureSearchFake, OpenSearchFake, PineconeFake, serve


def post(url: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_pinecone_needs_a_key_and_the_index_dimension() -> None:
    with serve(PineconeFake(dimension=3)) as fake:
        assert post(f"{fake.endpoint}/vectors/upsert", {"vectors": []})[0] == 401
        status, body = post(
            f"{fake.endpoint}/vectors/upsert", {"vectors": [{"id": "1", "values": [1.0]}]}, {"Api-Key": "k"}
        )
        assert status == 400
        assert "dimension" in body["message"]


def test_opensearch_refuses_a_terms_aggregation_on_a_text_field() -> None:
    with serve(OpenSearchFake()) as fake:
        fake.indices["docs"] = {"mappings": {"properties": {"tenant_id": {"type": "text"}}}, "docs": {}}
        status, body = post(
            f"{fake.endpoint}/docs/_search", {"size": 0, "aggs": {"t": {"terms": {"field": "tenant_id"}}}}
        )
        assert status == 400
        assert body["error"]["type"] == "illegal_argument_exception"


@pytest.mark.parametrize(
    ("spec", "message"),
    [({"filter": "tenant_id eq 'a'"}, "not filterable"), ({"facets": ["tenant_id"]}, "not facetable")],
)
def test_azure_search_refuses_filters_and_facets_on_undeclared_capabilities(
    spec: dict[str, Any], message: str
) -> None:
    with serve(AzureSearchFake()) as fake:
        fake.indexes["docs"] = {
            "spec": {"fields": [{"name": "key", "key": True}, {"name": "tenant_id"}]},
            "docs": {},
        }
        url = f"{fake.endpoint}/indexes('docs')/docs/search.post.search?api-version=2026-04-01"
        assert post(url, spec)[0] == 403  # no api-key
        status, body = post(url, spec, {"api-key": "k"})
        assert status == 400
        assert message in body["error"]["message"]
