"""The Teams webhook channel over real HTTP: a local http.server on 127.0.0.1 plays the Teams
Workflows webhook, capturing each POST (and answering 429 / 500 / 400 when told to); every backoff
sleep is recorded, none is real."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tagwarden.channels import DeliveryFailed
from tagwarden.channels.retry import retry_after_seconds
from tagwarden.channels.webhook import TeamsNotifier, redact, teams_channel
from tagwarden.lifecycle import messages
from tagwarden.lifecycle.fanout import Fanout, FanoutError
from tagwarden.lifecycle.ports import Notification
from tagwarden_testing.notifications import quarantined

QUARANTINED = quarantined("aws")


# --- a local Teams webhook ------------------------------------------------------------------------


@dataclass
class Webhook:
    url: str
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    # answers to give, in order: (status, headers, body); then 202 Accepted, as Workflows answers
    script: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    state = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            state.requests.append((self.path, dict(self.headers), self.rfile.read(length)))
            status, headers, body = state.script.pop(0) if state.script else (202, {}, b"")
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    state.url = f"http://{host}:{port}/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=SECRET"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def test_teams_posts_the_adaptive_card(webhook: Webhook) -> None:
    sleeps: list[float] = []
    TeamsNotifier(webhook.url, sleep=sleeps.append).send(QUARANTINED)
    [(path, headers, body)] = webhook.requests
    assert path.startswith("/workflows/abc/triggers/manual/paths/invoke?")
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload == messages.adaptive_card(QUARANTINED)
    card = payload["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard"
    assert any(
        b.get("fontType") == "Monospace" and b["text"].startswith("aws resourcegroupstaggingapi ")
        for b in card["body"]
    )
    assert sleeps == []


def test_teams_retries_429_honouring_retry_after(webhook: Webhook) -> None:
    webhook.script = [(429, {"Retry-After": "7"}, b"Too many requests"), (200, {}, b"")]
    sleeps: list[float] = []
    status = TeamsNotifier(webhook.url, sleep=sleeps.append).post(messages.adaptive_card(QUARANTINED))
    assert status == 200
    assert len(webhook.requests) == 2
    assert webhook.requests[0][2] == webhook.requests[1][2]  # the same card, sent again
    assert sleeps == [7.0]


def test_teams_caps_retry_after_and_backs_off_on_5xx(webhook: Webhook) -> None:
    webhook.script = [(429, {"Retry-After": "3600"}, b""), (503, {}, b""), (502, {}, b""), (202, {}, b"")]
    sleeps: list[float] = []
    TeamsNotifier(webhook.url, sleep=sleeps.append, attempts=4, base_delay=1.0, max_retry_after=30.0).send(
        QUARANTINED
    )
    assert len(webhook.requests) == 4
    assert sleeps[0] == 30.0
    assert 1.0 <= sleeps[1] <= 2.0  # second backoff step, with jitter
    assert 2.0 <= sleeps[2] <= 4.0


def test_teams_gives_up_after_its_attempts_without_leaking_the_signature(webhook: Webhook) -> None:
    webhook.script = [(500, {}, b"flow failed")] * 3
    sleeps: list[float] = []
    with pytest.raises(DeliveryFailed) as err:
        TeamsNotifier(webhook.url, sleep=sleeps.append, attempts=3).send(QUARANTINED)
    assert err.value.status == 500
    assert err.value.attempts == 3
    assert len(webhook.requests) == 3
    assert len(sleeps) == 2
    assert "flow failed" in str(err.value)
    assert "SECRET" not in str(err.value)
    assert "SECRET" not in repr(TeamsNotifier(webhook.url))


def test_teams_does_not_retry_a_client_error(webhook: Webhook) -> None:
    webhook.script = [(400, {}, b'{"error":{"code":"InvalidRequestContent"}}')]
    sleeps: list[float] = []
    with pytest.raises(DeliveryFailed, match="InvalidRequestContent") as err:
        TeamsNotifier(webhook.url, sleep=sleeps.append).send(QUARANTINED)
    assert err.value.status == 400
    assert len(webhook.requests) == 1
    assert sleeps == []


def test_teams_retries_connection_errors_then_fails() -> None:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    sleeps: list[float] = []
    with pytest.raises(DeliveryFailed, match="teams") as err:
        TeamsNotifier(f"http://127.0.0.1:{port}/x?sig=SECRET", sleep=sleeps.append, attempts=2).send(
            QUARANTINED
        )
    assert err.value.status is None
    assert len(sleeps) == 1
    assert "SECRET" not in str(err.value)


def test_teams_from_env() -> None:
    assert TeamsNotifier.from_env({}) is None
    n = TeamsNotifier.from_env({"TAGWARDEN_TEAMS_WEBHOOK_URL": " https://example.invalid/x?sig=1 "})
    assert n is not None
    assert repr(n) == "TeamsNotifier('https://example.invalid/x')"
    with pytest.raises(ValueError, match="unresolved Key Vault reference"):
        TeamsNotifier.from_env(
            {
                "TAGWARDEN_TEAMS_WEBHOOK_URL": "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/t/)"
            }
        )
    with pytest.raises(ValueError, match="not an http"):
        TeamsNotifier("ftp://example.invalid/x")


def test_redact() -> None:
    assert redact("https://h.example/p/invoke?api-version=1&sig=abc") == "https://h.example/p/invoke"


def test_fanout_keeps_other_channels_when_teams_fails(webhook: Webhook) -> None:
    webhook.script = [(500, {}, b"")] * 2
    delivered: list[Notification] = []

    class Other:
        def send(self, message: Notification) -> None:
            delivered.append(message)

    fan = Fanout({"teams": TeamsNotifier(webhook.url, sleep=lambda _: None, attempts=2), "queue": Other()})
    with pytest.raises(FanoutError, match="teams: DeliveryFailed") as err:
        fan.send(QUARANTINED)
    assert delivered == [QUARANTINED]
    assert err.value.delivered == ("queue",)


def test_retry_after_reads_seconds_and_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("-3") == 0.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_teams_channel_from_settings_or_rules() -> None:
    notifier, failure = teams_channel({}, "https://example.test/hook?sig=x")
    assert isinstance(notifier, TeamsNotifier) and failure is None
    assert teams_channel({}, None) == (None, None)
    unresolved = {"TAGWARDEN_TEAMS_WEBHOOK_URL": "@Microsoft.KeyVault(SecretUri=https://v/s)"}
    notifier, failure = teams_channel(unresolved, "https://example.test/hook")
    assert notifier is None and failure is not None and "Key Vault reference" in failure
    notifier, failure = teams_channel({}, "ftp://nope")
    assert notifier is None and failure is not None and failure.startswith("teams: not an http(s) URL")
