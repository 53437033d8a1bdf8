from __future__ import annotations

import pytest

from tagwarden.runaway.judge import AlertState, bucket_of, estimate, level, should_alert


def test_level_doubles() -> None:
    assert [level(v, 50) for v in (0, 50, 51, 100, 101, 200, 201, 400, 401)] == [0, 0, 1, 1, 2, 2, 3, 3, 4]


def test_sliding_estimate_weights_the_previous_bucket_by_what_is_left_of_it() -> None:
    assert estimate(10, 40, t=600 * 7, window=600) == 50  # bucket just started: all of the previous
    assert estimate(10, 40, t=600 * 7 + 300, window=600) == pytest.approx(30)  # half of it
    assert bucket_of(600 * 7 + 599, 600) == 7


def test_one_alert_per_crossing_then_cooldown_or_higher_level() -> None:
    assert not should_alert(None, 0, now=100, cooldown=60)
    assert should_alert(None, 1, now=100, cooldown=60)
    first = AlertState(1, 100)
    assert not should_alert(first, 1, now=130, cooldown=60)  # same level inside the cool-down
    assert should_alert(first, 2, now=130, cooldown=60)  # higher level at once
    assert should_alert(first, 1, now=160, cooldown=60)  # cool-down over
