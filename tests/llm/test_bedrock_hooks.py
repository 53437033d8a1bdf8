"""The real boto3 bedrock-runtime client against the loopback stand-in, with the handlers added."""

import json
import logging
import threading

import boto3

from tagwarden.llm import attributed, instrument_bedrock

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
PROFILE = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/agent42haiku"
MESSAGES = [{"role": "user", "content": [{"text": "summarise this ticket please"}]}]  # 4 words -> 7 tokens


def runtime(api, recorder, profiles=None):
    c = boto3.client(
        "bedrock-runtime",
        endpoint_url=api.url,
        region_name="us-east-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )
    return instrument_bedrock(c, recorder, profiles)


def usage(recorder, ledger):
    assert recorder.flush()
    return list(ledger.usage())


def test_converse_stream_and_invoke_are_attributed_and_counted(bedrock_api, recorder, ledger):
    bedrock_api.clear()
    c = runtime(bedrock_api, recorder)
    with attributed(agent_id="42", task_id="ticket-7", tenant_id="acme"):
        out = c.converse(modelId=MODEL, messages=MESSAGES)
        events = list(c.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"])
        c.invoke_model(
            modelId=MODEL, body=json.dumps({"messages": [{"role": "user", "content": "hi there"}]})
        )
    assert out["output"]["message"]["content"][0]["text"].startswith("the answer")
    assert "metadata" in events[-1]  # the caller still gets every event
    conv, stream, invoke = bedrock_api.requests
    expected = {"agent_id": "42", "task_id": "ticket-7", "tenant_id": "acme"}
    assert conv["body"]["requestMetadata"] == expected
    assert stream["body"]["requestMetadata"] == expected
    assert "requestMetadata" not in invoke["body"]  # InvokeModel's body is the model's own
    records = usage(recorder, ledger)
    assert len(records) == 3
    for r in records:
        assert r.platform == "bedrock"
        assert r.resource == MODEL
        assert r.attribution == {"Agent-ID": "42", "Outcome-ID": "ticket-7", "tenant_id": "acme"}
        assert r.quantities["output_tokens"] == 7
    assert sorted(r.quantities["input_tokens"] for r in records) == [5, 7, 7]
    assert all(r.usage_id.startswith("bedrock:") and len(r.usage_id) > 20 for r in records)


def test_no_context_sends_no_metadata_and_still_counts(bedrock_api, recorder, ledger):
    bedrock_api.clear()
    c = runtime(bedrock_api, recorder)
    c.converse(modelId=MODEL, messages=MESSAGES)
    c.converse(modelId=MODEL, messages=MESSAGES, requestMetadata={"job": "nightly"})
    first, second = bedrock_api.requests
    assert "requestMetadata" not in first["body"]
    assert second["body"]["requestMetadata"] == {"job": "nightly"}
    records = usage(recorder, ledger)
    assert [r.attribution for r in records] == [{}, {}]
    assert recorder.stats.unattributed == 2


def test_callers_metadata_is_kept_and_not_mutated(bedrock_api, recorder):
    bedrock_api.clear()
    theirs = {"agent_id": "theirs", "job": "j1"}
    with attributed(agent_id="42", task_id="t"):
        runtime(bedrock_api, recorder).converse(modelId=MODEL, messages=MESSAGES, requestMetadata=theirs)
    assert bedrock_api.requests[-1]["body"]["requestMetadata"] == {
        "agent_id": "theirs",
        "job": "j1",
        "task_id": "t",
    }
    assert theirs == {"agent_id": "theirs", "job": "j1"}


def test_the_agents_inference_profile_is_used(bedrock_api, recorder, ledger):
    bedrock_api.clear()
    c = runtime(bedrock_api, recorder, {"42": {MODEL: PROFILE}})
    with attributed(agent_id="42"):
        c.converse(modelId=MODEL, messages=MESSAGES)
    with attributed(agent_id="other"):
        c.converse(modelId=MODEL, messages=MESSAGES)
    assert [r["model_id"] for r in bedrock_api.requests] == [PROFILE, MODEL]
    assert sorted(r.resource for r in usage(recorder, ledger)) == sorted([PROFILE, MODEL])


def test_recorder_failures_never_fail_the_call(bedrock_api, broken_recorder, caplog):
    c = runtime(bedrock_api, broken_recorder)
    with caplog.at_level(logging.ERROR, "tagwarden.llm"), attributed(agent_id="42"):
        assert c.converse(modelId=MODEL, messages=MESSAGES)["usage"]["outputTokens"] == 7
        assert len(list(c.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"])) == 11
        broken_recorder.flush()
    assert broken_recorder.stats.failed == 2


def test_a_handler_that_breaks_leaves_the_call_alone(bedrock_api, recorder, monkeypatch):
    import tagwarden.llm.bedrock_hooks as hooks

    def boom():
        raise RuntimeError("bad context")

    monkeypatch.setattr(hooks, "current", boom)
    assert (
        runtime(bedrock_api, recorder).converse(modelId=MODEL, messages=MESSAGES)["usage"]["inputTokens"] == 7
    )
    assert recorder.stats.hook_errors == 1


def test_stream_closed_early_records_nothing_and_does_not_crash(bedrock_api, recorder, ledger):
    c = runtime(bedrock_api, recorder)
    with attributed(agent_id="42"):
        stream = c.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"]
        next(iter(stream))
        stream.close()
    assert usage(recorder, ledger) == []


def test_two_agents_in_threads_do_not_mix(bedrock_api, recorder, ledger):
    bedrock_api.clear()
    c = runtime(bedrock_api, recorder)  # one client shared by both threads, as boto3 allows
    barrier = threading.Barrier(2)

    def agent(agent_id: str) -> None:
        with attributed(agent_id=agent_id, task_id=f"task-{agent_id}"):
            for _ in range(5):
                barrier.wait()
                c.converse(modelId=MODEL, messages=MESSAGES)
                list(c.converse_stream(modelId=MODEL, messages=MESSAGES)["stream"])

    threads = [threading.Thread(target=agent, args=(a,)) for a in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for req in bedrock_api.requests:
        meta = req["body"]["requestMetadata"]
        assert meta["task_id"] == f"task-{meta['agent_id']}"
    records = usage(recorder, ledger)
    assert len(records) == 20
    assert all(r.attribution["Outcome-ID"] == f"task-{r.attribution['Agent-ID']}" for r in records)


def test_stubber_sees_the_metadata_in_the_validated_params(recorder):
    """botocore's Stubber checks the params, after our handler ran, against the service model."""
    from botocore.stub import Stubber

    c = boto3.client(
        "bedrock-runtime", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    instrument_bedrock(c, recorder)
    expected = {
        "modelId": MODEL,
        "messages": MESSAGES,
        "requestMetadata": {"agent_id": "42", "task_id": "t/1"},
    }
    answer = {
        "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 3, "outputTokens": 1, "totalTokens": 4},
        "metrics": {"latencyMs": 1},
    }
    with Stubber(c) as stub:
        stub.add_response("converse", answer, expected)
        with attributed(agent_id="42", task_id="t/1"):
            c.converse(modelId=MODEL, messages=MESSAGES)
        stub.assert_no_pending_responses()
