"""Many runs: strategies × runs of one scenario, with per-run seeds derived from the root seed.

Run i of every strategy uses the same seed (common random numbers), so strategies
meet the same luck. The results are identical whatever executes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sim.metrics import METRIC_NAMES
from sim.sampling import derive_seed
from sim.scenario.model import Scenario, StrategySpec
from sim.simulate import RunResult, simulate
from sim.stats import summarize

NUMERIC = tuple(m for m in METRIC_NAMES if m not in ("completed", "halted"))


@dataclass(frozen=True)
class Job:
    index: int
    strategy: StrategySpec
    seed: int


def jobs(scenario: Scenario, strategies: Iterable[StrategySpec], runs: int, root_seed: int) -> list[Job]:
    out = []
    for spec in strategies:
        for i in range(runs):
            out.append(Job(len(out), spec, derive_seed(root_seed, "run", i)))
    return out


def run_serial(scenario: Scenario, work: list[Job], progress: Callable[[int, int], None] | None = None) -> list[RunResult]:
    results = []
    for k, job in enumerate(work):
        results.append(simulate(scenario, job.strategy, job.seed))
        if progress:
            progress(k + 1, len(work))
    return results


def summary(results: list[RunResult]) -> dict[str, dict]:
    """Per strategy label: statistics of every numeric metric, and how runs ended."""
    by_label: dict[str, list[RunResult]] = {}
    for r in results:
        by_label.setdefault(r.strategy, []).append(r)
    out = {}
    for label, runs in by_label.items():
        halts: dict[str, int] = {}
        for r in runs:
            if r.halted:
                halts[r.halted] = halts.get(r.halted, 0) + 1
        out[label] = {
            "runs": len(runs),
            "completed": sum(1 for r in runs if r.completed) / len(runs),
            "halted": dict(sorted(halts.items())),
            "metrics": {m: summarize([float(r.metrics[m]) for r in runs]) for m in NUMERIC},
        }
    return out
