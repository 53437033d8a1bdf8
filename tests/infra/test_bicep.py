"""infra/azure Bicep: well-formed, wired together, and in step with the code (no Bicep compiler).

A small tokenizer and parser read the declarations (`targetScope`, `param`, `var`, `resource`,
`module`, `output`) and turn object/array literals into Python values; anything else (a reference,
a call, an interpolated string) stays an `Expr` holding its source text and the symbols it names.
That is enough to check the shape of each resource, that every symbol used is declared and every
parameter used, and that module calls match the modules' parameters and outputs.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tagwarden.azure.normalize.eventgrid import _SKIP_OPERATIONS

from infra_scripts import script

ROOT = Path(__file__).resolve().parents[2]
AZURE = ROOT / "infra" / "azure"
MAIN = AZURE / "main.bicep"
FUNCTION_APP = ROOT / "function_app.py"
BICEP_FILES = sorted(AZURE.rglob("*.bicep"))

FUNCTION_NAME = "tagwarden_resource_write"
TAG_CONTRIBUTOR = "4a9ae827-6dc8-4573-8ac7-8239d42aa03f"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
VIRTUAL_MACHINE_CONTRIBUTOR = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"  # quarantine: deallocate/start/delete
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
EXCLUDED_OPERATIONS = {"Microsoft.Resources/tags/write", "Microsoft.Resources/deployments/write"}
APP_SETTINGS = {
    "AzureWebJobsStorage__accountName",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "TAGWARDEN_MODE",
    "TAGWARDEN_RULES_PATH",
    "TAGWARDEN_RULES_SOURCE",
    "TAGWARDEN_RULES_MAX_AGE",
    "TAGWARDEN_OWN_PRINCIPAL_IDS",
    "TAGWARDEN_LEDGER_TABLE_ENDPOINT",
    "TAGWARDEN_LEDGER_TABLE",
    "TAGWARDEN_SWEEP_SCHEDULE",
    "TAGWARDEN_SUBSCRIPTIONS",
    "TAGWARDEN_MANAGEMENT_GROUP",
    "TAGWARDEN_TEAMS_WEBHOOK_URL",
    "TAGWARDEN_NOTIFY_QUEUE_URL",
}

# Oldest api-version accepted per resource type (longest prefix wins); a type missing here fails,
# so adding a resource means choosing its floor.
API_FLOORS = {
    "Microsoft.Authorization/policyDefinitions": "2023-04-01",
    "Microsoft.Authorization/policyAssignments": "2023-04-01",
    "Microsoft.PolicyInsights/remediations": "2021-10-01",
    "Microsoft.Resources/resourceGroups": "2022-09-01",
    "Microsoft.Storage/storageAccounts": "2023-01-01",
    "Microsoft.OperationalInsights/workspaces": "2022-10-01",
    "Microsoft.Insights/components": "2020-02-02",  # still the newest GA version
    "Microsoft.Insights/actionGroups": "2023-01-01",
    "Microsoft.Insights/scheduledQueryRules": "2023-12-01",
    "Microsoft.Insights/metricAlerts": "2018-03-01",  # still the newest GA version
    "Microsoft.Web/serverfarms": "2023-12-01",
    "Microsoft.Web/sites": "2023-12-01",  # functionAppConfig (Flex Consumption) needs it
    "Microsoft.EventGrid/systemTopics": "2022-06-15",
    "Microsoft.Authorization/roleAssignments": "2022-04-01",
    "Microsoft.Authorization/roleDefinitions": "2022-04-01",
}

# Event Grid advanced-filter operators (AdvancedFilterOperatorType) and limits per subscription.
FILTER_OPERATORS = {
    "NumberIn", "NumberNotIn", "NumberLessThan", "NumberGreaterThan", "NumberLessThanOrEquals",
    "NumberGreaterThanOrEquals", "BoolEquals", "StringIn", "StringNotIn", "StringBeginsWith",
    "StringEndsWith", "StringContains", "NumberInRange", "NumberNotInRange", "StringNotBeginsWith",
    "StringNotEndsWith", "StringNotContains", "IsNullOrUndefined", "IsNotNull",
}  # fmt: skip
MAX_ADVANCED_FILTERS = 25
MAX_FILTER_VALUES = 25
MAX_FILTER_STRING = 512

KEYWORDS = {"true", "false", "null", "if", "for", "in", "existing"}
NAMESPACES = {"az", "sys"}
PARAM_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "int": int,
    "bool": bool,
    "object": dict,
    "array": list,
}


# --- tokenizer ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tok:
    kind: str  # ident | string | number | punct | nl
    text: str
    start: int
    end: int
    line: int
    # Interpolations of a string token, each a token list.
    parts: tuple[tuple[Tok, ...], ...] = ()


class BicepSyntaxError(Exception):
    pass


_PUNCT2 = ("==", "!=", "<=", ">=", "&&", "||", "??", "=>", "::", ".?")
_PAIRS = {"(": ")", "[": "]", "{": "}"}


class Lexer:
    def __init__(self, src: str) -> None:
        self.src = src
        self.pos = 0
        self.line = 1

    def tokens(self, until_brace: bool = False) -> tuple[Tok, ...]:
        """Tokens up to the end, or (in an interpolation) up to its closing brace; checks balance."""
        out: list[Tok] = []
        stack: list[Tok] = []
        src = self.src
        while self.pos < len(src):
            c = src[self.pos]
            if c in " \t\r":
                self.pos += 1
            elif c == "\n":
                out.append(Tok("nl", "\n", self.pos, self.pos + 1, self.line))
                self.pos += 1
                self.line += 1
            elif src.startswith("//", self.pos):
                end = src.find("\n", self.pos)
                self.pos = len(src) if end < 0 else end
            elif src.startswith("/*", self.pos):
                end = src.find("*/", self.pos + 2)
                if end < 0:
                    raise BicepSyntaxError(f"line {self.line}: unterminated comment")
                self.line += src.count("\n", self.pos, end)
                self.pos = end + 2
            elif src.startswith("'''", self.pos):
                end = src.find("'''", self.pos + 3)
                if end < 0:
                    raise BicepSyntaxError(f"line {self.line}: unterminated multi-line string")
                out.append(Tok("string", src[self.pos : end + 3], self.pos, end + 3, self.line))
                self.line += src.count("\n", self.pos, end)
                self.pos = end + 3
            elif c == "'":
                out.append(self._string())
            elif c.isalpha() or c == "_":
                m = re.compile(r"[A-Za-z_][A-Za-z0-9_]*").match(src, self.pos)
                assert m is not None
                out.append(Tok("ident", m.group(), self.pos, m.end(), self.line))
                self.pos = m.end()
            elif c.isdigit():
                m = re.compile(r"\d+(\.\d+)?").match(src, self.pos)
                assert m is not None
                out.append(Tok("number", m.group(), self.pos, m.end(), self.line))
                self.pos = m.end()
            else:
                text = src[self.pos : self.pos + 2] if src[self.pos : self.pos + 2] in _PUNCT2 else c
                tok = Tok("punct", text, self.pos, self.pos + len(text), self.line)
                self.pos += len(text)
                if text in _PAIRS:
                    stack.append(tok)
                elif text in _PAIRS.values():
                    if not stack:
                        if until_brace and text == "}":
                            self.pos = tok.start  # the string scanner steps over the brace
                            return tuple(out)
                        raise BicepSyntaxError(f"line {self.line}: unmatched {text!r}")
                    opener = stack.pop()
                    if _PAIRS[opener.text] != text:
                        raise BicepSyntaxError(
                            f"line {self.line}: {text!r} closes {opener.text!r} of line {opener.line}"
                        )
                out.append(tok)
        if until_brace:
            raise BicepSyntaxError(f"line {self.line}: unterminated interpolation")
        if stack:
            raise BicepSyntaxError(f"{stack[-1].text!r} of line {stack[-1].line} is never closed")
        return tuple(out)

    def _string(self) -> Tok:
        start, line = self.pos, self.line
        parts: list[tuple[Tok, ...]] = []
        self.pos += 1
        while True:
            if self.pos >= len(self.src) or self.src[self.pos] == "\n":
                raise BicepSyntaxError(f"line {line}: unterminated string")
            c = self.src[self.pos]
            if c == "\\":
                self.pos += 2
            elif c == "'":
                self.pos += 1
                return Tok("string", self.src[start : self.pos], start, self.pos, line, tuple(parts))
            elif self.src.startswith("${", self.pos):
                self.pos += 2
                parts.append(self.tokens(until_brace=True))
                self.pos += 1  # the closing brace
            else:
                self.pos += 1


# --- parser ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expr:
    """A value that is not a literal: its source text and the tokens it is made of."""

    raw: str
    toks: tuple[Tok, ...]

    def refs(self) -> set[str]:
        return _refs(self.toks)


@dataclass(frozen=True)
class Loop:
    names: tuple[str, ...]
    iterable: Expr
    body: Any


@dataclass
class Decl:
    kind: str  # targetScope | param | var | resource | module | output
    name: str
    line: int
    type: str = ""  # resource 'type@api', module path, param/output type
    value: Any = None  # param default, var/output value, resource/module body
    decorators: dict[str, Any] = field(default_factory=dict)
    condition: Expr | None = None
    existing: bool = False


def _refs(toks: tuple[Tok, ...]) -> set[str]:
    """Symbols an expression names: not properties (`a.b`), calls (`f(`), keywords or object keys."""
    found: set[str] = set()
    for i, t in enumerate(toks):
        if t.kind == "string":
            for part in t.parts:
                found |= _refs(part)
            continue
        if t.kind != "ident" or t.text in KEYWORDS or t.text in NAMESPACES:
            continue
        prev = toks[i - 1] if i else None
        nxt = toks[i + 1].text if i + 1 < len(toks) else ""
        if (prev is not None and prev.text in {".", ".?", "::"}) or nxt == "(":
            continue
        if nxt == ":" and (prev is None or prev.kind == "nl" or prev.text in {"{", ","}):
            continue  # a key of an object written inside an expression
        found.add(t.text)
    return found


def _unquote(tok: Tok) -> str:
    if tok.text.startswith("'''"):
        return tok.text[3:-3]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), tok.text[1:-1])


class Parser:
    def __init__(self, src: str) -> None:
        self.src = src
        self.toks = Lexer(src).tokens()
        self.i = 0

    def peek(self, skip_nl: bool = False) -> Tok | None:
        j = self.i
        while skip_nl and j < len(self.toks) and self.toks[j].kind == "nl":
            j += 1
        return self.toks[j] if j < len(self.toks) else None

    def next(self) -> Tok:
        if self.i >= len(self.toks):
            raise BicepSyntaxError("unexpected end of file")
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, text: str | None = None, kind: str | None = None) -> Tok:
        tok = self.next()
        if (text is not None and tok.text != text) or (kind is not None and tok.kind != kind):
            raise BicepSyntaxError(f"line {tok.line}: expected {text or kind}, found {tok.text!r}")
        return tok

    def skip_nl(self) -> None:
        while (t := self.peek()) is not None and t.kind == "nl":
            self.i += 1

    def declarations(self) -> list[Decl]:
        decls: list[Decl] = []
        while True:
            self.skip_nl()
            decorators: dict[str, Any] = {}
            while (t := self.peek()) is not None and t.text == "@":
                self.next()
                name = self.expect(kind="ident").text
                self.expect("(")
                decorators[name] = None if self.peek(skip_nl=True).text == ")" else self.value()  # type: ignore[union-attr]
                self.skip_nl()
                self.expect(")")
                self.skip_nl()
            if self.peek() is None:
                if decorators:
                    raise BicepSyntaxError("decorators without a declaration at the end of the file")
                return decls
            decls.append(self.declaration(decorators))

    def declaration(self, decorators: dict[str, Any]) -> Decl:
        kw = self.expect(kind="ident")
        line = kw.line
        if kw.text == "targetScope":
            self.expect("=")
            return Decl("targetScope", "targetScope", line, value=self.value())
        name = self.expect(kind="ident").text
        decl = Decl(kw.text, name, line, decorators=decorators)
        if kw.text == "param":
            decl.type = self.expect(kind="ident").text
            if (t := self.peek()) is not None and t.text == "=":
                self.next()
                decl.value = self.value()
        elif kw.text == "var":
            self.expect("=")
            decl.value = self.value()
        elif kw.text == "output":
            decl.type = self.expect(kind="ident").text
            self.expect("=")
            decl.value = self.value()
        elif kw.text in {"resource", "module"}:
            decl.type = _unquote(self.expect(kind="string"))
            if (t := self.peek()) is not None and t.text == "existing":
                self.next()
                decl.existing = True
            self.expect("=")
            if (t := self.peek()) is not None and t.text == "if":
                self.next()
                decl.condition = self.expr(stop_at_brace=True)
            decl.value = self.value()
        else:
            raise BicepSyntaxError(f"line {line}: {kw.text!r} declarations are not read by this test")
        if (t := self.peek()) is not None and t.kind != "nl":
            raise BicepSyntaxError(f"line {t.line}: unexpected {t.text!r} after the {kw.text} {name}")
        return decl

    def value(self) -> Any:
        tok = self.peek()
        if tok is None:
            raise BicepSyntaxError("unexpected end of file")
        if tok.text == "{":
            return self.object()
        if tok.text == "[":
            return self.array()
        return self.expr()

    def object(self) -> dict[str, Any]:
        self.expect("{")
        out: dict[str, Any] = {}
        while True:
            self.skip_nl()
            if self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.next()
                continue
            key_tok = self.next()
            if key_tok.text == "}":
                return out
            if key_tok.kind == "ident":
                key = key_tok.text
            elif key_tok.kind == "string" and not key_tok.parts:
                key = _unquote(key_tok)
            else:
                raise BicepSyntaxError(f"line {key_tok.line}: object key expected, found {key_tok.text!r}")
            if key in out:
                raise BicepSyntaxError(f"line {key_tok.line}: duplicate key {key!r}")
            self.expect(":")
            out[key] = self.value()

    def array(self) -> list[Any] | Loop:
        self.expect("[")
        self.skip_nl()
        if (t := self.peek()) is not None and t.text == "for":
            self.next()
            if self.peek().text == "(":  # type: ignore[union-attr]
                self.next()
                names = [self.expect(kind="ident").text]
                self.expect(",")
                names.append(self.expect(kind="ident").text)
                self.expect(")")
            else:
                names = [self.expect(kind="ident").text]
            self.expect("in")
            iterable = self.expr(stop=":")
            self.expect(":")
            body = self.value()
            self.skip_nl()
            self.expect("]")
            return Loop(tuple(names), iterable, body)
        items: list[Any] = []
        while True:
            self.skip_nl()
            t = self.peek()
            if t is not None and t.text == ",":
                self.next()
                continue
            if t is not None and t.text == "]":
                self.next()
                return items
            items.append(self.value())

    def expr(self, stop: str | None = None, stop_at_brace: bool = False) -> Any:
        """Tokens up to a newline, comma or closer at depth 0; a lone literal becomes its value."""
        start = self.i
        depth = 0
        while (t := self.peek()) is not None:
            if depth == 0 and (
                t.kind == "nl" or t.text in {",", ")", "]", "}", stop} or (stop_at_brace and t.text == "{")
            ):
                break
            if t.text in _PAIRS:
                depth += 1
            elif t.text in _PAIRS.values():
                depth -= 1
            self.i += 1
            if stop_at_brace and depth == 0 and t.text == ")":
                break
        toks = self.toks[start : self.i]
        if not toks:
            where = self.peek()
            raise BicepSyntaxError(f"line {where.line if where else '?'}: expression expected")
        if len(toks) == 1:
            tok = toks[0]
            if tok.kind == "string" and not tok.parts:
                return _unquote(tok)
            if tok.kind == "number":
                return float(tok.text) if "." in tok.text else int(tok.text)
            if tok.text in {"true", "false"}:
                return tok.text == "true"
            if tok.text == "null":
                return None
        return Expr(self.src[toks[0].start : toks[-1].end], toks)


@dataclass
class BicepFile:
    path: Path
    decls: list[Decl]

    def _of(self, kind: str) -> dict[str, Decl]:
        return {d.name: d for d in self.decls if d.kind == kind}

    @property
    def params(self) -> dict[str, Decl]:
        return self._of("param")

    @property
    def vars(self) -> dict[str, Decl]:
        return self._of("var")

    @property
    def resources(self) -> dict[str, Decl]:
        return self._of("resource")

    @property
    def modules(self) -> dict[str, Decl]:
        return self._of("module")

    @property
    def outputs(self) -> dict[str, Decl]:
        return self._of("output")

    @property
    def target_scope(self) -> str:
        scopes = [d.value for d in self.decls if d.kind == "targetScope"]
        return scopes[0] if scopes else "resourceGroup"

    def resolve(self, value: Any) -> Any:
        """A reference to a var or to a parameter's default, followed to its value."""
        if isinstance(value, Expr) and re.fullmatch(r"[A-Za-z_]\w*", value.raw):
            decl = self.vars.get(value.raw) or self.params.get(value.raw)
            if decl is not None and decl.value is not None:
                return self.resolve(decl.value)
        return value


