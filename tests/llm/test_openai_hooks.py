"""The real openai SDK against the loopback stand-in, with the hooks added to its HTTP client."""

import asyncio
import json
import logging

import openai
import pytest

from tagwarden.llm import OpenAIOptions, attributed, instrument_openai

MESSAGES = [{"role": "user", "content": "how many tokens is this"}]  # 5 words -> 8 input tokens


def client(api, recorder, options=None):
    return instrument_openai(
        openai.OpenAI(base_url=api.url + "/v1", api_key="sk-test", max_retries=0), recorder, options
    )


def aclient(api, recorder):
    return instrument_openai(
        openai.AsyncOpenAI(base_url=api.url + "/v1", api_key="sk-test", max_retries=0), recorder
    )


def usage(recorder, ledger):
    assert recorder.flush()
    return sorted(ledger.usage(), key=lambda r: r.time)


def test_every_kind_of_call_is_attributed_and_counted(openai_api, recorder, ledger):
    openai_api.clear()
    c = client(openai_api, recorder)
    with attributed(agent_id="42", task_id="ticket-7", cost_center="cc-support"):
        done = c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        streamed = list(c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
        c.responses.create(model="gpt-4.1", input="how many tokens is this")
        events = list(c.responses.create(model="gpt-4.1", input="how many tokens is this", stream=True))
    assert done.choices[0].message.content == "the answer is forty two as promised"
    assert streamed[-1].usage.completion_tokens == 7  # the caller sees the usage chunk too
    assert events[-1].type == "response.completed"
    bodies = [r["body"] for r in openai_api.requests]
    assert [b["safety_identifier"] for b in bodies] == ["agent_id:42|task_id:ticket-7"] * 4
    assert bodies[1]["stream_options"] == {"include_usage": True}
    # metadata: Responses take it; Chat Completions only with store (the API rejects it otherwise)
    assert "metadata" not in bodies[0]
    assert bodies[2]["metadata"] == {"agent_id": "42", "task_id": "ticket-7", "cost_center": "cc-support"}
    records = usage(recorder, ledger)
    assert len(records) == 4
    assert {r.resource for r in records} == {"gpt-4o-mini", "gpt-4.1"}
    for r in records:
        assert r.platform == "openai"
        assert r.kind.value == "llm"
        assert r.attribution == {"Agent-ID": "42", "Outcome-ID": "ticket-7", "CostCenter": "cc-support"}
        assert r.quantities["input_tokens"] == 8
        assert r.quantities["output_tokens"] == 7
    assert recorder.stats.hook_errors == 0


def test_no_context_means_no_attribution_and_no_crash(openai_api, recorder, ledger):
    openai_api.clear()
    c = client(openai_api, recorder)
    c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, store=True, metadata={"x": "1"})
    body = openai_api.requests[-1]["body"]
    assert "safety_identifier" not in body
    assert body["metadata"] == {"x": "1"}
    [record] = usage(recorder, ledger)
    assert record.attribution == {}
    assert record.quantities["output_tokens"] == 7
    assert recorder.stats.unattributed == 1


def test_callers_own_fields_win_and_metadata_goes_with_store(openai_api, recorder):
    openai_api.clear()
    c = client(openai_api, recorder)
    with attributed(agent_id="42", task_id="t"):
        c.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            store=True,
            safety_identifier="mine",
            metadata={"agent_id": "x"},
        )
        c.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": False}
        ).close()
    first, second = (r["body"] for r in openai_api.requests)
    assert first["safety_identifier"] == "mine"
    assert first["metadata"] == {"agent_id": "x", "task_id": "t"}
    assert second["stream_options"] == {"include_usage": False}  # the caller said no: left alone


def test_cached_tokens_are_counted_apart(openai_api, recorder, ledger):
    openai_api.cached_tokens = 5
    try:
        with attributed(agent_id="42"):
            client(openai_api, recorder).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    finally:
        openai_api.cached_tokens = 0
    [record] = usage(recorder, ledger)
    assert record.quantities["input_tokens"] == 3
    assert record.quantities["cached_input_tokens"] == 5


