"""The scripts under infra/ (not a package) loaded as modules, once each, for the tests."""

from __future__ import annotations

import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@cache
def script(path: str) -> Any:
    """`infra/<path>` as a module, e.g. script("aws/package.py")."""
    file = ROOT / "infra" / path
    spec = importlib.util.spec_from_file_location(file.stem, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def load(path: Path) -> dict[str, Any]:
    """A CloudFormation template as plain data (cfn-lint's reader: short-form tags expanded)."""
    from cfnlint.decode import decode_str

    decoded, errors = decode_str(path.read_text())
    assert not errors, errors
    plain: dict[str, Any] = json.loads(json.dumps(decoded))
    return plain
