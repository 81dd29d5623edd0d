"""``midair run``: rehearse the scenario's strategies and compare them side by side."""

from __future__ import annotations

import json
import sys

from sim.commands.common import add_set_option, scenario_from
from sim.errors import EXIT_OK, UsageError
from sim.output import atomic_write_text
from sim.sweep import jobs, run_serial, summary

TABLE_METRICS = ("completed", "duration_s", "api_downtime_s", "outage_s", "degraded_s", "pods_evicted",
                 "pods_restarted", "pods_rescheduled", "pods_lost_local_data", "pdb_violations", "skew_violations",
                 "node_ip_changes", "peak_extra_nodes", "node_hours", "max_pending_pods")


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="rehearse the upgrade with each strategy and compare the costs")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--strategy", action="append", metavar="NAME", help="only this strategy (label or name; repeatable)")
    p.add_argument("--runs", type=int, metavar="N", help="runs per strategy (default: the scenario's runs)")
    p.add_argument("--seed", type=int, metavar="S", help="root seed (default: the scenario's seed)")
    p.add_argument("--json", metavar="FILE", help='write every run as JSON: {"runs": [...]}')
    add_set_option(p)
    p.set_defaults(run=run)


def select_strategies(scenario, wanted: list[str] | None):
    if not wanted:
        return list(scenario.strategies)
    chosen = []
    for name in wanted:
        matches = [s for s in scenario.strategies if s.label == name] or [s for s in scenario.strategies if s.name == name]
        if not matches:
            labels = ", ".join(s.label for s in scenario.strategies)
            raise UsageError(f"--strategy {name}: the scenario has no such strategy; it has: {labels}")
        chosen += [m for m in matches if m not in chosen]
    return chosen


def format_table(stats: dict[str, dict]) -> str:
    labels = list(stats)
    rows = [["metric", *labels]]
    for m in TABLE_METRICS:
        cells = [m]
        for label in labels:
            s = stats[label]
            if m == "completed":
                cells.append(f"{s['completed'] * 100:.0f}% of {s['runs']}")
            else:
                st = s["metrics"][m]
                cells.append(f"{st['mean']:g} / {st['p95']:g}")
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n(mean / p95 per metric; seconds for *_s)\n"


def run(args) -> int:
    scenario = scenario_from(args, args.scenario)
    if args.runs is not None and args.runs < 1:
        raise UsageError("--runs must be 1 or more")
    strategies = select_strategies(scenario, args.strategy)
    runs = args.runs or scenario.runs
    seed = scenario.seed if args.seed is None else args.seed
    results = run_serial(scenario, jobs(scenario, strategies, runs, seed))
    stats = summary(results)
    print(f"scenario {scenario.name}: {scenario.cluster.version} -> {scenario.target}, {runs} run(s) per strategy, seed {seed}")
    print(format_table(stats))
    for label, s in stats.items():
        for reason, n in s["halted"].items():
            print(f"{label}: {n} run(s) halted: {reason}")
    if args.json:
        data = {"runs": [r.to_json() for r in results]}
        atomic_write_text(args.json, json.dumps(data, indent=2) + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return EXIT_OK
