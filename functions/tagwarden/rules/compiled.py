"""The compiled form of a deployed rules file: `<rules file>.compiled.json` beside it, written by the
package step (`make package-aws`, `tagwarden rules compile`) after the full check, read at cold start.

A cold start with it parses JSON and compiles (regexes, globs, durations): no PyYAML, no schema, no
semantic checks, which the file passed when it was written. It is used only when it is exactly for
this text (its SHA-256 is recorded) and nothing the checks would have to see again changes at run
time: `${VAR}` substitutions are allowed under `notifications:` only (free strings no check reads);
anywhere else the file is not compiled. Missing, stale, unreadable or not applicable: the YAML is
read as before (same rules, same errors with file and line) and the reason is logged.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from typing import Any

from tagwarden.rules.compile import compile_rules, deployment_mode
from tagwarden.rules.envsubst import substitute, substitution_sites, variable_names
from tagwarden.rules.errors import KeyPath
from tagwarden.rules.model import RuleSet

SUFFIX = ".compiled.json"
FORMAT = 1
# Where `${VAR}` may stand in a compiled file: values the checks take as any string.
FREE_SECTIONS = frozenset({"notifications"})

log = logging.getLogger(__name__)


class NotCompilable(ValueError):
    """The file is valid but cannot be compiled ahead (the function will read the YAML)."""


def compiled_path(path: str | os.PathLike[str]) -> str:
    return os.fspath(path) + SUFFIX


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compile_text(text: str, filename: str) -> str:
    """The compiled form of a rules file's text (JSON). Raises RulesError when the file is not valid
    (every problem, as the loader reports them) and NotCompilable when it cannot be compiled ahead."""
    from tagwarden.rules.loader import load_rules_text
    from tagwarden.rules.yamlpos import load_located

    located, syntax = load_located(text, filename)
    data = located.data
    bound = [s for s in substitution_sites(data) if not s or s[0] not in FREE_SECTIONS]
    if bound and not syntax:
        where = ".".join(str(p) for p in bound[0])
        raise NotCompilable(f"`${{...}}` at {where}: only {', '.join(sorted(FREE_SECTIONS))} may use it")
    # The full check, every variable set to "" (any string is valid where they may stand in a
    # compiled file); the deployment's mode is applied when the function loads it.
    names = {m for s in _strings(data) for m in variable_names(s)}
    load_rules_text(text, filename, dict.fromkeys(names, ""))  # raises RulesError, with lines
    try:
        round_trip = json.loads(json.dumps(data))
    except (TypeError, ValueError) as exc:
        raise NotCompilable(f"a value JSON cannot hold ({exc})") from None
    if round_trip != data or not isinstance(data, dict):
        raise NotCompilable("a value JSON would not give back as it is (NaN?)")
    # Key order kept: it is the order tags are listed and rule matchers run in.
    return json.dumps({"format": FORMAT, "sha256": digest(text), "data": data}) + "\n"


def write_compiled(path: str | os.PathLike[str]) -> str:
    """Compile the rules file at `path` to its `.compiled.json` beside it; the path written."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    out = compiled_path(path)
    try:
        compiled = compile_text(text, os.fspath(path))
    except Exception:
        with contextlib.suppress(FileNotFoundError):
            os.remove(out)  # an older one would only be found stale
        raise
    with open(out, "w", encoding="utf-8") as fh:
        fh.write(compiled)
    return out


def load_rules_file_text(text: str, filename: str, env: Mapping[str, str] | None = None) -> RuleSet:
    """The rules of the file `filename` whose text is `text`: from its compiled form when that is
    for this text, else from the YAML (`rules.loader`), the reason logged."""
    env = os.environ if env is None else env
    data = _compiled_data(text, filename)
    if data is not None:
        errors: list[tuple[KeyPath, str]] = []
        ready = substitute(data, env, (), errors)
        if not errors:
            return deployment_mode(compile_rules(ready, filename), "mode" in ready, env)
        log.info("compiled rules %s: %s; reading the YAML", filename, errors[0][1])
    from tagwarden.rules.loader import load_rules_text

    return load_rules_text(text, filename, env)


def _compiled_data(text: str, filename: str) -> dict[str, Any] | None:
    path = compiled_path(filename)
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        log.info("no compiled rules at %s: reading the YAML (write it with `tagwarden rules compile`)", path)
        return None
    except (OSError, ValueError) as exc:
        log.warning("compiled rules %s unreadable (%s): reading the YAML", path, exc)
        return None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT or not isinstance(doc.get("data"), dict):
        log.warning("compiled rules %s: not format %s: reading the YAML", path, FORMAT)
        return None
    if doc.get("sha256") != digest(text):
        log.warning(
            "compiled rules %s are stale (written for sha256 %s, the file is %s): reading the YAML; "
            "compile again (`make package-aws` or `tagwarden rules compile`)",
            path,
            doc.get("sha256"),
            digest(text),
        )
        return None
    data: dict[str, Any] = doc["data"]
    return data


def _strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for v in data.values() for s in _strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _strings(v)]
    return []
