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
