"""``midair completion SHELL``: the shell completion script, generated from midair's own parser."""

from __future__ import annotations

import sys

from sim.errors import EXIT_OK


def add_parser(sub) -> None:
    from sim.completion import SHELLS

    p = sub.add_parser("completion", help="print the shell completion script (bash, zsh or fish)",
                       description="Load it in the shell's start-up file, e.g. source <(midair completion bash) in "
                                   "~/.bashrc, or midair completion fish | source in ~/.config/fish/config.fish. It "
                                   "completes kubectl-midair too.")
    p.add_argument("shell", choices=SHELLS, metavar="SHELL", help=f"one of {', '.join(SHELLS)}")
    p.set_defaults(run=run)


def run(args) -> int:
    from sim.cli import build_parser
    from sim.completion import script

    sys.stdout.write(script(args.shell, build_parser(args.prog)))
    return EXIT_OK
