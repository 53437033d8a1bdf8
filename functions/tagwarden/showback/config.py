"""The showback config file (`--config showback.yaml`): which cost rows are shared, and how to split them.

    shared:
      - name: bedrock-claude              # shown in the report
        match:                            # every given column must match its glob (fnmatch, case-sensitive)
          ServiceName: "Amazon Bedrock"
          ResourceId: "arn:*:bedrock:*:inference-profile/*"
        resource: "{ResourceId}"          # the usage records' `resource`; default: the row's ResourceId
        policy: quantity                  # a name in split.POLICIES
        params: {quantity: input_tokens}
        quantum: "0.01"                   # split unit (decimal); the sub-unit rest goes by largest remainder

A cost row is split only when neither its bill tags nor the ledger attribute it; the first entry
that matches wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tagwarden.showback.split import POLICIES

# FOCUS columns an entry may match on, and the normalized column each one reads.
MATCH_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "ResourceId": "resource_id",
        "ServiceName": "service",
        "SkuId": "sku_id",
        "ChargeDescription": "charge_description",
        "ProviderName": "provider",
        "SubAccountId": "account",
    }
)
ROW_RESOURCE = "{ResourceId}"
DEFAULT_QUANTUM = Decimal("0.01")


class ConfigError(ValueError):
    """The config file is not what showback reads; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class SharedEntry:
    name: str
    match: Mapping[str, str]  # FOCUS column -> glob
    policy: str
    params: Mapping[str, Any] = field(default_factory=dict)
    resource: str = ROW_RESOURCE
    quantum: Decimal = DEFAULT_QUANTUM

    def usage_resource(self, row_resource_id: str | None) -> str | None:
        return row_resource_id if self.resource == ROW_RESOURCE else self.resource


@dataclass(frozen=True, slots=True)
class ShowbackConfig:
    shared: tuple[SharedEntry, ...] = ()


def load_config(path: str | Path | None) -> ShowbackConfig:
    if path is None:
        return ShowbackConfig()
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    return parse_config(data, str(path))


def parse_config(data: Any, where: str = "config") -> ShowbackConfig:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping with `shared:`")
    unknown = set(data) - {"shared"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    entries = data.get("shared") or []
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: `shared` must be a list")
    return ShowbackConfig(tuple(_entry(e, f"{where}: shared[{i}]") for i, e in enumerate(entries)))


def _entry(raw: Any, where: str) -> SharedEntry:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping")
    unknown = set(raw) - {"name", "match", "resource", "policy", "params", "quantum"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    match = raw.get("match")
    if not isinstance(match, dict) or not match:
        raise ConfigError(f"{where}: `match` must map FOCUS columns to globs")
    for column, glob in match.items():
        if column not in MATCH_COLUMNS:
            raise ConfigError(f"{where}: match column {column!r}; known: {', '.join(MATCH_COLUMNS)}")
        if not isinstance(glob, str) or not glob:
            raise ConfigError(f"{where}: match.{column} must be a non-empty glob string")
    policy = raw.get("policy")
    if policy not in POLICIES:
        raise ConfigError(f"{where}: policy {policy!r}; known: {', '.join(sorted(POLICIES))}")
    params = raw.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError(f"{where}: `params` must be a mapping")
    try:
        quantum = Decimal(str(raw.get("quantum", DEFAULT_QUANTUM)))
    except InvalidOperation:
        raise ConfigError(f"{where}: quantum {raw.get('quantum')!r} is not a decimal") from None
    if not quantum.is_finite() or quantum <= 0:
        raise ConfigError(f"{where}: quantum must be a positive decimal")
    resource = raw.get("resource", ROW_RESOURCE)
    if not isinstance(resource, str) or not resource:
        raise ConfigError(f"{where}: `resource` must be a string (or {ROW_RESOURCE})")
    return SharedEntry(
        name=str(raw.get("name") or f"shared-{policy}"),
        match=MappingProxyType(dict(match)),
        policy=str(policy),
        params=MappingProxyType(dict(params)),
        resource=resource,
        quantum=quantum,
    )


def glob_to_like(glob: str) -> str:
    """An fnmatch-style glob (`*`, `?`) as a SQL LIKE pattern with `\\` as the escape character.

    `[...]` classes are not supported (LIKE has none); they match literally.
    """
    out = []
    for ch in glob:
        if ch in "%_\\":
            out.append("\\" + ch)
        elif ch == "*":
            out.append("%")
        elif ch == "?":
            out.append("_")
        else:
            out.append(ch)
    return "".join(out)
