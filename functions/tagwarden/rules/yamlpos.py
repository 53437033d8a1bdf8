"""Load YAML into plain Python while remembering the line of every key path.

PyYAML's composer keeps positions on nodes; we walk the node tree ourselves so that validation
errors can say `rules.yaml:14: tags.CostCenter.pattern: ...`. Duplicate keys, which PyYAML would
silently collapse, are reported as errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from tagwarden.rules.errors import KeyPath, RulesProblem

try:  # libyaml's composer is ~5x faster; fall back to pure Python where it is not built
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


@dataclass
class Located:
    """A parsed document and the line (1-based) of each key path in it."""

    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int | None:
        # The nearest enclosing path that has a position (a missing key reports its parent's line).
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path[:-1]


def load_located(text: str, filename: str) -> tuple[Located, list[RulesProblem]]:
    problems: list[RulesProblem] = []
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        return Located(None), [_syntax_problem(exc, filename)]
    located = Located(None)
    if node is None:
        return located, problems
    located.data = _convert(node, (), located, problems, filename)
    return located, problems


def _convert(
    node: yaml.Node, path: KeyPath, located: Located, problems: list[RulesProblem], filename: str
) -> Any:
    located.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            if not isinstance(key, (str, int, float, bool)):
                problems.append(
                    RulesProblem(filename, key_node.start_mark.line + 1, path, "keys must be plain scalars")
                )
                continue
            key_str = str(key)
            child = (*path, key_str)
            if key_str in out:
                problems.append(
                    RulesProblem(
                        filename,
                        key_node.start_mark.line + 1,
                        child,
                        f"duplicate key (first given on line {located.lines.get(child)})",
                    )
                )
                continue
            located.lines[child] = key_node.start_mark.line + 1
            out[key_str] = _convert(value_node, child, located, problems, filename)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            child = (*path, i)
            located.lines[child] = item.start_mark.line + 1
            items.append(_convert(item, child, located, problems, filename))
        return items
    return _scalar(node)


_RESOLVER = yaml.constructor.SafeConstructor()


def _scalar(node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        value = _RESOLVER.construct_object(node, deep=True)
        _RESOLVER.constructed_objects.clear()  # the constructor caches per node; we keep nothing
        return value
    return None


def _syntax_problem(exc: yaml.YAMLError, filename: str) -> RulesProblem:
    """Where PyYAML noticed the problem (line and column) and where the construct it was reading
    began: the mistake is usually there (an unclosed bracket or quote a few lines up)."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    msg = f"not valid YAML: {problem}"
    if context:
        msg += f" ({context}"
        if context_mark is not None and (mark is None or context_mark.line != mark.line):
            msg += f" that starts at line {context_mark.line + 1}, column {context_mark.column + 1}"
        msg += ")"
    return RulesProblem(filename, line, (), msg, column)
