"""Rules read from an Azure Blob and re-read while the function app lives (tagwarden.rules.live
keeps the last good version).

TAGWARDEN_RULES_SOURCE is the blob's URL, https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB
(http:// on loopback only: Azurite). The app's identity reads it (DefaultAzureCredential: the
managed identity in Azure) and needs a blob data role on it (Storage Blob Data Reader; the app's own
storage account grants Storage Blob Data Owner already). TAGWARDEN_RULES_MAX_AGE as on AWS
(default 60 s). The version logged is the blob's version id when versioning is on, else its ETag.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from tagwarden.rules import load_rules_text
from tagwarden.rules.live import Fetched, LiveRules, Sink, max_age_from_env
from tagwarden.rules.loaded import SOURCE_ENV
from tagwarden.rules.model import RuleSet

FORM = "https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB"
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


class BlobFeed:
    """A `tagwarden.rules.live.Feed` over one blob."""

    def __init__(self, url: str, credential: Any = None) -> None:
        from azure.storage.blob import BlobClient  # only when the rules come from a blob

        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        self.name = url
        self.client = BlobClient.from_blob_url(url, credential=credential)

    def fetch(self) -> Fetched:
        download = self.client.download_blob()
        text = download.readall().decode("utf-8")
        props = download.properties
        return Fetched(text, str(props.version_id or props.etag or "").strip('"'))


def blob_url(source: str) -> str:
    """`source` if it names a blob (scheme, host, container and blob); else a ValueError."""
    parts = urlsplit(source)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    segments = [s for s in parts.path.split("/") if s]
    # Azurite's URLs carry the account in the path: http://127.0.0.1:10000/devstoreaccount1/c/b
    needed = 3 if parts.scheme == "http" else 2
    if not (secure and parts.hostname and len(segments) >= needed and not parts.query):
        raise ValueError(f"{SOURCE_ENV}={source!r}: expected {FORM}")
    return source


def live_rules(
    env: Mapping[str, str],
    sink: Sink,
    clock: Callable[[], float] | None = None,
    credential: Any = None,
) -> LiveRules | None:
    """The live rules of TAGWARDEN_RULES_SOURCE, loaded now (a failure is raised: no rules, no
    enforcement), or None when the rules are the file deployed with the app."""
    source = (env.get(SOURCE_ENV) or "").strip()
    if not source:
        return None
    seconds = max_age_from_env(env)

    def compile_rules(text: str, name: str) -> RuleSet:
        return load_rules_text(text, name, env)

    feed = BlobFeed(blob_url(source), credential)
    return LiveRules(feed, compile_rules, sink, seconds, clock or time.monotonic)
