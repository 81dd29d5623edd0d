"""``midair recommend``: search strategies and their knobs, and recommend the settings with the evidence.

The document (``-o json`` / ``-o yaml``; docs/output.md)::

    {"scenario", "from", "to", "root_seed", "budget", "runs",
     "ranges": [why each knob's range stops where it does],
     "steps": [{"step", "candidates", "runs"}],
     "blocked": [{"candidate", "reason"}],
     "recommended": {"strategy": {name, knobs...}, "label", "meets_expectations"} or null,
     "front": [label], "verdict": {... as results.json's verdict: ranking, objectives ...}}

Files in ``--out DIR`` (default reports/<scenario>-recommend-<timestamp>/): the report of a
sweep over the contenders (the verdict over every candidate, the search, the Pareto figure),
results.json (every run), and recommendation.yaml, the strategy entry to copy into the
scenario. Exit 0 when the recommendation meets every expectation; 1 when no candidate does
(the least harmful is still written, and says so); 2 for bad input.
"""

from __future__ import annotations

import json
import os
import sys

import yaml

from models.search import STRATEGIES
from sim import verdict as ranking
from sim.commands.common import add_set_option, add_timing_option, field_option
from sim.commands.run import results_json
from sim.commands.sweep import report_dir
from sim.comparison import value
from sim.errors import EXIT_FINDINGS, EXIT_OK, UsageError
from sim.progress import progress_bar
from sim.recommend import Search, front_means, search
from sim.render import Table, add_output_option, render
from sim.scenario.expect import objective_names
from sim.scenario.schema import suggest
from sim.sweep import executor_for

SHOWN = 6  # contenders the report compares side by side


def add_parser(sub) -> None:
    p = sub.add_parser("recommend", help="search strategies and their knobs and recommend the settings",
                       description="A coarse grid of strategies and knobs (ranges from the cluster), then the "
                                   "neighbours of the Pareto front, then more runs for the contenders, within "
                                   "--budget runs. Writes the report and recommendation.yaml into --out DIR.")
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument("--budget", type=int, default=200, metavar="N", help="runs to spend in all (default: 200)")
    p.add_argument("--objective", action="append", default=[], metavar="METRIC",
                   help="rank by these metrics, most important first (repeatable; default: the scenario's "
                        "objectives:)")
    p.add_argument("--strategy", action="append", choices=STRATEGIES, metavar="NAME",
                   help=f"search only these strategies ({', '.join(STRATEGIES)}; repeatable; default: all)")
    p.add_argument("--seed", type=int, metavar="S", help="root seed, 0 or more (default: the scenario's seed)")
    p.add_argument("--workers", type=int, metavar="N", help="processes (default: the number of cores)")
    p.add_argument("--executor", default="process", choices=("process", "serial", "dask"))
    p.add_argument("--scheduler", metavar="ADDR", help="the Dask scheduler's address (with --executor dask)")
    p.add_argument("--out", metavar="DIR", help="the report directory")
    p.add_argument("--resume", action="store_true", help="keep the runs already finished in --out DIR")
    add_set_option(p)
    add_timing_option(p)
    add_output_option(p, "the recommendation")
    p.set_defaults(run=run)


def _objectives(given: list[str]) -> list[str]:
    valid = objective_names()
    for name in given:
        if name not in valid:
            raise UsageError(f"--objective {name}: unknown metric; {suggest(name, valid)}valid: {', '.join(valid)}")
    twice = sorted({n for n in given if given.count(n) > 1})
    if twice:
        raise UsageError(f"--objective {twice[0]} is given twice; name each objective once, most important first")
    return given


def document(s: Search) -> dict:
    best = s.judgement.recommended or (s.judgement.entries[0] if s.judgement.entries else None)
    return {"scenario": s.scenario.name, "from": str(s.scenario.cluster.version), "to": str(s.scenario.target),
            "root_seed": s.seed, "budget": s.budget, "runs": len(s.rows), "ranges": list(s.ranges.why),
            "steps": [{"step": st.name, "candidates": len(st.candidates), "runs": st.runs} for st in s.steps],
            "blocked": [{"candidate": k, "reason": v} for k, v in s.blocked.items()],
            "recommended": None if best is None else {"strategy": s.candidates[best.label].entry(), "label": best.label,
                                                       "meets_expectations": best.standing.meets},
            "front": list(s.front), "verdict": ranking.to_json(s.judgement)}


def text(doc: dict) -> str:
    lines = [f"{doc['scenario']}: {doc['from']} → {doc['to']}: {doc['runs']} run(s) over "
             f"{len(doc['verdict']['ranking'])} candidate(s), root seed {doc['root_seed']}"]
    lines += [f"  {st['step']}: {st['candidates']} candidate(s), {st['runs']} run(s)" for st in doc["steps"]]
    lines += [f"  ranges: {why}" for why in doc["ranges"]]
    lines += [f"  not run: {b['candidate']}: {b['reason']}" for b in doc["blocked"]]
    rec = doc["recommended"]
    if rec is None:
        return "\n".join(lines + ["nothing to recommend: no candidate ran"]) + "\n"
    top = doc["verdict"]["ranking"][0]
    said = "recommended" if rec["meets_expectations"] else "no candidate meets every expectation; the least harmful"
    lines.append(f"{said}: {rec['label']} ({top['completed']} of {top['runs']} run(s) completed)")
    for name, st in top["objectives"].items():
        lines.append(f"  {name}: mean {value(name, st['mean'], True)} (95% interval {value(name, st['ci95'][0], True)} "
                     f"to {value(name, st['ci95'][1], True)})")
    lines.append("Pareto front (outage, duration, extra node-hours): " + "; ".join(doc["front"]))
    return "\n".join(lines) + "\n"


