"""The Lambda package (infra/aws/package.py, `make package-aws`): only what the AWS functions import,
small, and enough on its own to run the handler."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tagwarden_testing import events as ev

from infra_scripts import script

ROOT = Path(__file__).resolve().parents[2]
NEVER_SHIPPED = (
    "tagwarden/azure",
    "tagwarden/cli",
    "tagwarden/guardrails",
    "tagwarden_testing",
    "tagwarden_demo",
)


def package_step() -> Any:
    return script("aws/package.py")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("build") / "aws"
    return out, package_step().package(out)


def test_ships_no_azure_cli_guardrails_demo_or_testing_module(built: tuple[Path, list[Path]]) -> None:
    out, files = built
    on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert on_disk == sorted(f.as_posix() for f in files)
    leaked = [f for f in on_disk if f.startswith(NEVER_SHIPPED)]
    assert not leaked, leaked
    assert "tagwarden/aws/handler.py" in on_disk and "requirements.txt" in on_disk
    assert "tagwarden/examples/rules.yaml" in on_disk  # the template's default RulesPath
    # ... and its compiled form, checked when written: the function reads it, not the YAML
    compiled = json.loads((out / "tagwarden/examples/rules.yaml.compiled.json").read_text(encoding="utf-8"))
    assert list(compiled["data"]["tags"]) == ["Agent-ID", "CostCenter", "Outcome-ID", "Owner"]


def test_the_price_tables_the_limits_read_are_shipped(built: tuple[Path, list[Path]]) -> None:
    """Rules with spend or token limits read them at cold start: they must be in the package."""
    out, _ = built
    code = (
        "from tagwarden.runaway.prices import shipped; from tagwarden.llm.prices import load\n"
        "print(bool(shipped().hourly), bool(load()))"
    )
    env = {"PATH": os.environ.get("PATH", "/usr/bin"), "PYTHONPATH": str(out)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=out, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "True"]


def test_is_under_2_mb_before_dependencies(built: tuple[Path, list[Path]]) -> None:
    out, files = built
    size = sum((out / f).stat().st_size for f in files)
    assert size < 2 * 1024 * 1024, size
    full = sum(p.stat().st_size for p in (ROOT / "functions").rglob("*.py"))
    shipped_source = sum((out / f).stat().st_size for f in files if f.suffix == ".py")
    assert shipped_source < full  # it is a subset, not the whole tree (bytecode aside)


CHILD = r"""
import json, sys
event = json.loads(sys.stdin.read())
import boto3
from moto import mock_aws
with mock_aws():
    ec2 = boto3.client("ec2", region_name="us-east-1")
    got = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
    text = json.dumps(event).replace("i-PLACEHOLDER", got["InstanceId"])
    from types import SimpleNamespace
    from tagwarden.aws import handler
    context = SimpleNamespace(function_name="tagwarden-enforcer")
    report = handler.lambda_handler(json.loads(text), context)
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [got["InstanceId"]]}])["Tags"]
ours = sorted({m.split(".")[1] for m in sys.modules if m.startswith("tagwarden.") and "." in m})
files = sorted({sys.modules[m].__file__ for m in sys.modules if m == "tagwarden" or m.startswith("tagwarden.")})
print(json.dumps({"report": report, "tags": {t["Key"]: t["Value"] for t in tags}, "packages": ours,
                  "files": files}))
"""


def test_the_handler_runs_from_the_package_alone(built: tuple[Path, list[Path]]) -> None:
    """Only the package on the path (no functions/, no devkit/): a create is tagged."""
    out, _ = built
    record = ev.run_instances(instances=[("i-PLACEHOLDER", [])], tags={"CostCenter": "101"})
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "PYTHONPATH": str(out),
        "LAMBDA_TASK_ROOT": str(out),
        "TAGWARDEN_RULES_PATH": "tagwarden/examples/rules.yaml",
        "TAGWARDEN_LEDGER": ":memory:",
        "TAGWARDEN_NOT_FOUND_WINDOW": "0",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_METRICS_NAMESPACE": "tagwarden",
        "POWERTOOLS_SERVICE_NAME": "tagwarden-aws",
    }
    result = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=json.dumps(ev.eventbridge(record)),
        capture_output=True,
        text=True,
        env=env,
        cwd=out,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    got = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(f.startswith(str(out)) for f in got["files"]), got["files"]
    assert "azure" not in got["packages"] and "cli" not in got["packages"]
    (event,) = got["report"]["events"]
    assert [r["outcome"] for r in event["resources"]] == ["tagged"]
    assert got["tags"]["Agent-ID"] == "42", got["tags"]  # derived from the session name


def _runtime_python() -> str | None:
    """An interpreter of the Lambda runtime's version here (this one, python3.13, or a sibling
    install such as pyenv's), or None."""
    step = package_step()
    version = step.runtime_version()
    siblings = sorted(Path(sys.base_prefix).parent.glob(f"{version}*/bin/python3"))
    for candidate in [sys.executable, shutil.which(f"python{version}"), *map(str, siblings)]:
        if candidate and step.interpreter(version, candidate):
            return candidate
    return None


def test_ships_bytecode_the_runtime_reads_without_compiling(tmp_path: Path) -> None:
    """Lambda's /var/task is read-only: without shipped .pyc files every cold start compiles our
    modules again. Unchecked-hash bytecode (zip keeps mtimes only to 2 s) for every module, and a
    fresh interpreter of the runtime's version loads each tagwarden module from it."""
    python = _runtime_python()
    if python is None:
        pytest.skip("no interpreter of the Lambda runtime's version here")
    out = tmp_path / "aws"
    files = package_step().package(out, python)
    sources = sorted(p for p in (out / "tagwarden").rglob("*.py"))
    for source in sources:
        tag = package_step().runtime_version().replace(".", "")
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-{tag}.pyc"
        assert pyc.relative_to(out) in files, pyc
        flags = int.from_bytes(pyc.read_bytes()[4:8], "little")
        assert flags == 0b01, (pyc, flags)  # hash-based, source never checked
    # each module's code as the runtime's import system gets it, with compiling from source forbidden
    # (nothing is executed, so no SDK is needed here)
    child = (
        "import sys, importlib.machinery as m\n"
        "def refuse(self, data, path, **kw): raise SystemExit(f'compiled from source: {path}')\n"
        "m.SourceFileLoader.source_to_code = refuse\n"
        "for path in sys.argv[1:]: m.SourceFileLoader('x', path).get_code('x')\n"
        "print(len(sys.argv) - 1)\n"
    )
    result = subprocess.run(
        [python, "-c", child, *map(str, sources)],
        capture_output=True, text=True, env={"PATH": "/usr/bin"}, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-500:]
    assert result.stdout.strip() == str(len(sources))
