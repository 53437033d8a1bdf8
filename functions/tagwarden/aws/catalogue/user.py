"""User-defined entries (the rules file's `catalogue:` section) as catalogue rows for the reader.

The reader asks them last, after the hand-written and derived rows, so a rules file can add events but
never redefine one tagwarden knows. Their ids come from responseElements only (the rules schema
insists): what the service answered, not what the caller sent, so a forged request cannot point the
enforcer at someone else's resource. Which entries apply is a context variable set by whoever loaded
the rules (`tagwarden explain`, the handler at cold start) with `using(...)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType

from tagwarden.aws.catalogue._types import Creates, Entry
from tagwarden.aws.catalogue.taggers import TAGGERS
from tagwarden.rules.model import CatalogueEntry

Index = Mapping[tuple[str, str], Entry]
_EMPTY: Index = MappingProxyType({})
_CURRENT: ContextVar[Index] = ContextVar("tagwarden_user_catalogue", default=_EMPTY)


def index(entries: Iterable[CatalogueEntry]) -> Index:
    """The rows for `entries`; raises ValueError naming a tagger the tagger table lacks."""
    out: dict[tuple[str, str], Entry] = {}
    for e in entries:
        if e.tagger not in TAGGERS:
            raise ValueError(f"catalogue {e.event_source} {e.event_name}: no tagger named {e.tagger!r}")
        creates = Creates(e.resource_type, ids=e.id_path, tags=e.tags_path, tagger=e.tagger)
        out[(e.event_source, e.event_name)] = Entry(e.event_source, e.event_name, (creates,))
    return MappingProxyType(out)


def lookup(source: str, event: str) -> Entry | None:
    return _CURRENT.get().get((source, event))


def install(entries: Iterable[CatalogueEntry]) -> None:
    """Make `entries` the user catalogue of this context (a container's, at cold start)."""
    _CURRENT.set(index(entries))


@contextmanager
def using(entries: Iterable[CatalogueEntry]) -> Iterator[None]:
    """`entries` as the user catalogue for the duration of the block."""
    token = _CURRENT.set(index(entries))
    try:
        yield
    finally:
        _CURRENT.reset(token)
