"""Write build/aws/: the Lambda package, holding only what the AWS functions import.

The modules are the import closure of the handlers' module (`tagwarden.aws.handler`), read from the
source by grimp (the graph import-linter checks; function-level lazy imports included), plus the
packages above them. Added: the shipped example rules (the template's default RulesPath), any rules
file a deployer put at the top of functions/ (README: `functions/rules.yaml`), and
functions/requirements.txt for `sam build`. Never shipped: azure/, cli/, guardrails/, devkit/.
Each rules file shipped is checked and its compiled form written beside it (`rules.yaml.compiled.json`,
tagwarden.rules.compiled): the function reads that at cold start, without PyYAML or the schema. A
file that cannot be compiled is shipped alone (the function reads the YAML; the reason is printed).

    .venv/bin/python infra/aws/package.py          # or: make package-aws
"""

from __future__ import annotations

import argparse
import shutil
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


def package(out: Path = OUT) -> list[Path]:
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
    return files


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
    args = parser.parse_args()
    files = package(args.out)
    size = sum((args.out / f).stat().st_size for f in files)
    print(f"{args.out}: {len(files)} files, {size / 1024:.0f} KiB before dependencies")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
