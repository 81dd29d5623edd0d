"""``midair path``: the skew-safe sequence of control-plane hops and worker rolls to a target.

The document (``-o json`` / ``-o yaml``; ``--json`` is ``-o json``)::

    {"from", "to", "kubelets": [...], "steps": [{"component": "control-plane" | "workers", "version"}]}

with the steps in the order they are taken.
"""

from __future__ import annotations

import sys

from models.plan import WORKERS, path_for_state, version_path
from sim.commands.common import add_json_flag, add_set_option, output_format, scenario_from, version_arg, versions_arg
from sim.errors import EXIT_OK, UsageError
from sim.render import Table, add_output_option, render


def add_parser(sub) -> None:
    p = sub.add_parser("path", help="the upgrade path: control-plane minor hops and worker rolls",
                       description="Give --from and --to (and --kubelets if the workers are older than the "
                                   "control plane), or --scenario FILE.")
    p.add_argument("--from", dest="start", metavar="V", help="the control plane's version now")
    p.add_argument("--to", dest="target", metavar="V", help="the target version")
    p.add_argument("--kubelets", action="append", metavar="V,...", help="the kubelet versions now (default: --from)")
    p.add_argument("--scenario", metavar="FILE", help="take the versions and target from a scenario")
    add_json_flag(p)
    add_set_option(p)
    add_output_option(p, "the path")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.scenario:
        scenario = scenario_from(args, args.scenario)
        target = version_arg(args.target, "--to") if args.target else scenario.target
        try:
            path = path_for_state(scenario.cluster, target)
        except ValueError as exc:
            raise UsageError(f"{args.scenario}: {exc}") from None
    else:
        if not args.start or not args.target:
            raise UsageError("give --from V and --to V (or --scenario FILE)")
        start, target = version_arg(args.start, "--from"), version_arg(args.target, "--to")
        try:
            path = version_path(start, target, versions_arg(args.kubelets, "--kubelets") or None)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    sys.stdout.write(render(path.to_json(), output_format(args), text, tables))
    return EXIT_OK


def text(doc: dict) -> str:
    rolls = sum(1 for s in doc["steps"] if s["component"] == WORKERS)
    lines = [f"{doc['from']} -> {doc['to']} (kubelets {', '.join(doc['kubelets'])}): {len(doc['steps'])} step(s), "
             f"{rolls} worker roll(s)"]
    lines += [f"  {i}. {step['component']:<13} -> {step['version']}" for i, step in enumerate(doc["steps"], 1)]
    return "".join(line + "\n" for line in lines)


def tables(doc: dict) -> list[Table]:
    return [Table.of(f"Path {doc['from']} -> {doc['to']}", ("step", "component", "version"),
                     [[i, s["component"], s["version"]] for i, s in enumerate(doc["steps"], 1)])]
