"""Who a model call is for: the attribution context agent code sets once per task.

One `Attribution` (Agent-ID, Outcome-ID / task id, tenant id, CostCenter) lives in a contextvar, so
threads and asyncio tasks each see their own (a new thread starts empty; an asyncio task copies the
context it was created in). The SDK hooks read it on every call and turn it into what each API
accepts: OpenAI's `safety_identifier` and `metadata`, Bedrock Converse's `requestMetadata`.

Pure and dependency-free: importable without openai, boto3 or any Azure SDK.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# The tag keys the rest of tagwarden uses (the rules file, the ledger, showback).
AGENT_ID, OUTCOME_ID, TENANT_ID, COST_CENTER = "Agent-ID", "Outcome-ID", "tenant_id", "CostCenter"

# OpenAI: safety_identifier is at most 128 characters (openai types, completion_create_params);
# metadata holds at most 16 pairs, keys up to 64 characters, values up to 512.
SAFETY_ID_MAX = 128
OPENAI_METADATA_PAIRS, OPENAI_KEY_MAX, OPENAI_VALUE_MAX = 16, 64, 512
# Bedrock Converse requestMetadata (botocore's bedrock-runtime model): 1-16 pairs, keys 1-256 and
# values 0-256 characters of [a-zA-Z0-9 whitespace : _ @ $ # = / + , - .].
BEDROCK_METADATA_PAIRS, BEDROCK_TEXT_MAX = 16, 256
_BEDROCK_BAD = re.compile(r"[^a-zA-Z0-9\s:_@$#=/+,\-.]")
_HASH = 16  # hex digits of sha256 kept when a value is shortened


def fit(text: str, limit: int) -> str:
    """`text` if it fits, else a deterministic shortening: a prefix, `#`, then 16 hex digits of the
    whole value's sha256 (two long ids that share a prefix still differ)."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:_HASH]
    return f"{text[: limit - _HASH - 1]}#{digest}"


@dataclass(frozen=True)
class Attribution:
    agent_id: str
    task_id: str | None = None  # the Outcome-ID
    tenant_id: str | None = None
    cost_center: str | None = None

    def __post_init__(self) -> None:
        if not self.agent_id:
            raise ValueError("an attribution needs an agent id")

    # What the hooks send is derived once per attribution (they run on every model call);
    # cached_property writes the instance dict directly, which a frozen dataclass allows.
    @functools.cached_property
    def derived(self) -> tuple[dict[str, str], str, dict[str, str], dict[str, str]]:
        """(tags, safety_identifier, openai_metadata, bedrock_request_metadata): read-only."""
        return self.tags(), self.safety_identifier(), self.openai_metadata(), self.bedrock_request_metadata()

    def tags(self) -> dict[str, str]:
        """The attribution as tagwarden's tag keys (what usage records and showback carry)."""
        out = {AGENT_ID: self.agent_id}
        for key, value in (
            (OUTCOME_ID, self.task_id),
            (TENANT_ID, self.tenant_id),
            (COST_CENTER, self.cost_center),
        ):
            if value:
                out[key] = value
        return out

    def safety_identifier(self) -> str:
        """`agent_id:…|task_id:…` (the composite the mission asks for), within OpenAI's 128 characters."""
        text = f"agent_id:{self.agent_id}"
        if self.task_id:
            text += f"|task_id:{self.task_id}"
        return fit(text, SAFETY_ID_MAX)

    def _pairs(self) -> list[tuple[str, str]]:
        pairs = [("agent_id", self.agent_id)]
        for key, value in (
            ("task_id", self.task_id),
            ("tenant_id", self.tenant_id),
            ("cost_center", self.cost_center),
        ):
            if value:
                pairs.append((key, value))
        return pairs

    def openai_metadata(self) -> dict[str, str]:
        """OpenAI / Azure OpenAI `metadata` (4 pairs at most, values within 512 characters)."""
        return {k: fit(v, OPENAI_VALUE_MAX) for k, v in self._pairs()}

    def bedrock_request_metadata(self) -> dict[str, str]:
        """Bedrock Converse `requestMetadata`: characters outside the allowed set become `_` (and the
        value then gains a hash, so two ids differing only there stay distinct)."""
        out: dict[str, str] = {}
        for key, value in self._pairs():
            clean = _BEDROCK_BAD.sub("_", value)
            if clean != value:
                digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:_HASH]
                clean = f"{clean[: BEDROCK_TEXT_MAX - _HASH - 1]}#{digest}"
            out[key] = fit(clean, BEDROCK_TEXT_MAX)
        return out


def merge_metadata(
    theirs: Mapping[str, object] | None, ours: Mapping[str, str], max_pairs: int
) -> tuple[dict[str, object], int]:
    """The caller's metadata with ours added: the caller's keys win, and ours are left out past
    `max_pairs`. Returns the merged mapping and how many of ours did not fit."""
    merged: dict[str, object] = dict(theirs or {})
    dropped = 0
    for key, value in ours.items():
        if key in merged:
            continue
        if len(merged) >= max_pairs:
            dropped += 1
            continue
        merged[key] = value
    return merged, dropped


_CURRENT: ContextVar[Attribution | None] = ContextVar("tagwarden_llm_attribution", default=None)


def current() -> Attribution | None:
    """The attribution of the running task, or None outside any `attributed` block."""
    return _CURRENT.get()


@contextmanager
def attributed(
    attribution: Attribution | None = None,
    /,
    *,
    agent_id: str | None = None,
    task_id: str | None = None,
    tenant_id: str | None = None,
    cost_center: str | None = None,
) -> Iterator[Attribution]:
    """Attribute every model call made inside the block (this thread / asyncio task only).

    `attributed(agent_id="42", task_id="t-7")` or `attributed(Attribution(...))`; nesting replaces
    the outer attribution for the inner block and restores it after.
    """
    if attribution is None:
        if agent_id is None:
            raise ValueError("attributed() needs an Attribution or an agent_id")
        attribution = Attribution(agent_id, task_id, tenant_id, cost_center)
    token = _CURRENT.set(attribution)
    try:
        yield attribution
    finally:
        _CURRENT.reset(token)
