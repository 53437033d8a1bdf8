"""Print the template parameters that deploy a rules file's own `catalogue:` entries.

The generated rules and tag permissions cover the built-in catalogue; a rules file's entries are
routed and granted by three parameters of template.yaml (and of infra/aws/org/hub.yaml):
ExtraEventSources, ExtraEventNames and ExtraTagActions (README, catalogue). This computes them
(tagwarden.aws.patterns.extra_parameters), from the repository root:

    .venv/bin/python infra/aws/extra_parameters.py rules.yaml                 # for --parameter-overrides
    .venv/bin/python infra/aws/extra_parameters.py rules.yaml --format json

Exit 0 with the parameters; 2 with the error when the rules file does not load (located message).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "functions") not in sys.path:  # runnable without installing the package
    sys.path.insert(0, str(ROOT / "functions"))

from tagwarden.aws.catalogue import user  # noqa: E402
from tagwarden.aws.patterns import extra_parameters  # noqa: E402
from tagwarden.aws.taggers import TAGGERS  # noqa: E402
from tagwarden.rules import RulesError, load_rules_text  # noqa: E402


def parameters(rules_path: Path) -> dict[str, str]:
    rules = load_rules_text(rules_path.read_text(), str(rules_path), env={})
    return extra_parameters(user.index(rules.catalogue).values(), TAGGERS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("rules", type=Path, help="the rules file")
    parser.add_argument("--format", choices=("overrides", "json"), default="overrides")
    args = parser.parse_args(argv)
    try:
        values = parameters(args.rules)
    except (OSError, RulesError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(values, indent=2))
    else:
        print(" ".join(f"{key}={value}" for key, value in values.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
