"""The ``midair`` command (also installed as ``kubectl-midair``).

Exit codes everywhere: 0 fine, 1 findings or violations, 2 bad input or usage, 3 the cluster
could not be reached or refused us (141 when the reader of the output went away, as with
`| head`). Bad
input prints what is wrong and what would be valid, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from sim.commands import apply, calibrate, path, precheck, run, skew, snapshot, sweep, trace, validate
from sim.errors import EXIT_BAD_INPUT, EXIT_CLUSTER, ClusterError, InputError, UsageError

COMMANDS = (validate, precheck, skew, path, run, sweep, trace, apply, snapshot, calibrate)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="midair",
        description="Rehearse Kubernetes cluster upgrades in simulation, then fly them for real.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    except UsageError as exc:
        print(f"midair {args.command}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except ClusterError as exc:
        print(f"midair {args.command}: {exc}", file=sys.stderr)
        return EXIT_CLUSTER
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (midair ... | head): stop quietly, as cat does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
