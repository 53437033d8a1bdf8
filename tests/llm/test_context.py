import asyncio
import re
import threading

import pytest

from tagwarden.llm.context import (
    BEDROCK_TEXT_MAX,
    SAFETY_ID_MAX,
    Attribution,
    attributed,
    current,
    fit,
    merge_metadata,
)


def test_safety_identifier_is_the_composite_form():
    a = Attribution("42", "ticket-7", "acme", "cc-1")
    assert a.safety_identifier() == "agent_id:42|task_id:ticket-7"
    assert Attribution("42").safety_identifier() == "agent_id:42"
    assert a.tags() == {"Agent-ID": "42", "Outcome-ID": "ticket-7", "tenant_id": "acme", "CostCenter": "cc-1"}


def test_long_identifiers_are_shortened_deterministically_and_stay_distinct():
    one = Attribution("agent", "x" * 200 + "1").safety_identifier()
    two = Attribution("agent", "x" * 200 + "2").safety_identifier()
    assert len(one) == len(two) == SAFETY_ID_MAX
    assert one != two
    assert one == Attribution("agent", "x" * 200 + "1").safety_identifier()
    assert one.startswith("agent_id:agent|task_id:xxx")
    assert fit("short", 10) == "short"


def test_openai_metadata_respects_the_value_limit():
    meta = Attribution("a", "t" * 600).openai_metadata()
    assert set(meta) == {"agent_id", "task_id"}
    assert len(meta["task_id"]) == 512
    assert all(len(k) <= 64 for k in meta)


def test_bedrock_metadata_only_uses_allowed_characters():
    meta = Attribution("agent/42", "tâche*7", cost_center="c" * 300).bedrock_request_metadata()
    pattern = re.compile(r"[a-zA-Z0-9\s:_@$#=/+,\-.]{0,256}")
    assert all(pattern.fullmatch(v) for v in meta.values())
    assert meta["agent_id"] == "agent/42"
    assert meta["task_id"].startswith("t_che_7#")
    assert meta["task_id"] != Attribution("a", "t_che_7").bedrock_request_metadata()["task_id"]
    assert len(meta["cost_center"]) == BEDROCK_TEXT_MAX


def test_merge_keeps_the_callers_keys_and_the_pair_limit():
    merged, dropped = merge_metadata(
        {"agent_id": "theirs", "x": "1"}, {"agent_id": "ours", "task_id": "t"}, 16
    )
    assert merged == {"agent_id": "theirs", "x": "1", "task_id": "t"}
    assert dropped == 0
    full = {f"k{i}": "v" for i in range(16)}
    merged, dropped = merge_metadata(full, {"agent_id": "a"}, 16)
    assert merged == full
    assert dropped == 1


def test_attributed_nests_and_restores():
    assert current() is None
    with attributed(agent_id="outer") as outer:
        assert current() is outer
        with attributed(Attribution("inner")):
            assert current().agent_id == "inner"
        assert current() is outer
    assert current() is None
    with pytest.raises(ValueError, match="agent"), attributed():
        pass


def test_threads_do_not_see_each_others_attribution():
    seen: dict[str, list[str | None]] = {"a": [], "b": []}
    barrier = threading.Barrier(2)

    def work(agent: str) -> None:
        with attributed(agent_id=agent):
            for _ in range(50):
                barrier.wait()
                got = current()
                seen[agent].append(got.agent_id if got else None)

    threads = [threading.Thread(target=work, args=(n,)) for n in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"a": ["a"] * 50, "b": ["b"] * 50}


def test_asyncio_tasks_do_not_see_each_others_attribution():
    async def work(agent: str) -> list[str]:
        out = []
        with attributed(agent_id=agent):
            for _ in range(20):
                await asyncio.sleep(0)
                out.append(current().agent_id)
        return out

    async def both():
        return await asyncio.gather(work("a"), work("b"))

    assert asyncio.run(both()) == [["a"] * 20, ["b"] * 20]
