"""Durations in a rules file (`90s`, `30m`, `24h`, `7d`, `1h30m`, or seconds): parsed by the
compiler at every cold start, so apart from the schema machinery."""

from __future__ import annotations

from typing import Any

_UNITS = ("d", 24 * 3600), ("h", 3600), ("m", 60), ("s", 1)  # in this order, each at most once
DURATION_HINT = "a duration such as 90s, 30m, 24h, 7d or 1h30m, or a number of seconds"


def parse_duration(value: Any) -> int | None:
    """Seconds in a duration, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if not isinstance(value, str) or not value:
        return None
    rest, total = value.strip(), 0
    if not rest:
        return None
    for unit, seconds in _UNITS:  # a scan, not a regex: this runs at every cold start
        number, found, after = rest.partition(unit)
        if not found:
            continue
        if not number.isdecimal():  # what `\d+` takes (any Unicode decimal digit, as int() does)
            return None
        total, rest = total + int(number) * seconds, after
    return None if rest else total
