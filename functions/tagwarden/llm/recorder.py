"""Usage of each model call, recorded off the caller's path.

The hooks hand a finished `LlmCall` to `Recorder.record`, which only appends to a bounded queue
(never blocks, never raises); a daemon thread turns calls into `UsageRecord(kind=LLM)` and writes
them to the ledger in batches, and emits OpenTelemetry spans when asked. Anything that goes wrong
there is logged and counted in `stats`, and the model call it describes has long returned.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tagwarden.ledger.model import UsageKind, UsageRecord
from tagwarden.ledger.ports import Ledger

log = logging.getLogger("tagwarden.llm")

# The quantities a usage record carries (tokens are split so each is priced once):
INPUT, CACHED, CACHE_WRITE, OUTPUT, CALLS = (
    "input_tokens",  # input tokens not read from a cache
    "cached_input_tokens",  # input tokens read from the prompt cache
    "cache_write_input_tokens",  # input tokens written to the cache (Bedrock)
    "output_tokens",
    "calls",
)


@dataclass(frozen=True, slots=True)
class LlmCall:
    """One finished model call as a hook saw it."""

    platform: str  # openai | azure-openai | bedrock
    model: str  # what the bill names: model id, deployment, or inference profile ARN
    attribution: Mapping[str, str]
    input_tokens: int = 0  # uncached
    output_tokens: int = 0
    cached_input_tokens: int = 0
    cache_write_input_tokens: int = 0
    request_id: str | None = None  # the provider's id for the call: makes the record idempotent
    operation: str = "chat"
    streamed: bool = False
    started: float = 0.0  # epoch seconds
    ended: float = 0.0
    parent: Any = None  # an OpenTelemetry SpanContext captured in the caller, when spans are on

    def usage_record(self) -> UsageRecord:
        quantities = {INPUT: float(self.input_tokens), OUTPUT: float(self.output_tokens), CALLS: 1.0}
        if self.cached_input_tokens:
            quantities[CACHED] = float(self.cached_input_tokens)
        if self.cache_write_input_tokens:
            quantities[CACHE_WRITE] = float(self.cache_write_input_tokens)
        usage_id = (
            f"{self.platform}:{self.request_id}" if self.request_id else f"{self.platform}:{uuid.uuid4()}"
        )
        return UsageRecord(
            usage_id=usage_id,
            kind=UsageKind.LLM,
            time=self.ended or time.time(),
            platform=self.platform,
            resource=self.model,
            attribution=dict(self.attribution),
            quantities=quantities,
            source="sdk-hook",
        )


@dataclass
class RecorderStats:
    recorded: int = 0  # calls accepted into the queue
    written: int = 0  # usage records the ledger took as new
    dropped: int = 0  # calls lost because the queue was full
    failed: int = 0  # calls lost because the sink or span export raised
    hook_errors: int = 0  # hooks that could not read a call (the call itself went on)
    no_usage: int = 0  # calls whose response carried no usage to read (e.g. a stream cut short)
    unattributed: int = 0  # calls made with no attribution context
    metadata_left_out: int = 0  # our metadata pairs that did not fit beside the caller's
    spans: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


Sink = Callable[[list[UsageRecord]], object]


class Deferred(Protocol):
    """A call whose usage is still to be read (a response body): resolved on the writer thread,
    so decoding and parsing stay off the caller's path. None: the body carried no usage."""

    def resolve(self) -> LlmCall | None: ...