def test_user_field_for_deployments_without_safety_identifier(openai_api, recorder):
    openai_api.clear()
    with attributed(agent_id="42"):
        client(openai_api, recorder, OpenAIOptions(identifier_field="user")).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    body = openai_api.requests[-1]["body"]
    assert body["user"] == "agent_id:42"
    assert "safety_identifier" not in body


def test_azure_openai_client_is_recorded_as_azure(openai_api, recorder, ledger):
    openai_api.clear()
    az = instrument_openai(
        openai.AzureOpenAI(
            azure_endpoint=openai_api.url,
            api_key="k",
            api_version="2024-10-21",
            azure_deployment="support-4o",
        ),
        recorder,
    )
    with attributed(agent_id="7", task_id="t-9"):
        az.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    req = openai_api.requests[-1]
    assert req["path"].startswith("/openai/deployments/support-4o/chat/completions")
    assert req["body"]["safety_identifier"] == "agent_id:7|task_id:t-9"
    [record] = usage(recorder, ledger)
    assert record.platform == "azure-openai"
    assert record.attribution["Agent-ID"] == "7"


def test_recorder_failures_never_fail_the_call(openai_api, broken_recorder, caplog):
    c = client(openai_api, broken_recorder)
    with caplog.at_level(logging.ERROR, "tagwarden.llm"), attributed(agent_id="42"):
        got = c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        list(c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
        broken_recorder.flush()
    assert got.choices[0].message.content.startswith("the answer")
    assert broken_recorder.stats.failed == 2
    assert "could not be written" in caplog.text


def test_a_hook_that_breaks_leaves_the_call_alone(openai_api, recorder, monkeypatch):
    import tagwarden.llm.openai_hooks as hooks

    def boom():
        raise RuntimeError("bad context")

    monkeypatch.setattr(hooks, "current", boom)
    got = client(openai_api, recorder).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert got.usage.total_tokens == 15
    assert recorder.stats.hook_errors == 1


def test_async_client_two_agents_concurrently_do_not_mix(openai_api, recorder, ledger):
    openai_api.clear()
    c = aclient(openai_api, recorder)

    async def agent(agent_id: str, task: str) -> None:
        with attributed(agent_id=agent_id, task_id=task):
            for i in range(3):
                await c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
                stream = await c.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
                async for _ in stream:
                    pass
                await c.responses.create(model="gpt-4.1", input=f"task {task} step {i}")

    async def both() -> None:
        await asyncio.gather(agent("a", "task-a"), agent("b", "task-b"))
        await c.close()

    asyncio.run(both())
    by_agent: dict[str, set[str]] = {}
    for r in openai_api.requests:
        agent_id, task = r["body"]["safety_identifier"].split("|")
        by_agent.setdefault(agent_id, set()).add(task)
    assert by_agent == {"agent_id:a": {"task_id:task-a"}, "agent_id:b": {"task_id:task-b"}}
    records = usage(recorder, ledger)
    assert len(records) == 18
    for r in records:
        assert r.attribution["Outcome-ID"] == f"task-{r.attribution['Agent-ID']}"
    assert sum(1 for r in records if r.attribution["Agent-ID"] == "a") == 9


def test_instrumenting_twice_adds_the_hooks_once(openai_api, recorder):
    c = client(openai_api, recorder)
    instrument_openai(c, recorder)
    assert len(c._client.event_hooks["request"]) == 1


def test_error_responses_are_not_recorded(openai_api, recorder, ledger):
    c = client(openai_api, recorder)
    with attributed(agent_id="42"), pytest.raises(openai.NotFoundError):
        c.chat.completions.create(model="no-such-model", messages=MESSAGES)
    assert recorder.flush()
    assert list(ledger.usage()) == []


def test_new_keys_are_appended_without_reencoding_the_callers_body():
    from tagwarden.llm.openai_hooks import _append

    body = b'{"model":"m","messages":[{"role":"user","content":"caf\\u00e9 }"}]}\n'
    got = _append(body, {"safety_identifier": "agent_id:1"}, empty=False)
    assert (
        got
        == b'{"model":"m","messages":[{"role":"user","content":"caf\\u00e9 }"}],"safety_identifier":"agent_id:1"}'
    )
    assert json.loads(got)["messages"][0]["content"] == "café }"
    assert _append(b"{}", {"a": 1}, empty=True) == b'{"a":1}'
