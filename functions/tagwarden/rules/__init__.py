"""The rules file: schema, loader (with file/line/key errors), and the compiled rule set.

The loader (PyYAML, the schema, the semantic checks) is imported on first use: a deployed function
reads its rules from their compiled form (`rules.compiled`) and never needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tagwarden.rules.errors import RulesError, RulesProblem
from tagwarden.rules.model import RuleSet

if TYPE_CHECKING:
    from tagwarden.rules.loader import load_rules, load_rules_text

__all__ = ["RuleSet", "RulesError", "RulesProblem", "load_rules", "load_rules_text"]


def __getattr__(name: str) -> Any:
    if name in ("load_rules", "load_rules_text"):
        from tagwarden.rules import loader

        return getattr(loader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
