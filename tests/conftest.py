"""Shared fixtures: the example rules, the corpus location."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import builders`

EXAMPLE_RULES = ROOT / "functions" / "tagwarden" / "examples" / "rules.yaml"
# TAGWARDEN_CORPUS: a corpus elsewhere (a git worktree has no ../shared beside it).
CORPUS = Path(os.environ.get("TAGWARDEN_CORPUS") or ROOT.parent / "shared" / "corpus")


@pytest.fixture(scope="session")
def example_rules():  # type: ignore[no-untyped-def]
    from tagwarden.rules import load_rules

    return load_rules(EXAMPLE_RULES, env={})


@pytest.fixture(scope="session")
def postgres():  # type: ignore[no-untyped-def]
    """A PostgreSQL with pgvector on loopback for the session (tests/vector); installed when missing,
    skipped, saying why, when it cannot be had."""
    from tagwarden_testing.postgres import Postgres, Unavailable

    pytest.importorskip("psycopg", reason="psycopg (v3) is in the dev extra: pip install -e '.[dev]'")
    try:
        pg = Postgres().start()
    except Unavailable as error:
        pytest.skip(str(error))
    yield pg
    pg.stop()


@pytest.fixture
def pg_conn(postgres):  # type: ignore[no-untyped-def]
    import psycopg

    with psycopg.connect(postgres.dsn) as conn:
        yield conn


@pytest.fixture(autouse=True)
def _collector_running() -> Iterator[None]:
    """Importing a handler pauses the garbage collector until its first event ends
    (tagwarden.coldstart): a test that imports one without an event must not leave the worker
    without a collector."""
    yield
    from tagwarden import coldstart

    coldstart.settled()


@pytest.fixture(autouse=True)
def _a_local_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Enforcers refuse to start without a ledger (a missing one fails loudly at cold start): tests
    that build one from the environment get a fresh SQLite ledger unless they name their own."""
    import os

    if not os.environ.get("TAGWARDEN_LEDGER") and not os.environ.get("TAGWARDEN_LEDGER_TABLE"):
        monkeypatch.setenv("TAGWARDEN_LEDGER", str(tmp_path / "test-ledger.sqlite"))


@pytest.fixture(scope="module")
def azurite_tables(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A connection string to Azurite's table service (devkit's `table_service`), per module;
    skipped where Azurite is not installed."""
    from tagwarden_testing.azurite import Unavailable, table_service

    try:
        with table_service(tmp_path_factory.mktemp("azurite")) as connection:
            yield connection
    except Unavailable as why:
        pytest.skip(str(why))
