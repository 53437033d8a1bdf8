"""The price table behind `spend_per_hour` limits: dated, shipped as `prices.yaml`, overridable
entry by entry from the rules file. Keys are globs; the longest matching key wins."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar

from msgspec import Struct, field

T = TypeVar("T")


class PriceTable(Struct, frozen=True):
    as_of: str = ""
    currency: str = "USD"
    hourly: Mapping[str, float] = field(default_factory=dict)  # instance type / resource type -> USD/h
    model_unit_hourly: Mapping[str, float] = field(default_factory=dict)  # Bedrock model id -> USD/h/unit

    def hourly_for(self, *keys: str | None) -> float | None:
        """The price of the first key that has one (an instance type, then the resource type)."""
        for key in keys:
            if key and (price := _lookup(self.hourly, key)) is not None:
                return price
        return None

    def model_unit(self, model_id: str) -> float | None:
        return _lookup(self.model_unit_hourly, model_id)

    def merged(self, override: Mapping[str, Any]) -> PriceTable:
        """This table with the entries of `override` (the rules file's `limits.prices`) on top."""
        return PriceTable(
            as_of=str(override.get("as_of", self.as_of)),
            currency=self.currency,
            hourly={**self.hourly, **{str(k): float(v) for k, v in (override.get("hourly") or {}).items()}},
            model_unit_hourly={
                **self.model_unit_hourly,
                **{str(k): float(v) for k, v in (override.get("model_unit_hourly") or {}).items()},
            },
        )


def _lookup(table: Mapping[str, T], key: str) -> T | None:
    if key in table:
        return table[key]
    best: str | None = None
    for pattern in table:
        if fnmatch.fnmatchcase(key, pattern) and (best is None or len(pattern) > len(best)):
            best = pattern
    return table[best] if best is not None else None


@cache
def shipped() -> PriceTable:
    """The table shipped with tagwarden (read once per process)."""
    from importlib import resources  # only when a rules file has spend limits, not at every cold start

    import yaml

    text = (resources.files("tagwarden.runaway") / "prices.yaml").read_text(encoding="utf-8")
    return PriceTable().merged(yaml.safe_load(text))
