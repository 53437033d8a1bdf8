"""Benchmark of tagwarden.vector: stamping overhead per upsert, usage collection at scale.

    make bench-vector     (or: .venv/bin/python bench/vector_bench.py [--rows N] [--tenants N])

1. Stamping: 1,000 vectors of 384 dimensions upserted into Qdrant's local mode (in process, so
   no network hides our cost). The store call is what agent code does without tagwarden (build
   the PointStructs, `client.upsert`); the stamping is what tagwarden adds (resolve the tenant and
   attribution once, add the fields to every payload, refuse pre-set tenants). Both are timed in
   the same run, interleaved, as medians; the figure is their ratio. The per-tenant point ids
   (a hash per vector, for isolation, not stamping) are reported beside it.
2. Collection: a PostgreSQL with pgvector on loopback (tagwarden_testing.postgres), 1,000,000
   rows over 50 tenants generated server-side with generate_series (32-dimension vectors),
   vacuumed; then the GROUP BY count per tenant (with measured bytes, as `collect` runs it) and
   the whole `collect` into a SQLite ledger, each timed as the median of a few runs.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "functions"))

from tagwarden.ledger.sqlite import SqliteLedger  # noqa: E402
from tagwarden.vector.stamp import SharedStore, Vector, resolve, stamped  # noqa: E402


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def stamping(batch: int, dim: int, repeats: int) -> dict[str, Any]:
    from qdrant_client import QdrantClient, models

    from tagwarden.vector.qdrant import QdrantTenants, point_id

    rng = random.Random(1)
    vectors = [
        Vector(f"doc-{i}", [rng.uniform(-1, 1) for _ in range(dim)], {"source": "s3://kb/doc", "chunk": i})
        for i in range(batch)
    ]
    client = QdrantClient(":memory:")
    store = SharedStore("qdrant:bench", "qdrant", "qdrant://bench")
    tenants = QdrantTenants(client, "bench", store)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tenants.ensure_collection(dim)

    def store_call() -> None:  # what agent code does without tagwarden
        points = [
            models.PointStruct(id=i, vector=list(v.values), payload=dict(v.metadata))
            for i, v in enumerate(vectors)
        ]
        client.upsert("bench", points=points, wait=True)

    s0 = resolve(store, "upsert", tenant="acme", attribution={"Agent-ID": "agent-7", "Outcome-ID": "t-42"})
    ready = [
        (point_id("acme", v.id), list(v.values), p | {"vector_id": v.id})
        for v, p in zip(vectors, stamped(store, s0, vectors), strict=True)
    ]

    def store_call_same_points() -> None:  # the store call with the ids and payloads the wrapper sends
        points = [models.PointStruct(id=i, vector=v, payload=dict(p)) for i, v, p in ready]
        client.upsert("bench", points=points, wait=True)

    def stamp() -> None:
        s = resolve(store, "upsert", tenant="acme", attribution={"Agent-ID": "agent-7", "Outcome-ID": "t-42"})
        stamped(store, s, vectors)

    def scope_ids() -> None:
        for v in vectors:
            point_id("acme", v.id)

    def wrapped() -> None:
        tenants.upsert(vectors, tenant="acme", attribution={"Agent-ID": "agent-7", "Outcome-ID": "t-42"})

    store_call()
    wrapped()  # warm both paths
    store_s, same_s, stamp_s, scope_s, wrapped_s = [], [], [], [], []
    for _ in range(repeats):  # interleaved: both see the same machine noise
        store_s.append(median_seconds(store_call, 1))
        same_s.append(median_seconds(store_call_same_points, 1))
        stamp_s.append(median_seconds(stamp, 5))
        scope_s.append(median_seconds(scope_ids, 5))
        wrapped_s.append(median_seconds(wrapped, 1))
    store_m, same_m, stamp_m, scope_m, wrapped_m = (
        statistics.median(x) for x in (store_s, same_s, stamp_s, scope_s, wrapped_s)
    )
    return {
        "vectors_per_upsert": batch,
        "dimension": dim,
        "store_call_ms": store_m * 1000,
        "stamping_ms": stamp_m * 1000,
        "stamping_us_per_vector": stamp_m / batch * 1e6,
        "stamping_share_of_store_call": stamp_m / store_m,
        "tenant_scoped_ids_ms": scope_m * 1000,
        "tenant_scoped_ids_share_of_store_call": scope_m / store_m,
        "store_call_with_uuid_ids_and_stamped_payloads_ms": same_m * 1000,
        "wrapped_upsert_ms": wrapped_m * 1000,
        "wrapped_over_store_call": wrapped_m / store_m,
    }


def collection(rows: int, tenant_count: int, repeats: int) -> dict[str, Any]:
    import psycopg

    from tagwarden.vector.pgvector import PgvectorTenants
    from tagwarden_testing.postgres import Postgres

    dim = 32
    with Postgres() as pg, psycopg.connect(pg.dsn, autocommit=True) as conn:
        store = SharedStore("pgvector:bench", "pgvector", "pg://bench/chunks")
        index = PgvectorTenants(conn, "chunks", store, dim)
        index.ensure_table()
        start = time.perf_counter()
        conn.execute(
            "INSERT INTO chunks (tenant_id, id, agent_id, embedding, metadata) "
            "SELECT 'tenant-' || (g %% %s), g::text, 'agent-' || (g %% 7), "
            "array_fill((g %% 1000)::real / 1000, ARRAY[%s])::real[]::vector, '{\"chunk\": 1}'::jsonb "
            "FROM generate_series(1, %s) AS g",
            (tenant_count, dim, rows),
        )
        conn.execute("VACUUM ANALYZE chunks")
        load_s = time.perf_counter() - start
        counts = index.tenant_counts()
        if len(counts) != tenant_count or sum(c.vectors for c in counts) != rows:
            raise SystemExit(f"collection counted wrong: {counts[:3]}")
        count_s = median_seconds(index.tenant_counts, repeats)
        ledger = SqliteLedger()
        at = iter(range(1_000_000))
        collect_s = median_seconds(lambda: index.collect(ledger, at=float(next(at))), repeats)

        def count_only() -> None:
            conn.execute("SELECT tenant_id, count(*) FROM chunks GROUP BY tenant_id").fetchall()

        count_only_s = median_seconds(count_only, repeats)
        size = conn.execute("SELECT pg_total_relation_size('chunks')").fetchone()
    return {
        "rows": rows,
        "tenants": tenant_count,
        "dimension": dim,
        "table_bytes": size[0] if size else None,
        "load_and_vacuum_s": load_s,
        "tenant_counts_with_bytes_s": count_s,
        "collect_into_sqlite_ledger_s": collect_s,
        "count_only_group_by_s": count_only_s,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    result = {
        "python": sys.version.split()[0],
        "stamping": stamping(1_000, 384, args.repeats),
        "collection": collection(args.rows, args.tenants, max(3, args.repeats // 3)),
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "vector.json").write_text(json.dumps(result, indent=2) + "\n")
    ok = (
        result["stamping"]["stamping_share_of_store_call"] < 0.01
        and result["collection"]["collect_into_sqlite_ledger_s"] < 5.0
    )
    print("goals met" if ok else "GOALS NOT MET: stamping < 1% of the store call, collection < 5 s")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