@cache
def bicep(path: Path) -> BicepFile:
    return BicepFile(path, Parser(path.read_text()).declarations())


def module_file(caller: Path, decl: Decl) -> BicepFile:
    return bicep((caller.parent / decl.type).resolve())


def resources_of(type_name: str) -> list[tuple[BicepFile, Decl]]:
    """Resources of a type (not `existing` references) across all the Bicep files."""
    found = [
        (bicep(path), decl)
        for path in BICEP_FILES
        for decl in bicep(path).resources.values()
        if decl.type.split("@")[0] == type_name and not decl.existing
    ]
    assert found, f"no {type_name} resource in infra/azure"
    return found


def only(type_name: str) -> tuple[BicepFile, Decl]:
    found = resources_of(type_name)
    assert len(found) == 1, f"expected one {type_name}, found {[d.name for _, d in found]}"
    return found[0]


def walk(value: Any, local: frozenset[str] = frozenset()) -> set[str]:
    """Symbols referenced anywhere in a parsed value, loop variables excepted."""
    if isinstance(value, Expr):
        return value.refs() - local
    if isinstance(value, dict):
        return set().union(*(walk(v, local) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(walk(v, local) for v in value))
    if isinstance(value, Loop):
        return walk(value.iterable, local) | walk(value.body, local | set(value.names))
    return set()


def raw(value: Any) -> str:
    return value.raw if isinstance(value, Expr) else str(value)


def role_assignments() -> list[tuple[BicepFile, Decl, dict[str, Any]]]:
    out = []
    for file, decl in resources_of("Microsoft.Authorization/roleAssignments"):
        body = decl.value.body if isinstance(decl.value, Loop) else decl.value
        out.append((file, decl, body))
    return out


def role_guids(file: BicepFile, decl: Decl, body: dict[str, Any]) -> set[str]:
    """Role definition GUIDs an assignment (or each assignment of a loop) grants."""
    text = raw(body["properties"]["roleDefinitionId"])
    guids = set(re.findall(r"[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}", text))
    for name in walk(body["properties"]["roleDefinitionId"]):
        resolved = file.resolve(Expr(name, ()))
        if isinstance(resolved, str):
            guids.add(resolved)
    if isinstance(decl.value, Loop):
        items = file.resolve(decl.value.iterable)
        assert isinstance(items, list), f"{decl.name}: loop over a literal list of roles"
        guids |= {item["id"] for item in items}
    return guids


# --- the files ---------------------------------------------------------------------------------


def test_the_expected_files_exist() -> None:
    names = {p.relative_to(AZURE).as_posix() for p in BICEP_FILES}
    assert "main.bicep" in names
    for name in ("README.md", "main.parameters.example.json"):
        assert (AZURE / name).is_file(), name


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(AZURE).as_posix())
def test_brackets_balance_and_declarations_parse(path: Path) -> None:
    Lexer(path.read_text()).tokens()  # raises on an unbalanced or mismatched bracket
    assert bicep(path).decls


