"""One run watched for what must never happen (``models.invariants``) and for the scenario's
expectations, measured on that run alone.

``WatchedPort`` sits between the reconcile loop and the simulated cluster: it remembers
the view each decision was made on and notes every submitted action that repeats work
already done there. ``watch_run`` simulates with it and gathers the rest of the facts:
the world's skew violations, the skew policy's refusals in the journal, budget breaches,
how the run ended and which nodes it left cordoned.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass

from models.expectations import evaluate
from models.invariants import (
    Breach,
    budget_breaches,
    ending_breaches,
    forces_past_budgets,
    merged,
    repeated,
    skew_breaches,
)
from models.sorting import natural_key
from sim.runner import STOPPED_WITH_WORK_LEFT
from sim.scenario.model import Scenario, StrategySpec
from sim.simulate import RunResult, simulate


class WatchedPort:
    """A ``ClusterPort`` that passes everything through to ``port`` and notes repeated actions."""

    def __init__(self, port):
        self.port = port
        self.world = port.world
        self.view = None
        self.decision: list = []  # actions submitted since the last observe()
        self.repeats: list[Breach] = []

    def observe(self):
        self.view = self.port.observe()
        self.decision = []
        return self.view

    def submit(self, action):
        why = repeated(action, self.view, self.decision) if self.view is not None else None
        if why:
            self.repeats.append(Breach("repeat", f"{action.describe()} applied again: {why}", self.port.now()))
        self.decision.append(action)
        return self.port.submit(action)

    def now(self) -> float:
        return self.port.now()

    def changed(self):
        return self.port.changed()

    def drive(self, loop):
        return self.port.drive(loop)


@dataclass(frozen=True)
class WatchedRun:
    result: RunResult | None  # None when the run raised
    breaches: tuple[Breach, ...]
    started: bool  # False when a blocking pre-check (or no plan) stopped it before its first decision


def _error(exc: BaseException) -> Breach:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" (at {frame.filename}:{frame.lineno}, in {frame.name})" if frame else ""
    return Breach("error", f"the run raised {type(exc).__name__}: {exc}{where}")


def _refused_by_skew(log) -> list[tuple[float, str, str]]:
    return [(e.t, e.action, e.detail.partition(": ")[2]) for e in log
            if e.kind == "refused" and e.detail.startswith("skew: ")]


def watch_run(scenario: Scenario, spec: StrategySpec, seed: int) -> WatchedRun:
    """Simulate run ``seed`` of ``spec`` on ``scenario`` and judge it: the invariants, and each
    expectation measured on this one run (``max``, ``p95``, ... of one value is that value; a
    rate is 1 or 0)."""
    ports: list[WatchedPort] = []

    def wrap(port):
        ports.append(WatchedPort(port))
        return ports[-1]

    try:
        result = simulate(scenario, spec, seed, wrap_port=wrap)
    except Exception as exc:  # a strategy that raises is a finding, not the end of the search
        return WatchedRun(None, (_error(exc),), bool(ports))
    verdicts = evaluate(scenario.expectations, spec.label, [result.to_json()])
    breaches = [Breach("expectation", f"{v.expectation.describe()}: this run measured {v.shown_value}")
                for v in verdicts if not v.passed]
    if not ports:
        return WatchedRun(result, tuple(breaches), False)
    world = ports[0].world
    held = {n.name for n in scenario.cluster.nodes if not n.schedulable}
    cordoned = sorted((n.name for n in world.nodes.values() if not n.schedulable and n.name not in held), key=natural_key)
    breaches += budget_breaches(result.metrics["pdb_violations"], forces_past_budgets(spec.kwargs()))
    breaches += skew_breaches(world.rec.skew, _refused_by_skew(result.log))
    breaches += ports[0].repeats
    breaches += ending_breaches(result.completed, result.halted,
                                (result.halted or "").startswith(STOPPED_WITH_WORK_LEFT), cordoned,
                                result.metrics["duration_s"])
    return WatchedRun(result, tuple(merged(breaches)), True)
