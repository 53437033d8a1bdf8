"""What a deployed function reads from its environment, the same on both clouds: comma lists and
the rules file deployed with it (each adapter adds its own sources, e.g. SSM Parameter Store)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from tagwarden.rules.compiled import load_rules_file_text
from tagwarden.rules.errors import RulesError, RulesProblem
from tagwarden.rules.model import RuleSet

RULES_ENV = "TAGWARDEN_RULES_PATH"


def csv(value: str | None) -> tuple[str, ...]:
    """A comma list, items stripped, empties dropped."""
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def rules_from_path(env: Mapping[str, str], base_dir: str | None, alternative: str = "") -> RuleSet:
    """The rules file named by TAGWARDEN_RULES_PATH, relative to `base_dir` (the app's root) unless
    absolute; `alternative` names another way to give rules, for the error when none is set."""
    text, name = rules_text_from_path(env, base_dir, alternative)
    return load_rules_file_text(text, name, env)  # its compiled form when the package step wrote it


def rules_text_from_path(
    env: Mapping[str, str], base_dir: str | None, alternative: str = ""
) -> tuple[str, str]:
    """The text and name of that file (the ledger records the SHA-256 of the text)."""
    path = env.get(RULES_ENV)
    if not path:
        raise RuntimeError(f"set {RULES_ENV} (a rules file deployed with the function){alternative}")
    if not os.path.isabs(path):
        path = os.path.join(base_dir or os.getcwd(), path)
    try:
        with open(path, encoding="utf-8") as fh:
            return fh.read(), path
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError([RulesProblem(path, None, (), f"cannot read the file: {exc}")]) from exc
