"""What the Azure Function app ships: the files `func azure functionapp publish` uploads from the
repository root, which is every file not matched by `.funcignore` (gitignore syntax). The remote build
then installs the project from them (`requirements.txt`: `.[azure]`, see infra/azure/README.md).

    .venv/bin/python infra/azure/package.py              # or: make package-azure
    .venv/bin/python infra/azure/package.py --compile    # also write each shipped rules file's compiled form

It lists them with their size (tests/infra/test_azure_package.py checks: no aws/, cli/, guardrails/,
devkit/ or demo, and small). `--compile` writes `<rules>.compiled.json` beside each rules file that
ships (the example, a deployer's `rules.yaml` next to function_app.py): the function reads that at
cold start instead of the YAML (tagwarden.rules.compiled).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pathspec

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_RULES = Path("functions/tagwarden/examples/rules.yaml")


def _ignore(root: Path) -> pathspec.PathSpec:
    return pathspec.PathSpec.from_lines("gitignore", (root / ".funcignore").read_text().splitlines())


def shipped(root: Path = ROOT) -> list[Path]:
    """The files the publish uploads, relative to `root`, sorted."""
    ignore = _ignore(root)
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        here = Path(folder).relative_to(root)
        # An ignored folder is not entered (as git and the Functions tools do); symlinks are followed
        # by neither, and are listed as what they point to only if they are files.
        dirs[:] = sorted(d for d in dirs if not ignore.match_file(f"{(here / d).as_posix()}/"))
        found += [here / f for f in files if not ignore.match_file((here / f).as_posix())]
    return sorted(found)


def rules_files(files: list[Path]) -> list[Path]:
    """The rules files among them: the shipped example and any YAML next to function_app.py."""
    return [f for f in files if f == EXAMPLE_RULES or (f.parent == Path() and f.suffix in (".yaml", ".yml"))]


def compile_rules(root: Path, files: list[Path]) -> list[Path]:
    """Write the compiled form beside each shipped rules file; the ones written."""
    sys.path.insert(0, str(root / "functions"))
    from tagwarden.rules import RulesError
    from tagwarden.rules.compiled import NotCompilable, write_compiled

    written = []
    for rel in rules_files(files):
        try:
            written.append(Path(write_compiled(root / rel)).relative_to(root))
        except (RulesError, NotCompilable) as exc:
            print(f"warning: {rel} ships without its compiled form: {exc}", file=sys.stderr)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--compile", action="store_true", help="write the compiled form of shipped rules")
    args = parser.parse_args()
    files = shipped()
    if args.compile:
        compile_rules(ROOT, files)
        files = shipped()
    size = sum((ROOT / f).stat().st_size for f in files)
    for f in files:
        print(f)
    print(f"{len(files)} files, {size / 1024:.0f} KiB before dependencies", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
