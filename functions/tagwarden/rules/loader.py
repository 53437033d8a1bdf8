"""Read a rules file: YAML with positions, ${ENV} substitution, schema validation, semantic checks
(`rules.checks`), then compile (`rules.compile`). Every problem in the file is reported at once,
each with file, line and key path."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from tagwarden.rules.checks import semantic_problems
from tagwarden.rules.compile import MODE_ENV, compile_rules, deployment_mode
from tagwarden.rules.envsubst import substitute
from tagwarden.rules.errors import KeyPath, RulesError, RulesProblem
from tagwarden.rules.limits import check_limits
from tagwarden.rules.model import RuleSet
from tagwarden.rules.schema import Problem
from tagwarden.rules.spec import SPEC
from tagwarden.rules.yamlpos import Located, load_located

__all__ = ["MODE_ENV", "load_rules", "load_rules_text"]


def load_rules(path: str | os.PathLike[str], env: Mapping[str, str] | None = None) -> RuleSet:
    """Load and compile a rules file; raises RulesError listing every problem."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError([RulesProblem(str(path), None, (), f"cannot read the file: {exc}")]) from exc
    return load_rules_text(text, str(path), env)


def load_rules_text(text: str, filename: str = "<rules>", env: Mapping[str, str] | None = None) -> RuleSet:
    located, problems = load_located(text, filename)
    if problems:
        raise RulesError(problems)
    if located.data is None:
        raise RulesError(
            [RulesProblem(filename, 1, (), "the file is empty; expected a mapping with version and tags")]
        )

    env_errors: list[tuple[KeyPath, str]] = []
    data = substitute(located.data, os.environ if env is None else env, (), env_errors)
    found: list[Problem] = list(env_errors)
    SPEC.check(data, (), found)
    if isinstance(data, dict):
        # Cross-checks run on the parts whose shape is right, so one pass reports everything.
        found += semantic_problems(data, {path[:3] for path, _ in found})
        check_limits(data, found)
    if found:
        raise RulesError([_locate(located, filename, path, msg) for path, msg in found])
    rules = compile_rules(data, filename)
    return deployment_mode(rules, "mode" in data, os.environ if env is None else env)


def _locate(located: Located, filename: str, path: KeyPath, msg: str) -> RulesProblem:
    return RulesProblem(filename, located.line_of(path), path, msg)
