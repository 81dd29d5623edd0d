"""``midair run``: rehearse the scenario's strategies and compare them side by side."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass

from models.prechecks import blocking
from models.strategies.presets import PRESETS
from sim import expectations
from sim.commands.common import add_set_option, add_timing_option, field_option, strategies_named
from sim.commands.results import document, tables, text
from sim.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from sim.output import atomic_write_text
from sim.progress import progress_bar
from sim.render import add_output_option, render
from sim.style import colour_allowed
from sim.sweep import Row, Variant, executor_for, grid_work, jobs, run_sweep, summary, variants

FAIL_ON = ("findings", "halted")


def add_sweep_options(p) -> None:
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--strategy", action="append", metavar="NAME",
                   help="only this strategy: the scenario's (label or name), or any built-in strategy or preset with "
                        "its defaults (repeatable)")
    p.add_argument("--runs", type=int, metavar="N", help="runs per strategy (default: the scenario's runs)")
    p.add_argument("--seed", type=int, metavar="S", help="root seed, 0 or more (default: the scenario's seed)")
    p.add_argument("--grid", action="append", default=[], metavar="PATH=V1,V2",
                   help="also vary a field over values, e.g. --grid strategies[0].maxUnavailable=1,2,3 (repeatable)")
    p.add_argument("--workers", type=int, metavar="N", help="processes (default: the number of cores)")
    p.add_argument("--executor", default="process", choices=("process", "serial", "dask"),
                   help="where runs execute (default: a local process pool)")
    p.add_argument("--scheduler", metavar="ADDR", help="the Dask scheduler's address (with --executor dask)")
    p.add_argument("--fail-on", default="findings", choices=FAIL_ON,
                   help="exit 1 on findings (a skew violation, a run that could not start, a failed expectation: "
                        "the default), or on those and any run that halted")
    p.add_argument("--no-fail", action="store_true",
                   help="a failed expectation (expect:) does not make the exit code 1; the table still says FAIL")
    add_preset_option(p)
    add_set_option(p)
    add_timing_option(p)
    add_output_option(p, "the comparison")


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
    p.add_argument("--json", metavar="FILE", help='write every run as JSON: {"midair_version", "scenario", "root_seed", '
                                                  '"expectations": [...], "runs": [...]}; - is standard output (then '
                                                  "the comparison goes to standard error)")
    p.set_defaults(run=run)


def select_strategies(scenario, wanted: list[str] | None):
    return strategies_named(scenario, wanted)


@dataclass
class Sweep:
    """A prepared or finished sweep: the scenario as written, the variants the jobs run in,
    the rows (empty until run), and the strategies pre-checks stopped (then nothing runs)."""

    base: object
    variants: list[Variant]
    rows: list[Row]
    seed: int
    runs: int
    blocked: dict[str, tuple[str, list]]

    def verdicts(self) -> list:
        """The scenario's expectations measured over each strategy's runs (``sim.expectations``)."""
        return expectations.verdicts(self.variants, self.rows)

    def document(self) -> dict:
        return document(self.base, summary(self.rows) if self.rows else {}, self.seed, self.runs, self.blocked,
                        self.verdicts())


def _blocked(work: list[tuple[Variant, list]]) -> dict[str, tuple[str, list]]:
    """The (variant, strategy) pairs whose runs could not start, with why: the blocking pre-check
    findings that ``prechecks: enforce`` stops at, or no upgrade plan. Known before any run."""
    from sim.prechecks import findings_for
    from sim.simulate import plan_for

    out = {}
    for v, specs in work:
        for spec in specs:
            label = f"{spec.label} [{v.name}]" if v.name else spec.label
            blocks = blocking(findings_for(v.scenario, spec)) if v.scenario.prechecks == "enforce" else []
            if blocks:
                out[label] = (f"blocked by {len(blocks)} pre-check finding(s) (prechecks: enforce)", blocks)
                continue
            try:
                plan_for(v.scenario, spec)
            except ValueError as exc:
                out[label] = (f"no upgrade plan: {exc}", [])
    return out


def execute(args, checkpoint: str | None = None) -> Sweep:
    """Load the variants and run every job, unless pre-checks block one: then nothing runs."""
    if args.runs is not None:
        field_option(args.runs, "runs", "--runs")
    if args.seed is not None:
        field_option(args.seed, "seed", "--seed")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be 1 or more")
    if args.workers is not None and args.executor != "process":
        raise UsageError(f"--workers is for --executor process; with --executor {args.executor} it would be "
                         "ignored" + (" (size the Dask cluster instead)" if args.executor == "dask" else ""))
    vs = variants(args.scenario, [*preset_sets(args), *args.sets], args.grid, args.timing)
    base = vs[0].scenario
    runs = args.runs or base.runs
    seed = base.seed if args.seed is None else args.seed
    work = grid_work(vs, lambda scenario: select_strategies(scenario, args.strategy))
    placed = list({v.name: v for v, _ in work}.values())
    blocked = _blocked(work)
    if blocked:
        return Sweep(base, placed, [], seed, runs, blocked)
    all_jobs = jobs(work, runs, seed)
    executor = executor_for(args.executor, args.workers, args.scheduler)
    try:
        with progress_bar(f"{base.name}: {len(all_jobs)} run(s)") as advance:
            rows = run_sweep(placed, all_jobs, executor, checkpoint, advance,
                             notice=lambda note: print(f"midair: {note}", file=sys.stderr), root_seed=seed)
    finally:
        if hasattr(executor, "close"):
            executor.close()
    return Sweep(base, placed, rows, seed, runs, {})


UNSTARTED = ("blocked by ", "no upgrade plan: ")


def verdict(rows, fail_on: str = "findings") -> int:
    """1 when a run broke the version-skew policy or could not start (a blocking pre-check
    finding, no upgrade plan), or, with ``fail_on="halted"``, when any run halted; else 0.
    By default a halt under faults is a measured outcome, not a finding."""
    for r in rows:
        halted = r.data["halted"] or ""
        if r.data["metrics"]["skew_violations"] or halted.startswith(UNSTARTED) or (fail_on == "halted" and halted):
            return EXIT_FINDINGS
    return EXIT_OK


def emit(args, sweep: Sweep, stream=None) -> None:
    """The comparison in the format of ``-o``."""
    stream = stream or sys.stdout
    colour = colour_allowed(stream)
    stream.write(render(sweep.document(), args.output, lambda doc: text(doc, colour), tables))


def results_json(base, rows, seed: int, verdicts=(), judged=None) -> str:
    """The results file: every run, the expectations measured over them, the report's verdict (when
    there is a report), and the midair that made them."""
    from sim.verdict import to_json
    from sim.version import midair_version

    data = {"midair_version": midair_version(), "scenario": base.name, "root_seed": seed,
            "expectations": expectations.to_json(verdicts), **({"verdict": to_json(judged)} if judged else {}),
            "runs": [r.data for r in rows]}
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def expectations_verdict(found, no_fail: bool) -> int:
    """1 when an expectation failed, naming each on stderr; 0 with ``--no-fail``."""
    bad = expectations.failed(found)
    for v in bad:
        print(f"midair: expectation failed: {v.describe()}", file=sys.stderr)
    return EXIT_FINDINGS if bad and not no_fail else EXIT_OK


def check_writable(path: str, option: str) -> None:
    """Fail before the work, not after it, when ``path`` cannot be written."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"{option} {path}: the directory {directory} does not exist")
    if os.path.isdir(path) or not os.access(directory, os.W_OK):
        raise UsageError(f"{option} {path}: cannot write a file there")


def run(args) -> int:
    to_stdout = args.json == "-"
    if args.json and not to_stdout:
        check_writable(args.json, "--json")
    sweep = execute(args)
    emit(args, sweep, sys.stderr if to_stdout else sys.stdout)
    if sweep.blocked:
        return EXIT_FINDINGS
    found = sweep.verdicts()
    if to_stdout:
        sys.stdout.write(results_json(sweep.base, sweep.rows, sweep.seed, found))
    elif args.json:
        atomic_write_text(args.json, results_json(sweep.base, sweep.rows, sweep.seed, found))
        print(f"wrote {args.json}", file=sys.stderr)
    return max(verdict(sweep.rows, args.fail_on), expectations_verdict(found, args.no_fail))
