"""Usage records from what the platforms already log: no agent code needed.

- Bedrock model invocation logs, as delivered to S3 (`.json.gz`, one record a line) or read back
  from CloudWatch Logs (`aws logs filter-log-events` output, or the records themselves one a
  line): `requestMetadata` carries the attribution the hooks set, `input.inputTokenCount` /
  `output.outputTokenCount` the tokens, `identity.arn` the calling principal. The usage id is the
  request id, the same the SDK hook writes, so a call seen by both is stored once.
- The OpenAI organization Usage API (`GET /v1/organization/usage/completions`, grouped by
  project_id, api_key_id and model): one record per bucket and group. Projects and API keys map to
  an attribution through a small mapping (`projects:` / `api_keys:` -> tags); unmapped ones keep
  their ids as the attribution.

Both are pure over parsed JSON; `read_*` only open files. Bad input raises ImportError_ naming the
file and line.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from tagwarden.ledger.model import UsageKind, UsageRecord
from tagwarden.llm.context import AGENT_ID, COST_CENTER, OUTCOME_ID, TENANT_ID
from tagwarden.llm.recorder import CACHE_WRITE, CACHED, CALLS, INPUT, OUTPUT

# requestMetadata keys the hooks write -> tag keys
METADATA_KEYS = {
    "agent_id": AGENT_ID,
    "task_id": OUTCOME_ID,
    "tenant_id": TENANT_ID,
    "cost_center": COST_CENTER,
}
PRINCIPAL = "principal"  # attribution key when only the IAM principal is known


class ImportError_(ValueError):
    """Input an importer cannot read (the message names the file and line)."""


def _json_lines(path: Path) -> Iterator[tuple[int, Any]]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise ImportError_(f"{path}: cannot read: {exc}") from exc
    stripped = text.lstrip()
    if stripped.startswith("["):  # one JSON array
        try:
            yield 1, json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportError_(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from exc
        return
    try:  # one (possibly pretty-printed) document
        yield 1, json.loads(text)
        return
    except json.JSONDecodeError:
        pass
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise ImportError_(f"{path}:{number}: not valid JSON: {exc.msg}") from exc


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(
            p for p in path.rglob("*") if p.is_file() and p.name.endswith((".json", ".jsonl", ".gz"))
        )
    if not path.exists():
        raise ImportError_(f"{path}: no such file or directory")
    return [path]


# --- Bedrock model invocation logs -----------------------------------------------------------------


def _log_records(doc: Any) -> Iterator[Mapping[str, Any]]:
    """Invocation log records inside whatever wrapper CloudWatch Logs gave them in."""
    if isinstance(doc, list):
        for item in doc:
            yield from _log_records(item)
    elif isinstance(doc, dict):
        events = doc.get("events") or doc.get("logEvents")  # filter-log-events / subscription
        if isinstance(events, list):
            for event in events:
                message = event.get("message") if isinstance(event, dict) else None
                if isinstance(message, str):
                    yield from _log_records(json.loads(message))
        elif "modelId" in doc:
            yield doc


def _epoch(text: Any) -> float:
    if isinstance(text, int | float):
        return float(text)
    return datetime.fromisoformat(str(text).replace("Z", "+00:00")).timestamp()


def _role_arn(arn: str) -> str:
    """arn:aws:sts::1:assumed-role/NAME/session -> arn:aws:iam::1:role/NAME (what principal tags sit on)."""
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        name = parts[5].split("/")[1]
        return f"{parts[0]}:{parts[1]}:iam::{parts[4]}:role/{name}"
    return arn


def bedrock_usage(record: Mapping[str, Any]) -> UsageRecord:
    """One invocation log record -> one usage record."""
    inp = record.get("input") or {}
    out = record.get("output") or {}
    meta = record.get("requestMetadata") or {}
    attribution = {tag: str(meta[key]) for key, tag in METADATA_KEYS.items() if meta.get(key)}
    arn = str((record.get("identity") or {}).get("arn") or "")
    if AGENT_ID not in attribution and arn:
        attribution = {PRINCIPAL: _role_arn(arn)}
    quantities = {
        INPUT: float(inp.get("inputTokenCount") or 0),
        OUTPUT: float(out.get("outputTokenCount") or 0),
        CALLS: 1.0,
    }
    for key, name in (("cacheReadInputTokenCount", CACHED), ("cacheWriteInputTokenCount", CACHE_WRITE)):
        if inp.get(key):
            quantities[name] = float(inp[key])
    request_id = record.get("requestId")
    if not request_id:
        raise ValueError("record has no requestId")
    return UsageRecord(
        usage_id=f"bedrock:{request_id}",
        kind=UsageKind.LLM,
        time=_epoch(record["timestamp"]),
        platform="bedrock",
        resource=str(record["modelId"]),
        attribution=attribution,
        quantities=quantities,
        source="bedrock-invocation-log",
    )


def read_bedrock_logs(path: str | Path) -> Iterator[UsageRecord]:
    """Usage records from an invocation-log file, or every .json/.jsonl/.gz file under a folder."""
    for file in _files(Path(path)):
        for number, doc in _json_lines(file):
            try:
                for record in _log_records(doc):
                    yield bedrock_usage(record)
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                raise ImportError_(f"{file}:{number}: not a model invocation log record: {exc}") from exc


# --- OpenAI organization Usage API --------------------------------------------------------------------


def openai_usage(
    page: Mapping[str, Any], mapping: Mapping[str, Any] | None = None, platform: str = "openai"
) -> Iterator[UsageRecord]:
    """Records from one page of `/v1/organization/usage/completions` (buckets of grouped results)."""
    projects = (mapping or {}).get("projects") or {}
    keys = (mapping or {}).get("api_keys") or {}
    for bucket in page.get("data") or []:
        start = float(bucket["start_time"])
        for result in bucket.get("results") or []:
            project, key = result.get("project_id"), result.get("api_key_id")
            model, batch = result.get("model"), result.get("batch")
            mapped = keys.get(key) if key else None
            mapped = mapped or (projects.get(project) if project else None)
            if mapped:
                attribution = {str(k): str(v) for k, v in mapped.items()}
            else:
                attribution = {
                    k: str(v) for k, v in (("openai_project_id", project), ("openai_api_key_id", key)) if v
                }
            total_in = float(result.get("input_tokens") or 0)
            cached = float(result.get("input_cached_tokens") or 0)
            quantities = {
                INPUT: max(total_in - cached, 0.0),
                OUTPUT: float(result.get("output_tokens") or 0),
                CALLS: float(result.get("num_model_requests") or 0),
            }
            if cached:
                quantities[CACHED] = cached
            group = ":".join(str(x) for x in (int(start), project, key, model, batch, result.get("user_id")))
            yield UsageRecord(
                usage_id=f"openai-usage:{group}",
                kind=UsageKind.LLM,
                time=start,
                platform=platform,
                resource=str(model or ""),
                attribution=attribution,
                quantities=quantities,
                source="openai-usage-api",
            )


def read_openai_usage(path: str | Path, mapping: Mapping[str, Any] | None = None) -> Iterator[UsageRecord]:
    """Records from saved Usage API responses: one page, a JSON array of pages, or one page a line."""
    for file in _files(Path(path)):
        for number, doc in _json_lines(file):
            pages: Iterable[Any] = doc if isinstance(doc, list) else [doc]
            for page in pages:
                if not isinstance(page, dict) or page.get("object") != "page":
                    raise ImportError_(f'{file}:{number}: not a Usage API page (expected "object": "page")')
                try:
                    yield from openai_usage(page, mapping)
                except (KeyError, ValueError, TypeError, AttributeError) as exc:
                    raise ImportError_(f"{file}:{number}: not a Usage API page: {exc}") from exc
