"""The query written once: it renders for DuckDB and Athena, and the Athena text parses as Trino."""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlglot

from tagwarden.showback.config import parse_config
from tagwarden.showback.query import Plan, check_tag_key, render_all

SHARED = parse_config(
    {
        "shared": [
            {
                "match": {"ServiceName": "Amazon Bedrock", "ResourceId": "arn:*:bedrock:*"},
                "policy": "quantity",
            }
        ]
    }
).shared
PLAN = Plan(
    by=("Agent-ID", "CostCenter"),
    since=datetime(2024, 9, 1),
    until=datetime(2024, 10, 1),
    shared=SHARED,
)


@pytest.mark.parametrize("engine", ["duckdb", "athena"])
def test_every_query_renders_and_parses_back(engine: str) -> None:
    rendered = render_all(PLAN, engine)
    assert set(rendered) == {
        "classify",
        "aggregate",
        "split_rows",
        "top_unallocated",
        "disagreements",
        "totals",
    }
    read = "trino" if engine == "athena" else "duckdb"
    for name, sql in rendered.items():
        assert sqlglot.parse_one(sql, read=read) is not None, name


def test_athena_rendering_speaks_trino() -> None:
    sql = render_all(PLAN, "athena")["aggregate"]
    assert "QUALIFY" not in sql  # Trino has none: rendered as a filtered subquery
    assert "JSON_EXTRACT_SCALAR(c.tags_json, '$[\"Agent-ID\"]')" in sql
    assert "GROUPING SETS" in sql
    assert "WITH tw_classified AS" in sql  # inlined: Athena has no session temp tables
    assert "TIMESTAMP '2024-09-01 00:00:00'" in sql or "CAST('2024-09-01 00:00:00' AS TIMESTAMP)" in sql
    assert "LIKE 'arn:%:bedrock:%'" in sql


def test_duckdb_rendering_keeps_qualify_and_its_json_functions() -> None:
    sql = render_all(PLAN, "duckdb")["classify"]
    assert "QUALIFY" in sql
    assert "'$.\"Agent-ID\"'" in sql


def test_grouping_ids_name_each_breakdown() -> None:
    ids = PLAN.grouping_ids()
    # provider, account, service, day, t_0 (Agent-ID), t_1 (CostCenter), t_2 (Outcome-ID)
    assert ids[0b1111111] == "buckets"
    assert ids[0b0111111] == "provider"
    assert ids[0b1110111] == "day"
    assert ids[0b1111001] == "tags"
    assert ids[0b1111000] == "outcomes"


@pytest.mark.parametrize("key", ["a'b", 'x"y', "back\\slash", "", "x" * 129])
def test_tag_keys_that_could_escape_a_json_path_are_refused(key: str) -> None:
    with pytest.raises(ValueError, match="tag key"):
        check_tag_key(key)


def test_the_outcome_key_is_read_once_when_it_is_a_by_key() -> None:
    assert Plan(by=("Agent-ID", "Outcome-ID")).keys == ("Agent-ID", "Outcome-ID")
    assert Plan(by=("Agent-ID",), outcome_key=None).keys == ("Agent-ID",)
