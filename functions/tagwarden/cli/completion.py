"""`tagwarden completion bash|zsh|tcsh`: a shell completion script, generated from the parser itself.

tagwarden completion bash > ~/.local/share/bash-completion/completions/tagwarden
tagwarden completion zsh > "${fpath[1]}/_tagwarden"
"""

from __future__ import annotations

import argparse
from typing import Any, TextIO

from tagwarden.cli.common import EXIT_OK, InputError

SHELLS = ("bash", "zsh", "tcsh")


def register(sub: Any) -> None:
    comp = sub.add_parser(
        "completion",
        help="print a shell completion script (bash, zsh, tcsh)",
        description=(__doc__ or "").strip(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    comp.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    comp.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        import shtab
    except ImportError as exc:
        raise InputError("completion needs shtab: pip install 'tagwarden[cli]'") from exc
    from tagwarden.cli.main import build_parser

    out.write(shtab.complete(build_parser(), shell=args.shell))
    return EXIT_OK
