"""Input from outside (events anyone with the right to create a resource can shape), made safe to
read and to log.

`check_shape` runs first in each handler: nesting deeper than any real event, or a lone UTF-16
surrogate (JSON's `"\\ud800"` decodes to one; UTF-8 encoders, hence every cloud API, refuse it),
becomes a MalformedEvent (logged, retried, dead-lettered) before any reader recurses into it.
`bounded` is what the telemetry logs of such input: depth, length and item count capped.
"""

from __future__ import annotations

from typing import Any

from tagwarden.normalize.errors import MalformedEvent

MAX_DEPTH = 64  # CloudTrail and Event Grid events nest about 12 deep


def _surrogate(text: str) -> bool:
    """A lone UTF-16 surrogate: the one thing UTF-8 cannot encode (checked in C, no regex to
    compile at a cold start)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_shape(raw: Any, max_depth: int = MAX_DEPTH) -> None:
    """Raise MalformedEvent for input no real event has; iterative, so any depth is safe to check."""
    stack: list[tuple[Any, int]] = [(raw, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if not node.isascii() and _surrogate(node):
                raise MalformedEvent("a string holds a lone UTF-16 surrogate, which no cloud API accepts")
        elif isinstance(node, dict):
            if depth >= max_depth:
                raise MalformedEvent(f"nested deeper than {max_depth} levels; no event we read is")
            for key, value in node.items():
                stack.append((key, depth + 1))
                stack.append((value, depth + 1))
        elif isinstance(node, list):
            if depth >= max_depth:
                raise MalformedEvent(f"nested deeper than {max_depth} levels; no event we read is")
            stack.extend((value, depth + 1) for value in node)


def bounded(value: Any, depth: int = 8, text: int = 2048, items: int = 50) -> Any:
    """A copy of `value` fit for a log record: at most `depth` levels, `items` entries per level,
    `text` characters per string; lone surrogates escaped. Small values come back unchanged."""
    if isinstance(value, str):
        if not value.isascii() and _surrogate(value):
            value = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value if len(value) <= text else f"{value[:text]}...(+{len(value) - text} characters)"
    if isinstance(value, dict):
        if depth <= 0:
            return "...(nested deeper)"
        out = {
            str(bounded(k, 0, 200)): bounded(v, depth - 1, text, items)
            for k, v in list(value.items())[:items]
        }
        if len(value) > items:
            out["..."] = f"+{len(value) - items} more keys"
        return out
    if isinstance(value, (list, tuple)):
        if depth <= 0:
            return "...(nested deeper)"
        seq = [bounded(v, depth - 1, text, items) for v in value[:items]]
        if len(value) > items:
            seq.append(f"...(+{len(value) - items} more items)")
        return seq
    return value
