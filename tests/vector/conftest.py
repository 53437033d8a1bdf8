"""A PostgreSQL with pgvector per test session (installed when missing; skipped, saying why, when not)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    from tagwarden.testing.postgres import Postgres, Unavailable

    pytest.importorskip("psycopg", reason="psycopg (v3) is in the dev extra: pip install -e '.[dev]'")
    try:
        pg = Postgres().start()
    except Unavailable as error:
        pytest.skip(str(error))
    yield pg
    pg.stop()


@pytest.fixture
def pg_conn(postgres: Any) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(postgres.dsn) as conn:
        yield conn
