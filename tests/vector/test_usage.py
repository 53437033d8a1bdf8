from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from tagwarden.ledger.model import UsageKind
from tagwarden.vector.stamp import SharedStore
from tagwarden.vector.usage import QueryMeter, TenantCount, storage_records

STORE = SharedStore("pgvector:docs", "pgvector", "pg://db/docs")
ROOT = Path(__file__).resolve().parents[2]


def test_storage_snapshots_skip_empty_tenants_and_mark_estimates() -> None:
    records = storage_records(
        STORE,
        [
            TenantCount("acme", 3, 120.0, bytes_measured=True),
            TenantCount("idle", 0, 0.0),
            TenantCount(None, 2, 8.0),
        ],
        at=50.0,
        source="pgvector-group-by",
    )
    assert [(dict(r.attribution), r.quantities, r.source) for r in records] == [
        ({"tenant_id": "acme"}, {"vectors": 3.0, "bytes": 120.0}, "pgvector-group-by"),
        ({}, {"vectors": 2.0, "bytes": 8.0}, "pgvector-group-by;bytes-estimated"),
    ]
    assert all(r.kind is UsageKind.VECTOR_STORAGE and r.time == 50.0 for r in records)
    # The same snapshot taken again is the same record (the ledger writes it once); another time is another.
    again = storage_records(STORE, [TenantCount("acme", 3, 120.0, True)], at=50.0, source="x")
    later = storage_records(STORE, [TenantCount("acme", 3, 120.0, True)], at=51.0, source="x")
    assert again[0].usage_id == records[0].usage_id != later[0].usage_id


def test_meter_counts_exactly_under_threads_and_drains_once() -> None:
    meter = QueryMeter(STORE)

    def work(tenant: str) -> None:
        for _ in range(2_000):
            meter.record({"tenant_id": tenant}, read_units=2)

    threads = [threading.Thread(target=work, args=(t,)) for t in ("acme", "acme", "globex", "initech")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    got = {r.attribution["tenant_id"]: r.quantities for r in meter.drain(1.0)}
    assert got == {
        "acme": {"queries": 4_000.0, "read_units": 8_000.0},
        "globex": {"queries": 2_000.0, "read_units": 4_000.0},
        "initech": {"queries": 2_000.0, "read_units": 4_000.0},
    }
    assert meter.drain(2.0) == []


def test_restored_records_come_back_with_the_same_ids() -> None:
    meter = QueryMeter(STORE)
    meter.record({"tenant_id": "acme"})
    first = meter.drain(1.0)
    meter.restore(first)
    meter.record({"tenant_id": "acme"})
    second = meter.drain(2.0)
    assert first[0] in second  # the unwritten record, unchanged: a retry writes it once
    assert len(second) == 2


def test_the_package_imports_without_any_store_sdk() -> None:
    code = (
        "import sys\n"
        "import tagwarden.vector.stamp, tagwarden.vector.usage, tagwarden.vector.split, tagwarden.vector.index\n"
        "import tagwarden.vector.pgvector, tagwarden.vector.qdrant, tagwarden.vector.pinecone\n"
        "import tagwarden.vector.opensearch, tagwarden.vector.azure_search\n"
        "sdks = {'psycopg', 'qdrant_client', 'pinecone', 'opensearchpy', 'azure', 'numpy', 'grpc'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & sdks))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "functions")},
    )
    assert done.stdout.strip() == "[]"
