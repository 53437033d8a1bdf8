"""Entries derived from botocore's service models (derived.json.gz, written by `make catalogue`).

Loaded lazily, once per container, on the first lookup the hand-written catalogue cannot answer:
cold start and the hand-written path do not pay for the ~1,000 derived rows. Hand-written entries
win over derived ones with the same (source, name); `lookup` is only asked after them.

A derived row's `ids` may hold alternatives separated by `|` (CloudTrail's casing of a member is not
knowable from the model alone: `arn`, `aRN`, `ARN`); the reader takes the first that yields ids.
Its tagger is `rgta` or `derived:<client>`, a row of the file's own tagger table (`tagger`).
"""

from __future__ import annotations

import gzip
import json
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from tagwarden.aws.catalogue._types import Creates, Entry
from tagwarden.aws.catalogue.tagger_spec import TagFormat, TaggerSpec

DATA = Path(__file__).with_name("derived.json.gz")
PREFIX = "derived:"


@cache
def _data() -> dict[str, Any]:
    if not DATA.exists():  # a package built without it: only the hand-written catalogue
        return {"sources": {}, "taggers": {}, "botocore": None}
    loaded: dict[str, Any] = json.loads(gzip.decompress(DATA.read_bytes()))
    return loaded


def _entry(source: str, event: str, row: list[str]) -> Entry:
    rtype, ids, tags, tagger = row
    return Entry(source, event, (Creates(rtype, ids=ids, tags=tags, tagger=tagger),), derived=True)


@lru_cache(maxsize=4096)  # bounded: event names are caller-controlled
def lookup(source: str, event: str) -> Entry | None:
    row = _data()["sources"].get(source, {}).get(event)
    return None if row is None else _entry(source, event, row)


def entries(exclude: frozenset[tuple[str, str]] = frozenset()) -> tuple[Entry, ...]:
    """Every derived entry, minus the (source, name) keys in `exclude` (the hand-written ones)."""
    return tuple(
        _entry(source, event, row)
        for source, events in sorted(_data()["sources"].items())
        for event, row in sorted(events.items())
        if (source, event) not in exclude
    )


@cache
def tagger(name: str) -> TaggerSpec | None:
    """The TaggerSpec of a `derived:<client>` tagger name, or None."""
    row = _data()["taggers"].get(name)
    if row is None:
        return None
    client, method, id_param, tags_param, fmt = row
    return TaggerSpec(client, method, id_param, tags_param, TagFormat(fmt))


def tagger_names() -> tuple[str, ...]:
    return tuple(sorted(_data()["taggers"]))


def botocore_version() -> str | None:
    version: str | None = _data()["botocore"]
    return version
