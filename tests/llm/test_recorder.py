import threading

import pytest

from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.llm.otel import span_attributes
from tagwarden.llm.recorder import LlmCall, Recorder


def call(**kw):
    base = {
        "platform": "openai",
        "model": "gpt-4o-mini",
        "attribution": {"Agent-ID": "42"},
        "input_tokens": 10,
        "output_tokens": 2,
        "started": 100.0,
        "ended": 101.0,
    }
    return LlmCall(**{**base, **kw})


def test_calls_become_llm_usage_records_written_in_batches():
    ledger = SqliteLedger()
    written = []
    rec = Recorder(ledger=ledger, sink=written.append, interval=0.05)
    for i in range(25):
        rec.record(call(request_id=f"r{i}", cached_input_tokens=i % 2))
    assert rec.flush()
    rec.close()
    records = list(ledger.usage())
    assert len(records) == 25
    assert rec.stats.written == 25
    assert 1 <= len(written) < 25  # batched
    r = records[0]
    assert r.usage_id == "openai:r0"
    assert r.time == 101.0
    assert r.quantities == {"input_tokens": 10.0, "output_tokens": 2.0, "calls": 1.0}
    assert records[1].quantities["cached_input_tokens"] == 1.0


def test_the_same_call_recorded_twice_is_stored_once():
    ledger = SqliteLedger()
    rec = Recorder(ledger=ledger, interval=0.01)
    rec.record(call(request_id="same"))
    rec.record(call(request_id="same"))
    assert rec.flush()
    assert len(list(ledger.usage())) == 1


def test_a_full_queue_drops_and_counts_without_blocking():
    gate = threading.Event()

    def slow_sink(records):
        gate.wait(5)

    rec = Recorder(sink=slow_sink, capacity=3, batch=1, interval=0)
    for i in range(20):
        rec.record(call(request_id=str(i)))  # returns at once even though the sink is stuck
    assert rec.stats.dropped >= 15
    gate.set()
    assert rec.flush()
    rec.close()


def test_span_attributes_follow_the_genai_conventions():
    attrs = span_attributes(
        call(
            cached_input_tokens=4,
            request_id="chatcmpl-1",
            attribution={"Agent-ID": "42", "Outcome-ID": "t-1", "CostCenter": "cc"},
        )
    )
    assert attrs["gen_ai.request.model"] == "gpt-4o-mini"
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.usage.input_tokens"] == 14
    assert attrs["gen_ai.usage.output_tokens"] == 2
    assert attrs["gen_ai.usage.cache_read.input_tokens"] == 4
    assert attrs["gen_ai.agent.id"] == "42"
    assert attrs["tagwarden.outcome_id"] == "t-1"
    assert attrs["tagwarden.cost_center"] == "cc"


def test_spans_are_emitted_as_children_of_the_callers_span():
    sdk = pytest.importorskip("opentelemetry.sdk.trace")
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = sdk.TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    if trace.get_tracer_provider() is not provider:
        pytest.skip("another test set the global tracer provider first")
    rec = Recorder(spans=True, interval=0.01)
    with provider.get_tracer("agent").start_as_current_span("task") as task:
        parent = rec.capture_parent()
        rec.record(call(parent=parent))
    assert rec.flush()
    rec.close()
    spans = {s.name: s for s in exporter.get_finished_spans()}
    model_span = spans["chat gpt-4o-mini"]
    assert model_span.parent.span_id == task.get_span_context().span_id
    assert model_span.attributes["gen_ai.usage.input_tokens"] == 10
    assert model_span.attributes["tagwarden.agent_id"] == "42"
    assert model_span.start_time == 100_000_000_000
    assert rec.stats.spans == 1


def test_a_process_that_never_closes_the_recorder_still_writes_at_exit(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    db = tmp_path / "ledger.db"
    code = (
        "from tagwarden.ledger.sqlite import SqliteLedger\n"
        "from tagwarden.llm import LlmCall, Recorder\n"
        f"rec = Recorder(ledger=SqliteLedger({str(db)!r}), interval=30)\n"
        "rec.record(LlmCall('openai', 'gpt-4o-mini', {'Agent-ID': '1'}, 1, 1, request_id='x'))\n"
    )
    subprocess.run(
        [sys.executable, "-c", code], check=True, env={"PYTHONPATH": str(ROOT / "functions")}, timeout=60
    )
    assert [r.usage_id for r in SqliteLedger(db).usage()] == ["openai:x"]
