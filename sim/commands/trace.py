"""``midair trace``: the decision log of one run: when, what, and why."""

from __future__ import annotations

from sim.commands.common import add_set_option, add_timing_option, scenario_from
from sim.commands.run import UNSTARTED, select_strategies
from sim.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from sim.sampling import derive_seed
from sim.simulate import simulate


def add_parser(sub) -> None:
    p = sub.add_parser("trace", help="print the decision log of one run (time, action, reason)")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--strategy", required=True, metavar="NAME", help="the strategy (label or name)")
    p.add_argument("--seed", type=int, metavar="S",
                   help="the run's seed, as in the results JSON (default: run 0 of the scenario's seed)")
    p.add_argument("--events", action="store_true", help="also show world events (API up/down, skew violations)")
    add_set_option(p)
    add_timing_option(p)
    p.set_defaults(run=run)


def run(args) -> int:
    scenario = scenario_from(args, args.scenario)
    (spec,) = select_strategies(scenario, [args.strategy])[:1] or [None]
    if spec is None:  # pragma: no cover - select_strategies raises first
        raise UsageError(f"no strategy {args.strategy}")
    seed = args.seed if args.seed is not None else derive_seed(scenario.seed, "run", 0)
    result = simulate(scenario, spec, seed, keep_world=args.events)
    print(f"# {scenario.name}, strategy {spec.label}, seed {seed}")
    lines = [(e.t, 0, e.line()) for e in result.log]
    if args.events and result.world is not None:  # a run that never started has no world
        lines += [(t, 1, f"{t:9.1f}s  event   {text}") for t, text in result.world.rec.events]
    for _, _, text in sorted(lines, key=lambda x: (x[0], x[1])):
        print(text)
    outcome = "completed" if result.completed else f"halted: {result.halted}"
    print(f"# {outcome} after {result.metrics['duration_s']:g}s")
    unstarted = (result.halted or "").startswith(UNSTARTED)
    return EXIT_FINDINGS if result.metrics["skew_violations"] or unstarted else EXIT_OK
