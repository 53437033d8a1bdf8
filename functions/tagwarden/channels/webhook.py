"""A Teams channel through a Workflows webhook: nothing in it is any cloud's, so both clouds use it.

`TeamsNotifier` POSTs `messages.adaptive_card` (a message activity carrying one Adaptive Card) to
the URL of a Teams Workflows flow ("When a Teams webhook request is received" -> post card in a
channel or chat). Plain stdlib HTTP. 429 and 5xx (and
connection errors) are retried a bounded number of times, honouring Retry-After up to a cap, every
sleep going through the injected `sleep`; any other answer, or the last failure, raises
`DeliveryFailed`. The URL carries its own signature (sig=...), so it is a secret: errors and reprs
never show its query. Configure it as TAGWARDEN_TEAMS_WEBHOOK_URL (on Azure the app setting may be a
Key Vault reference, @Microsoft.KeyVault(SecretUri=...), which the Functions host resolves before
the worker reads it), or as the rules' notifications.teams_webhook_url.
"""

from __future__ import annotations

import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from tagwarden.channels import TEAMS_URL_SETTING, DeliveryFailed
from tagwarden.channels.retry import retry_after_seconds
from tagwarden.lifecycle import messages
from tagwarden.lifecycle.ports import Notification

KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("
RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})
USER_AGENT = "tagwarden"


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
                retry_after = retry_after_seconds(exc.headers.get("Retry-After"))
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


def teams_channel(env: Mapping[str, str], configured: str | None) -> tuple[TeamsNotifier | None, str | None]:
    """The Teams channel from TAGWARDEN_TEAMS_WEBHOOK_URL, else the rules' URL: (notifier, None),
    (None, why it cannot be built), or (None, None) when none is configured."""
    url = (env.get(TEAMS_URL_SETTING) or configured or "").strip()
    if not url:
        return None, None
    if url.startswith(KEY_VAULT_REFERENCE):
        return None, (
            f"teams: {TEAMS_URL_SETTING} is an unresolved Key Vault reference (the app's identity "
            "needs Key Vault Secrets User on the secret)"
        )
    try:
        return TeamsNotifier(url), None
    except ValueError as exc:
        return None, f"teams: {exc}"


__all__ = [
    "KEY_VAULT_REFERENCE",
    "TEAMS_URL_SETTING",
    "DeliveryFailed",
    "TeamsNotifier",
    "redact",
    "teams_channel",
]
