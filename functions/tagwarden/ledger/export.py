"""The ledger's export: JSON lines, one record a line (`record` is `resource` or `usage`).

The same format the cloud stores export to S3 / Blob (partitioned by day), and what showback reads.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from tagwarden.ledger.model import ResourceRecord, UsageRecord

Record = ResourceRecord | UsageRecord


def write_jsonl(records: Iterable[Record], out: IO[str]) -> int:
    n = 0
    for record in records:
        out.write(json.dumps(record.to_json(), sort_keys=True, separators=(",", ":")) + "\n")
        n += 1
    return n


def read_jsonl(path: str | Path) -> Iterator[Record]:
    """Records from a .jsonl or .jsonl.gz file; a bad line names the file and line."""
    p = Path(path)
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                kind = data.get("record")
                if kind == "resource":
                    yield ResourceRecord.from_json(data)
                elif kind == "usage":
                    yield UsageRecord.from_json(data)
                else:
                    raise ValueError(f"unknown record kind {kind!r}")
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{p}:{number}: not a ledger record: {exc}") from exc
