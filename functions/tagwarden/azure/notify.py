"""Notifications on Azure: a Teams channel through a Workflows webhook, and a Storage Queue.

`TeamsNotifier` POSTs `messages.adaptive_card` (a message activity carrying one Adaptive Card) to
the URL of a Teams Workflows flow ("When a Teams webhook request is received" -> post card in a
channel or chat). Plain stdlib HTTP: nothing to import for it. 429 and 5xx (and connection
errors) are retried a bounded number of times, honouring Retry-After up to a cap, every sleep going
through the injected `sleep`; any other answer, or the last failure, raises `DeliveryFailed`. The
URL carries its own signature (sig=...), so it is a secret: errors and reprs never show its query.
Configure it as the app setting TAGWARDEN_TEAMS_WEBHOOK_URL, whose value may be a Key Vault
reference (@Microsoft.KeyVault(SecretUri=...)): the Functions host resolves the reference before
the worker reads the variable (the app's managed identity needs the secret's Get permission).

`QueueNotifier` puts the versioned JSON (`messages.to_json`) as a plain text message (no base64)
on a Storage queue, through azure-storage-queue, imported only when a QueueNotifier is built. The
message carries `recipients` (the creator's address): a consumer such as a Logic App can mail the
creator a copy. An Azure Functions queue trigger reading this queue needs host.json
`extensions.queues.messageEncoding = "none"` (its default expects base64).
"""

from __future__ import annotations

import email.utils
import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tagwarden.lifecycle import messages
from tagwarden.lifecycle.ports import Notification

TEAMS_URL_SETTING = "TAGWARDEN_TEAMS_WEBHOOK_URL"
KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
USER_AGENT = "tagwarden"


class DeliveryFailed(RuntimeError):
    """A channel refused the notification, or kept failing until the retries ran out."""

    def __init__(self, channel: str, message: str, status: int | None = None, attempts: int = 1) -> None:
        super().__init__(f"{channel}: {message}" + (f" (HTTP {status})" if status else ""))
        self.channel = channel
        self.status = status
        self.attempts = attempts


def redact(url: str) -> str:
    """The URL without its query string (where a Workflows URL keeps its signature)."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


class TeamsNotifier:
    """POSTs the Adaptive Card for each notification to a Teams Workflows webhook."""

    def __init__(
        self,
        url: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 4,
        base_delay: float = 1.0,
        max_delay: float = 16.0,
        max_retry_after: float = 30.0,
        timeout: float = 10.0,
    ) -> None:
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"not an http(s) URL: {redact(url)!r}")
        self._url = url
        self._sleep = sleep
        self.attempts = max(1, attempts)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.max_retry_after = max_retry_after
        self.timeout = timeout

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> TeamsNotifier | None:
        """From the app setting (None when it is not set)."""
        url = (os.environ if env is None else env).get(TEAMS_URL_SETTING, "").strip()
        if not url:
            return None
        if url.startswith(KEY_VAULT_REFERENCE):
            raise ValueError(
                f"{TEAMS_URL_SETTING} is an unresolved Key Vault reference: check the function app's "
                "managed identity can read the secret (Key Vault Secrets User)"
            )
        return cls(url, **kwargs)

    def __repr__(self) -> str:
        return f"TeamsNotifier({redact(self._url)!r})"

    def send(self, message: Notification) -> None:
        self.post(messages.adaptive_card(message))

    def post(self, payload: Mapping[str, Any]) -> int:
        """POST `payload` as JSON; returns the HTTP status (2xx) or raises DeliveryFailed."""
        data = json.dumps(payload).encode()
        delay = self.base_delay
        for attempt in range(1, self.attempts + 1):
            request = urllib.request.Request(
                self._url,
                data=data,
                method="POST",
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
            )
            retry_after: float | None = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    status: int = response.status
                    return status
            except urllib.error.HTTPError as exc:
                status = exc.code
                text = _read(exc)
                exc.close()
                if status not in RETRYABLE or attempt == self.attempts:
                    raise DeliveryFailed(
                        "teams", f"{redact(self._url)} answered {text}", status, attempt
                    ) from None
                retry_after = _retry_after(exc.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt == self.attempts:
                    raise DeliveryFailed("teams", f"{redact(self._url)}: {exc}", None, attempt) from None
            if retry_after is not None:
                pause = min(retry_after, self.max_retry_after)
            else:
                pause = random.uniform(delay / 2, delay)
            self._sleep(pause)
            delay = min(delay * 2, self.max_delay)
        raise AssertionError("unreachable")  # pragma: no cover


def _read(exc: urllib.error.HTTPError) -> str:
    try:
        raw = exc.read(500)
    except OSError:
        raw = b""
    text = raw.decode("utf-8", "replace").strip()
    return text or (exc.reason if isinstance(exc.reason, str) else "an error")


def _retry_after(raw: str | None) -> float | None:
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class QueueNotifier:
    """Puts the versioned JSON of each notification on a Storage queue (text, not base64).

    `connection_string_or_account_url`: a connection string (AccountName=...;AccountKey=... or
    UseDevelopmentStorage=true), or the queue service URL (https://<account>.queue.core.windows.net)
    with `credential` (DefaultAzureCredential, the app's managed identity, when None; it needs the
    "Storage Queue Data Message Sender" role).
    """

    def __init__(
        self,
        connection_string_or_account_url: str,
        queue_name: str,
        credential: Any = None,
        *,
        time_to_live: int | None = None,
    ) -> None:
        from azure.storage.queue import QueueClient

        target = connection_string_or_account_url.strip()
        if target.startswith(("https://", "http://")):
            if credential is None:
                from azure.identity import DefaultAzureCredential

                credential = DefaultAzureCredential()
            self._client = QueueClient(target, queue_name, credential=credential)
        else:
            self._client = QueueClient.from_connection_string(target, queue_name, credential=credential)
        self.queue_name = queue_name
        self.time_to_live = time_to_live

    @property
    def client(self) -> Any:
        return self._client

    def send(self, message: Notification) -> None:
        from azure.core.exceptions import AzureError

        text = json.dumps(messages.to_json(message))
        try:
            self._client.send_message(text, time_to_live=self.time_to_live)
        except AzureError as exc:
            raise DeliveryFailed("queue", f"{self.queue_name}: {exc}") from exc

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> QueueNotifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
