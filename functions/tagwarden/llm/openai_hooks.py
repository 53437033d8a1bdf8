"""httpx event hooks that attribute OpenAI / Azure OpenAI calls and read their token usage.

`instrument_openai(client, recorder)` adds two hooks to the SDK's own HTTP client (sync or async,
httpx or httpx2); call sites do not change. On a POST to `/chat/completions` or `/responses`:

- the request hook adds the attribution to the JSON body: `safety_identifier` (unless the caller
  set one), `metadata` where the API takes it (Responses unless `store` is false; Chat Completions
  only with `store: true`, which the API requires), and `stream_options.include_usage` on streamed
  chat completions so the last chunk carries the usage;
- the response hook wraps the body stream in a tee that keeps the raw chunks as the caller
  consumes them; when the body ends, the recorder's thread decodes them and reads the usage (the
  JSON body's, or the SSE `usage` chunk / `response.completed` event). No extra round trip,
  nothing read ahead of the caller, no parsing on the caller's path.

Every hook step is guarded: an error is counted (`recorder.stats.hook_errors`) and the call goes on.
The SDK is not imported here; the hooks work on whatever request/response objects it uses.
"""

from __future__ import annotations

import functools
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
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode  # made once: no per-call setup
MAX_BODY = 32 * 1024 * 1024  # a response body past this is not kept (its usage is not read)


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
    content = request.content
    body = json.loads(content)
    if not isinstance(body, dict):
        return
    attribution = current()
    added: dict[str, Any] = {}  # new top-level keys: appended to the body as it is
    replaced: dict[str, Any] = {}  # keys the caller set that we extend: the body is re-encoded
    tags: dict[str, str] = {}
    if attribution is not None:
        tags, identifier, metadata, _ = attribution.derived
        field_name = options.identifier_field
        if field_name and not body.get(field_name):
            (replaced if field_name in body else added)[field_name] = identifier
        store = body.get("store")
        if options.metadata and (store is True or (operation == "responses" and store is not False)):
            theirs = body.get("metadata")
            merged, dropped = merge_metadata(
                theirs if isinstance(theirs, dict) else None, metadata, OPENAI_METADATA_PAIRS
            )
            recorder.stats.metadata_left_out += dropped
            if merged != theirs:
                (replaced if "metadata" in body else added)["metadata"] = merged
    else:
        recorder.stats.unattributed += 1
    streamed = bool(body.get("stream"))
    if streamed and operation == "chat" and options.include_usage:
        stream_options = body.get("stream_options")
        if not isinstance(stream_options, dict):
            stream_options = {}
        if "include_usage" not in stream_options:
            value = {**stream_options, "include_usage": True}
            (replaced if "stream_options" in body else added)["stream_options"] = value
    if replaced:
        body.update(replaced)
        body.update(added)
        _replace_body(request, _ENCODE(body).encode("utf-8"))
    elif added:
        _replace_body(request, _append(content, added, empty=not body))
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


def _append(content: bytes, added: dict[str, Any], empty: bool) -> bytes:
    """The JSON object `content` with new keys added before its closing brace, without decoding
    and re-encoding the caller's part (a long prompt costs nothing more)."""
    extra = _ENCODE(added).encode("utf-8")
    if empty:
        return extra
    return content.rstrip()[:-1] + b"," + extra[1:]


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


@dataclass
class _Reader:
    """Keeps the raw body chunks as the caller reads them (one list append each) and, once the
    body ends, hands itself to the recorder; `resolve` then runs on the recorder's thread:
    decompresses, finds the usage (the whole JSON body's `usage` object, or the SSE line holding
    one) and returns the call. Nothing is decoded or parsed twice on the caller's path."""

    pending: _Pending
    recorder: Recorder
    response: Any  # for its headers (content type and encoding), read on the recorder's thread
    package: str  # httpx or httpx2: whose decoders to use
    chunks: list[bytes] = field(default_factory=list)
    size: int = 0
    done: bool = False
    ended: float = 0.0

    def feed(self, raw: bytes) -> None:
        if self.size <= MAX_BODY:
            self.chunks.append(raw)
            self.size += len(raw)

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        self.ended = time.time()
        if self.size > MAX_BODY:
            self.recorder.stats.no_usage += 1
            return
        self.recorder.record(self)

    def resolve(self) -> LlmCall | None:
        headers = self.response.headers
        body = b"".join(self.chunks)
        encoding = headers.get("content-encoding", "").strip().lower()
        if encoding and encoding != "identity":
            decoder = _decoders(self.package)[encoding]()
            body = _bytes(decoder.decode(body)) + _bytes(decoder.flush())
        if "text/event-stream" in headers.get("content-type", ""):
            found = _from_sse(body)
        else:
            found = _from_json(body.decode("utf-8"))
        return None if found is None else _call(self.pending, *found, ended=self.ended)


def _from_sse(body: bytes) -> tuple[dict[str, Any], dict[str, Any]] | None:
    found = None
    for line in body.split(b"\n"):
        if line.startswith(b"data:") and _USAGE_OBJECT.search(line):
            obj = json.loads(line[5:])
            if isinstance(obj, dict):
                found = _usage_of(obj) or found
    return found


def _from_json(text: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    obj = json.loads(text)
    return _usage_of(obj) if isinstance(obj, dict) else None


@functools.cache
def _decoders(package: str) -> dict[str, Any]:
    found: dict[str, Any] = importlib.import_module(f"{package}._decoders").SUPPORTED_DECODERS
    return found


def _bytes(out: bytes | Iterable[bytes]) -> bytes:
    """httpx decoders return bytes; httpx2's yield them."""
    return out if isinstance(out, bytes) else b"".join(out)


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _call(p: _Pending, usage: dict[str, Any], holder: dict[str, Any], ended: float) -> LlmCall:
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
        ended=ended,
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
    package = type(response).__module__.partition(".")[0]
    reader = _Reader(pending, recorder, response, package)
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
