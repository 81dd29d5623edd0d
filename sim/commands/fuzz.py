"""``midair fuzz``: search for a run of bad luck that breaks an expectation or an invariant.

The search itself is ``sim.fuzz`` (it needs Hypothesis, the ``testing`` extra, and is
imported only when the command runs).
"""

from __future__ import annotations

import os

from sim.commands.common import add_set_option
from sim.commands.run import select_strategies
from sim.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from sim.progress import progress_bar
from sim.scenario import check_source
from sim.scenario.export import source_document
from sim.scenario.source import apply_set, load_yaml_file

VARY = ("faults", "timing", "cluster")
DEFAULT_EXAMPLES = 100
DEFAULT_DATABASE = os.path.join(".hypothesis", "midair-fuzz")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "fuzz", help="search for a run of bad luck that breaks an expectation or an invariant",
        description="Varies the scenario (faults, timings, small cluster changes) and runs each strategy on the "
                    "variations, looking for one run that breaks an expect: entry or what must always hold: no "
                    "voluntary eviction below a budget unless forced, no skew violation, no action applied twice, "
                    "an end that is completed or halted with a reason. A run that breaks one is shrunk and written "
                    "as counterexample.yaml, with its trace. Exit codes: 0 none found, 1 found (or the upgrade "
                    "cannot start), 2 bad input.")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--strategy", action="append", metavar="NAME", help="only this strategy (label or name; repeatable)")
    p.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES, metavar="N",
                   help=f"variations to try per strategy (default {DEFAULT_EXAMPLES})")
    p.add_argument("--seed", type=int, metavar="S", help="the search's seed (default: the scenario's seed)")
    p.add_argument("--vary", default=",".join(VARY), metavar="WHAT",
                   help=f"what to vary, comma-separated: {', '.join(VARY)} (default: all)")
    p.add_argument("--out", default=".", metavar="DIR",
                   help="where counterexample.yaml and counterexample.trace go (default: here)")
    p.add_argument("--database", default=DEFAULT_DATABASE, metavar="DIR",
                   help=f"the local example database; failing examples are tried first next time (default {DEFAULT_DATABASE})")
    p.add_argument("--no-database", action="store_true", help="keep no examples")
    p.add_argument("--replay", action="store_true",
                   help="check the scenario's own run 0 only, as a counterexample file replays (no search)")
    add_set_option(p)
    p.set_defaults(run=run)


def parse_vary(text: str) -> tuple[str, ...]:
    parts = tuple(v.strip() for v in text.split(",") if v.strip())
    unknown = [v for v in parts if v not in VARY]
    if unknown or not parts:
        raise UsageError(f"--vary {text}: {'unknown: ' + ', '.join(unknown) if unknown else 'nothing named'}; "
                         f"valid: {', '.join(VARY)}, comma-separated")
    return parts


def _load_search():
    try:
        from sim import fuzz
    except ImportError as exc:
        if "hypothesis" in str(exc):
            raise UsageError("needs Hypothesis: pip install 'midair[testing]'") from None
        raise
    return fuzz


def replay(fuzz, tgts) -> int:
    status = EXIT_OK
    for t in tgts:
        watched = fuzz.check(t.doc, t.file)
        if not watched.started:
            print(f"{t.label}: the upgrade cannot start: {watched.result.halted}")
            status = EXIT_FINDINGS
        elif watched.breaches:
            print(f"{t.label}: run 0 (seed {fuzz.run_seed(t.scenario)}) breaks what must hold:")
            print("\n".join(f"  - {b.describe()}" for b in watched.breaches))
            status = EXIT_FINDINGS
        else:
            print(f"{t.label}: run 0 (seed {fuzz.run_seed(t.scenario)}) keeps every expectation and invariant")
    return status


def run(args) -> int:
    vary = parse_vary(args.vary)
    if args.examples < 1:
        raise UsageError(f"--examples {args.examples}: give 1 or more")
    src = load_yaml_file(args.scenario)
    for assignment in args.sets:
        apply_set(src, assignment)
    scenario = check_source(src)
    labels = [s.label for s in select_strategies(scenario, args.strategy)]
    fuzz = _load_search()
    tgts = fuzz.targets(source_document(src), scenario, labels, args.scenario)
    if args.replay:
        return replay(fuzz, tgts)
    if not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out}: no such directory")
    search = scenario.seed if args.seed is None else args.seed
    for t in tgts:
        with progress_bar(f"fuzz {scenario.name}: {t.label}") as advance:
            outcome = fuzz.fuzz(t, examples=args.examples, seed=search, vary=vary,
                                database=None if args.no_database else args.database, progress=advance)
        head = f"fuzz {scenario.name}: strategy {t.label}"
        if outcome.blocked:
            print(f"{head}: the upgrade cannot start, so there is nothing to fuzz: {outcome.blocked}")
            return EXIT_FINDINGS
        if outcome.found is None:
            skipped = f", {outcome.skipped} stopped by a blocking pre-check" if outcome.skipped else ""
            print(f"{head}: {outcome.tried} example(s) tried{skipped}; none broke an expectation or an invariant "
                  f"({outcome.seconds:.1f}s)")
            continue
        yaml_path, trace_path = fuzz.write_counterexample(outcome, t, args.out, search)
        print(f"{head}: a run breaks what must hold (found after {outcome.tried} example(s), shrunk in "
              f"{outcome.shrink_steps} step(s), {outcome.seconds:.1f}s):")
        print("\n".join(f"  - {b.describe()}" for b in outcome.found.breaches))
        print(f"counterexample: {yaml_path} (trace: {trace_path})")
        print(f"replay: midair fuzz {yaml_path} --replay")
        print(f"trace:  midair trace {yaml_path} --strategy {t.label} --events")
        return EXIT_FINDINGS
    return EXIT_OK
