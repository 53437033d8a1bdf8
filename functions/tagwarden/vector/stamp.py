"""Who a vector (or a query) belongs to, and the refusal when a shared store would get no tenant.

The attribution comes from, lowest to highest precedence: the attribution context of the running
task (`tagwarden.llm.context.current()` when that module exists), a mapping the caller passes, and
an explicit `tenant=`. Only the keys below are stamped; each has a store-safe field name (Azure AI
Search allows letters, digits and underscores only, so `Agent-ID` is stored as `agent_id`).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

TENANT = "tenant_id"
# attribution key (ledger, showback) -> field name in the store; one home for this fact.
STAMP_FIELDS: Mapping[str, str] = MappingProxyType(
    {TENANT: "tenant_id", "Agent-ID": "agent_id", "Outcome-ID": "outcome_id"}
)
# Tenant ids become Pinecone namespaces, document-key prefixes and SQL values: keep them plain.
# `=` is excluded because it separates tenant and id in scoped document keys.
_TENANT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@:-]{0,127}")
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class StampError(ValueError):
    """Nothing was written or queried: the message names the store and the field."""


class MissingTenant(StampError):
    pass


@dataclass(frozen=True, slots=True)
class SharedStore:
    """A vector index as tagwarden knows it.

    `resource` is the id the bill uses for it (a FOCUS ResourceId, or for Pinecone the name the
    user maps an invoice line to); showback matches cost rows to usage records by it. `shared`
    declares that many tenants use the index: then every upsert and query must carry a tenant.
    """

    name: str  # how messages name it, e.g. "pgvector:docs"
    platform: str  # pgvector | qdrant | pinecone | opensearch | azure-search
    resource: str
    shared: bool = True


@dataclass(frozen=True, slots=True)
class Vector:
    id: str
    values: Sequence[float]
    metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class Stamp:
    """The resolved attribution of one upsert or query (resolved once per batch, not per vector)."""

    attribution: Mapping[str, str]  # ledger keys: tenant_id, Agent-ID, Outcome-ID
    fields: Mapping[str, str]  # the same values under the store's field names

    @property
    def tenant(self) -> str | None:
        return self.attribution.get(TENANT)


def _load_context() -> Callable[[], object] | None:
    try:
        module = importlib.import_module("tagwarden.llm.context")
    except ImportError:
        return None
    current = getattr(module, "current", None)
    return current if callable(current) else None


_context_current: list[Callable[[], object] | None] = []  # looked up once, on first use


def context_attribution() -> Mapping[str, str]:
    """The running task's attribution from `tagwarden.llm.context.current()`, if that exists.

    Assumed interface: `current()` returns None, a mapping of tag keys to values, or an object whose
    `tags()` returns that mapping (Agent-ID, Outcome-ID, tenant_id, ...).
    """
    if not _context_current:
        _context_current.append(_load_context())
    current = _context_current[0]
    if current is None:
        return _EMPTY
    value = current()
    if value is None:
        return _EMPTY
    if isinstance(value, Mapping):
        return value
    tags = getattr(value, "tags", None)
    if callable(tags):
        got = tags()
        if isinstance(got, Mapping):
            return got
    return _EMPTY


def resolve(
    store: SharedStore,
    action: str,
    tenant: str | None = None,
    attribution: Mapping[str, str] | None = None,
) -> Stamp:
    """The stamp for one call on `store`; MissingTenant when the store is shared and none is known."""
    merged: dict[str, str] = {}
    for source in (context_attribution(), attribution or _EMPTY):
        for key in STAMP_FIELDS:
            value = source.get(key)
            if value:
                merged[key] = str(value)
    if tenant is not None:
        merged[TENANT] = tenant
    found = merged.get(TENANT)
    if not found:  # none, or an explicit empty tenant
        merged.pop(TENANT, None)
        if store.shared:
            raise MissingTenant(
                f"{store.name}: {action} refused: the store is declared shared and the call has no "
                f"'{TENANT}' (pass tenant=... or set it in the attribution context); nothing was "
                f"{'written' if action == 'upsert' else 'sent'}"
            )
    elif not _TENANT_ID.fullmatch(found):
        raise StampError(
            f"{store.name}: {action} refused: '{TENANT}' {found!r} is not a tenant id "
            "(1-128 of letters, digits, _ . @ : -, starting with a letter or digit)"
        )
    return Stamp(
        attribution=MappingProxyType(merged),
        fields=MappingProxyType({STAMP_FIELDS[k]: v for k, v in merged.items()}),
    )


def stamped(store: SharedStore, stamp: Stamp, vectors: Iterable[Vector]) -> list[dict[str, Any]]:
    """Each vector's metadata with the stamp's fields added (new dicts; the caller's are untouched).

    A vector whose metadata already carries a stamp field with another value is refused, not
    overwritten: a pre-set `tenant_id` would otherwise charge (or hide data in) another tenant.
    """
    fields = stamp.fields
    width = len(fields)
    out: list[dict[str, Any]] = []
    append = out.append
    for vector in vectors:
        metadata = vector.metadata
        merged = {**metadata, **fields}
        if len(merged) != len(metadata) + width:  # some stamp field was pre-set: same value only
            for name, value in fields.items():
                if name in metadata and metadata[name] != value:
                    raise StampError(
                        f"{store.name}: upsert refused: vector {vector.id!r} has '{name}' = "
                        f"{metadata[name]!r} but the call is for {value!r}; nothing was written"
                    )
        append(merged)
    return out


def scoped_id(tenant: str | None, vector_id: str) -> str:
    """A document key unique per tenant (stores whose ids are global to the index): without it one
    tenant's upsert of id "7" would overwrite another tenant's vector "7"."""
    return vector_id if tenant is None else f"{tenant}={vector_id}"


def unscoped_id(tenant: str | None, key: str) -> str:
    if tenant is None:
        return key
    prefix = f"{tenant}="
    return key[len(prefix) :] if key.startswith(prefix) else key
