"""The token price table: per model, USD (or the file's currency) per million tokens.

Dated and user-editable: the package ships `prices.yaml`; `load(path)` reads another (YAML or JSON)
in the same shape. A bad file names the file and the key.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from importlib import resources as package_files
from pathlib import Path
from typing import Any

from tagwarden.ledger.model import UsageRecord
from tagwarden.llm.recorder import CACHE_WRITE, CACHED, INPUT, OUTPUT

_REGION_PREFIX = re.compile(r"^(us|eu|apac|au|ca|jp|us-gov|global)\.")


class PriceError(ValueError):
    """The price table cannot be read, or does not price a model it is asked about."""


@dataclass(frozen=True, slots=True)
class Price:
    input: float
    output: float
    cached_input: float
    cache_write: float

    def cost(self, quantities: Mapping[str, float]) -> float:
        per_million = (
            quantities.get(INPUT, 0.0) * self.input
            + quantities.get(CACHED, 0.0) * self.cached_input
            + quantities.get(CACHE_WRITE, 0.0) * self.cache_write
            + quantities.get(OUTPUT, 0.0) * self.output
        )
        return per_million / 1_000_000


@dataclass(frozen=True, slots=True)
class PriceTable:
    source: str
    effective: str
    currency: str
    models: Mapping[str, Price]
    resources: Mapping[str, str]  # resource id -> model key

    def model_of(self, resource: str) -> str | None:
        """The table's model key for a usage record's resource, or None when it prices none."""
        if resource in self.resources:
            return self.resources[resource]
        name = resource.rsplit("/", 1)[-1] if resource.startswith("arn:") else resource
        name = _REGION_PREFIX.sub("", name)
        best = max((k for k in self.models if name.startswith(k)), key=len, default=None)
        return best

    def with_resources(self, resources: Mapping[str, str]) -> PriceTable:
        """This table, also naming the model behind these resource ids (inference profiles)."""
        for rid, model in resources.items():
            if model not in self.models:
                raise PriceError(f"{self.source}: resource {rid!r} names model {model!r}, which has no price")
        return replace(self, resources={**self.resources, **resources})

    def price(self, resource: str) -> Price | None:
        key = self.model_of(resource)
        return self.models.get(key) if key else None

    def cost(self, record: UsageRecord) -> float:
        got = self.price(record.resource)
        if got is None:
            raise PriceError(f"{self.source}: no price for model {record.resource!r}")
        return got.cost(record.quantities)


def _number(data: Mapping[str, Any], key: str, where: str, default: float | None = None) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise PriceError(f"{where}.{key}: expected a non-negative number, got {value!r}")
    return float(value)


def parse(data: Any, source: str) -> PriceTable:
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise PriceError(f"{source}: expected a mapping with `models` (model -> input/output prices)")
    models: dict[str, Price] = {}
    for name, row in data["models"].items():
        where = f"{source}: models.{name}"
        if not isinstance(row, dict):
            raise PriceError(f"{where}: expected input/output prices")
        unknown = set(row) - {"input", "output", "cached_input", "cache_write"}
        if unknown:
            raise PriceError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        base = _number(row, "input", where)
        models[str(name)] = Price(
            input=base,
            output=_number(row, "output", where),
            cached_input=_number(row, "cached_input", where, base),
            cache_write=_number(row, "cache_write", where, base),
        )
    res = data.get("resources") or {}
    if not isinstance(res, dict):
        raise PriceError(f"{source}: resources: expected resource id -> model")
    for rid, model in res.items():
        if model not in models:
            raise PriceError(f"{source}: resources.{rid}: no model {model!r} in the table")
    return PriceTable(
        source=source,
        effective=str(data.get("effective", "")),
        currency=str(data.get("currency", "USD")),
        models=models,
        resources={str(k): str(v) for k, v in res.items()},
    )


@functools.lru_cache(maxsize=8)
def load(path: str | None = None) -> PriceTable:
    """The shipped table (path None) or a user's YAML/JSON file."""
    import yaml

    if path is None:
        text = package_files.files("tagwarden.llm").joinpath("prices.yaml").read_text(encoding="utf-8")
        source = "tagwarden/llm/prices.yaml"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise PriceError(f"cannot read price table {path}: {exc}") from exc
        source = str(path)
    try:
        data = yaml.safe_load(text)  # JSON is YAML
    except yaml.YAMLError as exc:
        raise PriceError(f"{source}: not YAML/JSON: {exc}") from exc
    return parse(data, source)
