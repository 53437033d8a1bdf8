from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from tagwarden.showback.allocate import largest_remainder

CENT = Decimal("0.01")


def test_cents_go_to_the_largest_remainders() -> None:
    parts = largest_remainder(Decimal("1.00"), {"a": 1.0, "b": 1.0, "c": 1.0}, CENT)
    assert parts == {"a": Decimal("0.34"), "b": Decimal("0.33"), "c": Decimal("0.33")}


def test_proportions_follow_the_weights() -> None:
    parts = largest_remainder(Decimal("10.00"), {"a": 3.0, "b": 1.0}, CENT)
    assert parts == {"a": Decimal("7.50"), "b": Decimal("2.50")}


def test_a_sub_cent_rest_is_kept_not_dropped() -> None:
    amount = Decimal("0.0000008")  # an SQS request row of the FOCUS sample
    parts = largest_remainder(amount, {"a": 1.0, "b": 2.0}, CENT)
    assert sum(parts.values()) == amount
    assert parts["b"] == amount and parts["a"] == 0  # the rest goes by the same order


def test_credits_split_as_negative_parts() -> None:
    parts = largest_remainder(Decimal("-2.61"), {"a": 1.0, "b": 1.0}, CENT)
    assert sum(parts.values()) == Decimal("-2.61")
    assert all(v <= 0 for v in parts.values())


def test_no_positive_weight_splits_nothing() -> None:
    assert largest_remainder(Decimal("5"), {"a": 0.0, "b": -1.0}, CENT) == {}


def test_a_finer_quantum_divides_small_rows() -> None:
    parts = largest_remainder(Decimal("0.0000008"), {"a": 1.0, "b": 3.0}, Decimal("1e-10"))
    assert parts == {"a": Decimal("0.0000002"), "b": Decimal("0.0000006")}


money = st.decimals(min_value=Decimal("-100000"), max_value=Decimal("100000"), places=11, allow_nan=False)
weights = st.dictionaries(
    st.text(min_size=1, max_size=4),
    st.floats(min_value=0, max_value=1e9, allow_nan=False),
    min_size=1,
    max_size=12,
)
quanta = st.sampled_from([Decimal("0.01"), Decimal("0.0001"), Decimal("1e-10"), Decimal("1")])


@settings(max_examples=400, deadline=None)
@given(money, weights, quanta)
def test_every_split_reconciles_exactly(amount: Decimal, w: dict[str, float], quantum: Decimal) -> None:
    parts = largest_remainder(amount, w, quantum)
    if not any(v > 0 for v in w.values()):
        assert parts == {}
        return
    assert sum(parts.values(), Decimal(0)) == amount
    assert set(parts) == {k for k, v in w.items() if v > 0}
    # no part is more than one quantum away from its exact proportional share
    total = sum(Decimal(v) for v in w.values() if v > 0)
    for k, part in parts.items():
        ideal = amount * Decimal(w[k]) / total
        assert abs(part - ideal) <= quantum + abs(amount) * Decimal("1e-20")
