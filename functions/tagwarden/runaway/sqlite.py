"""The runaway store in a local SQLite file: the CLI, the demo and the tests.

`add` is one IMMEDIATE transaction: the members are inserted first, and a member that is already
there (a redelivery) rolls the whole tally back. Each thread gets its own connection (WAL mode), so
threads and processes count concurrently and SQLite serialises the writers.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tagwarden.runaway.judge import AlertState, should_alert
from tagwarden.runaway.ports import BrakeRecord, BrakeState, Conflict, CounterKey, Member, Tally

_SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
  scope TEXT NOT NULL, key TEXT NOT NULL, time REAL NOT NULL, resources TEXT NOT NULL,
  hourly REAL NOT NULL, expires REAL NOT NULL, PRIMARY KEY (scope, key));
CREATE INDEX IF NOT EXISTS members_time ON members (scope, time);
CREATE TABLE IF NOT EXISTS counters (
  limit_id TEXT NOT NULL, scope TEXT NOT NULL, bucket INTEGER NOT NULL, value REAL NOT NULL,
  expires REAL NOT NULL, PRIMARY KEY (limit_id, scope, bucket));
CREATE TABLE IF NOT EXISTS alerts (
  limit_id TEXT NOT NULL, scope TEXT NOT NULL, level INTEGER NOT NULL, at REAL NOT NULL,
  PRIMARY KEY (limit_id, scope));
CREATE TABLE IF NOT EXISTS brakes (
  scope TEXT NOT NULL, principal TEXT NOT NULL, state TEXT NOT NULL, version INTEGER NOT NULL,
  doc TEXT NOT NULL, PRIMARY KEY (scope, principal));
"""
_BUSY = (BrakeState.APPLYING.value, BrakeState.ACTIVE.value)


class SqliteRunawayStore:
    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._local = threading.local()
        self._shared: sqlite3.Connection | None = None
        self._lock = threading.RLock()  # only for :memory:, where all threads share one connection
        self._connect().executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        if self.path == ":memory:":
            if self._shared is None:
                self._shared = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            return self._shared
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA busy_timeout=30000")
            self._local.db = db
        return db

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock if self.path == ":memory:" else _nothing():
            db = self._connect()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def add(self, tally: Tally) -> bool:
        try:
            self._add(tally)
        except _Duplicate:
            return False  # rolled back: a redelivery counts nothing
        return True

    def _add(self, tally: Tally) -> None:
        with self._tx() as db:
            for m in tally.members:
                cur = db.execute(
                    "INSERT OR IGNORE INTO members VALUES (?, ?, ?, ?, ?, ?)",
                    (m.scope, m.key, m.time, json.dumps(list(m.resources)), m.hourly, tally.expires),
                )
                if cur.rowcount != 1:
                    raise _Duplicate
            for k, v in tally.adds.items():
                db.execute(
                    "INSERT INTO counters VALUES (?, ?, ?, ?, ?) ON CONFLICT (limit_id, scope, bucket) "
                    "DO UPDATE SET value = value + excluded.value, expires = excluded.expires",
                    (k.limit, k.scope, k.bucket, v, tally.expires),
                )

    def read(self, keys: Sequence[CounterKey]) -> dict[CounterKey, float]:
        out = dict.fromkeys(keys, 0.0)
        with self._tx() as db:
            for k in keys:
                row = db.execute(
                    "SELECT value FROM counters WHERE limit_id = ? AND scope = ? AND bucket = ?",
                    (k.limit, k.scope, k.bucket),
                ).fetchone()
                if row:
                    out[k] = float(row[0])
        return out

    def total(self, limit: str, scope: str) -> float:
        """Every bucket's sum (tests, `tagwarden brake list`)."""
        with self._tx() as db:
            row = db.execute(
                "SELECT COALESCE(SUM(value), 0) FROM counters WHERE limit_id = ? AND scope = ?",
                (limit, scope),
            ).fetchone()
        return float(row[0])

    def members(self, scope: str, since: float) -> list[Member]:
        with self._tx() as db:
            rows = db.execute(
                "SELECT key, time, resources, hourly FROM members WHERE scope = ? AND time > ? ORDER BY time",
                (scope, since),
            ).fetchall()
        return [Member(scope, r[0], float(r[1]), tuple(json.loads(r[2])), float(r[3])) for r in rows]

    def claim_alert(self, limit: str, scope: str, level: int, now: float, cooldown: int) -> bool:
        with self._tx() as db:
            row = db.execute(
                "SELECT level, at FROM alerts WHERE limit_id = ? AND scope = ?", (limit, scope)
            ).fetchone()
            previous = AlertState(int(row[0]), float(row[1])) if row else None
            if not should_alert(previous, level, now, cooldown):
                return False
            db.execute("INSERT OR REPLACE INTO alerts VALUES (?, ?, ?, ?)", (limit, scope, level, now))
        return True

    def put_brake(self, record: BrakeRecord) -> bool:
        with self._tx() as db:
            row = db.execute(
                "SELECT state FROM brakes WHERE scope = ? AND principal = ?", (record.scope, record.principal)
            ).fetchone()
            if row and row[0] in _BUSY:
                return False
            # A released or failed brake is replaced by the new one (its history is in the logs).
            db.execute(
                "INSERT OR REPLACE INTO brakes VALUES (?, ?, ?, ?, ?)",
                (record.scope, record.principal, record.state.value, record.version, record.dumps()),
            )
        return True

    def update_brake(self, record: BrakeRecord) -> None:
        with self._tx() as db:
            row = db.execute(
                "SELECT version FROM brakes WHERE scope = ? AND principal = ?",
                (record.scope, record.principal),
            ).fetchone()
            if row is None or int(row[0]) != record.version - 1:
                raise Conflict(f"brake on {record.principal}: changed since it was read")
            db.execute(
                "UPDATE brakes SET state = ?, version = ?, doc = ? WHERE scope = ? AND principal = ?",
                (record.state.value, record.version, record.dumps(), record.scope, record.principal),
            )

    def brakes(self, scope: str | None = None) -> list[BrakeRecord]:
        with self._tx() as db:
            if scope is None:
                rows = db.execute("SELECT doc FROM brakes ORDER BY scope, principal").fetchall()
            else:
                rows = db.execute(
                    "SELECT doc FROM brakes WHERE scope = ? ORDER BY principal", (scope,)
                ).fetchall()
        return [BrakeRecord.from_json(json.loads(r[0])) for r in rows]


class _Duplicate(Exception):
    pass


@contextmanager
def _nothing() -> Iterator[None]:
    yield
