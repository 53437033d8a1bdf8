"""Two agents, two concurrent tasks each, calling OpenAI and Bedrock: every call attributed.

    PYTHONPATH=functions:devkit python examples/llm_agent.py --ledger /tmp/llm-ledger.db

Runs offline against loopback stand-ins of both APIs (the real `openai` SDK and the real boto3
`bedrock-runtime` client, only their endpoints point at 127.0.0.1). The agent code below is plain
SDK code inside `attributed(...)` blocks; `instrument_openai` / `instrument_bedrock` add the
attribution to each request and record each call's tokens to the SQLite ledger. Then it prints
what each agent's tokens cost at the shipped price table: the shares showback splits a shared
Bedrock or OpenAI cost row by (`llm-tokens` policy).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import Any

import boto3
import openai

from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.llm import Recorder, attributed, instrument_bedrock, instrument_openai
from tagwarden.showback.split import policy
from tagwarden_testing.llm_standins import bedrock_standin, openai_standin

BEDROCK_MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
# support-bot calls Bedrock through its own application inference profile (tagged at creation by
# tagwarden's CreateInferenceProfile handling); research-agent calls the model directly.
PROFILES = {
    "support-bot": {
        BEDROCK_MODEL: "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/support-bot"
    }
}
# agent, cost center, OpenAI model, how much context it sends, its two tasks (Outcome-IDs)
AGENTS = (
    ("support-bot", "101", "gpt-4o-mini", 1, ("OUT-1001", "OUT-1002")),
    ("research-agent", "205", "gpt-4.1", 4, ("OUT-2001", "OUT-2002")),
)
CONTEXT = "the archive holds tickets notes and logs from last quarter "


async def task(
    chat: Any, bedrock: Any, agent: str, cost_center: str, model: str, context: int, outcome: str
) -> None:
    """One agent task: plain SDK calls; the attribution comes from the block around them."""
    with attributed(agent_id=agent, task_id=outcome, cost_center=cost_center):
        question = (
            CONTEXT * context + f"summarise the open tickets for outcome {outcome} in three bullet points"
        )
        await chat.chat.completions.create(model=model, messages=[{"role": "user", "content": question}])
        stream = await chat.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "and now the risks"}], stream=True
        )
        async for _ in stream:
            pass
        # boto3 is synchronous: run it in a thread; asyncio.to_thread carries the attribution along
        messages = [{"role": "user", "content": [{"text": question + " with citations from the archive"}]}]
        await asyncio.to_thread(bedrock.converse, modelId=BEDROCK_MODEL, messages=messages)
        reply = await asyncio.to_thread(bedrock.converse_stream, modelId=BEDROCK_MODEL, messages=messages)
        for _ in reply["stream"]:
            pass


async def run_agents(chat: Any, bedrock: Any) -> None:
    await asyncio.gather(
        *(task(chat, bedrock, *agent[:4], outcome) for agent in AGENTS for outcome in agent[4])
    )
    await chat.close()


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--ledger", default="llm-ledger.db", help="SQLite ledger file (default: %(default)s)")
    parser.add_argument("--format", choices=("json", "text"), default="text")
    args = parser.parse_args(argv)

    ledger = SqliteLedger(args.ledger)
    recorder = Recorder(ledger=ledger)
    with openai_standin() as openai_api, bedrock_standin() as bedrock_api:
        chat = instrument_openai(
            openai.AsyncOpenAI(base_url=openai_api.url + "/v1", api_key="sk-local", max_retries=0), recorder
        )
        bedrock = instrument_bedrock(
            boto3.client(
                "bedrock-runtime",
                endpoint_url=bedrock_api.url,
                region_name="us-east-1",
                aws_access_key_id="local",
                aws_secret_access_key="local",
            ),
            recorder,
            PROFILES,
        )
        asyncio.run(run_agents(chat, bedrock))
        recorder.close()
        sent = {
            "openai": [r["body"].get("safety_identifier") for r in openai_api.requests],
            "bedrock": [r["body"].get("requestMetadata") for r in bedrock_api.requests],
        }

    usage = list(ledger.usage())
    ledger.close()
    summary: dict[str, Any] = {"ledger": args.ledger, "calls": len(usage), "sent": sent, "platforms": {}}
    for platform in ("openai", "bedrock"):
        records = [r for r in usage if r.platform == platform]
        # the profile ARN does not name its model: tell the price table which one it wraps
        params = {
            "resources": {arn: "anthropic.claude-3-haiku" for m in PROFILES.values() for arn in m.values()}
        }
        weights = policy("llm-tokens").weights(records, params)
        total = sum(weights.values())
        summary["platforms"][platform] = {
            dict(key).get("Agent-ID", "?") + "/" + dict(key).get("Outcome-ID", "?"): {
                "cost_usd": round(weight, 8),
                "share": round(weight / total, 6),
            }
            for key, weight in sorted(weights.items())
        }
    summary["stats"] = recorder.stats.as_dict()
    if args.format == "json":
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"{len(usage)} model calls recorded to {args.ledger}")
        for platform, rows in summary["platforms"].items():
            print(f"{platform}: share of the {platform} bill by token cost")
            for who, row in rows.items():
                print(f"  {who:<28} {row['share']:>8.2%}  (${row['cost_usd']:.8f} at list prices)")
    return summary


if __name__ == "__main__":
    main()
