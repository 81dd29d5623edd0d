"""The verdict over a sweep: which strategies meet every expectation, ranked by the objectives, with evidence.

``judge`` measures each strategy's runs against the scenario's ``expect:`` entries (or,
without any, midair's defaults: no API downtime, no budget violation, at least 95% of
runs complete), summarises each objective of the scenario's ``objectives:`` (metrics, and the
derived ``pods_disrupted`` and ``extra_node_hours``) and ranks the strategies with
``models.ranking``: expectations first, then the share of runs that completed, then the
objectives in order, ties where the 95% intervals overlap. The rest says it: the sections
at the top of the report (``sections``), its JSON (``to_json``), and the words for the
evidence and the trade-off of each strategy. ``midair recommend`` ranks its candidates
with the same ``judge``.

May import ``sim`` (not matplotlib) and ``models``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from models.expectations import Expectation, Verdict, evaluate
from models.ranking import DERIVED, Standing, contrast, deciding, derived, rank, standing
from sim.comparison import value
from sim.render import Table
from sim.stats import summarize
from sim.sweep import Row, halt_kind, rolled_back, stop_phrase

# Without expect:, a strategy is expected to keep the API up, never to break a budget, and to complete at least
# 95% of its runs: under the scenario's injected faults a rare run halts because the strategy stopped safely (a
# node that failed its upgrade three times), and a bar of 100% would fail whichever strategy was run most.
DEFAULT_EXPECTATIONS = (Expectation("api_downtime_s", "max", 0.0), Expectation("pdb_violations", "max", 0.0),
                        Expectation("completed", "atLeast", 0.95))


@dataclass(frozen=True)
class Entry:
    """One strategy (or grid variant) with what ranks it."""

    label: str
    standing: Standing
    verdicts: tuple[Verdict, ...]
    objectives: Mapping[str, Mapping]  # objective -> its statistics over the runs (sim.stats.summarize)
    runs: int
    completed: int
    stops: Mapping[str, int]  # halt reason (alike ones grouped) -> runs

    @property
    def failed(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.passed]

    @property
    def rolled_back(self) -> int:
        return sum(n for reason, n in self.stops.items() if rolled_back(reason))


@dataclass(frozen=True)
class Judgement:
    entries: tuple[Entry, ...]  # ranked, best first
    objectives: tuple[str, ...]
    defaults: bool  # midair's default expectations stood in for a scenario without expect:

    @property
    def recommended(self) -> Entry | None:
        """The first-ranked strategy, if it meets every expectation."""
        return self.entries[0] if self.entries and self.entries[0].standing.meets else None


def objective_values(run: Mapping, baseline_nodes: int) -> dict[str, float]:
    """Every numeric metric of a run, and the derived objectives."""
    metrics = run["metrics"]
    out = {k: float(v) for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    out.update(derived(metrics, baseline_nodes))
    return out


def judge(variants_, rows: Sequence[Row], objectives: Sequence[str] | None = None,
          expectations: Sequence[Expectation] | None = None) -> Judgement:
    """Rank the strategies of a finished sweep. ``objectives`` and ``expectations`` default to the
    scenario's (its ``objectives:``; its ``expect:``, else midair's defaults)."""
    scenarios = {v.name: v.scenario for v in variants_}
    base = variants_[0].scenario
    objectives = tuple(objectives or base.objectives)
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r.label, []).append(r)
    defaults = expectations is None and not any(s.expectations for s in scenarios.values())
    entries = []
    for label, group in groups.items():
        scenario = scenarios[group[0].job.variant]
        wanted = tuple(expectations) if expectations is not None else (scenario.expectations or DEFAULT_EXPECTATIONS)
        runs = [r.data for r in group]
        verdicts = evaluate(wanted, label, runs)
        nodes = len(scenario.cluster.nodes)
        values = [objective_values(run, nodes) for run in runs]
        stats = {o: summarize([v[o] for v in values]) for o in objectives}
        stops: dict[str, int] = {}
        for kind in (halt_kind(run["halted"]) for run in runs if run["halted"]):
            stops[kind] = stops.get(kind, 0) + 1
        completed = sum(1 for run in runs if run["completed"])
        meets = all(v.passed for v in verdicts)
        st = standing(label, {"completed": completed / len(runs), "metrics": stats}, meets, objectives)
        entries.append(Entry(label, st, verdicts, stats, len(runs), completed, dict(sorted(stops.items()))))
    order = {e.standing: e for e in entries}
    return Judgement(tuple(order[s] for s in rank([e.standing for e in entries])), objectives, defaults)


def _shown(objective: str, stats: Mapping) -> str:
    lo, hi = stats["ci95"]
    return f"{value(objective, stats['mean'], human=True)} [{value(objective, lo, True)}, {value(objective, hi, True)}]"


def _objective_name(objective: str) -> str:
    return objective.removesuffix("_s").replace("_", " ")


def evidence(entry: Entry) -> str:
    """How its runs went: completions, what stopped the others, the expectations it failed."""
    parts = [f"{entry.completed} of {entry.runs} run(s) completed"]
    for reason, n in entry.stops.items():
        how, why = stop_phrase(reason)
        parts.append(f"{n} {how}: {why}")
    for v in entry.failed:
        parts.append(f"fails {v.expectation.describe()} (measured {v.shown_value})")
    return "; ".join(parts)


def tradeoff(entry: Entry, against: Entry | None, objectives: Sequence[str]) -> str:
    """One sentence: what this strategy buys and what it costs against ``against`` (the first-ranked,
    or for the first-ranked, the runner-up)."""
    if against is None:
        return "It is the only strategy compared."
    gains, costs = contrast(entry.standing, against.standing, objectives)

    def said(names: list[str]) -> str:
        return ", ".join(f"{_objective_name(o)} ({value(o, entry.objectives[o]['mean'], True)} against "
                         f"{value(o, against.objectives[o]['mean'], True)})" for o in names)

    if gains and costs:
        return f"Against {against.label} it has less {said(gains)} but more {said(costs)}."
    if gains:
        return f"Against {against.label} it has less {said(gains)}, and no objective where it is clearly worse."
    if costs:
        return f"Against {against.label} it has more {said(costs)}, and no objective where it is clearly better."
    return (f"The runs cannot tell it from {against.label} on any objective (every 95% interval overlaps); "
            "more runs (--runs) would.")


def headline(j: Judgement) -> str:
    """The first sentence of the verdict."""
    if not j.entries:
        return "No run finished, so there is nothing to recommend."
    what = ("midair's default expectations (no API downtime, no budget violation, at least 95% of runs complete; "
            "the scenario has no expect:)" if j.defaults else "every expectation of the scenario's expect:")
    best = j.recommended
    if best is None:
        return (f"No strategy meets {what}. The least harmful is {j.entries[0].label}, ranked below by the share "
                f"of runs that completed, then by {', '.join(j.objectives)}.")
    meeting = [e.label for e in j.entries if e.standing.meets]
    why = (f"; it ranks above {j.entries[1].label} because {deciding(best.standing, j.entries[1].standing, j.objectives)}"
           if len(j.entries) > 1 else "")
    if len(meeting) == 1 and len(j.entries) > 1:
        return f"Recommended: {best.label}, the only strategy that meets {what}{why}."
    among = f"; {len(meeting)} of {len(j.entries)} strategies meet them" if len(meeting) > 1 else ""
    return f"Recommended: {best.label}. It meets {what}{among}, and ranks first by {', '.join(j.objectives)}{why}."


def table(j: Judgement) -> Table:
    header = ["rank", "strategy", "expectations", "completed", *(_objective_name(o) for o in j.objectives)]
    rows = []
    for k, e in enumerate(j.entries, 1):
        if e.standing.meets:
            expected = "all met"
        else:
            expected = f"{len(e.failed)} of {len(e.verdicts)} failed"
        done = f"{e.completed}/{e.runs}" + (f" ({e.rolled_back} rolled back)" if e.rolled_back else "")
        rows.append([str(k), e.label, expected, done, *(_shown(o, e.objectives[o]) for o in j.objectives)])
    return Table.of("Verdict", header, rows)


def paragraphs(j: Judgement) -> list[str]:
    out = [headline(j)]
    if not j.entries:
        return out
    out.append("Objectives, most important first: " + ", ".join(
        f"{o} ({DERIVED[o]})" if o in DERIVED else o for o in j.objectives)
        + ". Cells: the mean over the runs [its 95% interval]; two strategies tie on an objective where the "
          "intervals overlap, and the next objective decides. A strategy whose runs halted or rolled back never "
          "ranks above one whose runs completed.")
    first = j.entries[0]
    for k, e in enumerate(j.entries, 1):
        against = (j.entries[1] if len(j.entries) > 1 else None) if e is first else first
        halted_note = (" Its runs that stopped rank it below every strategy with a larger share of completed runs."
                       if any(o.standing.completed > e.standing.completed for o in j.entries) else "")
        out.append(f"{k}. {e.label}: {evidence(e)}. {tradeoff(e, against, j.objectives)}{halted_note}")
    return out


def sections(j: Judgement) -> list:
    """The report's first sections: the verdict with its table, then each strategy's evidence and trade-off."""
    from sim.report.content import Section  # the report's module: loaded with it

    said = paragraphs(j)
    out = [Section("verdict", "Verdict", said[:2], [table(j)] if j.entries else [], css="verdict")]
    if j.entries:
        out.append(Section("evidence", "Evidence and trade-offs", said[2:]))
    return out


def to_json(j: Judgement) -> dict:
    return {"recommended": j.recommended.label if j.recommended else None,
            "objectives": list(j.objectives),
            "default_expectations": j.defaults,
            "ranking": [{"strategy": e.label, "meets_expectations": e.standing.meets,
                         "runs": e.runs, "completed": e.completed, "stops": dict(e.stops),
                         "failed": [v.to_json() for v in e.failed],
                         "objectives": {o: {"mean": e.objectives[o]["mean"], "ci95": e.objectives[o]["ci95"]}
                                        for o in j.objectives}} for e in j.entries]}
