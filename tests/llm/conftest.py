from collections.abc import Iterator

import pytest

from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.llm.recorder import Recorder
from tagwarden_testing.llm_standins import StandIn, bedrock_standin, openai_standin


@pytest.fixture(scope="module")
def openai_api() -> Iterator[StandIn]:
    with openai_standin() as api:
        yield api


@pytest.fixture(scope="module")
def bedrock_api() -> Iterator[StandIn]:
    with bedrock_standin() as api:
        yield api


@pytest.fixture
def ledger() -> Iterator[SqliteLedger]:
    led = SqliteLedger()
    yield led
    led.close()


@pytest.fixture
def recorder(ledger: SqliteLedger) -> Iterator[Recorder]:
    rec = Recorder(ledger=ledger, interval=0.01)
    yield rec
    rec.close()


class _BrokenLedger:
    """A ledger whose every write fails (a full disk, a throttled table)."""

    def add_usage(self, records):
        raise OSError("disk full")


@pytest.fixture
def broken_recorder() -> Iterator[Recorder]:
    rec = Recorder(ledger=_BrokenLedger(), interval=0.01)  # type: ignore[arg-type]
    yield rec
    rec.close()
