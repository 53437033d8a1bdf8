"""The rules file: schema, loader (with file/line/key errors), and the compiled rule set."""

from tagwarden.rules.errors import RulesError, RulesProblem
from tagwarden.rules.loader import load_rules, load_rules_text
from tagwarden.rules.model import RuleSet

__all__ = ["RuleSet", "RulesError", "RulesProblem", "load_rules", "load_rules_text"]
