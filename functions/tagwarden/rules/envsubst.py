"""`${NAME}` and `${NAME:-default}` in rules-file strings, for deployment-specific values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tagwarden.rules.errors import KeyPath

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\$")


def substitute(
    data: Any, env: Mapping[str, str], path: KeyPath = (), errors: list[tuple[KeyPath, str]] | None = None
) -> Any:
    """Return data with variables replaced in every string; unknown variables are collected as errors.

    `$$` stands for a literal `$`, so a regex ending in `$` is untouched unless it reads `${`.
    """
    if errors is None:
        errors = []
    if isinstance(data, str):
        if "$" not in data:
            return data

        def repl(m: re.Match[str]) -> str:
            if m.group(0) == "$$":
                return "$"
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            errors.append(
                (path, f"environment variable {name} is not set (write ${{{name}:-default}} to allow that)")
            )
            return m.group(0)

        return _VAR.sub(repl, data)
    if isinstance(data, dict):
        return {k: substitute(v, env, (*path, k), errors) for k, v in data.items()}
    if isinstance(data, list):
        return [substitute(v, env, (*path, i), errors) for i, v in enumerate(data)]
    return data


def substitution_sites(data: Any, path: KeyPath = ()) -> list[KeyPath]:
    """The key paths of the strings `substitute` would change (a `${NAME}` or a `$$`)."""
    if isinstance(data, str):
        return [path] if _VAR.search(data) else []
    if isinstance(data, dict):
        return [site for k, v in data.items() for site in substitution_sites(v, (*path, k))]
    if isinstance(data, list):
        return [site for i, v in enumerate(data) for site in substitution_sites(v, (*path, i))]
    return []


def variable_names(value: str) -> list[str]:
    """The names of the `${NAME}` in one string."""
    return [m.group(1) for m in _VAR.finditer(value) if m.group(1)]