def tables(doc: dict) -> list[Table]:
    names = list(doc["verdict"]["objectives"])
    rows = [[str(k), e["strategy"], "yes" if e["meets_expectations"] else "no", f"{e['completed']}/{e['runs']}",
             *(e["objectives"][n]["mean"] for n in names)] for k, e in enumerate(doc["verdict"]["ranking"], 1)]
    return [Table.of("candidates", ["rank", "candidate", "meets expectations", "completed", *names], rows)]


def recommendation_yaml(s: Search, command: str) -> str:
    j = s.judgement
    best = j.recommended or j.entries[0]
    c = s.candidates[best.label]
    head = [f"# midair recommend, for {s.scenario.name} ({s.scenario.file}): {s.scenario.cluster.version} -> "
            f"{s.scenario.target}", f"# {command}",
            f"# {len(s.rows)} runs over {len(j.entries)} candidates, root seed {s.seed}."]
    if best.standing.meets:
        head.append(f"# {best.label} meets every expectation over its {best.runs} runs "
                    f"({'midair defaults' if j.defaults else 'the scenario expect:'}) and ranks first by "
                    f"{', '.join(j.objectives)}.")
    else:
        head.append(f"# NO candidate meets every expectation; {best.label} is the least harmful: "
                    f"{ranking.evidence(best)}.")
    head += [f"#   {o}: mean {best.objectives[o]['mean']:g}, 95% interval {best.objectives[o]['ci95'][0]:g} to "
             f"{best.objectives[o]['ci95'][1]:g}" for o in j.objectives]
    head.append("# Copy the entry below into the scenario's strategies: (the report: report.html).")
    body = yaml.safe_dump({"strategies": [{**c.entry(), "label": "recommended"}]}, sort_keys=False)
    return "\n".join(head) + "\n" + body


def _points(s: Search) -> list[dict]:
    best = s.judgement.recommended
    out = []
    for e in s.judgement.entries:
        means = front_means([r for r in s.rows if r.label == e.label], len(s.scenario.cluster.nodes))
        out.append({"label": e.label, "strategy": s.candidates[e.label].strategy, **means,
                    "meets": e.standing.meets, "front": e.label in s.front,
                    "recommended": best is not None and e.label == best.label})
    return out


def _search_section(s: Search):
    from sim.report.content import Section

    said = [f"{len(s.rows)} seeded runs (budget {s.budget}) over {len(s.candidates)} candidates; run i of every "
            f"candidate uses the same seed, so candidates meet the same luck."]
    said += [f"{st.name}: {len(st.candidates)} candidate(s), {st.runs} run(s)." for st in s.steps]
    said += [f"Range of {why}." for why in s.ranges.why]
    said += [f"Not run: {k}: {v}." for k, v in s.blocked.items()]
    said.append("On the Pareto front of outage, duration and extra node-hours, among the best-ranked: "
                + "; ".join(s.front) + ".")
    return Section("search", "The search", said)


def run(args) -> int:
    from sim.report import figures, write_report

    if args.seed is not None:
        field_option(args.seed, "seed", "--seed")
    if args.budget < 1:
        raise UsageError(f"--budget {args.budget}: give a number of runs, 1 or more")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be 1 or more")
    objectives = _objectives(args.objective)
    name = os.path.splitext(os.path.basename(args.scenario))[0]
    out, checkpoint = report_dir(args, "recommend")
    executor = executor_for(args.executor, args.workers, args.scheduler)
    try:
        with progress_bar(f"{name}: recommend, {args.budget} run(s)") as advance:
            found = search(args.scenario, args.sets, args.timing, args.budget, objectives,
                           args.strategy or STRATEGIES, args.seed, executor, checkpoint, advance)
    finally:
        if hasattr(executor, "close"):
            executor.close()
    doc = document(found)
    sys.stdout.write(render(doc, args.output, text, tables))
    if not found.judgement.entries:
        return EXIT_FINDINGS
    command = " ".join([args.prog, *getattr(args, "argv", [])])
    shown = list(dict.fromkeys([*(e.label for e in found.judgement.entries[:SHOWN - 1]), *found.front]))[:SHOWN]
    rows = [r for r in found.rows if r.label in shown]
    variant = found.variant
    results = json.loads(results_json(found.scenario, found.rows, found.seed, (), found.judgement))
    results["recommendation"] = {k: v for k, v in doc.items() if k != "verdict"}
    svg = figures.pareto(_points(found))
    write_report(out, found.scenario, [variant], rows, found.seed, json.dumps(results, indent=2) + "\n",
                 command=[args.prog, *getattr(args, "argv", [])],
                 extra_sections=[*ranking.sections(found.judgement), _search_section(found)],
                 extra_figures={"pareto": ("Every candidate at its means: outage against duration and against extra "
                                           "node-hours. Filled: meets every expectation; hollow: fails one; ringed: "
                                           "on the Pareto front; the star: the recommendation.", svg, "search")},
                 extra_files={"recommendation.yaml": recommendation_yaml(found, command)})
    os.unlink(checkpoint)
    print(f"report: {os.path.join(out, 'report.html')}; to copy: {os.path.join(out, 'recommendation.yaml')}",
          file=sys.stderr)
    return EXIT_OK if found.judgement.recommended else EXIT_FINDINGS
