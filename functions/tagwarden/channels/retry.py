"""Reading a Retry-After header: a number of seconds or an HTTP date (RFC 9110), never negative."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime


def retry_after_seconds(raw: str | None) -> float | None:
    """Seconds to wait, or None when the header is absent or unreadable."""
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
