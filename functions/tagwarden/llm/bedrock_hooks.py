"""botocore event handlers that attribute bedrock-runtime calls and read their token usage.

`instrument_bedrock(client, recorder, profiles=...)` registers on the client's own event system;
call sites do not change:

- `provide-client-params` (Converse, ConverseStream, InvokeModel, InvokeModelWithResponseStream):
  adds the attribution as Converse `requestMetadata` (the caller's keys win; it lands in the model
  invocation logs), and swaps the model id for the agent's application inference profile ARN when
  `profiles` names one (the profile's cost allocation tags then reach the bill);
- `after-call`: reads `usage` from Converse, wraps ConverseStream's event stream so the `metadata`
  event's usage is read as the caller iterates, and reads InvokeModel's token-count headers.

Handler errors are counted in `recorder.stats.hook_errors` and never reach the caller. boto3 is
not imported here.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from tagwarden.llm.context import BEDROCK_METADATA_PAIRS, current, merge_metadata
from tagwarden.llm.recorder import LlmCall, Recorder

KEY = "tagwarden_llm"  # request context key: what after-call needs from before the call
OPERATIONS = ("Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream")
METADATA_OPERATIONS = ("Converse", "ConverseStream")  # the ones that accept requestMetadata
# agent id -> model id -> application inference profile ARN
Profiles = Mapping[str, Mapping[str, str]]


class _Handlers:
    def __init__(self, recorder: Recorder, profiles: Profiles, metadata: bool) -> None:
        self.recorder, self.profiles, self.metadata = recorder, profiles, metadata

    def before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        try:
            attribution = current()
            tags: dict[str, str] = {}
            if attribution is None:
                self.recorder.stats.unattributed += 1
            else:
                tags, _identifier, _metadata, request_metadata = attribution.derived
                if self.metadata and model.name in METADATA_OPERATIONS:
                    theirs = params.get("requestMetadata")
                    merged, dropped = merge_metadata(
                        theirs if isinstance(theirs, dict) else None,
                        request_metadata,
                        BEDROCK_METADATA_PAIRS,
                    )
                    params["requestMetadata"] = merged
                    self.recorder.stats.metadata_left_out += dropped
                profile = self.profiles.get(attribution.agent_id, {}).get(str(params.get("modelId", "")))
                if profile:
                    params["modelId"] = profile
            context[KEY] = (str(params.get("modelId", "")), tags, time.time(), self.recorder.capture_parent())
        except Exception:
            self.recorder.hook_error("bedrock request")

    def after(
        self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any
    ) -> None:
        try:
            pending = context.get(KEY)
            if pending is None or getattr(http_response, "status_code", 200) >= 300:
                return
            model_id, tags, started, parent = pending
            request_id = (parsed.get("ResponseMetadata") or {}).get("RequestId")

            def call(usage: Mapping[str, Any], streamed: bool) -> LlmCall:
                return LlmCall(
                    platform="bedrock",
                    model=model_id,
                    attribution=tags,
                    input_tokens=int(usage.get("inputTokens", 0)),
                    output_tokens=int(usage.get("outputTokens", 0)),
                    cached_input_tokens=int(usage.get("cacheReadInputTokens", 0)),
                    cache_write_input_tokens=int(usage.get("cacheWriteInputTokens", 0)),
                    request_id=request_id,
                    operation="chat",
                    streamed=streamed,
                    started=started,
                    ended=time.time(),
                    parent=parent,
                )

            name = model.name
            if name == "Converse":
                usage = parsed.get("usage")
                if isinstance(usage, dict):
                    self.recorder.record(call(usage, False))
                else:
                    self.recorder.stats.no_usage += 1
            elif name == "ConverseStream" and "stream" in parsed:
                parsed["stream"] = _CountedStream(parsed["stream"], self.recorder, lambda u: call(u, True))
            elif name == "InvokeModel":
                headers = getattr(http_response, "headers", {}) or {}
                got = headers.get("x-amzn-bedrock-input-token-count")
                if got is None:
                    self.recorder.stats.no_usage += 1
                    return
                usage = {
                    "inputTokens": int(got),
                    "outputTokens": int(headers.get("x-amzn-bedrock-output-token-count", 0)),
                    "cacheReadInputTokens": int(
                        headers.get("x-amzn-bedrock-cache-read-input-token-count", 0)
                    ),
                    "cacheWriteInputTokens": int(
                        headers.get("x-amzn-bedrock-cache-write-input-token-count", 0)
                    ),
                }
                self.recorder.record(call(usage, False))
            # InvokeModelWithResponseStream: usage sits in model-specific chunk bodies; the
            # invocation-log importer counts those calls instead.
        except Exception:
            self.recorder.hook_error("bedrock response")


class _CountedStream:
    """ConverseStream's event stream, read through: the `metadata` event's usage is recorded."""

    def __init__(self, inner: Any, recorder: Recorder, make: Any) -> None:
        self._inner, self._recorder, self._make = inner, recorder, make
        self._seen = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for event in self._inner:
            if not self._seen:
                self._look(event)
            yield event
        if not self._seen:
            self._seen = True
            self._recorder.stats.no_usage += 1

    def _look(self, event: Any) -> None:
        try:
            meta = event.get("metadata") if isinstance(event, dict) else None
            if isinstance(meta, dict) and isinstance(meta.get("usage"), dict):
                self._seen = True
                self._recorder.record(self._make(meta["usage"]))
        except Exception:
            self._recorder.hook_error("bedrock stream")

    def __getattr__(self, name: str) -> Any:  # close(), and whatever else the caller uses
        return getattr(self._inner, name)


def instrument_bedrock(
    client: Any, recorder: Recorder, profiles: Profiles | None = None, *, metadata: bool = True
) -> Any:
    """Register the handlers on a boto3 `bedrock-runtime` client. Returns the client; a second call
    on the same client adds nothing (botocore keeps the first handlers registered under an id)."""
    handlers = _Handlers(recorder, profiles or {}, metadata)
    events = client.meta.events
    service = client.meta.service_model.service_id.hyphenize()
    for op in OPERATIONS:
        events.register(
            f"provide-client-params.{service}.{op}", handlers.before, unique_id=f"tagwarden-llm-before-{op}"
        )
        events.register(f"after-call.{service}.{op}", handlers.after, unique_id=f"tagwarden-llm-after-{op}")
    return client
