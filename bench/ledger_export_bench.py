"""`tagwarden ledger export` from the deployed stores: memory stays flat as the ledger grows.

DynamoDB on moto's server and Azure Table Storage on Azurite (real HTTP on loopback). For each
store, ledgers of N and 10*N records are exported by the CLI in a fresh interpreter, and the peak
resident memory of that process is read from the kernel (wait4's rusage); the peer is the same
export with every record read into a list first (what a non-streaming reader does). Figures are
ratios within one run: the 10*N export's peak over the N export's (goal: <= 1.15, flat) and the
peer's, plus records per second (moto and Azurite are the bottleneck there, not a cloud's figure).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "functions"), str(ROOT / "devkit")]

# Each export runs in a fresh interpreter, which reports its own high-water mark when done: VmHWM
# belongs to the process's address space, which exec starts anew (rusage's ru_maxrss would keep the
# forking parent's: this benchmark, with its servers and records).
HWM = """
import atexit, sys
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            sys.stderr.write(line.split()[1] + "\\n")
atexit.register(hwm)
"""
OURS = (
    HWM
    + """
from tagwarden.cli.main import main
main(["ledger", "export", "--ledger", sys.argv[1], "--out", sys.argv[2]])
"""
)
# The peer: the same store and format, every record held in a list before the first line is written.
PEER = (
    HWM
    + """
import os
from tagwarden.cli.ledger_stores import open_store
from tagwarden.ledger.export import write_jsonl
store = open_store(sys.argv[1], os.environ)
records = list(store.reader.records())
with open(sys.argv[2], "w") as fh:
    write_jsonl(records, fh)
"""
)
FLOOR = HWM + "import tagwarden.cli.ledger_stores, boto3, azure.data.tables\n"


def peak_rss_mb(code: str, args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(peak resident MB, wall seconds) of one fresh interpreter running `code`."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, check=True,
    )  # fmt: skip
    return int(done.stderr.split()[-1]) / 1024, time.perf_counter() - start


def records(n: int) -> Iterator[Any]:
    from tagwarden_testing.records import aws_record, azure_record, usage_record

    for i in range(n):
        if i % 10 == 9:
            yield usage_record(i)
        else:
            yield aws_record(i) if i % 2 else azure_record(i)


@contextmanager
def dynamodb(sizes: list[int]) -> Iterator[tuple[dict[str, str], Callable[[int], str]]]:
    from tagwarden.aws.ledger import DynamoLedger, create_table
    from tagwarden.ledger.model import ResourceRecord
    from tagwarden_testing.moto_world import client, moto_server

    with moto_server():
        ddb = client("dynamodb")
        for n in sizes:
            create_table(ddb, f"ledger-{n}")
            store = DynamoLedger(ddb, f"ledger-{n}")
            made = list(records(n))
            for r in made:  # one PutItem each: moto's TransactWriteItems grows its memory per call
                if isinstance(r, ResourceRecord):
                    store.create(r)
            store.add_usage([r for r in made if not isinstance(r, ResourceRecord)])
        yield dict(os.environ), lambda n: f"dynamodb://ledger-{n}"


@contextmanager
def azure_table(sizes: list[int]) -> Iterator[tuple[dict[str, str], Callable[[int], str]]]:
    import json as jsonlib
    from urllib.parse import quote

    from azure.data.tables import TableServiceClient

    from tagwarden.azure.ledger import USAGE, row_key
    from tagwarden.ledger.model import ResourceRecord
    from tagwarden_testing.azurite import ACCOUNT, table_service

    with tempfile.TemporaryDirectory() as tmp, table_service(Path(tmp)) as connection:
        service = TableServiceClient.from_connection_string(connection)
        for n in sizes:
            table = service.create_table(f"ledger{n}")
            batches: dict[str, list[Any]] = {}
            for r in records(n):
                doc = jsonlib.dumps(r.to_json(), sort_keys=True, separators=(",", ":"))
                if isinstance(r, ResourceRecord):
                    entity = {"PartitionKey": r.provider, "RowKey": row_key(r.provider, r.resource_id)}
                    entity |= {"State": r.state.value, "Version": r.version, "Doc": doc}
                else:
                    entity = {"PartitionKey": USAGE, "RowKey": quote(r.usage_id, safe=""), "Doc": doc}
                batch = batches.setdefault(entity["PartitionKey"], [])
                batch.append(("create", entity))
                if len(batch) == 100:  # a transaction: one partition, at most 100 entities
                    table.submit_transaction(batch)
                    batch.clear()
            for batch in batches.values():
                if batch:
                    table.submit_transaction(batch)
        env = dict(os.environ, AZURE_STORAGE_CONNECTION_STRING=connection)
        yield env, lambda n: f"azure-table://{ACCOUNT}/ledger{n}"


def measure(name: str, store: Any, n: int) -> dict[str, Any]:
    sizes = [n, 10 * n]
    out: dict[str, Any] = {}
    with store(sizes) as (env, spec), tempfile.TemporaryDirectory() as tmp:
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "functions"), str(ROOT / "devkit")])
        floor, _ = peak_rss_mb(FLOOR, [], env)
        for size in sizes:
            target = Path(tmp) / f"{name}-{size}.jsonl"
            ours, seconds = peak_rss_mb(OURS, [spec(size), str(target)], env)
            lines = len(target.read_text(encoding="utf-8").splitlines())
            assert lines == size, f"{name}: {lines} lines for {size} records"
            peer, _ = peak_rss_mb(PEER, [spec(size), str(target)], env)
            out[str(size)] = {
                "peak_rss_mb": round(ours, 1),
                "peer_peak_rss_mb": round(peer, 1),
                "records_per_s": round(size / seconds),
            }
        small, large = out[str(n)], out[str(10 * n)]
        out["interpreter_floor_mb"] = round(floor, 1)
        out["ratio_10x"] = round(large["peak_rss_mb"] / small["peak_rss_mb"], 3)
        out["peer_ratio_10x"] = round(large["peer_peak_rss_mb"] / small["peer_peak_rss_mb"], 3)
    return out


def main() -> int:
    import resource

    # a shared machine: a runaway emulator fails this run, not everyone's (moto grew to 19 GB once)
    resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000, help="the small ledger; the large is 10x")
    parser.add_argument("--store", choices=("dynamodb", "azure-table", "both"), default="both")
    args = parser.parse_args()
    stores = {"dynamodb": dynamodb, "azure-table": azure_table}
    chosen = list(stores) if args.store == "both" else [args.store]
    from tagwarden_testing.azurite import Unavailable

    result: dict[str, Any] = {"python": sys.version.split()[0]}
    for name in list(chosen):
        try:
            result[name] = measure(name, stores[name], args.records)
        except Unavailable as why:  # no Azurite here: say so, measure the rest
            print(f"{name}: not measured: {why}", file=sys.stderr)
            chosen.remove(name)
    print(json.dumps(result, indent=2))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "ledger_export.json").write_text(json.dumps(result, indent=2) + "\n")
    ok = all(result[s]["ratio_10x"] <= 1.15 for s in chosen)
    print("goals met" if ok else "GOAL NOT MET: peak memory grows with the ledger (10x records, > 1.15x)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
