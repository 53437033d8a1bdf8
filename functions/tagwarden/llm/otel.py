"""OpenTelemetry spans for model calls, with the GenAI semantic conventions (optional extra).

Emitted by the recorder's thread after the call, with the call's own start and end times and the
caller's span as parent, so any OTel backend (X-Ray included) links the model call to the function
or task that made it. Without opentelemetry-api installed this does nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tagwarden.llm.context import AGENT_ID, COST_CENTER, OUTCOME_ID, TENANT_ID

if TYPE_CHECKING:
    from tagwarden.llm.recorder import LlmCall

# gen_ai.provider.name values of the conventions
PROVIDERS = {"openai": "openai", "azure-openai": "azure.ai.openai", "bedrock": "aws.bedrock"}
ATTRIBUTES = {
    AGENT_ID: "tagwarden.agent_id",
    OUTCOME_ID: "tagwarden.outcome_id",
    TENANT_ID: "tagwarden.tenant_id",
    COST_CENTER: "tagwarden.cost_center",
}


def span_attributes(call: LlmCall) -> dict[str, Any]:
    attrs: dict[str, Any] = {
        "gen_ai.operation.name": call.operation,
        "gen_ai.provider.name": PROVIDERS.get(call.platform, call.platform),
        "gen_ai.request.model": call.model,
        "gen_ai.usage.input_tokens": call.input_tokens
        + call.cached_input_tokens
        + call.cache_write_input_tokens,
        "gen_ai.usage.output_tokens": call.output_tokens,
    }
    if call.cached_input_tokens:
        attrs["gen_ai.usage.cache_read.input_tokens"] = call.cached_input_tokens
    if call.request_id:
        attrs["gen_ai.response.id"] = call.request_id
    if AGENT_ID in call.attribution:
        attrs["gen_ai.agent.id"] = call.attribution[AGENT_ID]
    for key, name in ATTRIBUTES.items():
        if key in call.attribution:
            attrs[name] = call.attribution[key]
    return attrs


def emit_span(call: LlmCall) -> bool:
    try:
        from opentelemetry import trace
    except ImportError:
        return False
    tracer = trace.get_tracer("tagwarden.llm")
    context = None
    if call.parent is not None:
        context = trace.set_span_in_context(trace.NonRecordingSpan(call.parent))
    span = tracer.start_span(
        f"{call.operation} {call.model}",
        context=context,
        kind=trace.SpanKind.CLIENT,
        attributes=span_attributes(call),
        start_time=int(call.started * 1e9),
    )
    span.end(end_time=int(call.ended * 1e9))
    return True
