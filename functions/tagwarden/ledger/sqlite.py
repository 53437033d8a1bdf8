"""The ledger in a local SQLite file: the embedded default for the CLI, the demo and the tests.

One table per record kind; the record's JSON is stored whole beside the indexed columns, so the
file is also readable with any SQLite tool. `resource_id` holds the store key (`ledger_key`: the
exact id on AWS, folded on Azure); the record's own id keeps its case in `doc`. WAL mode lets
readers (showback) run beside a writer.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from tagwarden.ledger.model import LifecycleState, ResourceRecord, UsageRecord, ledger_key
from tagwarden.ledger.ports import Conflict

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
  provider TEXT NOT NULL, resource_id TEXT NOT NULL, state TEXT NOT NULL, version INTEGER NOT NULL,
  doc TEXT NOT NULL, PRIMARY KEY (provider, resource_id));
CREATE INDEX IF NOT EXISTS resources_state ON resources (state);
CREATE TABLE IF NOT EXISTS usage (
  usage_id TEXT PRIMARY KEY, time REAL NOT NULL, doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS usage_time ON usage (time);
"""


LEDGER_ENV = "TAGWARDEN_LEDGER"  # a SQLite file (or :memory:): the CLI's, the demo's, local runs'
DEFAULT_PATH = ".tagwarden/ledger.sqlite"


class SqliteLedger:
    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SqliteLedger | None:
        """The SQLite file TAGWARDEN_LEDGER names, or None when it names none."""
        path = env.get(LEDGER_ENV)
        return cls(path) if path else None

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()  # one connection shared by threads: serialise its use
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def create(self, record: ResourceRecord) -> bool:
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO resources VALUES (?, ?, ?, ?, ?)",
                (*record.key, record.state.value, record.version, _doc(record)),
            )
            return cur.rowcount == 1

    def create_many(self, records: Sequence[ResourceRecord]) -> list[bool]:
        return [self.create(r) for r in records]  # local file: a call is a function call

    def get(self, provider: str, resource_id: str) -> ResourceRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT doc FROM resources WHERE provider = ? AND resource_id = ?",
                (provider, ledger_key(provider, resource_id)),
            ).fetchone()
        return ResourceRecord.from_json(json.loads(row[0])) if row else None

    def update(self, record: ResourceRecord) -> None:
        with self._lock:
            cur = self._db.execute(
                "UPDATE resources SET state = ?, version = ?, doc = ? "
                "WHERE provider = ? AND resource_id = ? AND version = ?",
                (
                    record.state.value,
                    record.version,
                    _doc(record),
                    *record.key,
                    record.version - 1,
                ),
            )
        if cur.rowcount != 1:
            raise Conflict(f"{record.resource_id}: changed since version {record.version - 1} was read")

    def in_state(self, *states: LifecycleState) -> Iterator[ResourceRecord]:
        marks = ",".join("?" * len(states))
        with self._lock:
            rows = self._db.execute(
                f"SELECT doc FROM resources WHERE state IN ({marks})",  # placeholders only
                [s.value for s in states],
            ).fetchall()
        return (ResourceRecord.from_json(json.loads(r[0])) for r in rows)

    def scan(self) -> Iterator[ResourceRecord]:
        with self._lock:
            rows = self._db.execute("SELECT doc FROM resources").fetchall()
        return (ResourceRecord.from_json(json.loads(r[0])) for r in rows)

    def add_usage(self, records: Iterable[UsageRecord]) -> int:
        rows = [(r.usage_id, r.time, json.dumps(r.to_json(), sort_keys=True)) for r in records]
        with self._lock:
            before = self._db.total_changes
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR IGNORE INTO usage VALUES (?, ?, ?)", rows)
            self._db.execute("COMMIT")
            return self._db.total_changes - before

    def usage(self, since: float | None = None, until: float | None = None) -> Iterator[UsageRecord]:
        lo = float("-inf") if since is None else since
        hi = float("inf") if until is None else until
        with self._lock:
            rows = self._db.execute(
                "SELECT doc FROM usage WHERE time >= ? AND time < ? ORDER BY time", (lo, hi)
            ).fetchall()
        return (UsageRecord.from_json(json.loads(r[0])) for r in rows)

    def records(self) -> Iterator[ResourceRecord | UsageRecord]:
        """Every resource, then every usage sample by time (the export's order since it began)."""
        yield from self.scan()
        yield from self.usage()


def _doc(record: ResourceRecord) -> str:
    return json.dumps(record.to_json(), sort_keys=True)
