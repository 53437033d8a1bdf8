"""The Azure notifier over real HTTP (the Teams webhook: tests/channels/test_webhook.py).

QueueNotifier: Azurite, Microsoft's Storage emulator (npm package `azurite`), runs its queue service
as a subprocess on a free port, in memory. It is looked for in .azurite/ (`npm install --prefix
.azurite azurite@AZURITE_VERSION`, done here on first use when npm is present) or at
$TAGWARDEN_AZURITE_QUEUE. Without node/npm these tests are skipped, saying why.
"""

from __future__ import annotations

import fcntl
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from msgspec.structs import replace

from tagwarden.azure.notify import DeliveryFailed, QueueNotifier
from tagwarden.lifecycle import messages
from tagwarden_testing.notifications import quarantined

ROOT = Path(__file__).resolve().parents[2]
AZURITE_DIR = ROOT / ".azurite"
AZURITE_VERSION = "3.35.0"
# Azurite's well-known development account (public, documented; not a secret).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

SUB = "0b1f6471-1bf0-4dda-aec3-111122223333"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-apps/providers/Microsoft.Compute/virtualMachines/vm-build-01"
QUARANTINED = quarantined("azure")


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
        "tagwarden.azure.notify, tagwarden.channels.webhook; "
        "bad = [m for m in sys.modules if m.startswith('azure.') or m == 'azure']; print(bad); "
        "sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
