"""``midair validate FILE...``: check scenario files and say what each describes."""

from __future__ import annotations

import sys

from sim.commands.common import add_set_option
from sim.errors import EXIT_BAD_INPUT, EXIT_OK
from sim.scenario import InputError, load_scenario


def add_parser(sub) -> None:
    p = sub.add_parser("validate", help="check scenario files; print every problem with its line")
    p.add_argument("files", nargs="+", metavar="FILE")
    add_set_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    status = EXIT_OK
    for path in args.files:
        try:
            s = load_scenario(path, args.sets)
        except InputError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            status = EXIT_BAD_INPUT
            continue
        c = s.cluster
        print(f"{path}: ok: scenario {s.name!r}, {len(c.control_plane.apiservers)} apiserver(s), "
              f"{len(c.nodes)} node(s) in {len(c.pools)} pool(s), {len(c.workloads)} workload(s), "
              f"{c.version} -> {s.target}; strategies: {', '.join(x.label for x in s.strategies)}")
    return status
