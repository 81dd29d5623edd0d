"""Service-level expectations over an upgrade's runs, and whether they hold: pure.

A scenario's ``expect:`` entries become ``Expectation`` records (``sim.scenario.expect``
checks them on load). ``evaluate`` measures each one over the runs of one strategy, given
as the results JSON holds a run (``{"metrics": {...}, "workloads": {KEY: {...}}}``), and
says whether it holds. Which metrics exist is the simulator's business (``sim.metrics``);
what *kind* each one is, and so which bounds it takes and how its values read, is decided
here and only here:

- a **rate** (``completed``, ``halted``): a run's outcome; over runs, the share of runs it
  holds for, bounded by ``atLeast`` or ``atMost`` (``"99%"``);
- **seconds** (a name ending in ``_s``), **hours** (``_hours``) and **counts** (the rest):
  a number per run, bounded by its ``max``, ``p95``, ``p50`` or ``mean`` over runs.

May import the standard library and ``models``; never ``sim``.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from models.percentiles import percentile
from models.quantity import format_duration

SECONDS, HOURS, COUNT, RATE = "seconds", "hours", "count", "rate"
RATE_METRICS = ("completed", "halted")  # a run's outcome (true / a halt reason); over runs, a share
STATISTICS = ("max", "p95", "p50", "mean")  # upper bounds on a number's statistic over runs
RATE_BOUNDS = ("atLeast", "atMost")  # lower and upper bounds on a share of runs
BOUNDS = STATISTICS + RATE_BOUNDS
_QUANTILES = {"p95": 0.95, "p50": 0.5}


def metric_kind(metric: str) -> str:
    """``rate``, ``seconds``, ``hours`` or ``count``: how ``metric`` reads and what bounds it takes."""
    if metric in RATE_METRICS:
        return RATE
    if metric.endswith("_s"):
        return SECONDS
    if metric.endswith("_hours"):
        return HOURS
    return COUNT


def bounds_for(metric: str) -> tuple[str, ...]:
    """The bounds an expectation on ``metric`` may give."""
    return RATE_BOUNDS if metric_kind(metric) == RATE else STATISTICS


def shown(kind: str, value: float) -> str:
    """A value of a metric of ``kind`` as the tables show it: ``37.2s``, ``0.7h``, ``3``, ``95%``."""
    if math.isnan(value):
        return "n/a"
    if kind == RATE:
        return f"{round(value * 100, 2):g}%"
    unit = {SECONDS: "s", HOURS: "h"}.get(kind, "")
    return f"{round(value, 3):g}{unit}"


@dataclass(frozen=True)
class Expectation:
    """A bound on a metric over all runs of a strategy, e.g. ``outage_s`` of ``default/checkout``: ``max`` 0.

    ``limit`` is in the metric's unit (seconds, hours, a count) or, for a rate, a share
    from 0 to 1. ``workload`` (``namespace/name``) picks a workload's part of a metric
    that has a per-workload breakdown.
    """

    metric: str
    bound: str
    limit: float
    workload: str | None = None

    @property
    def kind(self) -> str:
        return metric_kind(self.metric)

    @property
    def subject(self) -> str:
        return f"{self.metric} of {self.workload}" if self.workload else self.metric

    def describe(self) -> str:
        """As the file says it: ``outage_s of default/checkout: max 0s``, ``completed: atLeast 99%``."""
        limit = format_duration(self.limit) if self.kind == SECONDS else shown(self.kind, self.limit)
        return f"{self.subject}: {self.bound} {limit}"

    def to_json(self) -> dict:
        return {"metric": self.metric, "workload": self.workload, "bound": self.bound, "limit": self.limit}


@dataclass(frozen=True)
class Verdict:
    """An expectation measured over the runs of one strategy (``strategy`` is its label)."""

    expectation: Expectation
    strategy: str
    value: float
    runs: int

    @property
    def passed(self) -> bool:
        return holds(self.expectation, self.value)

    @property
    def shown_value(self) -> str:
        return shown(self.expectation.kind, self.value)

    def describe(self) -> str:
        """``replace: outage_s of default/db: max 0s: measured 367.8s, FAIL``."""
        return (f"{self.strategy}: {self.expectation.describe()}: measured {self.shown_value}, "
                f"{'PASS' if self.passed else 'FAIL'}")

    def to_json(self) -> dict:
        return {"strategy": self.strategy, "expectation": self.expectation.describe(), **self.expectation.to_json(),
                "value": self.value, "runs": self.runs, "passed": self.passed}


def _run_value(exp: Expectation, run: Mapping) -> float:
    if exp.kind == RATE:
        return 1.0 if run["metrics"].get(exp.metric) else 0.0
    if exp.workload is not None:
        # a run that never started (a blocking pre-check) has no per-workload part: nothing happened to it
        return float(run.get("workloads", {}).get(exp.workload, {}).get(exp.metric, 0.0))
    return float(run["metrics"][exp.metric])


def measure(exp: Expectation, runs: Sequence[Mapping]) -> float:
    """What ``exp`` bounds, over ``runs``: a share of runs for a rate, else its statistic, rounded
    as the summary tables round (to 3 decimals)."""
    if not runs:
        raise ValueError(f"{exp.describe()}: there are no runs to measure it over")
    values = [_run_value(exp, r) for r in runs]
    if exp.kind == RATE:
        return sum(values) / len(values)
    if exp.bound == "max":
        value = max(values)
    elif exp.bound == "mean":
        value = statistics.fmean(values)
    else:
        value = percentile(values, _QUANTILES[exp.bound])
    return round(value, 3)


def holds(exp: Expectation, value: float) -> bool:
    if exp.bound == "atLeast":
        return value >= exp.limit
    return value <= exp.limit


def evaluate(expectations: Sequence[Expectation], strategy: str, runs: Sequence[Mapping]) -> tuple[Verdict, ...]:
    """Every expectation measured over the ``runs`` of ``strategy``, in the order given."""
    return tuple(Verdict(e, strategy, measure(e, runs), len(runs)) for e in expectations)
