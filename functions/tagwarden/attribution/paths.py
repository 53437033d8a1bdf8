"""Dotted paths into event JSON: `requestParameters.tagSpecificationSet.items[].tags`.

A segment names a key; `[]` after it (or any list met on the way) fans out over the items, and
`[N]` picks one. Tiny on purpose: the catalogue and `event:` sources evaluate thousands of paths a
second, and this avoids a JMESPath dependency in the core.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

_SEGMENT = re.compile(r"([^.\[\]]+)((?:\[\d*\])*)")


@lru_cache(maxsize=4096)
def compile_path(path: str) -> tuple[tuple[str, tuple[int | None, ...]], ...]:
    """Parse once; raises ValueError on a malformed path."""
    out: list[tuple[str, tuple[int | None, ...]]] = []
    for part in path.split("."):
        m = _SEGMENT.fullmatch(part)
        if not m:
            raise ValueError(f"malformed path segment {part!r} in {path!r}")
        idx = tuple(int(i) if i else None for i in re.findall(r"\[(\d*)\]", m.group(2)))
        out.append((m.group(1), idx))
    return tuple(out)


def values(data: Any, path: str) -> list[Any]:
    """Every value the path reaches (lists fanned out), skipping nulls."""
    return [v for v in _walk(data, compile_path(path), 0) if v is not None]


def first(data: Any, path: str) -> Any:
    for v in _walk(data, compile_path(path), 0):
        if v is not None:
            return v
    return None


def _walk(node: Any, steps: tuple[tuple[str, tuple[int | None, ...]], ...], i: int) -> Iterator[Any]:
    if i == len(steps):
        if isinstance(node, list):
            yield from node
        else:
            yield node
        return
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, steps, i)
        return
    if not isinstance(node, dict):
        return
    key, idx = steps[i]
    child = node.get(key)
    for j in idx:
        if j is None:
            break  # fan out: lists are walked item by item anyway
        if not isinstance(child, list) or j >= len(child):
            return
        child = child[j]
    yield from _walk(child, steps, i + 1)