def test_lexer_reports_unbalanced_brackets() -> None:
    for bad in ("resource a 'x@1' = {\n", "var a = [1, 2}\n", "var a = '${b'\n", "output a int = 1)\n"):
        with pytest.raises(BicepSyntaxError):
            Parser(bad).declarations()
    assert Parser("var a = { b: '${c[0]}}' }\n").declarations()[0].value["b"].refs() == {"c"}


def _floor(type_name: str) -> str | None:
    keys = [k for k in API_FLOORS if type_name == k or type_name.startswith(k + "/")]
    return API_FLOORS[max(keys, key=len)] if keys else None


def test_resource_types_and_api_versions() -> None:
    versions: dict[str, set[str]] = {}
    for path in BICEP_FILES:
        for decl in bicep(path).resources.values():
            m = re.fullmatch(
                r"(Microsoft\.[A-Za-z]+(?:/[A-Za-z]+)+)@(\d{4}-\d{2}-\d{2})(-preview)?", decl.type
            )
            assert m, f"{path.name}:{decl.line}: {decl.type!r} is not '<Namespace/type>@<yyyy-mm-dd>'"
            type_name, api, preview = m.groups()
            assert not preview, f"{path.name}:{decl.line}: preview api-version {decl.type}"
            floor = _floor(type_name)
            assert floor is not None, f"{type_name}: add its api-version floor to API_FLOORS"
            assert api >= floor, f"{path.name}:{decl.line}: {decl.type} is older than {floor}"
            versions.setdefault(type_name, set()).add(api)
    mixed = {t: v for t, v in versions.items() if len(v) > 1}
    assert not mixed, f"one api-version per resource type across the files: {mixed}"


