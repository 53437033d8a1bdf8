"""Rules from an Azure Blob (Azurite's blob service, the real azure-storage-blob client) reloaded
without a restart: the function's handler decides the next event by the new version once max_age
has passed on the injected clock; a broken version leaves the old in force, said once; the sweeper
judges by the same version."""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tagwarden.azure import handler
from tagwarden.azure.rules_source import blob_url, live_rules
from tagwarden.azure.telemetry import LOGGER, Telemetry
from tagwarden.ledger.records import rules_hash
from tagwarden.ledger.sqlite import SqliteLedger
from tagwarden.rules import RulesError
from tagwarden_testing.arm_fake import ArmFake, arm_fake

import builders as b
from conftest import EXAMPLE_RULES

pytestmark = pytest.mark.e2e
pytest.importorskip("azure.storage.blob", reason="azure-storage-blob is in the azure extra")

ROOT = Path(__file__).resolve().parents[2]
# Azurite's well-known development account (public, documented; not a secret).
DEV_ACCOUNT = "devstoreaccount1"
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
CREDENTIAL = {"account_name": DEV_ACCOUNT, "account_key": DEV_KEY}
RG = "rg-agent-customer-support"
SUPPORT_BOT = "11111111-2222-3333-4444-555555555555"  # Agent-ID support-bot in the example rules
V1 = EXAMPLE_RULES.read_text()
V2 = V1.replace('"11111111-2222-3333-4444-555555555555": support-bot', '"11111111-2222-3333-4444-555555555555": helpdesk-bot')
BROKEN = V2.replace("pattern: '^OUT-[0-9]{3,8}$'", "pattern: '^(?=OUT)OUT-[0-9]+$'")  # RE2 cannot run it


@pytest.fixture(scope="module")
def blob_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = Path(os.environ.get("TAGWARDEN_AZURITE_BLOB") or ROOT / ".azurite" / "node_modules" / ".bin" / "azurite-blob")
    if not binary.exists():
        pytest.skip("Azurite's blob service is not installed (ln -s /work/main/.azurite .azurite, or npm install)")
    proc = subprocess.Popen(
        [str(binary), "--blobHost", "127.0.0.1", "--blobPort", "0", "--skipApiVersionCheck",
         "--inMemoryPersistence", "--silent", "--disableTelemetry"],
        cwd=tmp_path_factory.mktemp("azurite"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    try:
        port = None
        deadline = time.monotonic() + 60
        while port is None:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise RuntimeError(f"Azurite did not start within 60s: {''.join(seen)}") from None
            seen.append(line)
            match = re.search(r"http://127\.0\.0\.1:(\d+)", line)
            if match:
                port = int(match.group(1))
            elif proc.poll() is not None:
                raise RuntimeError(f"Azurite exited ({proc.returncode}): {''.join(seen)}")
        yield f"http://127.0.0.1:{port}/{DEV_ACCOUNT}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def container(endpoint: str, name: str) -> Any:
    from azure.storage.blob import BlobServiceClient

    client = BlobServiceClient(endpoint, credential=CREDENTIAL).get_container_client(name)
    client.create_container()
    return client


@pytest.fixture
def arm() -> Iterator[ArmFake]:
    with arm_fake() as fake:
        fake.add_resource_group(b.SUBSCRIPTION, RG, {"CostCenter": "101", "Outcome-ID": "OUT-1234"})
        yield fake


def agent_id_of_next_vm(fake: ArmFake, name: str) -> str:
    rid = fake.add_resource(b.resource_id(RG, "Microsoft.Compute/virtualMachines", name))
    (report,) = handler.handle(b.eventgrid_write(rid, b.app_claims(SUPPORT_BOT)))["events"]
    assert report["skipped"] is None, report
    return str((fake.tags_of(rid) or {})["Agent-ID"])


def test_a_new_blob_version_decides_the_next_event_and_a_broken_one_is_rejected(
    blob_endpoint: str, arm: ArmFake, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    rules = container(blob_endpoint, "rules-reload")
    rules.upload_blob("tagwarden.yaml", V1.encode())
    url = f"{blob_endpoint}/rules-reload/tagwarden.yaml"
    for name, value in (
        ("TAGWARDEN_RULES_SOURCE", url),
        ("TAGWARDEN_ARM_ENDPOINT", arm.endpoint),
        ("TAGWARDEN_SUBSCRIPTIONS", b.SUBSCRIPTION),
    ):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("TAGWARDEN_RULES_PATH", raising=False)
    clock = Clock()
    live = live_rules(os.environ, Telemetry(), clock, credential=CREDENTIAL)
    assert live is not None and live.current().version  # the blob's ETag
    # The handler's worker state: this source's live rules (Azurite's key instead of the identity).
    monkeypatch.setattr(handler, "_RULES", {url: live})
    monkeypatch.setattr(handler, "_ENFORCER", None)
    monkeypatch.setattr(handler, "_SWEEPER", None)

    assert agent_id_of_next_vm(arm, "vm-1") == "support-bot"
    rules.upload_blob("tagwarden.yaml", V2.encode(), overwrite=True)
    clock.now += 59
    assert agent_id_of_next_vm(arm, "vm-2") == "support-bot"  # within max_age
    clock.now += 1
    assert agent_id_of_next_vm(arm, "vm-3") == "helpdesk-bot"  # the same worker, no restart
    sweeper = handler.sweeper()
    assert sweeper.current.rules is live.current().rules  # type: ignore[union-attr]
    ledger = SqliteLedger(os.environ["TAGWARDEN_LEDGER"])
    vm3 = b.resource_id(RG, "Microsoft.Compute/virtualMachines", "vm-3")
    record = ledger.get("azure", vm3) or ledger.get("azure", vm3.lower())
    assert record is not None and record.rules_hash == rules_hash(V2)

    caplog.clear()
    caplog.set_level(logging.INFO, logger=LOGGER)
    rules.upload_blob("tagwarden.yaml", BROKEN.encode(), overwrite=True)
    for i in range(3):
        clock.now += 61
        assert agent_id_of_next_vm(arm, f"vm-4{i}") == "helpdesk-bot"  # the last good version
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == LOGGER]
    errors = [r for r in records if r.get("message", "").startswith("rules rejected")]
    assert len(errors) == 1 and errors[0]["source"] == url and errors[0]["in_force_digest"] == rules_hash(V2)
    assert any(e.startswith(f"{url}:") and "lookahead" in e for e in errors[0]["errors"])
    assert [r for r in records if r.get("metric") == "RulesRejected"] == [{"metric": "RulesRejected", "value": 1}]


def test_a_broken_first_blob_fails_loudly(blob_endpoint: str) -> None:
    rules = container(blob_endpoint, "rules-broken")
    rules.upload_blob("tagwarden.yaml", BROKEN.encode())
    env = {"TAGWARDEN_RULES_SOURCE": f"{blob_endpoint}/rules-broken/tagwarden.yaml"}
    with pytest.raises(RulesError, match="lookahead"):
        live_rules(env, Telemetry(), Clock(), credential=CREDENTIAL)


@pytest.mark.parametrize(
    "source",
    ["http://example.com/c/b.yaml", "https://acct.blob.core.windows.net/only-container", "s3://b/k", "https://a.blob.core.windows.net/c/b?sv=x"],
)
def test_a_source_that_is_not_a_blob_url_names_the_form(source: str) -> None:
    with pytest.raises(ValueError, match=re.escape("https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB")):
        blob_url(source)
    assert blob_url("https://acct.blob.core.windows.net/rules/tagwarden.yaml")
