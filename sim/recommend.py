"""``midair recommend``'s search: strategies and their knobs over seeded runs, on a budget of runs.

``search`` follows the adaptive design of ``models.search`` (a coarse grid, the neighbours
of the Pareto front, then more runs for the contenders) and ranks every candidate with the
report's verdict (``sim.verdict.judge``). Run *i* of every candidate uses the seed derived
from the root seed and *i*, as a sweep's do, and every choice of what to run next is a pure
function of the runs so far: the same scenario, seed and budget give the same candidates,
runs and recommendation on any executor. Finished runs go to a checkpoint, so an
interrupted search resumes where it stopped.

May import ``sim`` (not matplotlib) and ``models``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from models.prechecks import blocking
from models.ranking import pareto_front
from models.search import FRONT_AXES, STRATEGIES, Candidate, Ranges, coarse, ranges, refine, runs_each
from sim.errors import UsageError
from sim.prechecks import findings_for
from sim.sampling import derive_seed
from sim.scenario import load_scenario
from sim.stats import summarize
from sim.sweep import Job, Row, Variant, inputs_digest, run_sweep
from sim.verdict import Judgement, judge, objective_values

LEAST_BUDGET_PER_CANDIDATE = 2


@dataclass
class Step:
    name: str
    candidates: list[str]
    runs: int  # runs spent in this step


@dataclass
class Search:
    """A finished search: every candidate, its runs, the ranking and the front."""

    scenario: object  # the scenario as written (its own strategies are not searched)
    ranges: Ranges
    candidates: dict[str, Candidate]  # label -> candidate, in the order tried
    rows: list[Row]
    judgement: Judgement
    front: list[str]
    steps: list[Step] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)  # label -> why it could not run
    seed: int = 0
    budget: int = 0

    @property
    def variant(self) -> Variant:
        return Variant("", (), self.scenario)



def front_means(rows: Sequence[Row], nodes: int) -> dict[str, float]:
    """The means of the front's axes (outage, duration, extra node-hours) over a candidate's runs."""
    values = [objective_values(r.data, nodes) for r in rows]
    return {a: summarize([v[a] for v in values])["mean"] for a in FRONT_AXES}


def _specs(path: str, sets: Sequence[str], timing: str | None, candidates: Sequence[Candidate]):
    """The scenario with the candidates as its strategies, each labelled as the search names it; checked
    as a scenario file's strategies are."""
    entries = [{**c.entry(), "label": c.label} for c in candidates]
    scenario = load_scenario(path, [*sets, ("recommend", "strategies=" + json.dumps(entries))], timing)
    return scenario, {s.label: s for s in scenario.strategies}


def _front(j: Judgement, means: Callable[[str], dict]) -> list[str]:
    """The Pareto front of outage, duration and extra node-hours among the candidates the ranking puts
    first: those meeting every expectation, else those with the largest share of completed runs."""
    if not j.entries:
        return []
    best = j.entries[0].standing
    pool = [e.label for e in j.entries
            if (e.standing.meets if best.meets else e.standing.completed == best.completed)]
    return pareto_front([(label, tuple(means(label)[a] for a in FRONT_AXES)) for label in pool])