# --- wiring ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(AZURE).as_posix())
def test_symbols_declared_and_params_used(path: Path) -> None:
    file = bicep(path)
    declared = set(file.params) | set(file.vars) | set(file.resources) | set(file.modules)
    used: set[str] = set()
    for decl in file.decls:
        if decl.kind == "param":
            used |= walk(decl.value)
        elif decl.kind != "targetScope":
            used |= walk(decl.value) | walk(decl.condition)
    assert not used - declared, f"{path.name}: undeclared symbols {sorted(used - declared)}"
    unused = set(file.params) - used
    assert not unused, f"{path.name}: parameters never used {sorted(unused)}"
    unused_vars = set(file.vars) - used
    assert not unused_vars, f"{path.name}: variables never used {sorted(unused_vars)}"
    names = [d.name for d in file.decls if d.kind not in {"targetScope", "output"}]
    assert len(names) == len(set(names)), f"{path.name}: a name is declared twice"


@pytest.mark.parametrize("path", BICEP_FILES, ids=lambda p: p.relative_to(AZURE).as_posix())
def test_module_calls_match_the_modules(path: Path) -> None:
    caller = bicep(path)
    for decl in caller.modules.values():
        target = module_file(path, decl)
        body = decl.value.body if isinstance(decl.value, Loop) else decl.value  # a module per item
        passed = set(body.get("params", {}))
        assert passed <= set(target.params), f"{decl.name}: unknown params {passed - set(target.params)}"
        required = {n for n, p in target.params.items() if p.value is None}
        assert required <= passed, f"{decl.name}: missing params {required - passed}"
        for name, value in body.get("params", {}).items():
            if "secure" in target.params[name].decorators:
                assert all(
                    "secure" in caller.params[r].decorators for r in walk(value) if r in caller.params
                ), f"{decl.name}.{name}: a secure parameter is fed from a non-secure one"
    for decl in caller.decls:
        for expr_text in _expr_texts(decl.value):
            for sym, out in re.findall(r"\b(\w+)\.outputs\.(\w+)", expr_text):
                assert sym in caller.modules, f"{path.name}: {sym}.outputs of a non-module"
                outputs = module_file(path, caller.modules[sym]).outputs
                assert out in outputs, f"{path.name}: module {sym} has no output {out!r}"


