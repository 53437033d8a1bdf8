"""Windows and crossings, pure.

Counting: a sliding window estimated from two fixed buckets of the window's length (the current
one and the one before it, weighted by how much of it still lies inside the window), keyed by the
event's own time so that a late redelivery lands in the bucket it counted in the first time.

Crossing: a limit of N allows N; above it the level is 1, above 2N it is 2, above 4N 3, and so on.
One alert per crossing: the same level alerts again only after the cool-down, a higher level at once.
"""

from __future__ import annotations

from dataclasses import dataclass


def bucket_of(t: float, window: int) -> int:
    return int(t // window)


def estimate(current: float, previous: float, t: float, window: int) -> float:
    """Sliding-window value at time t from the bucket holding t and the bucket before it."""
    elapsed = (t % window) / window
    return current + previous * (1.0 - elapsed)


def level(value: float, threshold: float) -> int:
    """0 within the limit; 1 above it, 2 above twice it, 3 above four times it ..."""
    if value <= threshold:
        return 0
    n = 1
    while value > threshold * (2**n):
        n += 1
    return n


@dataclass(frozen=True, slots=True)
class AlertState:
    level: int
    at: float  # epoch seconds of the last alert


def should_alert(previous: AlertState | None, new_level: int, now: float, cooldown: int) -> bool:
    """The rule every store applies atomically (see ports.RunawayStore.claim_alert)."""
    if new_level <= 0:
        return False
    return previous is None or new_level > previous.level or now - previous.at >= cooldown