@dataclass
class Recorder:
    """Where the hooks send finished calls. `ledger` (any Ledger) or `sink` (a callable taking a
    batch of UsageRecords) receives them; `spans=True` also emits GenAI spans when
    opentelemetry-api is installed.

    The caller's side is one deque append (atomic under the GIL, no lock, no thread wake-up); the
    writer thread drains the deque every `interval` seconds, in batches of `batch`. Past `capacity`
    waiting calls, new ones are dropped and counted rather than growing without bound.
    """

    ledger: Ledger | None = None
    sink: Sink | None = None
    spans: bool = False
    capacity: int = 10_000
    batch: int = 500
    interval: float = 0.2  # seconds between the writer's drains
    stats: RecorderStats = field(default_factory=RecorderStats)

    def __post_init__(self) -> None:
        self._items: deque[LlmCall | Deferred] = deque()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = False
        self._busy = False  # the writer holds calls it took from the deque
        self._thread: threading.Thread | None = None
        self._at_exit = False

    # --- the caller's side: cheap, never raises ---------------------------------------------------

    def record(self, call: LlmCall | Deferred) -> None:
        try:
            if len(self._items) >= self.capacity:
                self.stats.dropped += 1
                log.warning("llm usage queue full (%d): a call's usage was dropped", self.capacity)
                return
            self._items.append(call)
            self.stats.recorded += 1
            if self._thread is None:
                self._start()
        except Exception:  # never let bookkeeping fail a model call
            self.stats.failed += 1
            log.exception("llm usage could not be queued")

    def hook_error(self, where: str) -> None:
        """A hook could not read or annotate a call; the call went on untouched."""
        self.stats.hook_errors += 1
        log.exception("llm hook error in %s (the model call is not affected)", where)

    def capture_parent(self) -> Any:
        """The caller's current span context, so the background span links to the task that called."""
        if not self.spans:
            return None
        try:
            from opentelemetry import trace

            ctx = trace.get_current_span().get_span_context()
            return ctx if ctx.is_valid else None
        except ImportError:
            return None

    # --- the writer thread ------------------------------------------------------------------------

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._stop = False
                self._thread = threading.Thread(target=self._run, name="tagwarden-llm-recorder", daemon=True)
                self._thread.start()
                if not self._at_exit:  # a process that never calls close() still writes what it queued
                    atexit.register(self.close)
                    self._at_exit = True

    def _run(self) -> None:
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            self._drain()
            if self._stop:
                self._drain()
                return

    def _drain(self) -> None:
        items = self._items
        self._busy = True
        try:
            while items:
                calls = [items.popleft() for _ in range(min(self.batch, len(items)))]
                self._write(calls)
        finally:
            self._busy = False

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything recorded so far is written (tests, the end of a batch job)."""
        end = time.monotonic() + timeout
        while self._items or self._busy:
            if self._thread is None or time.monotonic() >= end:
                return False
            self._wake.set()
            time.sleep(0.002)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Write what is waiting and stop the writer thread (a later record starts a new one)."""
        thread = self._thread
        if thread is None:
            return
        self._stop = True
        self._wake.set()
        thread.join(timeout)
        if thread.is_alive():
            log.warning("llm usage: writer did not drain in %.1fs", timeout)
            return
        self._thread = None

    def _resolve(self, items: list[LlmCall | Deferred]) -> list[LlmCall]:
        calls: list[LlmCall] = []
        for item in items:
            if isinstance(item, LlmCall):
                calls.append(item)
                continue
            try:
                got = item.resolve()
            except Exception:
                self.stats.hook_errors += 1
                log.exception("llm usage: a response's usage could not be read (the call was not affected)")
                continue
            if got is None:
                self.stats.no_usage += 1
            else:
                calls.append(got)
        return calls

    def _write(self, items: list[LlmCall | Deferred]) -> None:
        calls = self._resolve(items)
        if not calls:
            return
        try:
            records = [c.usage_record() for c in calls]
            if self.ledger is not None:
                self.stats.written += self.ledger.add_usage(records)
            if self.sink is not None:
                self.sink(records)
        except Exception:
            self.stats.failed += len(calls)
            log.exception("llm usage: %d records could not be written", len(calls))
        if self.spans:
            for call in calls:
                try:
                    self._span(call)
                except Exception:
                    self.stats.failed += 1
                    log.exception("llm usage: span could not be emitted")

    def _span(self, call: LlmCall) -> None:
        from tagwarden.llm.otel import emit_span

        if emit_span(call):
            self.stats.spans += 1
