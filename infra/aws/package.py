"""Write build/aws/: the Lambda package, holding only what the AWS functions import.

The modules are the import closure of the handlers' module (`tagwarden.aws.handler`), read from the
source by grimp (the graph import-linter checks; function-level lazy imports included), plus the
packages above them. Added: the shipped example rules (the template's default RulesPath), any rules
file a deployer put at the top of functions/ (README: `functions/rules.yaml`), and
functions/requirements.txt for `sam build`. Never shipped: azure/, cli/, guardrails/, devkit/.
Each rules file shipped is checked and its compiled form written beside it (`rules.yaml.compiled.json`,
tagwarden.rules.compiled): the function reads that at cold start, without PyYAML or the schema. A
file that cannot be compiled is shipped alone (the function reads the YAML; the reason is printed).

Bytecode: Lambda's /var/task is read-only, so a package without `__pycache__` compiles every one
of our modules from source at every cold start (~50 ms of CPU for the handler's ~90 modules,
BENCHMARKS.md). The package ships them compiled by an interpreter of the template's runtime
(`Runtime: python3.13`), as unchecked-hash .pyc files: zip archives keep mtimes to 2 seconds, so
timestamp-checked bytecode would be judged stale and compiled again. Without such an interpreter
(`--python`, else `python3.13` on PATH, else this one when it is that version) the package is
written without bytecode and a warning says so.

    .venv/bin/python infra/aws/package.py [--python python3.13]    # or: make package-aws
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "functions"
OUT = ROOT / "build" / "aws"
ENTRY = "tagwarden.aws.handler"
EXAMPLE_RULES = "tagwarden/examples/rules.yaml"
# The price tables are read (importlib.resources) when rules have spend or token limits.
DATA = (
    EXAMPLE_RULES,
    "tagwarden/aws/catalogue/derived.json.gz",
    "tagwarden/runaway/prices.yaml",
    "tagwarden/llm/prices.yaml",
)


def modules(entry: str = ENTRY) -> set[str]:
    """`entry`, every tagwarden module it imports (directly or not), their parent packages and what
    those import."""
    sys.path.insert(0, str(SOURCE))
    import grimp

    graph = grimp.build_graph("tagwarden", cache_dir=None)
    found: set[str] = set()
    todo = [entry]
    while todo:  # importing a module runs its packages' __init__ first: their imports ship too
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        parts = name.split(".")
        todo += [*graph.find_upstream_modules(name), *(".".join(parts[:i]) for i in range(1, len(parts)))]
    return found


def source_file(module: str) -> Path:
    path = SOURCE.joinpath(*module.split("."))
    return path / "__init__.py" if path.is_dir() else path.with_suffix(".py")


def runtime_version() -> str:
    """The Lambda runtime's Python version, from the template (one home for it): "3.13"."""
    found = re.search(r"Runtime: python(\d+\.\d+)", (ROOT / "template.yaml").read_text(encoding="utf-8"))
    if found is None:
        raise SystemExit("template.yaml names no python runtime")
    return found.group(1)


def interpreter(version: str, given: str | None = None) -> str | None:
    """An interpreter of `version` to compile the bytecode with, or None."""
    candidates = [given] if given else [shutil.which(f"python{version}"), sys.executable]
    for python in filter(None, candidates):
        probe = subprocess.run(
            [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return python
    return None


def compile_bytecode(out: Path, python: str | None) -> list[Path]:
    """Unchecked-hash .pyc files for every module in `out/tagwarden`, by `python` (the runtime's
    version); the files written, relative to `out`."""
    version = runtime_version()
    compiler = interpreter(version, python)
    if compiler is None:
        print(
            f"warning: no Python {version} to compile with (--python): the package ships no bytecode, "
            "so the function compiles its modules at every cold start",
            file=sys.stderr,
        )
        return []
    subprocess.run(
        [compiler, "-m", "compileall", "-q", "--invalidation-mode", "unchecked-hash", str(out / "tagwarden")],
        check=True,
    )
    return sorted(p.relative_to(out) for p in (out / "tagwarden").rglob("*.pyc"))


def package(out: Path = OUT, python: str | None = None) -> list[Path]:
    """Write the package to `out` (replacing it); the files written, relative to `out`."""
    if out.exists():
        shutil.rmtree(out)
    files = [source_file(m).relative_to(SOURCE) for m in sorted(modules())]
    files += [Path(d) for d in DATA]
    rules = [Path(EXAMPLE_RULES), *(p.relative_to(SOURCE) for p in sorted(SOURCE.glob("*.y*ml")))]
    files += rules[1:]  # a deployer's rules
    files.append(Path("requirements.txt"))
    for rel in files:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SOURCE / rel, target)
    files += [c for rel in rules if (c := compile_rules(out, rel)) is not None]
    return files + compile_bytecode(out, python)


def compile_rules(out: Path, rel: Path) -> Path | None:
    """Write the compiled form of the shipped rules file `out/rel`; its path relative to `out`."""
    sys.path.insert(0, str(SOURCE))
    from tagwarden.rules import RulesError
    from tagwarden.rules.compiled import NotCompilable, write_compiled

    try:
        return Path(write_compiled(out / rel)).relative_to(out)
    except (RulesError, NotCompilable) as exc:
        print(f"warning: {rel} shipped without its compiled form: {exc}", file=sys.stderr)
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--python", help="an interpreter of the Lambda runtime's version, for the bytecode")
    args = parser.parse_args()
    files = package(args.out, args.python)
    size = sum((args.out / f).stat().st_size for f in files)
    print(f"{args.out}: {len(files)} files, {size / 1024:.0f} KiB before dependencies")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
