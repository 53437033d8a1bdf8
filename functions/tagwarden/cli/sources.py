"""Where replayed events come from: files, folders, standard input, and S3 prefixes.

Each input yields deliveries (what a handler would be given: a record, an event, a batch) one at
a time, so a month of logs streams through in bounded memory. CloudTrail log files
(`{"Records": [...]}`, often gzipped) and JSON arrays are streamed record by record with ijson
when it is installed; JSON-lines files line by line.
"""

from __future__ import annotations

import fnmatch
import gzip
import io
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

from tagwarden.cli.common import InputError

SUFFIXES = (".json", ".json.gz", ".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
_RECORDS_HEAD = re.compile(rb'^\s*\{\s*"Records"\s*:\s*\[')
# CloudTrail's S3 layout: AWSLogs/[o-org/]<account>/CloudTrail/<region>/<yyyy>/<mm>/<dd>/<file>.json.gz
_TRAIL_DATE = re.compile(r"/CloudTrail/[^/]+/(\d{4})/(\d{2})/(\d{2})/")


@dataclass(frozen=True, slots=True)
class Delivery:
    origin: str  # file (and line or record number) for messages
    raw: Any


@dataclass(frozen=True, slots=True)
class Unreadable:
    origin: str
    error: str


Item = Delivery | Unreadable


def expand(
    paths: Iterable[str],
    s3: Any = None,
    since: date | None = None,
    until: date | None = None,
    exclude: Iterable[str] = (),
) -> list[str]:
    """Inputs in the order they will be read: folders walked (sorted), S3 prefixes listed, and any
    whose file name matches an --exclude glob left out."""
    out = _expand(paths, s3, since, until)
    patterns = tuple(exclude)
    if not patterns:
        return out
    return [p for p in out if not any(fnmatch.fnmatchcase(p.rsplit("/", 1)[-1], g) for g in patterns)]


def _expand(paths: Iterable[str], s3: Any, since: date | None, until: date | None) -> list[str]:
    out: list[str] = []
    for path in paths:
        if path == "-":
            out.append(path)
            continue
        if path.startswith("s3://"):
            out.extend(s3_objects(s3, path, since, until))
            continue
        p = Path(path)
        if p.is_dir():
            out.extend(str(f) for f in sorted(p.rglob("*")) if f.is_file() and f.name.endswith(SUFFIXES))
        elif p.exists():
            out.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return out


def read(name: str, s3: Any = None) -> Iterator[Item]:
    """The deliveries of one input (a file, `-`, or one S3 object)."""
    if name == "-":
        yield from _read_stream(name, sys.stdin.buffer, jsonl=None)
        return
    if name.startswith("s3://"):
        bucket, _, key = name[5:].partition("/")
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        yield from _read_stream(name, io.BufferedReader(body), jsonl=_is_jsonl(key))
        return
    try:
        with open(name, "rb") as fh:
            yield from _read_stream(name, fh, jsonl=_is_jsonl(name))
    except OSError as exc:
        yield Unreadable(name, f"cannot read: {exc}")


def _is_jsonl(name: str) -> bool:
    return name.removesuffix(".gz").endswith((".jsonl", ".ndjson"))


def _read_stream(name: str, raw: IO[bytes], jsonl: bool | None) -> Iterator[Item]:
    stream: IO[bytes] = raw
    head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
    if head == b"\x1f\x8b":  # gzip, whatever the name says
        stream = gzip.GzipFile(fileobj=raw)  # type: ignore[assignment]
    buffered: Any = stream if hasattr(stream, "peek") else io.BufferedReader(stream, 1 << 16)
    try:
        start = buffered.peek(256)[:256]
        if jsonl or (jsonl is None and _looks_like_lines(start)):
            yield from _lines(name, buffered)
        else:
            yield from _document(name, buffered, start)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        yield Unreadable(name, f"cannot read: {exc}")


def _looks_like_lines(start: bytes) -> bool:
    text = start.lstrip()
    return text.startswith(b"{") and b"\n{" in start and not _RECORDS_HEAD.match(start)


def _lines(name: str, stream: IO[bytes]) -> Iterator[Item]:
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            yield Delivery(f"{name}:{number}", json.loads(line))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield Unreadable(f"{name}:{number}", f"not valid JSON: {exc}")


def _document(name: str, stream: IO[bytes], start: bytes) -> Iterator[Item]:
    prefix = "Records.item" if _RECORDS_HEAD.match(start) else "item" if start.lstrip()[:1] == b"[" else None
    ijson = _ijson() if prefix else None
    if ijson is None or prefix is None:
        try:
            yield Delivery(name, json.loads(stream.read()))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield Unreadable(name, f"not valid JSON: {exc}")
        return
    number = 0
    try:
        for number, item in enumerate(ijson.items(stream, prefix, use_float=True), 1):
            yield Delivery(f"{name}#{number}", item)
    except ijson.JSONError as exc:
        yield Unreadable(f"{name}#{number + 1}", f"not valid JSON: {exc}")


def _ijson() -> Any:
    try:
        import ijson  # type: ignore[import-untyped]
    except ImportError:  # the whole file is read at once instead
        return None
    return ijson


def s3_objects(client: Any, url: str, since: date | None, until: date | None) -> list[str]:
    """The objects under an s3:// prefix, filtered by CloudTrail's date folders when a range is set."""
    bucket, _, prefix = url[5:].partition("/")
    if not bucket:
        raise InputError(f"{url}: expected s3://BUCKET/PREFIX")
    names: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            key = obj["Key"]
            if not key.endswith(SUFFIXES) or not _in_range(key, since, until):
                continue
            names.append(f"s3://{bucket}/{key}")
    return sorted(names)


def _in_range(key: str, since: date | None, until: date | None) -> bool:
    if since is None and until is None:
        return True
    m = _TRAIL_DATE.search("/" + key)
    if not m:
        return True  # not CloudTrail's layout: no date to filter on
    day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return (since is None or day >= since) and (until is None or day <= until)
