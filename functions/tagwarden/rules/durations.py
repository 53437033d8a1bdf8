"""Durations in a rules file (`90s`, `30m`, `24h`, `7d`, `1h30m`, or seconds): parsed by the
compiler at every cold start, so apart from the schema machinery."""

from __future__ import annotations

import re
from typing import Any

_DURATION = re.compile(r"(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
DURATION_HINT = "a duration such as 90s, 30m, 24h, 7d or 1h30m, or a number of seconds"


def parse_duration(value: Any) -> int | None:
    """Seconds in a duration, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if not isinstance(value, str) or not value:
        return None
    m = _DURATION.fullmatch(value.strip())
    if not m or not any(m.groups()):
        return None
    d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s