def _expr_texts(value: Any) -> list[str]:
    if isinstance(value, Expr):
        return [value.raw]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _expr_texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _expr_texts(v)]
    if isinstance(value, Loop):
        return [value.iterable.raw, *_expr_texts(value.body)]
    return []


def test_scopes() -> None:
    main = bicep(MAIN)
    assert main.target_scope == "subscription"
    assert main.resources["rg"].type.startswith("Microsoft.Resources/resourceGroups@")
    for decl in main.modules.values():
        target = module_file(MAIN, decl)
        if target.target_scope == "subscription":
            assert "scope" not in decl.value, f"{decl.name}: a subscription module runs at subscription scope"
        else:
            assert target.target_scope == "resourceGroup", decl.name
            assert raw(decl.value.get("scope")) == "rg", f"{decl.name}: deploy into the resource group"


def test_outputs() -> None:
    outputs = bicep(MAIN).outputs
    for name in ("functionAppName", "principalId", "systemTopicName", "storageAccountName"):
        assert name in outputs, name
        assert outputs[name].type == "string"


# --- the function app --------------------------------------------------------------------------


def test_flex_consumption_plan() -> None:
    _, plan = only("Microsoft.Web/serverfarms")
    assert plan.value["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    assert plan.value["properties"]["reserved"] is True  # Linux


def test_function_app() -> None:
    file, site = only("Microsoft.Web/sites")
    body = site.value
    assert body["kind"] == "functionapp,linux"
    assert body["identity"] == {"type": "SystemAssigned"}
    _, plan = only("Microsoft.Web/serverfarms")
    assert raw(body["properties"]["serverFarmId"]) == f"{plan.name}.id"
    config = body["properties"]["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": "3.13"}
    storage = config["deployment"]["storage"]
    assert storage["type"] == "blobContainer"
    assert storage["authentication"] == {"type": "SystemAssignedIdentity"}
    assert "primaryEndpoints.blob" in raw(storage["value"])
    assert {"maximumInstanceCount", "instanceMemoryMB"} <= set(config["scaleAndConcurrency"])
    assert file.params[raw(config["scaleAndConcurrency"]["instanceMemoryMB"])].type == "int"
    assert set(bicep(MAIN).params["instanceMemoryMB"].decorators["allowed"]) <= {512, 2048, 4096}


def test_app_settings() -> None:
    _, site = only("Microsoft.Web/sites")
    _, settings = only("Microsoft.Web/sites/config")
    assert settings.name != site.name
    assert raw(settings.value["parent"]) == site.name
    assert settings.value["name"] == "appsettings"
    values = settings.value["properties"]
    assert set(values) == APP_SETTINGS
    assert raw(values["TAGWARDEN_OWN_PRINCIPAL_IDS"]) == f"{site.name}.identity.principalId"
    # Its own subscription, and the members it serves (subscriptions.bicep).
    assert raw(values["TAGWARDEN_SUBSCRIPTIONS"]) == (
        "join(union([subscription().subscriptionId], memberSubscriptionIds), ',')"
    )
    assert raw(values["TAGWARDEN_MANAGEMENT_GROUP"]) == "managementGroupId"  # the policy path's group
    file, _ = only("Microsoft.Web/sites/config")
    teams = file.params[raw(values["TAGWARDEN_TEAMS_WEBHOOK_URL"])]
    assert "secure" in teams.decorators and teams.value == "", "a secret URL, empty by default"
    # No seal key any more: the ledger decides (marker tags are a display only).
    assert "TAGWARDEN_MARKER_KEY" not in values and "markerKey" not in file.params
    mode = file.params[raw(values["TAGWARDEN_MODE"])]
    assert mode.value == "audit", "a deployment acts only once the operator says enforce"
    schedule = file.params[raw(values["TAGWARDEN_SWEEP_SCHEDULE"])].value
    assert isinstance(schedule, str) and len(schedule.split()) == 6, "NCRONTAB with seconds"
    _, queue = only("Microsoft.Storage/storageAccounts/queueServices/queues")
    assert raw(values["TAGWARDEN_NOTIFY_QUEUE_URL"]) == (
        f"'${{storage.properties.primaryEndpoints.queue}}${{{queue.name}.name}}'"
    )
    assert (
        "siteConfig" not in site.value["properties"]
        or "appSettings" not in (site.value["properties"]["siteConfig"])
    ), "one place for app settings: the appsettings config resource"


def test_app_settings_are_read_by_the_code() -> None:
    if not event_grid_functions():
        pytest.skip("function_app.py has no @app.event_grid_trigger function yet")
    sources = [FUNCTION_APP, *sorted((ROOT / "functions" / "tagwarden").rglob("*.py"))]
    texts = [p.read_text() for p in sources if p.is_file()]
    read = {m for text in texts for m in re.findall(r"TAGWARDEN_[A-Z_]+", text)}
    unread = {s for s in APP_SETTINGS if s.startswith("TAGWARDEN_")} - read
    assert not unread, f"app settings no code reads: {sorted(unread)}"


def test_storage_containers_and_function_roles() -> None:
    _, storage = only("Microsoft.Storage/storageAccounts")
    assert storage.value["properties"]["allowBlobPublicAccess"] is False
    containers = {
        raw(decl.value["name"])
        for _, decl in resources_of("Microsoft.Storage/storageAccounts/blobServices/containers")
    }
    assert containers == {"deadLetterContainerName", "deploymentContainerName"}
    main = bicep(MAIN)
    names = {c: main.resolve(main.modules["app"].value["params"][c]) for c in containers}
    assert names["deadLetterContainerName"] == "deadletters"
    assert isinstance(names["deploymentContainerName"], str)
    assert names["deploymentContainerName"] != "deadletters"
    _, site = only("Microsoft.Web/sites")
    granted = set()
    for role_file, decl, body in role_assignments():
        if raw(body["properties"]["principalId"]) == f"{site.name}.identity.principalId":
            assert raw(body.get("scope")) == storage.name, decl.name
            granted |= role_guids(role_file, decl, body)
    assert granted == {
        STORAGE_BLOB_DATA_OWNER,
        STORAGE_QUEUE_DATA_CONTRIBUTOR,
        STORAGE_TABLE_DATA_CONTRIBUTOR,
    }


def test_every_role_assignment() -> None:
    for file, decl, body in role_assignments():
        assert raw(body["name"]).startswith("guid("), f"{decl.name}: name it with guid(...)"
        props = body["properties"]
        assert props["principalType"] == "ServicePrincipal", decl.name
        custom = [
            d.name for d in file.resources.values() if d.type.startswith("Microsoft.Authorization/roleDefinitions@")
        ]
        if file.target_scope == "managementGroup":  # custom roles of the group only (policy/)
            assert raw(props["roleDefinitionId"]) in {f"{n}.id" for n in custom}, decl.name
            continue
        assert raw(props["roleDefinitionId"]).startswith(
            "subscriptionResourceId('Microsoft.Authorization/roleDefinitions', "
        ), decl.name
        own = [n for n in custom if raw(props["roleDefinitionId"]).endswith(f", {n}.name)")]
        assert role_guids(file, decl, body) or own, decl.name


def test_subscription_roles() -> None:
    main = bicep(MAIN)
    from tagwarden.azure.quarantine import ACTIONS

    granted: set[str] = set()
    custom: list[Any] = []
    for name, decl in main.modules.items():
        target = module_file(MAIN, decl)
        if target.target_scope != "subscription":
            continue
        assert raw(decl.value["params"]["principalId"]) == "app.outputs.principalId", name
        for rdecl in target.resources.values():
            if rdecl.type.startswith("Microsoft.Authorization/roleAssignments@"):
                assert raw(rdecl.value["properties"]["principalId"]) == "principalId"
                granted |= role_guids(target, rdecl, rdecl.value)
            if rdecl.type.startswith("Microsoft.Authorization/roleDefinitions@"):
                custom.append(rdecl.value["properties"])
    assert granted == {TAG_CONTRIBUTOR, READER}  # no built-in role that writes to resources
    (role,) = custom
    (permission,) = role["permissions"]
    # Exactly the writes the lifecycle makes; its reads come with Reader.
    assert sorted(permission["actions"]) == sorted(a for a in ACTIONS if not a.endswith("/read"))
    assert permission["notActions"] == []
    app = module_file(MAIN, main.modules["app"])
    _, site = only("Microsoft.Web/sites")
    assert raw(app.outputs["principalId"].value) == f"{site.name}.identity.principalId"


# --- Event Grid --------------------------------------------------------------------------------


def test_system_topic() -> None:
    _, topic = only("Microsoft.EventGrid/systemTopics")
    assert topic.value["location"] == "global"
    assert topic.value["properties"]["topicType"] == "Microsoft.Resources.Subscriptions"
    assert raw(topic.value["properties"]["source"]) == "subscription().id"
    assert topic.value["identity"] == {"type": "SystemAssigned"}
    file = next(bicep(p) for p in BICEP_FILES if bicep(p).resources.get(topic.name) is topic)
    container = next(
        d
        for d in file.resources.values()
        if d.type.startswith("Microsoft.Storage/storageAccounts/blobServices/containers@")
    )
    assert container.existing
    writers = [
        (f, d, b)
        for f, d, b in role_assignments()
        if raw(b["properties"]["principalId"]) == f"{topic.name}.identity.principalId"
    ]
    assert len(writers) == 1, "the system topic's identity writes the dead letters"
    f, d, b = writers[0]
    assert f is file
    assert raw(b["scope"]) == container.name
    assert role_guids(f, d, b) == {STORAGE_BLOB_DATA_CONTRIBUTOR}


def _event_subscriptions() -> dict[str, tuple[BicepFile, Decl]]:
    """The resource-write subscription (it excludes operations) and the tag-write one (it selects them)."""
    found = resources_of("Microsoft.EventGrid/systemTopics/eventSubscriptions")
    out: dict[str, tuple[BicepFile, Decl]] = {}
    for file, decl in found:
        operators = {f["operatorType"] for f in decl.value["properties"]["filter"]["advancedFilters"]}
        out["tag-writes" if operators == {"StringIn"} else "resource-writes"] = (file, decl)
    assert set(out) == {"resource-writes", "tag-writes"} and len(found) == 2, [d.name for _, d in found]
    return out


def _plain(value: Any) -> Any:
    """A parsed value with each expression as its source text (comparable across declarations)."""
    if isinstance(value, Expr):
        return value.raw
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _event_subscription() -> tuple[BicepFile, Decl]:
    return _event_subscriptions()["resource-writes"]


def test_tag_write_subscription_selects_tag_writes_for_the_same_function() -> None:
    subs = _event_subscriptions()
    file, writes = subs["resource-writes"]
    tag_file, tags = subs["tag-writes"]
    assert tag_file is file
    props = tags.value["properties"]
    for same in ("destination", "eventDeliverySchema", "retryPolicy", "deadLetterWithResourceIdentity"):
        assert _plain(props[same]) == _plain(writes.value["properties"][same]), same
    assert props["filter"]["includedEventTypes"] == ["Microsoft.Resources.ResourceWriteSuccess"]
    (only_tags,) = props["filter"]["advancedFilters"]
    assert only_tags == {
        "operatorType": "StringIn",
        "key": "data.operationName",
        "values": ["Microsoft.Resources/tags/write"],
    }
    assert file.params[raw(tags.condition).strip("()")].type == "bool"
    assert raw(tags.value["name"]) != raw(writes.value["name"])


def test_event_subscription_endpoint_and_types() -> None:
    file, sub = _event_subscription()
    props = sub.value["properties"]
    assert props["destination"]["endpointType"] == "AzureFunction"
    site = next(d for d in file.resources.values() if d.type.startswith("Microsoft.Web/sites@"))
    assert site.existing
    assert raw(props["destination"]["properties"]["resourceId"]) == (
        f"'${{{site.name}.id}}/functions/${{functionName}}'"
    )
    assert props["eventDeliverySchema"] == "EventGridSchema"
    # writes, and deletes (they close the ledger record: a re-created id is judged as new)
    from tagwarden.azure.normalize.delete_events import DELETE_SUCCESS
    from tagwarden.azure.normalize.eventgrid import WRITE_SUCCESS

    assert props["filter"]["includedEventTypes"] == [WRITE_SUCCESS, DELETE_SUCCESS]


def test_event_subscription_filters_out_what_the_code_skips() -> None:
    _, sub = _event_subscription()
    filters = sub.value["properties"]["filter"]["advancedFilters"]
    assert isinstance(filters, list)
    assert len(filters) <= MAX_ADVANCED_FILTERS
    excluded: set[str] = set()
    n_values = 0
    for f in filters:
        assert f["operatorType"] in FILTER_OPERATORS, f["operatorType"]
        assert f["operatorType"] in {"StringNotIn", "StringNotContains"}, "only exclusions"
        assert f["key"] == "data.operationName"
        values = f["values"]
        assert isinstance(values, list)
        assert all(isinstance(v, str) and len(v) <= MAX_FILTER_STRING for v in values)
        n_values += len(values)
        excluded |= set(values)
    assert n_values <= MAX_FILTER_VALUES
    assert excluded == EXCLUDED_OPERATIONS
    for operation in EXCLUDED_OPERATIONS:
        assert operation.lower() in _SKIP_OPERATIONS, f"the code must skip {operation} as well"


def test_event_subscription_retries_and_dead_letters() -> None:
    file, sub = _event_subscription()
    props = sub.value["properties"]
    main = bicep(MAIN)
    call = next(d for d in main.modules.values() if module_file(MAIN, d) is file)
    limits = {"maxDeliveryAttempts": (1, 30), "eventTimeToLiveInMinutes": (1, 1440)}
    assert set(props["retryPolicy"]) == set(limits)
    for key, (low, high) in limits.items():
        param = raw(props["retryPolicy"][key])
        passed = raw(call.value["params"][param])
        top = main.params[passed]
        assert low <= top.decorators["minValue"] <= top.value <= top.decorators["maxValue"] <= high, key
    assert "deadLetterDestination" not in props, "dead-letter through the topic's identity only"
    dead = props["deadLetterWithResourceIdentity"]
    assert dead["identity"] == {"type": "SystemAssigned"}
    assert dead["deadLetterDestination"]["endpointType"] == "StorageBlob"
    container = raw(dead["deadLetterDestination"]["properties"]["blobContainerName"])
    assert main.resolve(call.value["params"][container]) == "deadletters"
    storage = raw(dead["deadLetterDestination"]["properties"]["resourceId"])
    assert storage.endswith(".id") and file.resources[storage[: -len(".id")]].existing


def test_event_subscription_waits_for_the_published_function() -> None:
    main = bicep(MAIN)
    file, _ = _event_subscription()
    calls = [d for d in main.modules.values() if module_file(MAIN, d) is file]
    assert len(calls) == 1
    assert raw(calls[0].condition) == "(deployEventSubscription)"
    assert main.params["deployEventSubscription"].value is False
    assert main.params["deployEventSubscription"].type == "bool"


def test_function_name_matches_function_app() -> None:
    main = bicep(MAIN)
    assert main.params["functionName"].value == FUNCTION_NAME
    file, _ = _event_subscription()
    call = next(d for d in main.modules.values() if module_file(MAIN, d) is file)
    assert raw(call.value["params"]["functionName"]) == "functionName"
    names = event_grid_functions()
    if not names:
        pytest.skip("function_app.py has no @app.event_grid_trigger function yet")
    assert names == [FUNCTION_NAME], "the Bicep functionName default must name the Event Grid function"


def event_grid_functions() -> list[str]:
    """Names of the @app.event_grid_trigger functions of function_app.py (function_name() or def)."""
    names = []
    for node in ast.walk(ast.parse(FUNCTION_APP.read_text())):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        calls = [
            d for d in node.decorator_list if isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
        ]
        if not any(c.func.attr == "event_grid_trigger" for c in calls):  # type: ignore[attr-defined]
            continue
        name = node.name
        for c in calls:
            if c.func.attr == "function_name":  # type: ignore[attr-defined]
                args = [k.value for k in c.keywords if k.arg == "name"] or c.args
                assert args and isinstance(args[0], ast.Constant), "function_name(name=<literal>)"
                name = args[0].value
        names.append(name)
    return names


# --- parameters, local settings, packaging -------------------------------------------------------


def test_parameters_example() -> None:
    doc = json.loads((AZURE / "main.parameters.example.json").read_text())
    assert doc["$schema"].endswith("deploymentParameters.json#")
    assert doc["contentVersion"] == "1.0.0.0"
    params = bicep(MAIN).params
    assert set(doc["parameters"]) <= set(params), set(doc["parameters"]) - set(params)
    for name, entry in doc["parameters"].items():
        value = entry["value"]
        decl = params[name]
        assert "secure" not in decl.decorators, f"{name}: no secrets in the example"
        assert isinstance(value, PARAM_TYPES[decl.type]), name
        assert decl.type == "bool" or not isinstance(value, bool), name
        if "allowed" in decl.decorators:
            assert value in decl.decorators["allowed"], name
        if "minValue" in decl.decorators:
            assert value >= decl.decorators["minValue"], name
        if "maxValue" in decl.decorators:
            assert value <= decl.decorators["maxValue"], name
    assert doc["parameters"]["functionName"]["value"] == FUNCTION_NAME


def test_local_settings_example() -> None:
    doc = json.loads((ROOT / "local.settings.json.example").read_text())
    assert doc["IsEncrypted"] is False
    values = doc["Values"]
    assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert "AzureWebJobsStorage" in values
    local_only = {"TAGWARDEN_LEDGER_CONNECTION"}  # the ledger on Azurite, locally
    assert {k for k in values if k.startswith("TAGWARDEN_")} == {
        s for s in APP_SETTINGS if s.startswith("TAGWARDEN_")
    } | local_only


def _funcignore() -> list[str]:
    lines = [ln.strip() for ln in (ROOT / ".funcignore").read_text().splitlines()]
    patterns = [ln for ln in lines if ln and not ln.startswith("#")]
    assert not [p for p in patterns if p.startswith("!")], "negations are not read by this test"
    return patterns


def _ignored(rel: str, patterns: list[str]) -> bool:
    """gitignore's rules, as the Functions tools read .funcignore (the package script's matcher)."""
    return bool(script("azure/package.py")._ignore(ROOT).match_file(rel))


def test_funcignore() -> None:
    patterns = _funcignore()
    for rel in (
        "tests/infra/test_bicep.py",
        ".venv/bin/python",
        ".venv-sam/bin/sam",
        "bench/core_bench.py",
        "infra/azure/main.bicep",
        "local.settings.json",
        "functions/tagwarden/__pycache__/model.cpython-313.pyc",
    ):
        assert _ignored(rel, patterns), f"{rel} must not be published"
    readme = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["readme"]
    for rel in ("function_app.py", "host.json", "requirements.txt", "pyproject.toml", readme):
        assert not _ignored(rel, patterns), f"{rel} must be published"
    package = ROOT / "functions" / "tagwarden"
    left_out = {"aws", "cli", "guardrails", "showback", "vector"}  # not the Azure function's
    for other in left_out:
        assert _ignored(f"functions/tagwarden/{other}/__init__.py", patterns), other
    kept = [
        p
        for p in package.rglob("*")
        if p.is_file()
        and "__pycache__" not in p.parts
        and "aws" not in p.relative_to(package).parts  # nor the features' AWS adapters
        and p.relative_to(package).parts[0] not in left_out
    ]
    assert kept
    for path in kept:
        rel = path.relative_to(ROOT).as_posix()
        assert not _ignored(rel, patterns), f"{rel} must be published"


def test_the_published_app_holds_everything_the_azure_function_imports() -> None:
    import grimp

    graph = grimp.build_graph("tagwarden", cache_dir=None)
    needed = {"tagwarden.azure.handler", *graph.find_upstream_modules("tagwarden.azure.handler")}
    patterns = _funcignore()
    for module in sorted(needed):
        path = ROOT / "functions" / Path(*module.split("."))
        rel = (
            (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).relative_to(ROOT).as_posix()
        )
        assert not _ignored(rel, patterns), f"{module} is imported by the Azure function but not published"
    assert not any(m.startswith(("tagwarden.aws", "tagwarden.cli", "tagwarden.guardrails")) for m in needed)


def test_requirements_install_the_project_with_its_azure_extra() -> None:
    lines = [
        ln.strip() for ln in (ROOT / "requirements.txt").read_text().splitlines() if ln.split("#")[0].strip()
    ]
    assert lines == [".[azure]"], "remote build installs the project itself (see infra/azure/README.md)"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    azure = pyproject["project"]["optional-dependencies"]["azure"]
    assert any(dep.startswith("azure-functions") for dep in azure)
    assert pyproject["tool"]["setuptools"]["packages"]["find"]["where"] == ["functions"]
