"""``midair fuzz``: search for a run of bad luck that breaks an expectation or an invariant.

The search itself is ``sim.fuzz`` (it needs Hypothesis, the ``testing`` extra, and is
imported only when the command runs). The document (``-o json`` / ``-o yaml``; docs/output.md)::

    {"scenario", "file", "replay", "search_seed", "examples", "vary": [...],
     "strategies": [{"strategy", "run_seed", "tried", "skipped", "shrink_steps", "blocked",
                     "broke": [{"invariant", "reason", "at", "times", "last"}], "counterexample", "trace"}]}

One entry per strategy searched, in order, up to the first that breaks something (whose
``counterexample`` and ``trace`` name the files written, and ``run_seed`` the run that
breaks) or cannot start (``blocked``: why). With ``--replay``, one entry per strategy of
the file, each its run 0 (``tried`` 1).
"""

from __future__ import annotations

import os
import sys

from sim.commands.common import add_set_option, add_timing_option
from sim.commands.run import select_strategies
from sim.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from sim.progress import progress_bar
from sim.render import Table, add_output_option, render
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
    add_timing_option(p)
    add_output_option(p, "what was found")
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


def _replay(fuzz, t) -> dict:
    watched = fuzz.check(t.doc, t.file)
    return {"strategy": t.label, "run_seed": fuzz.run_seed(t.scenario), "tried": 1, "skipped": 0, "shrink_steps": 0,
            "blocked": None if watched.started else watched.result.halted,
            "broke": [b.to_json() for b in watched.breaches] if watched.started else [],
            "counterexample": None, "trace": None}


def _search(fuzz, t, args, vary, search) -> dict:
    with progress_bar(f"fuzz {t.scenario.name}: {t.label}") as advance:
        outcome = fuzz.fuzz(t, examples=args.examples, seed=search, vary=vary,
                            database=None if args.no_database else args.database, progress=advance)
    entry = {"strategy": t.label, "run_seed": None, "tried": outcome.tried, "skipped": outcome.skipped,
             "shrink_steps": outcome.shrink_steps, "blocked": outcome.blocked, "broke": [],
             "counterexample": None, "trace": None}
    if outcome.found is not None:
        entry["counterexample"], entry["trace"] = fuzz.write_counterexample(outcome, t, args.out, search)
        entry["run_seed"] = fuzz.run_seed(fuzz.load(outcome.found.doc, t.file))
        entry["broke"] = [b.to_json() for b in outcome.found.breaches]
    return entry


def _breach(b: dict) -> str:
    when = f" at {b['at']:.1f}s" if b["at"] is not None else ""
    if b["times"] > 1:
        when += f" ({b['times']} times" + (f", the last at {b['last']:.1f}s)" if b["last"] is not None else ")")
    return f"  - {b['invariant']}{when}: {b['reason']}"


def text(doc: dict) -> str:
    lines = []
    for e in doc["strategies"]:
        head = f"fuzz {doc['scenario']}: strategy {e['strategy']}"
        if doc["replay"]:
            head = f"{e['strategy']}: run 0 (seed {e['run_seed']})"
        if e["blocked"]:
            lines.append(f"{head}: the upgrade cannot start" + ("" if doc["replay"] else ", so there is nothing to fuzz")
                         + f": {e['blocked']}")
        elif doc["replay"]:
            lines += ([f"{head} breaks what must hold:", *map(_breach, e["broke"])] if e["broke"]
                      else [f"{head} keeps every expectation and invariant"])
        elif not e["broke"]:
            skipped = f", {e['skipped']} stopped by a blocking pre-check" if e["skipped"] else ""
            lines.append(f"{head}: {e['tried']} example(s) tried{skipped}; none broke an expectation or an invariant")
        else:
            lines += [f"{head}: a run breaks what must hold (found after {e['tried']} example(s), shrunk in "
                      f"{e['shrink_steps']} step(s)):", *map(_breach, e["broke"]),
                      f"counterexample: {e['counterexample']} (trace: {e['trace']})",
                      f"replay: midair fuzz {e['counterexample']} --replay",
                      f"trace:  midair trace {e['counterexample']} --strategy {e['strategy']} --events"]
    return "\n".join(lines) + "\n"


def tables(doc: dict) -> list[Table]:
    out = [Table.of("Strategies", ("strategy", "examples tried", "skipped", "broke", "counterexample"),
                    [[e["strategy"], e["tried"], e["skipped"], len(e["broke"]), e["counterexample"]]
                     for e in doc["strategies"]])]
    broke = [[e["strategy"], b["invariant"], b["at"], b["times"], b["reason"]] for e in doc["strategies"]
             for b in e["broke"]]
    if broke:
        out.append(Table.of("What broke", ("strategy", "invariant", "at", "times", "reason"), broke))
    return out


def run(args) -> int:
    vary = parse_vary(args.vary)
    if args.examples < 1:
        raise UsageError(f"--examples {args.examples}: give 1 or more")
    src = load_yaml_file(args.scenario)
    for assignment in args.sets:
        apply_set(src, assignment)
    scenario = check_source(src, args.timing)
    specs = select_strategies(scenario, args.strategy)
    fuzz = _load_search()
    tgts = fuzz.targets(source_document(src), scenario, specs, args.scenario)
    if not args.replay and not os.path.isdir(args.out):
        raise UsageError(f"--out {args.out}: no such directory")
    search = scenario.seed if args.seed is None else args.seed
    doc = {"scenario": scenario.name, "file": args.scenario, "replay": args.replay,
           "search_seed": None if args.replay else search, "examples": None if args.replay else args.examples,
           "vary": [] if args.replay else list(vary), "strategies": []}
    for t in tgts:
        entry = _replay(fuzz, t) if args.replay else _search(fuzz, t, args, vary, search)
        doc["strategies"].append(entry)
        if not args.replay and (entry["blocked"] or entry["broke"]):
            break  # the first strategy that breaks something (or cannot start) ends the search
    sys.stdout.write(render(doc, args.output, text, tables))
    return EXIT_FINDINGS if any(e["blocked"] or e["broke"] for e in doc["strategies"]) else EXIT_OK