def search(path: str, sets: Sequence[str] = (), timing: str | None = None, budget: int = 200,
           objectives: Sequence[str] | None = None, strategies: Sequence[str] = STRATEGIES,
           seed: int | None = None, executor=None, checkpoint: str | None = None,
           progress: Callable[..., None] | None = None) -> Search:
    base = load_scenario(path, sets, timing)
    root = base.seed if seed is None else seed
    r = ranges(base.cluster)
    first = coarse(r, strategies)
    if budget < LEAST_BUDGET_PER_CANDIDATE * len(first):
        raise UsageError(f"--budget {budget}: the coarse grid has {len(first)} candidates for this cluster and needs "
                         f"at least {LEAST_BUDGET_PER_CANDIDATE * len(first)} runs (2 each); valid: --budget "
                         f"{LEAST_BUDGET_PER_CANDIDATE * len(first)} or more, or fewer strategies (--strategy)")
    state = _State(path, list(sets), timing, root, executor, checkpoint, progress, budget)
    objectives = tuple(objectives or base.objectives)

    state.add("coarse grid", first, runs_each(budget, len(first), share=0.4))
    j = state.judge(objectives)
    front = _front(j, state.means)
    near = refine([state.candidates[f] for f in front], list(state.candidates.values()), r)
    if near:  # at most a quarter of the budget, and never more than is left
        each = runs_each(budget, len(near), share=0.2)
        near = near[: min(budget // 4, budget - state.spent) // each]
    if near:
        state.add("neighbours of the front", near, each)
        j = state.judge(objectives)
        front = _front(j, state.means)
    rounds = 0
    while state.spent < budget and j.entries:
        top = [e.label for e in j.entries[:3]]
        contenders = list(dict.fromkeys([*top, *front]))
        left = budget - state.spent
        per = min(runs_each(budget, len(contenders), share=0.15), left // len(contenders))
        if per == 0:
            contenders, per = contenders[:left], 1
        rounds += 1
        state.add(f"more runs for the contenders (round {rounds})", [state.candidates[c] for c in contenders], per)
        j = state.judge(objectives)
        front = _front(j, state.means)
    return Search(base, r, state.candidates, state.all_rows(), j, front, state.steps, state.blocked, root, budget)


class _State:
    """The runs so far, per candidate; adding runs to candidates runs them (the checkpoint first)."""

    def __init__(self, path, sets, timing, root, executor, checkpoint, progress, budget):
        self.path, self.sets, self.timing, self.root = path, sets, timing, root
        self.executor, self.checkpoint, self.progress, self.budget = executor, checkpoint, progress, budget
        self.candidates: dict[str, Candidate] = {}
        self.specs: dict[str, object] = {}
        self.rows: dict[str, list[Row]] = {}
        self.blocked: dict[str, str] = {}
        self.steps: list[Step] = []
        self.scenario = None
        self.spent = 0

    def add(self, name: str, candidates: Sequence[Candidate], runs: int) -> None:
        fresh = [c for c in candidates if c.label not in self.candidates and c.label not in self.blocked]
        if fresh:
            scenario, specs = _specs(self.path, self.sets, self.timing, fresh)
            self.scenario = self.scenario or scenario
            for c in fresh:
                spec = specs[c.label]
                blocks = blocking(findings_for(scenario, spec)) if scenario.prechecks == "enforce" else []
                if blocks:
                    self.blocked[c.label] = f"blocked by {blocks[0].id}: {blocks[0].reason}"
                    continue
                self.candidates[c.label], self.specs[c.label], self.rows[c.label] = c, spec, []
        todo = [c for c in candidates if c.label in self.candidates]
        work = []
        for c in todo:
            have = len(self.rows[c.label])
            digest = inputs_digest(self.scenario, self.specs[c.label])
            for i in range(have, have + runs):
                work.append(Job(len(work), "", self.specs[c.label], i, derive_seed(self.root, "run", i), digest))
        done_before = self.spent
        for row in run_sweep([Variant("", (), self.scenario)], work, self.executor, self.checkpoint,
                             progress=lambda done, total: self.progress and self.progress(done_before + done,
                                                                                           self.budget),
                             root_seed=self.root):
            self.rows[row.label].append(row)
        self.spent += len(work)
        self.steps.append(Step(name, [c.label for c in todo], len(work)))

    def all_rows(self) -> list[Row]:
        return [r for label in self.candidates for r in self.rows[label]]

    def judge(self, objectives) -> Judgement:
        return judge([Variant("", (), self.scenario)], self.all_rows(), objectives)

    def means(self, label: str) -> dict[str, float]:
        return front_means(self.rows[label], len(self.scenario.cluster.nodes))
