"""``midair path``: the skew-safe sequence of control-plane hops and worker rolls to a target."""

from __future__ import annotations

from models.plan import path_for_state, version_path
from sim.commands.common import add_set_option, print_json, scenario_from, version_arg, versions_arg
from sim.errors import EXIT_OK, UsageError


def add_parser(sub) -> None:
    p = sub.add_parser("path", help="the upgrade path: control-plane minor hops and worker rolls",
                       description="Give --from and --to (and --kubelets if the workers are older than the "
                                   "control plane), or --scenario FILE.")
    p.add_argument("--from", dest="start", metavar="V", help="the control plane's version now")
    p.add_argument("--to", dest="target", metavar="V", help="the target version")
    p.add_argument("--kubelets", action="append", metavar="V,...", help="the kubelet versions now (default: --from)")
    p.add_argument("--scenario", metavar="FILE", help="take the versions and target from a scenario")
    p.add_argument("--json", action="store_true", help='print JSON: {"from", "to", "steps": [{"component", "version"}]}')
    add_set_option(p)
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
    if args.json:
        print_json(path.to_json())
        return EXIT_OK
    kubelets = ", ".join(str(k) for k in path.kubelets)
    print(f"{path.start} -> {path.target} (kubelets {kubelets}): {len(path.steps)} step(s), "
          f"{path.worker_rolls} worker roll(s)")
    for i, step in enumerate(path.steps, 1):
        print(f"  {i}. {step.component:<13} -> {step.version}")
    return EXIT_OK
