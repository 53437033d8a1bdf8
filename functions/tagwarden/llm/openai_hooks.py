"""httpx event hooks that attribute OpenAI / Azure OpenAI calls and read their token usage.

`instrument_openai(client, recorder)` adds two hooks to the SDK's own HTTP client (sync or async,
httpx or httpx2); call sites do not change. On a POST to `/chat/completions` or `/responses`:

- the request hook adds the attribution to the JSON body: `safety_identifier` (unless the caller
  set one), `metadata` where the API takes it (Responses unless `store` is false; Chat Completions
  only with `store: true`, which the API requires), and `stream_options.include_usage` on streamed
  chat completions so the last chunk carries the usage;
- the response hook wraps the body stream in a tee that reads the usage as the caller consumes it
  (the whole JSON, or the SSE `usage` chunk / `response.completed` event), then hands one
  `LlmCall` to the recorder. No extra round trip, nothing read ahead of the caller.

Every hook step is guarded: an error is counted (`recorder.stats.hook_errors`) and the call goes on.
The SDK is not imported here; the hooks work on whatever request/response objects it uses.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tagwarden.llm.context import OPENAI_METADATA_PAIRS, current, merge_metadata
from tagwarden.llm.recorder import LlmCall, Recorder

KEY = "tagwarden_llm"  # request.extensions key carrying the pending call to the response hook
_OPERATIONS = (("/chat/completions", "chat"), ("/responses", "responses"))
MAX_BODY = 32 * 1024 * 1024  # a non-streamed body past this is not parsed for usage


@dataclass(frozen=True, slots=True)
class OpenAIOptions:
    identifier_field: str | None = "safety_identifier"  # or "user" for deployments without it; None: off
    metadata: bool = True
    include_usage: bool = True  # streamed chat completions: ask for the usage chunk


@dataclass(slots=True)
class _Pending:
    platform: str
    operation: str
    model: str
    attribution: dict[str, str]
    started: float
    streamed: bool
    parent: Any = None


def _platform(host: str, path: str) -> tuple[str, str | None]:
    """(platform, Azure deployment named in the path)."""
    if host.endswith((".openai.azure.com", ".cognitiveservices.azure.com")) or path.startswith("/openai/"):
        parts = path.split("/")
        dep = parts[parts.index("deployments") + 1] if "deployments" in parts[:-1] else None
        return "azure-openai", dep
    return "openai", None


def annotate(request: Any, recorder: Recorder, options: OpenAIOptions) -> None:
    """The request hook's work: add attribution to the body, remember what to read back."""
    if request.method != "POST":
        return
    path = request.url.path
    operation = next((op for suffix, op in _OPERATIONS if path.endswith(suffix)), None)
    if operation is None:
        return
    body = json.loads(request.content)
    if not isinstance(body, dict):
        return
    attribution = current()
    changed = False
    tags: dict[str, str] = {}
    if attribution is not None:
        tags, identifier, metadata, _ = attribution.derived
        field_name = options.identifier_field
        if field_name and not body.get(field_name):
            body[field_name] = identifier
            changed = True
        store = body.get("store")
        if options.metadata and (store is True or (operation == "responses" and store is not False)):
            theirs = body.get("metadata")
            merged, dropped = merge_metadata(
                theirs if isinstance(theirs, dict) else None,
                metadata,
                OPENAI_METADATA_PAIRS,
            )
            body["metadata"] = merged
            recorder.stats.metadata_left_out += dropped
            changed = True
    else:
        recorder.stats.unattributed += 1
    streamed = bool(body.get("stream"))
    if streamed and operation == "chat" and options.include_usage:
        stream_options = body.get("stream_options")
        if not isinstance(stream_options, dict):
            stream_options = {}
        if "include_usage" not in stream_options:
            body["stream_options"] = {**stream_options, "include_usage": True}
            changed = True
    if changed:
        _replace_body(request, json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    platform, deployment = _platform(request.url.host, path)
    request.extensions[KEY] = _Pending(
        platform=platform,
        operation=operation,
        model=str(body.get("model") or deployment or ""),
        attribution=tags,
        started=time.time(),
        streamed=streamed,
        parent=recorder.capture_parent(),
    )


def _replace_body(request: Any, content: bytes) -> None:
    request.stream = type(request.stream)(content)  # ByteStream: the type the SDK gave
    request._content = content
    request.headers["Content-Length"] = str(len(content))


# --- reading the usage while the caller reads the body ------------------------------------------------


def _usage_of(obj: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(usage, the object holding it) from a chat completion, chunk or Responses event."""
    usage = obj.get("usage")
    if isinstance(usage, dict):
        return usage, obj
    response = obj.get("response")
    if isinstance(response, dict) and isinstance(response.get("usage"), dict):
        return response["usage"], response
    return None


_USAGE_OBJECT = re.compile(rb'"usage"\s*:\s*\{')  # a usage object, not `"usage": null`
_USAGE_TEXT = re.compile(r'"usage"\s*:\s*\{')
# Keys outside JSON strings: inside a string their quotes would be escaped (\").
_MODEL = re.compile(r'"model"\s*:\s*"((?:[^"\\]|\\.)*)"')
_ID = re.compile(r'"id"\s*:\s*"((?:[^"\\]|\\.)*)"')
_JSON = json.JSONDecoder()


@dataclass
class _Reader:
    """Reads the usage out of a body as it streams past, doing as little as it can per chunk:
    SSE chunks are only split into lines when they hold a usage object; a JSON body is kept and
    only its `usage` object is parsed at the end (the SDK parses the whole of it anyway)."""

    pending: _Pending
    recorder: Recorder
    sse: bool
    decoder: Any  # the HTTP library's content decoder, or None for identity
    buffer: bytearray = field(default_factory=bytearray)
    found: tuple[dict[str, Any], dict[str, Any]] | None = None
    done: bool = False
    broken: bool = False

    def feed(self, raw: bytes) -> None:
        if self.done or self.broken:
            return
        try:
            self._take(_bytes(self.decoder.decode(raw)) if self.decoder else raw)
        except Exception:
            self.broken = True
            self.recorder.hook_error("openai response")

    def _take(self, data: bytes) -> None:
        if not self.sse:
            self.buffer += data
            if len(self.buffer) > MAX_BODY:
                self.broken = True
            return
        cut = data.rfind(b"\n")
        if cut < 0:  # no line ends here: keep the partial line
            self.buffer += data
            return
        lines = bytes(self.buffer) + data[:cut] if self.buffer else data[:cut]
        self.buffer = bytearray(data[cut + 1 :])
        if _USAGE_OBJECT.search(lines) is None:
            return
        for line in lines.split(b"\n"):
            if line.startswith(b"data:") and _USAGE_OBJECT.search(line):
                obj = json.loads(line[5:])
                if isinstance(obj, dict):
                    self.found = _usage_of(obj) or self.found

    def _from_body(self) -> None:
        text = self.buffer.decode("utf-8")
        hit = _USAGE_TEXT.search(text)
        if hit is None:
            return
        usage, _ = _JSON.raw_decode(text, hit.end() - 1)
        holder = {}
        for key, pattern in (("model", _MODEL), ("id", _ID)):
            got = pattern.search(text)
            if got:
                holder[key] = json.loads(f'"{got.group(1)}"')
        if isinstance(usage, dict):
            self.found = (usage, holder)

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            if self.decoder and not self.broken:
                self._take(_bytes(self.decoder.flush()) + (b"\n" if self.sse else b""))
            if self.sse and self.buffer and not self.broken:
                self._take(b"\n")
            if not self.sse and not self.broken and self.buffer:
                self._from_body()
            self.buffer = bytearray()
            if self.found is None:
                self.recorder.stats.no_usage += 1
                return
            self.recorder.record(_call(self.pending, *self.found))
        except Exception:
            self.recorder.hook_error("openai usage")


def _bytes(out: bytes | Iterable[bytes]) -> bytes:
    """httpx decoders return bytes; httpx2's yield them."""
    return out if isinstance(out, bytes) else b"".join(out)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _call(p: _Pending, usage: dict[str, Any], holder: dict[str, Any]) -> LlmCall:
    if "prompt_tokens" in usage:  # chat completions
        total_in, out = _int(usage.get("prompt_tokens")), _int(usage.get("completion_tokens"))
        details = usage.get("prompt_tokens_details")
    else:  # responses
        total_in, out = _int(usage.get("input_tokens")), _int(usage.get("output_tokens"))
        details = usage.get("input_tokens_details")
    cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else 0
    return LlmCall(
        platform=p.platform,
        model=str(holder.get("model") or p.model),
        attribution=p.attribution,
        input_tokens=max(total_in - cached, 0),
        output_tokens=out,
        cached_input_tokens=cached,
        request_id=str(holder["id"]) if holder.get("id") else None,
        operation=p.operation,
        streamed=p.streamed,
        started=p.started,
        ended=time.time(),
        parent=p.parent,
    )


_TEES: dict[str, tuple[type, type]] = {}


def _tee_types(package: str) -> tuple[type, type]:
    """Sync and async stream wrappers deriving from the HTTP library's own stream bases (its
    transports and `Response.iter_raw` check them)."""
    if package in _TEES:
        return _TEES[package]
    lib = importlib.import_module(package)

    class SyncTee(lib.SyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, inner: Any, reader: _Reader) -> None:
            self.inner, self.reader = inner, reader

        def __iter__(self) -> Iterator[bytes]:
            for chunk in self.inner:
                self.reader.feed(chunk)
                yield chunk
            self.reader.finish()

        def close(self) -> None:
            try:
                self.inner.close()
            finally:
                self.reader.finish()

    class AsyncTee(lib.AsyncByteStream):  # type: ignore[name-defined,misc]
        def __init__(self, inner: Any, reader: _Reader) -> None:
            self.inner, self.reader = inner, reader

        async def __aiter__(self) -> AsyncIterator[bytes]:
            async for chunk in self.inner:
                self.reader.feed(chunk)
                yield chunk
            self.reader.finish()

        async def aclose(self) -> None:
            try:
                await self.inner.aclose()
            finally:
                self.reader.finish()

    _TEES[package] = (SyncTee, AsyncTee)
    return _TEES[package]


def watch(response: Any, recorder: Recorder, asynchronous: bool) -> None:
    """The response hook's work: wrap the body so its usage is read as the caller reads it."""
    pending = response.request.extensions.get(KEY)
    if pending is None or response.status_code >= 400:
        return
    package = type(response).__module__.split(".")[0]
    encoding = response.headers.get("content-encoding", "").strip().lower()
    decoder = None
    if encoding and encoding != "identity":
        decoders = importlib.import_module(f"{package}._decoders").SUPPORTED_DECODERS
        if encoding not in decoders:
            recorder.stats.no_usage += 1
            return
        decoder = decoders[encoding]()
    sse = "text/event-stream" in response.headers.get("content-type", "")
    reader = _Reader(pending, recorder, sse, decoder)
    sync_tee, async_tee = _tee_types(package)
    response.stream = (async_tee if asynchronous else sync_tee)(response.stream, reader)


def event_hooks(
    recorder: Recorder, options: OpenAIOptions | None = None, *, asynchronous: bool = False
) -> dict[str, list[Callable[[Any], Any]]]:
    """Hooks for an httpx client you build yourself: `httpx.Client(event_hooks=event_hooks(rec))`."""
    opts = options or OpenAIOptions()

    def on_request(request: Any) -> None:
        try:
            annotate(request, recorder, opts)
        except Exception:
            recorder.hook_error("openai request")

    def on_response(response: Any) -> None:
        try:
            watch(response, recorder, asynchronous)
        except Exception:
            recorder.hook_error("openai response")

    if not asynchronous:
        return {"request": [on_request], "response": [on_response]}

    async def on_request_async(request: Any) -> None:
        on_request(request)

    async def on_response_async(response: Any) -> None:
        on_response(response)

    return {"request": [on_request_async], "response": [on_response_async]}


def instrument_openai(client: Any, recorder: Recorder, options: OpenAIOptions | None = None) -> Any:
    """Add the hooks to an `OpenAI`, `AsyncOpenAI`, `AzureOpenAI` or `AsyncAzureOpenAI` client (or
    to an httpx client directly). Returns the client. Instrumenting twice does nothing more."""
    http = getattr(client, "_client", client)  # the SDK keeps its httpx client here
    if getattr(http, "_tagwarden_llm", False):
        return client
    asynchronous = inspect.iscoroutinefunction(http.send)
    hooks = event_hooks(recorder, options, asynchronous=asynchronous)
    current_hooks = http.event_hooks
    http.event_hooks = {
        "request": [*current_hooks.get("request", []), *hooks["request"]],
        "response": [*current_hooks.get("response", []), *hooks["response"]],
    }
    http._tagwarden_llm = True
    return client
