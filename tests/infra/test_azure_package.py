"""What the Azure Function app ships (infra/azure/package.py: the repository minus .funcignore, as
`func azure functionapp publish` uploads it): only what the Azure function imports, small, and
enough for the remote build to install the project from."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra_scripts import script

ROOT = Path(__file__).resolve().parents[2]
NEVER_SHIPPED = ("devkit/", "tests/", "bench/", "infra/", "examples/", "template.yaml", ".venv", ".azurite")
NOT_AZURE = ("aws", "cli", "guardrails", "tagwarden_testing", "tagwarden_demo", "node_modules")


def package() -> Any:
    return script("azure/package.py")


@pytest.fixture(scope="module")
def shipped() -> list[Path]:
    return list(package().shipped(ROOT))


def test_ships_no_aws_cli_guardrails_devkit_or_demo(shipped: list[Path]) -> None:
    names = [f.as_posix() for f in shipped]
    leaked = [n for n in names if n.startswith(NEVER_SHIPPED) or set(Path(n).parts) & set(NOT_AZURE)]
    assert not leaked, leaked
    for needed in ("function_app.py", "host.json", "requirements.txt", "pyproject.toml", "README.md"):
        assert needed in names, needed
    assert "functions/tagwarden/azure/handler.py" in names
    assert "functions/tagwarden/examples/rules.yaml.compiled.json" in names  # read at cold start


def test_ships_only_subpackages_the_azure_function_imports(shipped: list[Path]) -> None:
    import grimp

    graph = grimp.build_graph("tagwarden", cache_dir=None)
    needed = {"tagwarden.azure.handler", *graph.find_upstream_modules("tagwarden.azure.handler")}
    imported = {m.split(".")[1] for m in needed if m.count(".") >= 1}
    packages = {
        f.relative_to("functions/tagwarden").parts[0]
        for f in shipped
        if f.is_relative_to("functions/tagwarden") and len(f.relative_to("functions/tagwarden").parts) > 1
    }
    # subpackages, not single modules (a core module or two the function does not use cost nothing)
    assert packages - imported - {"examples"} == set(), "shipped but never imported by the Azure function"


def test_ships_every_module_the_azure_function_can_import(shipped: list[Path]) -> None:
    """The handler's import closure, with what its packages' __init__ import (the package step's
    closure: infra/aws/package.py's `modules`), lazy imports included."""
    needed = script("aws/package.py").modules("tagwarden.azure.handler")
    names = {f.as_posix() for f in shipped}
    missing = []
    for module in sorted(needed):
        path = Path("functions", *module.split("."))
        rel = (path / "__init__.py" if (ROOT / path).is_dir() else path.with_suffix(".py")).as_posix()
        if rel not in names:
            missing.append(module)
    assert not missing, missing


def test_is_under_1_mb_before_dependencies(shipped: list[Path]) -> None:
    size = sum((ROOT / f).stat().st_size for f in shipped)
    assert size < 1024 * 1024, size


def test_the_remote_build_installs_the_project_from_what_ships(
    shipped: list[Path], tmp_path: Path
) -> None:
    """The remote build's step (`pip install -r requirements.txt` = `.[azure]`), without the
    dependencies (no network): the project builds from the shipped files alone, and what it installs
    is the Azure function's part of tagwarden."""
    upload = tmp_path / "upload"
    for rel in shipped:
        (upload / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, upload / rel)
    site = tmp_path / "site-packages"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--disable-pip-version-check",
         "--target", str(site), str(upload)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if result.returncode != 0 and "setuptools" in result.stderr and "No matching distribution" in result.stderr:
        pytest.skip("the build backend (setuptools>=77, pyproject.toml) cannot be fetched here")
    assert result.returncode == 0, result.stderr[-3000:]
    installed = site / "tagwarden"
    assert (installed / "azure" / "handler.py").is_file()
    assert not [p for p in installed.rglob("*") if set(p.relative_to(installed).parts) & set(NOT_AZURE)]
