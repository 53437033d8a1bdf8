"""Loopback stand-ins for the OpenAI and Bedrock runtime APIs (tests, the example, the benchmark).

Each answers like the service for the calls tagwarden's hooks watch, including the usage fields
and the streaming formats (OpenAI server-sent events; Bedrock's binary event stream), and keeps
every request body it got so tests can check what the hooks sent. Bound to 127.0.0.1 only.

Token counts are deterministic: input tokens = words in the request's text + 3, output tokens =
words of the reply (7). OpenAI answers gzip-compressed when asked, like the real API.
"""

from __future__ import annotations

import binascii
import gzip
import json
import struct
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

REPLY = "the answer is forty two as promised"
OUTPUT_TOKENS = len(REPLY.split())
MISSING_MODEL = "no-such-model"  # answered with the API's 404


def _words(value: Any) -> int:
    if isinstance(value, str):
        return len(value.split())
    if isinstance(value, list):
        return sum(_words(v) for v in value)
    if isinstance(value, dict):
        return sum(
            _words(v) for k, v in value.items() if k in ("content", "text", "input", "messages", "system")
        )
    return 0


def input_tokens(body: dict[str, Any]) -> int:
    return _words({k: body.get(k) for k in ("messages", "input", "system")}) + 3


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-stream (closing a stream early) is not an error here."""

    requests: list[dict[str, Any]]
    cached_tokens: int
    lock: threading.Lock


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes: no 40 ms stalls

    def do_GET(self) -> None:
        """`GET /_requests`: how many requests arrived (for a client in another process)."""
        with self.server.lock:
            count = len(self.server.requests)
        self._send(200, json.dumps({"requests": count}).encode(), "application/json")

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length", "0"))
        data = json.loads(self.rfile.read(length) or b"{}")
        with self.server.lock:
            self.server.requests.append({"path": self.path, "body": data, "headers": dict(self.headers)})
        return data if isinstance(data, dict) else {}

    def _send(
        self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


# --- OpenAI ---------------------------------------------------------------------------------------


class _OpenAIHandler(_Handler):
    def do_POST(self) -> None:
        body = self._body()
        path = self.path.split("?")[0]
        if body.get("model") == MISSING_MODEL:
            error = {"message": f"The model `{MISSING_MODEL}` does not exist", "code": "model_not_found"}
            self._send(404, json.dumps({"error": error}).encode(), "application/json")
        elif path.endswith("/chat/completions"):
            self._chat(body)
        elif path.endswith("/responses"):
            self._responses(body)
        else:
            self._send(404, b'{"error":{"message":"not found"}}', "application/json")

    def _usage(self, body: dict[str, Any], chat: bool) -> dict[str, Any]:
        n_in, cached = input_tokens(body), min(self.server.cached_tokens, input_tokens(body))
        if chat:
            return {
                "prompt_tokens": n_in,
                "completion_tokens": OUTPUT_TOKENS,
                "total_tokens": n_in + OUTPUT_TOKENS,
                "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            }
        return {
            "input_tokens": n_in,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": OUTPUT_TOKENS,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": n_in + OUTPUT_TOKENS,
        }

    def _json(self, doc: dict[str, Any]) -> None:
        payload = json.dumps(doc).encode()
        headers = {"x-request-id": f"req_{uuid.uuid4().hex[:12]}"}
        if "gzip" in self.headers.get("Accept-Encoding", ""):
            payload = gzip.compress(payload)
            headers["Content-Encoding"] = "gzip"
        self._send(200, payload, "application/json", headers)

    def _sse(self, events: list[tuple[str | None, dict[str, Any] | str]]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for name, data in events:
            text = data if isinstance(data, str) else json.dumps(data)
            block = (f"event: {name}\n" if name else "") + f"data: {text}\n\n"
            raw = block.encode()
            self.wfile.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _chat(self, body: dict[str, Any]) -> None:
        model = str(body.get("model") or "gpt-4o-mini")
        rid, created = f"chatcmpl-{uuid.uuid4().hex[:20]}", int(time.time())
        base = {"id": rid, "created": created, "model": model, "system_fingerprint": "fp_standin"}
        if not body.get("stream"):
            self._json(
                {
                    **base,
                    "object": "chat.completion",
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": REPLY, "refusal": None},
                            "logprobs": None,
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": self._usage(body, chat=True),
                }
            )
            return
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        extra = {"usage": None} if with_usage else {}
        chunks: list[tuple[str | None, dict[str, Any] | str]] = []
        for i, word in enumerate(REPLY.split()):
            delta = {"role": "assistant", "content": word} if i == 0 else {"content": " " + word}
            chunks.append(
                (
                    None,
                    {
                        **base,
                        "object": "chat.completion.chunk",
                        **extra,
                        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}],
                    },
                )
            )
        chunks.append(
            (
                None,
                {
                    **base,
                    "object": "chat.completion.chunk",
                    **extra,
                    "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
                },
            )
        )
        if with_usage:
            chunks.append(
                (
                    None,
                    {
                        **base,
                        "object": "chat.completion.chunk",
                        "choices": [],
                        "usage": self._usage(body, chat=True),
                    },
                )
            )
        chunks.append((None, "[DONE]"))
        self._sse(chunks)

    def _responses(self, body: dict[str, Any]) -> None:
        model = str(body.get("model") or "gpt-4o-mini")
        rid = f"resp_{uuid.uuid4().hex[:20]}"
        message = {
            "id": f"msg_{uuid.uuid4().hex[:12]}",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": REPLY, "annotations": []}],
        }
        response = {
            "id": rid,
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "model": model,
            "output": [message],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "metadata": body.get("metadata") or {},
            "usage": self._usage(body, chat=False),
        }
        if not body.get("stream"):
            self._json(response)
            return
        started = {**response, "status": "in_progress", "output": [], "usage": None}
        events: list[tuple[str | None, dict[str, Any] | str]] = [
            ("response.created", {"type": "response.created", "sequence_number": 0, "response": started})
        ]
        for i, word in enumerate(REPLY.split(), 1):
            events.append(
                (
                    "response.output_text.delta",
                    {
                        "type": "response.output_text.delta",
                        "sequence_number": i,
                        "item_id": message["id"],
                        "output_index": 0,
                        "content_index": 0,
                        "delta": word + " ",
                        "logprobs": [],
                    },
                )
            )
        events.append(
            (
                "response.completed",
                {"type": "response.completed", "sequence_number": 99, "response": response},
            )
        )
        self._sse(events)


# --- Bedrock runtime -------------------------------------------------------------------------------


def event_message(event_type: str, payload: dict[str, Any]) -> bytes:
    """One message of the AWS event stream encoding (prelude, CRCs, string headers, JSON payload)."""
    headers = b""
    for name, value in (
        (":event-type", event_type),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ):
        n, v = name.encode(), value.encode()
        headers += struct.pack("!B", len(n)) + n + b"\x07" + struct.pack("!H", len(v)) + v
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack("!II", total, len(headers))
    prelude += struct.pack("!I", binascii.crc32(prelude) & 0xFFFFFFFF)
    message = prelude + headers + body
    return message + struct.pack("!I", binascii.crc32(message) & 0xFFFFFFFF)


class _BedrockHandler(_Handler):
    def do_POST(self) -> None:
        body = self._body()
        parts = self.path.split("?")[0].split("/")
        if len(parts) != 4 or parts[1] != "model":
            self._send(404, b'{"message":"not found"}', "application/json")
            return
        model_id, action = unquote(parts[2]), parts[3]
        n_in = input_tokens(body)
        usage = {"inputTokens": n_in, "outputTokens": OUTPUT_TOKENS, "totalTokens": n_in + OUTPUT_TOKENS}
        if self.server.cached_tokens:
            usage["cacheReadInputTokens"] = self.server.cached_tokens
        rid = {"x-amzn-RequestId": str(uuid.uuid4())}
        with self.server.lock:
            self.server.requests[-1]["model_id"] = model_id
        if action == "converse":
            doc = {
                "output": {"message": {"role": "assistant", "content": [{"text": REPLY}]}},
                "stopReason": "end_turn",
                "usage": usage,
                "metrics": {"latencyMs": 12},
            }
            self._send(200, json.dumps(doc).encode(), "application/json", rid)
        elif action == "converse-stream":
            events = [event_message("messageStart", {"role": "assistant"})]
            for i, word in enumerate(REPLY.split()):
                events.append(
                    event_message(
                        "contentBlockDelta",
                        {"contentBlockIndex": 0, "delta": {"text": (" " if i else "") + word}},
                    )
                )
            events += [
                event_message("contentBlockStop", {"contentBlockIndex": 0}),
                event_message("messageStop", {"stopReason": "end_turn"}),
                event_message("metadata", {"usage": usage, "metrics": {"latencyMs": 12}}),
            ]
            self._send(200, b"".join(events), "application/vnd.amazon.eventstream", rid)
        elif action == "invoke":
            answer: dict[str, Any] = {"content": [{"type": "text", "text": REPLY}], "stop_reason": "end_turn"}
            headers = {
                **rid,
                "x-amzn-bedrock-input-token-count": str(n_in),
                "x-amzn-bedrock-output-token-count": str(OUTPUT_TOKENS),
            }
            self._send(200, json.dumps(answer).encode(), "application/json", headers)
        else:
            self._send(404, b'{"message":"unknown action"}', "application/json")


class StandIn:
    """A running stand-in: `url`, the `requests` it got, and `cached_tokens` to report."""

    def __init__(self, server: _Server) -> None:
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._server.lock:
            return list(self._server.requests)

    @property
    def cached_tokens(self) -> int:
        return self._server.cached_tokens

    @cached_tokens.setter
    def cached_tokens(self, value: int) -> None:
        self._server.cached_tokens = value

    def clear(self) -> None:
        with self._server.lock:
            self._server.requests.clear()


@contextmanager
def _serve(handler: type[_Handler]) -> Iterator[StandIn]:
    server = _Server(("127.0.0.1", 0), handler)
    server.requests, server.cached_tokens, server.lock = [], 0, threading.Lock()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield StandIn(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def openai_standin() -> Any:
    """`with openai_standin() as api: OpenAI(base_url=api.url + "/v1", api_key="x")`."""
    return _serve(_OpenAIHandler)


def bedrock_standin() -> Any:
    """`with bedrock_standin() as api: boto3.client("bedrock-runtime", endpoint_url=api.url, ...)`."""
    return _serve(_BedrockHandler)


def main() -> None:  # pragma: no cover - used by bench/llm_bench.py
    """Serve both stand-ins from this process (a benchmark keeps them off its own GIL); print their
    URLs as one JSON line; stop when standard input closes."""
    import sys

    with openai_standin() as oa, bedrock_standin() as br:
        print(json.dumps({"openai": oa.url, "bedrock": br.url}), flush=True)
        sys.stdin.read()


if __name__ == "__main__":  # pragma: no cover
    main()
