"""The ``midair`` command (also installed as ``kubectl-midair``, the kubectl plugin).

Every command that prints results takes ``-o/--output text|json|yaml|markdown|csv``;
files are written only where an option names them (``--out``, ``--json FILE``; ``--json
-`` is standard output). Bad input prints what is wrong and what would be valid, never a
traceback.

Exit codes, the same for every command:

    0    fine: the files are valid, nothing blocks, the runs were measured
    1    findings: a blocking pre-check finding, a skew violation, a run that could not
         start, a failed expectation; with --fail-on halted, also any run that halted
    2    bad input or usage: a scenario error, a bad option, a file that cannot be read
         or written
    3    the cluster could not be reached, or it refused us (live commands)
    130  interrupted (Ctrl-C)
    141  the reader of the output went away (midair ... | head)
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

# The table above, as data: the --help epilog and the README show it; a test keeps all three in step,
# and the codes equal sim.errors' EXIT_* (not imported here, so that --version loads nothing else).
EXIT_CODES = (
    (0, "fine: the files are valid, nothing blocks, the runs were measured"),
    (1, "findings: a blocking pre-check finding, a skew violation, a run that could not start, a failed "
        "expectation; with --fail-on halted, also any run that halted"),
    (2, "bad input or usage: a scenario error, a bad option, a file that cannot be read or written"),
    (3, "the cluster could not be reached, or it refused us (live commands)"),
    (130, "interrupted (Ctrl-C)"),
    (141, "the reader of the output went away (midair ... | head)"),
)


def prog_name(argv0: str | None = None) -> str:
    """How the user called us: ``kubectl midair`` through the kubectl plugin, else ``midair``."""
    name = os.path.basename(argv0 if argv0 is not None else sys.argv[0])
    return "kubectl midair" if name.startswith("kubectl-midair") else "midair"


def _epilog() -> str:
    lines = ["exit codes:"] + [textwrap.fill(text, 96, initial_indent=f"  {code:<4} ", subsequent_indent=" " * 7)
                               for code, text in EXIT_CODES]
    return "\n".join(lines) + "\n\nDocumentation: README.md, docs/ (output formats: docs/output.md)."


def build_parser(prog: str = "midair") -> argparse.ArgumentParser:
    from sim.commands import (
        apply,
        calibrate,
        completion,
        fuzz,
        path,
        precheck,
        recommend,
        run,
        skew,
        snapshot,
        sweep,
        trace,
        validate,
    )
    from sim.version import midair_version

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Rehearse Kubernetes cluster upgrades in simulation, then fly them for real.",
        epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"midair {midair_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for command in (validate, precheck, skew, path, run, sweep, recommend, trace, fuzz, apply, snapshot, calibrate, completion):
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    prog = prog or prog_name()
    if argv == ["--version"]:  # answered before the commands (and what they import) are loaded
        from sim.version import midair_version

        print(f"midair {midair_version()}")
        return 0
    from sim.errors import EXIT_BAD_INPUT, EXIT_CLUSTER, ClusterError, InputError, UsageError

    parser = build_parser(prog)
    args = parser.parse_args(argv)
    args.prog = prog
    args.argv = list(argv)  # the command line, as reports record it
    try:
        return args.run(args)
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    except UsageError as exc:
        print(f"{prog} {args.command}: {exc}", file=sys.stderr)
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
