"""``midair run``: rehearse the scenario's strategies and compare them side by side."""

from __future__ import annotations

import json
import os
import sys

from models.strategies.presets import PRESETS
from sim.commands.common import add_set_option, add_timing_option
from sim.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from sim.output import atomic_write_text
from sim.progress import progress_bar
from sim.scenario.fields import MAX_RUNS, RUNS_LIMIT
from sim.sweep import executor_for, jobs, run_sweep, summary, variants

TABLE_METRICS = ("completed", "duration_s", "api_downtime_s", "outage_s", "degraded_s", "pods_evicted",
                 "pods_restarted", "pods_rescheduled", "pods_lost_local_data", "pdb_violations", "skew_violations",
                 "node_ip_changes", "peak_extra_nodes", "node_hours", "max_pending_pods")


def add_sweep_options(p) -> None:
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--strategy", action="append", metavar="NAME", help="only this strategy (label or name; repeatable)")
    p.add_argument("--runs", type=int, metavar="N", help="runs per strategy (default: the scenario's runs)")
    p.add_argument("--seed", type=int, metavar="S", help="root seed (default: the scenario's seed)")
    p.add_argument("--grid", action="append", default=[], metavar="PATH=V1,V2",
                   help="also vary a field over values, e.g. --grid strategies[0].maxUnavailable=1,2,3 (repeatable)")
    p.add_argument("--workers", type=int, metavar="N", help="processes (default: the number of cores)")
    p.add_argument("--executor", default="process", choices=("process", "serial", "dask"),
                   help="where runs execute (default: a local process pool)")
    p.add_argument("--scheduler", metavar="ADDR", help="the Dask scheduler's address (with --executor dask)")
    add_preset_option(p)
    add_set_option(p)
    add_timing_option(p)


def add_preset_option(p) -> None:
    p.add_argument("--preset", action="append", default=[], metavar="NAME", choices=sorted(PRESETS),
                   help=f"compare platform presets instead of the scenario's strategies ({', '.join(sorted(PRESETS))}; "
                        "repeatable)")


def preset_sets(args) -> list[str]:
    """--preset NAME... as a --set of the scenario's strategies (applied before the user's --set,
    so ``--set strategies[0].maxSurge=2`` tunes the first preset)."""
    if not getattr(args, "preset", None):
        return []
    twice = sorted({p for p in args.preset if args.preset.count(p) > 1})
    if twice:
        raise UsageError(f"--preset {twice[0]} is given twice; name each preset once (to compare a preset with "
                         f"itself tuned, use --grid or strategies: [{{preset: {twice[0]}, ...}}] in the scenario)")
    return ["strategies=[" + ", ".join(f"{{preset: {p}}}" for p in args.preset) + "]"]


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="rehearse the upgrade with each strategy and compare the costs")
    add_sweep_options(p)
    p.add_argument("--json", metavar="FILE", help='write every run as JSON: {"runs": [...]}')
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


def execute(args, checkpoint: str | None = None):
    """Load the variants, run every job; returns (base scenario, variants, rows, root seed, runs)."""
    if args.runs is not None and not 1 <= args.runs <= MAX_RUNS:
        raise UsageError(f"--runs must be from 1 to {MAX_RUNS:,} ({RUNS_LIMIT})")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be 1 or more")
    if args.workers is not None and args.executor != "process":
        raise UsageError(f"--workers is for --executor process; with --executor {args.executor} it would be "
                         "ignored" + (" (size the Dask cluster instead)" if args.executor == "dask" else ""))
    vs = variants(args.scenario, [*preset_sets(args), *args.sets], args.grid, args.timing)
    base = vs[0].scenario
    runs = args.runs or base.runs
    seed = base.seed if args.seed is None else args.seed
    work = jobs([(v, select_strategies(v.scenario, args.strategy)) for v in vs], runs, seed)
    executor = executor_for(args.executor, args.workers, args.scheduler)
    try:
        with progress_bar(f"{base.name}: {len(work)} run(s)") as advance:
            rows = run_sweep(vs, work, executor, checkpoint, advance,
                             notice=lambda text: print(f"midair: {text}", file=sys.stderr))
    finally:
        if hasattr(executor, "close"):
            executor.close()
    return base, vs, rows, seed, runs


UNSTARTED = ("blocked by ", "no upgrade plan: ")


def verdict(rows) -> int:
    """1 when a run broke the version-skew policy or could not start (a blocking pre-check
    finding, no upgrade plan); else 0. A halt under faults is a measured outcome, not a finding."""
    for r in rows:
        if r.data["metrics"]["skew_violations"] or (r.data["halted"] or "").startswith(UNSTARTED):
            return EXIT_FINDINGS
    return EXIT_OK


def print_blocking(vs, rows) -> None:
    """The findings behind runs that pre-checks blocked: id, subject and reason, each once."""
    from sim.prechecks import findings_for

    by_name = {v.name: v.scenario for v in vs}
    seen: dict[tuple, None] = {}
    for r in rows:
        if (r.data["halted"] or "").startswith("blocked by "):
            key = (r.job.variant, r.job.strategy.label)
            if key not in seen:
                seen[key] = None
    lines: dict[str, None] = {}
    for variant, label in seen:
        spec = next(r.job.strategy for r in rows if (r.job.variant, r.job.strategy.label) == (variant, label))
        for f in findings_for(by_name[variant], spec):
            if f.severity == "BLOCK":
                lines[f"  BLOCK {f.id}  {f.subject}: {f.reason}"] = None
    if lines:
        print("blocking pre-check findings (midair precheck for the fixes):")
        print("\n".join(lines))


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


def results_json(base, rows, seed: int) -> str:
    data = {"scenario": base.name, "root_seed": seed, "runs": [r.data for r in rows]}
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def check_writable(path: str, option: str) -> None:
    """Fail before the work, not after it, when ``path`` cannot be written."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"{option} {path}: the directory {directory} does not exist")
    if os.path.isdir(path) or not os.access(directory, os.W_OK):
        raise UsageError(f"{option} {path}: cannot write a file there")


def run(args) -> int:
    if args.json:
        check_writable(args.json, "--json")
    base, vs, rows, seed, runs = execute(args)
    stats = summary(rows)
    print(f"scenario {base.name}: {base.cluster.version} -> {base.target}, {runs} run(s) per strategy, seed {seed}")
    print(format_table(stats))
    for label, s in stats.items():
        for reason, n in s["halted"].items():
            print(f"{label}: {n} run(s) halted: {reason}")
    print_blocking(vs, rows)
    if args.json:
        atomic_write_text(args.json, results_json(base, rows, seed))
        print(f"wrote {args.json}", file=sys.stderr)
    return verdict(rows)
