"""The Azure notifiers over real HTTP.

TeamsNotifier: a local http.server on 127.0.0.1 plays the Teams Workflows webhook, capturing each
POST (and answering 429 / 500 / 400 when told to); every backoff sleep is recorded, none is real.

QueueNotifier: Azurite, Microsoft's Storage emulator (npm package `azurite`), runs its queue service
as a subprocess on a free port, in memory. It is looked for in .azurite/ (`npm install --prefix
.azurite azurite@AZURITE_VERSION`, done here on first use when npm is present) or at
$TAGWARDEN_AZURITE_QUEUE. Without node/npm these tests are skipped, saying why.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tagwarden.azure.notify import DeliveryFailed, QueueNotifier, TeamsNotifier, redact
from tagwarden.azure.text import AZURE_TEXT
from tagwarden.lifecycle import messages
from tagwarden.lifecycle.fanout import Fanout, FanoutError
from tagwarden.lifecycle.ports import Notification

ROOT = Path(__file__).resolve().parents[2]
AZURITE_DIR = ROOT / ".azurite"
AZURITE_VERSION = "3.35.0"
# Azurite's well-known development account (public, documented; not a secret).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

SUB = "0b1f6471-1bf0-4dda-aec3-111122223333"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-apps/providers/Microsoft.Compute/virtualMachines/vm-build-01"
QUARANTINED = Notification(
    kind="quarantined",
    provider="azure",
    resource_id=VM,
    resource_type="Microsoft.Compute/virtualMachines",
    account=SUB,
    region="westeurope",
    creator="dave@contoso.com",
    creator_address=None,
    rule="prod-owner-required",
    missing=("Owner", "CostCenter"),
    action="quarantine",
    deadline="2025-07-08T12:00:00Z",
    fix=AZURE_TEXT.fix_command(VM, "Microsoft.Compute/virtualMachines", ("Owner", "CostCenter")),
    account_label=AZURE_TEXT.account_label,
    region_label=AZURE_TEXT.region_label,
)


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
        b.get("fontType") == "Monospace" and b["text"].startswith("az tag update ") for b in card["body"]
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


# --- Azurite ----------------------------------------------------------------------------------------


def azurite_queue_binary() -> Path:
    """The azurite-queue launcher: $TAGWARDEN_AZURITE_QUEUE, else .azurite/ (installed on first use)."""
    given = os.environ.get("TAGWARDEN_AZURITE_QUEUE")
    if given:
        return Path(given)
    binary = AZURITE_DIR / "node_modules" / ".bin" / "azurite-queue"
    if binary.exists():
        return binary
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Azurite needs Node.js and npm, and this machine has neither on PATH")
    AZURITE_DIR.mkdir(exist_ok=True)
    with open(AZURITE_DIR / ".install.lock", "w") as lock:  # pytest-xdist workers install once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not binary.exists():
            subprocess.run(
                ["npm", "install", "--prefix", str(AZURITE_DIR), "--no-audit", "--no-fund",
                 f"azurite@{AZURITE_VERSION}"],
                check=True, capture_output=True, timeout=300,
            )  # fmt: skip
    return binary


@dataclass
class Azurite:
    port: int

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/{DEV_ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={DEV_ACCOUNT};AccountKey={DEV_KEY};"
            f"QueueEndpoint={self.endpoint};"
        )


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Azurite]:
    binary = azurite_queue_binary()
    workdir = tmp_path_factory.mktemp("azurite")
    proc = subprocess.Popen(
        [str(binary), "--queueHost", "127.0.0.1", "--queuePort", "0", "--skipApiVersionCheck",
         "--inMemoryPersistence", "--silent", "--disableTelemetry"],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    port = None
    deadline = time.monotonic() + 60
    try:
        while port is None:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"Azurite did not start within 60s: {''.join(seen)}") from None
            seen.append(line)
            match = re.search(r"listens on http://127\.0\.0\.1:(\d+)", line)
            if match:
                port = int(match.group(1))
            elif proc.poll() is not None:
                raise RuntimeError(f"Azurite exited ({proc.returncode}): {''.join(seen)}")
        yield Azurite(port)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _queue_name(request: pytest.FixtureRequest) -> str:
    return re.sub(r"[^a-z0-9]", "", request.node.name.lower())[:50] or "q"


@pytest.mark.e2e
def test_queue_gets_the_json_as_plain_text(azurite: Azurite, request: pytest.FixtureRequest) -> None:
    name = _queue_name(request)
    with QueueNotifier(azurite.connection_string, name) as notifier:
        notifier.client.create_queue()
        notifier.send(QUARANTINED)
        notifier.send(replace(QUARANTINED, kind="released", missing=(), action="release", deadline=None))
        got = list(notifier.client.receive_messages(messages_per_page=10))
    assert [m.content for m in got] == [
        json.dumps(messages.to_json(QUARANTINED)),
        json.dumps(
            messages.to_json(
                replace(QUARANTINED, kind="released", missing=(), action="release", deadline=None)
            )
        ),
    ]
    doc = json.loads(got[0].content)  # not base64: the text is the JSON itself
    assert doc["schema"] == "tagwarden.notification"
    assert doc["recipients"] == ["dave@contoso.com"]
    assert doc["fix"].startswith("az tag update --resource-id ")


@pytest.mark.e2e
def test_queue_by_account_url_and_credential(azurite: Azurite, request: pytest.FixtureRequest) -> None:
    name = _queue_name(request)
    credential = {"account_name": DEV_ACCOUNT, "account_key": DEV_KEY}
    with QueueNotifier(azurite.endpoint, name, credential=credential, time_to_live=3600) as notifier:
        notifier.client.create_queue()
        notifier.send(QUARANTINED)
        [msg] = list(notifier.client.receive_messages())
    assert json.loads(msg.content)["resource_id"] == VM


@pytest.mark.e2e
def test_queue_missing_raises_delivery_failed(azurite: Azurite) -> None:
    notifier = QueueNotifier(azurite.connection_string, "no-such-queue")
    with notifier, pytest.raises(DeliveryFailed, match="queue: no-such-queue"):
        notifier.send(QUARANTINED)


def test_aws_side_never_imports_azure_sdk() -> None:
    code = (
        "import sys; import tagwarden.aws.notify, tagwarden.lifecycle.messages, tagwarden.lifecycle.fanout, "
        "tagwarden.azure.notify; "
        "bad = [m for m in sys.modules if m.startswith('azure.') or m == 'azure']; print(bad); "
        "sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
