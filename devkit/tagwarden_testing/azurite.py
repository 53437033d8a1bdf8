"""Azurite's table service (Microsoft's storage emulator) on a free loopback port, in memory.

Looked for in the repository's `.azurite/` (`npm install --prefix .azurite azurite`, or a symlink to
an installed one: `ln -s /work/main/.azurite .azurite`). `table_service` yields the connection
string of Azurite's documented development account and stops the emulator when it is left.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / ".azurite" / "node_modules" / ".bin" / "azurite-table"
# Azurite's well-known development account (public, documented; not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class Unavailable(RuntimeError):
    """Azurite is not installed here (the reason, and how to get it, is the message)."""


@contextlib.contextmanager
def table_service(workdir: Path, timeout: float = 60.0) -> Iterator[str]:
    if not BINARY.exists():
        raise Unavailable(f"Azurite is not installed at {BINARY}: ln -s /work/main/.azurite .azurite")
    with contextlib.closing(socket.socket()) as probe:  # azurite-table does not report port 0's pick
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [str(BINARY), "--tableHost", "127.0.0.1", "--tablePort", str(port), "--skipApiVersionCheck",
         "--inMemoryPersistence", "--silent", "--disableTelemetry"],
        cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Azurite's table service did not start (exit {proc.poll()})"
                    ) from None
                time.sleep(0.1)
        yield (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"TableEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
