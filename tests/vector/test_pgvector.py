"""PgvectorTenants against a real PostgreSQL with pgvector (started by the session fixture)."""

from __future__ import annotations

from typing import Any

import pytest

from tagwarden.ledger.model import UsageKind
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.vector.pgvector import PgvectorTenants
from tagwarden.vector.stamp import MissingTenant, SharedStore, StampError, Vector

DIM = 4


@pytest.fixture
def index(pg_conn: Any, request: pytest.FixtureRequest) -> PgvectorTenants:
    table = f"docs_{request.node.name.replace('[', '_').replace(']', '').replace('-', '_')}"[:60]
    pg_conn.execute(f'DROP TABLE IF EXISTS "{table}"')
    pg_conn.commit()
    store = SharedStore("pgvector:docs", "pgvector", "pg://db/docs", shared=True)
    made = PgvectorTenants(pg_conn, table, store, DIM, clock=lambda: 1_000.0)
    made.ensure_table()
    return made


def rows(index: PgvectorTenants) -> list[tuple[Any, ...]]:
    with index.conn.cursor() as cur:
        cur.execute(
            f'SELECT tenant_id, id, agent_id, outcome_id, metadata FROM "{index._table.as_string(index.conn)[1:-1]}" ORDER BY 1, 2'
        )
        got = cur.fetchall()
    index.conn.commit()
    return got


def vec(i: int, **metadata: Any) -> Vector:
    return Vector(str(i), [float(i), 1.0, 0.0, 0.5], metadata)


def test_upsert_stamps_the_tenant_column_and_attribution(index: PgvectorTenants) -> None:
    index.upsert([vec(1, title="a")], tenant="acme", attribution={"Agent-ID": "ag-1", "Outcome-ID": "o-1"})
    assert rows(index) == [
        (
            "acme",
            "1",
            "ag-1",
            "o-1",
            {"title": "a", "tenant_id": "acme", "agent_id": "ag-1", "outcome_id": "o-1"},
        )
    ]


def test_shared_upsert_without_tenant_is_refused_and_writes_nothing(index: PgvectorTenants) -> None:
    with pytest.raises(
        MissingTenant, match=r"pgvector:docs: upsert refused.*'tenant_id'.*nothing was written"
    ):
        index.upsert([vec(1), vec(2)])
    assert rows(index) == []


def test_the_table_itself_refuses_untenanted_rows(index: PgvectorTenants) -> None:
    import psycopg

    with pytest.raises(psycopg.errors.CheckViolation):
        index.conn.execute(
            f"INSERT INTO {index._table.as_string(index.conn)} (id, embedding) VALUES ('x', '[1,2,3,4]')"
        )
    index.conn.rollback()


def test_a_batch_with_one_forged_tenant_writes_nothing(index: PgvectorTenants) -> None:
    with pytest.raises(StampError, match="vector '2' has 'tenant_id' = 'globex'"):
        index.upsert([vec(1), vec(2, tenant_id="globex")], tenant="acme")
    assert rows(index) == []


def test_same_id_in_two_tenants_are_two_vectors(index: PgvectorTenants) -> None:
    index.upsert([vec(7)], tenant="acme")
    index.upsert([vec(7)], tenant="globex")
    index.upsert([vec(7, v=2)], tenant="acme")  # an update of acme's, not globex's
    got = rows(index)
    assert [(t, i) for t, i, *_ in got] == [("acme", "7"), ("globex", "7")]
    assert got[0][4]["v"] == 2
    assert "v" not in got[1][4]


def test_query_sees_only_the_tenants_vectors_and_is_metered(index: PgvectorTenants) -> None:
    index.upsert([vec(1), vec(2)], tenant="acme")
    index.upsert([vec(3)], tenant="globex")
    hits = index.query([3.0, 1.0, 0.0, 0.5], top_k=5, tenant="acme")
    assert sorted(h.id for h in hits) == ["1", "2"]
    assert all(h.metadata["tenant_id"] == "acme" for h in hits)
    with pytest.raises(MissingTenant, match="query refused"):
        index.query([1.0, 1.0, 0.0, 0.5])
    index.query([1.0, 1.0, 0.0, 0.5], tenant="globex", attribution={"Agent-ID": "ag-9"})
    index.query([1.0, 1.0, 0.0, 0.5], tenant="globex", attribution={"Agent-ID": "ag-9"})
    got = {tuple(sorted(r.attribution.items())): r.quantities for r in index.meter.drain(5.0)}
    assert got == {
        (("tenant_id", "acme"),): {"queries": 1.0},
        (("Agent-ID", "ag-9"), ("tenant_id", "globex")): {"queries": 2.0},
    }


def test_collect_writes_storage_per_tenant_and_queries_to_the_ledger(index: PgvectorTenants) -> None:
    index.upsert([vec(i) for i in range(5)], tenant="acme")
    index.upsert([vec(i, note="x" * 500) for i in range(2)], tenant="globex")
    index.query([1.0, 1.0, 0.0, 0.5], tenant="globex")
    ledger = SqliteLedger()
    assert index.collect(ledger) == 3
    records = list(ledger.usage())
    storage = {r.attribution["tenant_id"]: r for r in records if r.kind is UsageKind.VECTOR_STORAGE}
    assert {t: r.quantities["vectors"] for t, r in storage.items()} == {"acme": 5.0, "globex": 2.0}
    assert (
        storage["globex"].quantities["bytes"] / 2 > storage["acme"].quantities["bytes"] / 5
    )  # measured, not estimated
    assert storage["acme"].source == "pgvector-group-by"
    assert all(
        r.time == 1_000.0 and r.resource == "pg://db/docs" and r.platform == "pgvector" for r in records
    )
    # The same collection time again: the snapshots are the same records (written once); no new queries.
    assert index.collect(ledger) == 0


def test_query_counts_survive_a_failed_ledger_write(index: PgvectorTenants) -> None:
    index.upsert([vec(1)], tenant="acme")
    index.query([1.0, 1.0, 0.0, 0.5], tenant="acme")

    class Broken(SqliteLedger):
        def add_usage(self, records: Any) -> int:
            raise OSError("ledger unreachable")

    with pytest.raises(OSError, match="unreachable"):
        index.collect(Broken())
    ledger = SqliteLedger()
    index.collect(ledger)
    assert [r.quantities for r in ledger.usage() if r.kind is UsageKind.VECTOR_QUERY] == [{"queries": 1.0}]


def test_reads_do_not_commit_the_callers_transaction(index: PgvectorTenants) -> None:
    index.upsert([vec(1)], tenant="acme")
    conn = index.conn
    conn.execute("CREATE TABLE IF NOT EXISTS callers_own (x int)")
    conn.commit()
    conn.execute("INSERT INTO callers_own VALUES (1)")  # the caller's open transaction
    index.query([1.0, 1.0, 0.0, 0.5], tenant="acme")
    index.tenant_counts()
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM callers_own").fetchone() == (0,)
    conn.rollback()
