"""``midair trace``: the decision log of one run: when, what, and why.

The document (``-o json`` / ``-o yaml``)::

    {"scenario", "strategy", "seed", "completed", "halted", "duration_s",
     "decisions": [{"t", "kind", "action", "reason", "detail"}], "events": [{"t", "text"}]}

``t`` is simulated seconds since the upgrade began; ``kind`` is action, failed, refused,
unsafe, halt or done; ``events`` (API up and down, skew violations, ...) with ``--events``.
"""

from __future__ import annotations

import sys

from sim.commands.common import add_set_option, add_timing_option, field_option, scenario_from, strategies_named
from sim.commands.run import FAIL_ON, UNSTARTED
from sim.errors import EXIT_FINDINGS, EXIT_OK
from sim.render import Table, add_output_option, render
from sim.runner import LogEntry
from sim.sampling import derive_seed


def add_parser(sub) -> None:
    p = sub.add_parser("trace", help="print the decision log of one run (time, action, reason)")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--strategy", required=True, metavar="NAME",
                   help="the scenario's strategy (label or name), or any built-in strategy or preset with its defaults")
    p.add_argument("--seed", type=int, metavar="S",
                   help="the run's seed, as in the results JSON (default: run 0 of the scenario's seed)")
    p.add_argument("--events", action="store_true", help="also show world events (API up/down, skew violations)")
    p.add_argument("--fail-on", default="findings", choices=FAIL_ON,
                   help="exit 1 on findings (a skew violation, a run that could not start: the default), or on those "
                        "and a halt")
    add_set_option(p)
    add_timing_option(p)
    add_output_option(p, "the decisions")
    p.set_defaults(run=run)


def document(scenario: str, label: str, seed: int, result, events: bool) -> dict:
    """The document of one run (``events``: the world's too; the run must have kept its world)."""
    happened = result.world.rec.events if events and result.world is not None else ()  # an unstarted run has no world
    return {"scenario": scenario, "strategy": label, "seed": seed, "completed": result.completed,
            "halted": result.halted, "duration_s": result.metrics["duration_s"],
            "decisions": [{"t": e.t, "kind": e.kind, "action": e.action, "reason": e.reason, "detail": e.detail}
                          for e in result.log],
            "events": [{"t": t, "text": what} for t, what in happened]}


def text(doc: dict) -> str:
    lines = [(d["t"], 0, LogEntry(d["t"], d["kind"], d["action"], d["reason"], d["detail"]).line())
             for d in doc["decisions"]]
    lines += [(e["t"], 1, f"{e['t']:9.1f}s  event   {e['text']}") for e in doc["events"]]
    outcome = "completed" if doc["completed"] else f"halted: {doc['halted']}"
    body = [text for _, _, text in sorted(lines, key=lambda x: (x[0], x[1]))]
    return "\n".join([f"# {doc['scenario']}, strategy {doc['strategy']}, seed {doc['seed']}", *body,
                      f"# {outcome} after {doc['duration_s']:g}s"]) + "\n"


def tables(doc: dict) -> list[Table]:
    out = [Table.of("Decisions", ("t", "kind", "action", "detail", "reason"),
                    [[d["t"], d["kind"], d["action"], d["detail"], d["reason"]] for d in doc["decisions"]])]
    if doc["events"]:
        out.append(Table.of("Events", ("t", "text"), [[e["t"], e["text"]] for e in doc["events"]]))
    return out


def run(args) -> int:
    from sim.simulate import simulate  # the simulator loads when a run is asked for, not with the options

    scenario = scenario_from(args, args.scenario)
    spec = strategies_named(scenario, [args.strategy])[0]
    seed = field_option(args.seed, "seed", "--seed") if args.seed is not None else derive_seed(scenario.seed, "run", 0)
    result = simulate(scenario, spec, seed, keep_world=args.events)
    sys.stdout.write(render(document(scenario.name, spec.label, seed, result, args.events), args.output, text, tables))
    unstarted = (result.halted or "").startswith(UNSTARTED)
    failed = result.metrics["skew_violations"] or unstarted or (args.fail_on == "halted" and result.halted)
    return EXIT_FINDINGS if failed else EXIT_OK
