"""Three tenants share one pgvector table and one Qdrant collection; who should pay for what?

    python examples/vector_tenants.py [--ledger usage.db] [--dsn 'host=... dbname=...']
                                      [--focus focus.csv --cost 120.00] [--format json]

Upserts vectors for acme, globex and initech into both stores (declared shared: an upsert with
no tenant is refused), queries them unevenly, collects usage per tenant into a SQLite ledger (two
collection runs, initech growing in between), and prints each tenant's share of each store by the
`vector-blend` policy. Without --dsn it starts a throwaway PostgreSQL with pgvector on loopback
(tagwarden_testing.postgres). With --focus it also writes a FOCUS file with one cost row per
store, for `tagwarden showback` to split by these shares.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.showback.split import policy
from tagwarden.vector.index import TenantIndex
from tagwarden.vector.stamp import MissingTenant, SharedStore, Vector

DIM = 8
# tenant -> (vectors at the first collection, vectors added before the second, queries, agent)
TENANTS = {
    "acme": (300, 0, 12, "agent-7"),
    "globex": (100, 0, 60, "agent-3"),
    "initech": (20, 80, 6, "agent-9"),
}
STORES = {
    "pgvector": SharedStore("pgvector:kb", "pgvector", "pg://example/public/kb_chunks"),
    "qdrant": SharedStore("qdrant:kb", "qdrant", "qdrant://example/collections/kb"),
}


def vectors(tenant: str, start: int, count: int, rng: random.Random) -> list[Vector]:
    return [
        Vector(f"{tenant}-{i}", [rng.uniform(-1, 1) for _ in range(DIM)], {"chunk": i})
        for i in range(start, start + count)
    ]


@contextmanager
def postgres(dsn: str | None) -> Iterator[str]:
    if dsn:
        yield dsn
        return
    from tagwarden_testing.postgres import Postgres

    with Postgres() as pg:
        yield pg.dsn


def run(ledger_path: Path, dsn: str | None) -> dict[str, Any]:
    import psycopg
    from qdrant_client import QdrantClient

    from tagwarden.vector.pgvector import PgvectorTenants
    from tagwarden.vector.qdrant import QdrantTenants

    rng = random.Random(13)
    ledger = SqliteLedger(ledger_path)
    with postgres(dsn) as pg_dsn, psycopg.connect(pg_dsn) as conn:
        indexes: dict[str, TenantIndex] = {}
        pg = PgvectorTenants(conn, "kb_chunks", STORES["pgvector"], DIM)
        pg.ensure_table()
        indexes["pgvector"] = pg
        qd = QdrantTenants(QdrantClient(":memory:"), "kb", STORES["qdrant"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # local mode: payload indexes take effect on a server only
            qd.ensure_collection(DIM)
        indexes["qdrant"] = qd

        refused = ""
        try:
            pg.upsert(vectors("nobody", 0, 1, rng))  # no tenant: a shared store refuses it
        except MissingTenant as error:
            refused = str(error)

        start = float(int(time.time()))  # whole seconds: the bill's period bounds read back exactly
        for tenant, (first, _, queries, agent) in TENANTS.items():
            batch = vectors(tenant, 0, first, rng)
            for index in indexes.values():
                index.upsert(batch, tenant=tenant, attribution={"Agent-ID": agent})
                for _ in range(queries):
                    index.query(
                        [rng.uniform(-1, 1) for _ in range(DIM)],
                        top_k=3,
                        tenant=tenant,
                        attribution={"Agent-ID": agent},
                    )
        for index in indexes.values():
            index.collect(ledger, at=start)
        for tenant, (first, more, _, agent) in TENANTS.items():
            if more:
                batch = vectors(tenant, first, more, rng)
                for index in indexes.values():
                    index.upsert(batch, tenant=tenant, attribution={"Agent-ID": agent})
        # The second run an hour of usage later (the time is set, so the example is reproducible).
        for index in indexes.values():
            index.collect(ledger, at=start + 3600)

    blend = policy("vector-blend")
    usage = list(ledger.usage())
    period = {"period_start": start, "period_end": start + 2 * 3600}
    shares: dict[str, dict[str, float]] = {}
    for name, store in STORES.items():
        weights = blend.weights([u for u in usage if u.resource == store.resource], period)
        shares[name] = {dict(key).get("tenant_id", "(no tenant)"): w for key, w in sorted(weights.items())}
    ledger.close()
    return {
        "ledger": str(ledger_path),
        "refused": refused,
        "period": period,
        "shares": shares,
        "resources": {n: s.resource for n, s in STORES.items()},
    }


def write_focus(path: Path, result: dict[str, Any], cost: float) -> None:
    """One FOCUS row per shared store, charged over the example's period."""
    start = datetime.fromtimestamp(result["period"]["period_start"], UTC).isoformat()
    end = datetime.fromtimestamp(result["period"]["period_end"], UTC).isoformat()
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            [
                "BillingCurrency",
                "BilledCost",
                "EffectiveCost",
                "ChargePeriodStart",
                "ChargePeriodEnd",
                "ResourceId",
                "ServiceName",
                "ProviderName",
            ]
        )
        for name, resource in result["resources"].items():
            writer.writerow(["USD", f"{cost:.2f}", f"{cost:.2f}", start, end, resource, name, "example"])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ledger", type=Path, help="SQLite ledger file (default: a new temp file)")
    parser.add_argument("--dsn", help="PostgreSQL with pgvector (default: start a throwaway one)")
    parser.add_argument("--focus", type=Path, help="also write a FOCUS CSV, one row per store")
    parser.add_argument("--cost", type=float, default=120.0, help="cost of each store's row in --focus")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    ledger = args.ledger or Path(tempfile.mkdtemp(prefix="vector-tenants-")) / "ledger.db"
    result = run(ledger, args.dsn)
    if args.focus:
        write_focus(args.focus, result, args.cost)
    if args.format == "json":
        json.dump(result, sys.stdout, indent=2)
        print()
        return 0
    print(f"refused as it should be: {result['refused']}")
    print(f"usage written to {result['ledger']}")
    for name, shares in result["shares"].items():
        print(f"\n{name} ({result['resources'][name]}), vector-blend storage 0.5 / queries 0.5:")
        for tenant, share in shares.items():
            print(f"  {tenant:<12} {share:7.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
