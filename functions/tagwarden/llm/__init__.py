"""Model calls attributed: OpenAI, Azure OpenAI and Bedrock usage per Agent-ID and Outcome-ID.

    from tagwarden.llm import Recorder, attributed, instrument_openai, instrument_bedrock

    recorder = Recorder(ledger=SqliteLedger("ledger.db"))
    client = instrument_openai(OpenAI(), recorder)          # or AzureOpenAI / AsyncOpenAI
    bedrock = instrument_bedrock(boto3.client("bedrock-runtime"), recorder)
    with attributed(agent_id="42", task_id="ticket-7"):
        client.chat.completions.create(...)                 # call sites unchanged

Imports no SDK: the hooks work on the clients the agent already made.
"""

from tagwarden.llm.bedrock_hooks import instrument_bedrock
from tagwarden.llm.context import Attribution, attributed, current
from tagwarden.llm.openai_hooks import OpenAIOptions, event_hooks, instrument_openai
from tagwarden.llm.recorder import LlmCall, Recorder

__all__ = [
    "Attribution",
    "LlmCall",
    "OpenAIOptions",
    "Recorder",
    "attributed",
    "current",
    "event_hooks",
    "instrument_bedrock",
    "instrument_openai",
]
