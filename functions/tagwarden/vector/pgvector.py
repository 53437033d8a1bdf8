"""PostgreSQL + pgvector: the tenant is a row column (indexed), not only a JSON field.

A column is what PostgreSQL is good at: `GROUP BY tenant_id` counts every tenant in one scan of
the tenant index, a shared table refuses untenanted rows itself (NOT NULL, CHECK), the primary
key is (tenant_id, id) so one tenant cannot overwrite another's vector, and row-level security can
be added on the same column. `conn` is a psycopg (v3) connection; psycopg is imported only for SQL
composition, when an adapter is made.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from tagwarden.vector.index import Hit, TenantIndex
from tagwarden.vector.stamp import SharedStore, Stamp, Vector
from tagwarden.vector.usage import TenantCount

_COLUMNS = ("tenant_id", "agent_id", "outcome_id")


def _literal(values: Sequence[float]) -> str:
    return "[" + ",".join(map(str, values)) + "]"  # pgvector's text form; no client-side extension needed


class PgvectorTenants(TenantIndex):
    source = "pgvector-group-by"

    def __init__(
        self,
        conn: Any,
        table: str,
        store: SharedStore,
        dimension: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(store, clock)
        from psycopg import sql

        self.conn = conn
        self.dimension = dimension
        self._sql = sql
        self._table = sql.Identifier(*table.split("."))
        self._index = sql.Identifier(f"{table.rsplit('.', maxsplit=1)[-1]}_tenant_id")

    def ensure_table(self) -> None:
        """Create the extension, the table and the tenant index when missing (idempotent)."""
        sql = self._sql
        check = sql.SQL("CHECK (tenant_id <> '')" if self.store.shared else "")
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("CREATE EXTENSION IF NOT EXISTS vector")
            cur.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {t} (tenant_id text NOT NULL DEFAULT '' {check}, "
                    "id text NOT NULL, agent_id text, outcome_id text, embedding vector({dim}) NOT NULL, "
                    "metadata jsonb NOT NULL DEFAULT '{{}}', PRIMARY KEY (tenant_id, id))"
                ).format(t=self._table, check=check, dim=sql.Literal(self.dimension))
            )
            # The primary key leads with tenant_id, so it serves the tenant filter and GROUP BY too;
            # this narrower index makes the count an index-only scan of a small index.
            cur.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {i} ON {t} (tenant_id)").format(
                    i=self._index, t=self._table
                )
            )

    def _write(self, vectors: Sequence[Vector], payloads: list[dict[str, Any]], stamp: Stamp) -> None:
        fields = stamp.fields
        tenant, agent, outcome = (fields.get(c) for c in _COLUMNS)
        rows = [
            (tenant or "", str(v.id), agent, outcome, _literal(v.values), json.dumps(p))
            for v, p in zip(vectors, payloads, strict=True)
        ]
        query = self._sql.SQL(
            "INSERT INTO {t} (tenant_id, id, agent_id, outcome_id, embedding, metadata) "
            "VALUES (%s, %s, %s, %s, %s::vector, %s::jsonb) ON CONFLICT (tenant_id, id) DO UPDATE SET "
            "agent_id = EXCLUDED.agent_id, outcome_id = EXCLUDED.outcome_id, "
            "embedding = EXCLUDED.embedding, metadata = EXCLUDED.metadata"
        ).format(t=self._table)
        with self.conn.transaction(), self.conn.cursor() as cur:  # all or nothing
            cur.executemany(query, rows)

    def _search(self, values: Sequence[float], top_k: int, stamp: Stamp) -> tuple[list[Hit], float | None]:
        sql = self._sql
        where = sql.SQL("WHERE tenant_id = %(tenant)s") if stamp.tenant else sql.SQL("")
        query = sql.SQL(
            "SELECT id, embedding <=> %(q)s::vector AS distance, metadata FROM {t} {where} "
            "ORDER BY distance LIMIT %(k)s"
        ).format(t=self._table, where=where)
        with (
            self.conn.transaction(),
            self.conn.cursor() as cur,
        ):  # a savepoint inside the caller's transaction
            cur.execute(query, {"q": _literal(values), "tenant": stamp.tenant, "k": top_k})
            rows = cur.fetchall()
        return [Hit(str(i), 1.0 - float(d), m) for i, d, m in rows], None

    def _counts(self) -> list[TenantCount]:
        # pg_column_size: the stored (possibly compressed) size of each row's vector and metadata.
        query = self._sql.SQL(
            "SELECT tenant_id, count(*), sum(pg_column_size(embedding) + pg_column_size(metadata)) "
            "FROM {t} GROUP BY tenant_id"
        ).format(t=self._table)
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(query)
            rows = cur.fetchall()
        return [TenantCount(t or None, int(n), float(b or 0), bytes_measured=True) for t, n, b in rows]
