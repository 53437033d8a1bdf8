"""A small schema language: one description of the rules file that both validates it (collecting
every problem, with "did you mean" for unknown keys) and emits the JSON Schema we ship for editors.

Keeping one source means the published schema and the loader can never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tagwarden.attribution.regex import Pattern, UnsafePattern, compile_user
from tagwarden.rules.durations import DURATION_HINT, parse_duration
from tagwarden.rules.errors import KeyPath, did_you_mean

Problem = tuple[KeyPath, str]


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class Node:
    doc: str = ""

    def check(self, value: Any, path: KeyPath, out: list[Problem]) -> None:
        raise NotImplementedError

    def json_schema(self) -> dict[str, Any]:
        raise NotImplementedError

    def _with_doc(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.doc:
            schema["description"] = self.doc
        return schema


@dataclass
class Str(Node):
    doc: str = ""
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None  # the value must match this
    pattern_hint: str = ""
    regex: bool = False  # the value is itself a regex: compile it now
    regex_check: Callable[[Pattern], str | None] | None = None
    scalar_ok: bool = False  # accept numbers/booleans and read them as strings (tag values like 101)

    def check(self, value: Any, path: KeyPath, out: list[Problem]) -> None:
        if self.scalar_ok and isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            out.append((path, f"expected a string, got {_type_name(value)}"))
            return
        if self.min_length is not None and len(value) < self.min_length:
            out.append((path, f"must be at least {self.min_length} characters long"))
        if self.max_length is not None and len(value) > self.max_length:
            out.append((path, f"must be at most {self.max_length} characters long, got {len(value)}"))
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            out.append((path, f"{value!r} is not {self.pattern_hint or 'in the form ' + self.pattern}"))
        if self.regex:
            try:
                re.compile(value)  # Python's parser gives the clearer message for plain syntax errors
                compiled = compile_user(value)
            except re.error as exc:
                out.append((path, f"invalid regular expression {value!r}: {exc}"))
                return
            except UnsafePattern as exc:
                out.append((path, f"regular expression {value!r} {exc}"))
                return
            if self.regex_check is not None:
                msg = self.regex_check(compiled)
                if msg:
                    out.append((path, msg))

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": ["string", "number"] if self.scalar_ok else "string"}
        if self.min_length is not None:
            schema["minLength"] = self.min_length
        if self.max_length is not None:
            schema["maxLength"] = self.max_length
        if self.pattern is not None:
            schema["pattern"] = f"^(?:{self.pattern})$"
        if self.regex:
            schema["format"] = "regex"
        return self._with_doc(schema)


@dataclass
class Int(Node):
    doc: str = ""
    minimum: int | None = None
    maximum: int | None = None

    def check(self, value: Any, path: KeyPath, out: list[Problem]) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            out.append((path, f"expected a whole number, got {_type_name(value)}"))
            return
        if self.minimum is not None and value < self.minimum:
            out.append((path, f"must be at least {self.minimum}, got {value}"))
        if self.maximum is not None and value > self.maximum:
            out.append((path, f"must be at most {self.maximum}, got {value}"))

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return self._with_doc(schema)


@dataclass
class Bool(Node):
    doc: str = ""

    def check(self, value: Any, path: KeyPath, out: list[Problem]) -> None:
        if not isinstance(value, bool):
            out.append((path, f"expected true or false, got {_type_name(value)}"))

    def json_schema(self) -> dict[str, Any]:
        return self._with_doc({"type": "boolean"})


@dataclass
class Const(Node):
    value: Any
    doc: str = ""

    def check(self, value: Any, path: KeyPath, out: list[Problem]) -> None:
        if value != self.value or isinstance(value, bool) != isinstance(self.value, bool):
            out.append((path, f"expected {self.value!r}, got {_type_name(value)}"))

    def json_schema(self) -> dict[str, Any]:
        return self._with_doc({"const": self.value})


@dataclass
class Enum(Node):
    values: Sequence[str]
    doc: str = ""

    def check(self, value: Any, path: KeyPath, out: list[Problem]) -> None:
        if not isinstance(value, str) or value not in self.values:
            shown = repr(value) if isinstance(value, str) else _type_name(value)
            hint = did_you_mean(value, self.values) if isinstance(value, str) else ""
            out.append((path, f"expected one of {', '.join(self.values)}; got {shown}{hint}"))

    def json_schema(self) -> dict[str, Any]:
        return self._with_doc({"type": "string", "enum": list(self.values)})


@dataclass
class Duration(Node):
    doc: str = ""

    def check(self, value: Any, path: KeyPath, out: list[Problem]) -> None:
        if parse_duration(value) is None:
            out.append((path, f"expected {DURATION_HINT}; got {_type_name(value)}"))

    def json_schema(self) -> dict[str, Any]:
        return self._with_doc(
            {
                "oneOf": [
                    {"type": "integer", "minimum": 0},
                    {"type": "string", "pattern": r"^(?=\d)(?:\d+d)?(?:\d+h)?(?:\d+m)?(?:\d+s)?$"},
                ]
            }
        )


@dataclass
class ListOf(Node):
    item: Node
    doc: str = ""
    min_items: int = 0
    unique: bool = False

    def check(self, value: Any, path: KeyPath, out: list[Problem]) -> None:
        if not isinstance(value, list):
            out.append((path, f"expected a list, got {_type_name(value)}"))
            return
        if len(value) < self.min_items:
            out.append((path, f"expected at least {self.min_items} item{'s' if self.min_items > 1 else ''}"))
        seen: dict[Any, int] = {}
        for i, item in enumerate(value):
            self.item.check(item, (*path, i), out)
            if self.unique and isinstance(item, (str, int)):
                if item in seen:
                    out.append(((*path, i), f"{item!r} is listed twice (also at [{seen[item]}])"))
                seen.setdefault(item, i)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": self.item.json_schema()}
        if self.min_items:
            schema["minItems"] = self.min_items
        if self.unique:
            schema["uniqueItems"] = True
        return self._with_doc(schema)


@dataclass
class OneOrMany(Node):
    """A single item or a list of them (for match patterns: `region: eu-*` or `region: [a, b]`)."""

    item: Node
    doc: str = ""

    def check(self, value: Any, path: KeyPath, out: list[Problem]) -> None:
        if isinstance(value, list):
            if not value:
                out.append((path, "expected at least one item"))
            for i, item in enumerate(value):
                self.item.check(item, (*path, i), out)
        else:
            self.item.check(value, path, out)

    def json_schema(self) -> dict[str, Any]:
        one = self.item.json_schema()
        return self._with_doc({"anyOf": [one, {"type": "array", "items": one, "minItems": 1}]})


@dataclass
class MapOf(Node):
    """A mapping with free keys (tag names, mapping tables)."""

    value: Node
    doc: str = ""
    key: Str | None = None
    min_items: int = 0

    def check(self, value: Any, path: KeyPath, out: list[Problem]) -> None:
        if not isinstance(value, dict):
            out.append((path, f"expected a mapping, got {_type_name(value)}"))
            return
        if len(value) < self.min_items:
            out.append(
                (path, f"expected at least {self.min_items} entr{'ies' if self.min_items > 1 else 'y'}")
            )
        for k, v in value.items():
            if self.key is not None:
                self.key.check(k, (*path, k), out)
            self.value.check(v, (*path, k), out)

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object", "additionalProperties": self.value.json_schema()}
        if self.key is not None and self.key.pattern:
            schema["propertyNames"] = {"pattern": f"^(?:{self.key.pattern})$"}
        if self.min_items:
            schema["minProperties"] = self.min_items
        return self._with_doc(schema)


@dataclass
class Field:
    node: Node
    required: bool = False
    default: Any = None


@dataclass
class Obj(Node):
    """A mapping with known keys; unknown keys are errors with a suggestion."""

    fields: Mapping[str, Field]
    doc: str = ""
    exactly_one_of: Sequence[str] = ()  # discriminating keys, e.g. the kind of a derivation source
    exactly_one_name: str = "key"
    hints: Mapping[str, str] = field(default_factory=dict)  # unknown key -> what was probably meant
    extra_check: Callable[[dict[str, Any], KeyPath, list[Problem]], None] | None = field(
        default=None, repr=False
    )

    def check(self, value: Any, path: KeyPath, out: list[Problem]) -> None:
        if not isinstance(value, dict):
            out.append((path, f"expected a mapping, got {_type_name(value)}"))
            return
        for key, val in value.items():
            spec = self.fields.get(key)
            if spec is None:
                hint = did_you_mean(key, self.fields)
                if key in self.hints:
                    hint = f"; did you mean '{self.hints[key]}'?"
                out.append(((*path, key), f"unknown key {key!r}{hint}"))
                continue
            spec.node.check(val, (*path, key), out)
        for key, spec in self.fields.items():
            if spec.required and key not in value:
                out.append((path, f"missing required key {key!r}"))
        if self.exactly_one_of:
            present = [k for k in self.exactly_one_of if k in value]
            if len(present) != 1:
                choices = ", ".join(self.exactly_one_of)
                got = f"got {', '.join(present)}" if present else "got none"
                out.append((path, f"expected exactly one {self.exactly_one_name} ({choices}); {got}"))
        if self.extra_check is not None:
            self.extra_check(value, path, out)

    def json_schema(self) -> dict[str, Any]:
        props = {k: f.node.json_schema() for k, f in self.fields.items()}
        for k, f in self.fields.items():
            if f.default is not None:
                props[k]["default"] = f.default
        schema: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
        required = [k for k, f in self.fields.items() if f.required]
        if required:
            schema["required"] = required
        if self.exactly_one_of:
            schema["oneOf"] = [{"required": [k]} for k in self.exactly_one_of]
        return self._with_doc(schema)
