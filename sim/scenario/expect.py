"""Checking a scenario's ``expect:`` entries and building them into ``Expectation`` records.

Which metrics exist comes from the simulator's own list (``sim.metrics.METRIC_NAMES``), and
which of them have a per-workload part from what the recorder reports per workload; what
kind each metric is, and so which bounds it takes, from ``models.expectations``. None of
the three is restated here, so a new metric is expectable the day it is recorded.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from models.expectations import BOUNDS, COUNT, HOURS, RATE, RATE_METRICS, SECONDS, Expectation, bounds_for, metric_kind
from models.quantity import parse_duration
from models.ranking import DERIVED
from models.state import ClusterState
from sim.metrics import METRIC_NAMES, Recorder
from sim.scenario.schema import Checker, broken, suggest
from sim.scenario.source import Path

_READS = {SECONDS: "a duration in seconds", HOURS: "a number of hours", COUNT: "a count"}


@lru_cache(maxsize=1)
def per_workload_metrics() -> tuple[str, ...]:
    """The metrics a run reports per workload: the keys of the recorder's per-workload report
    (``RunResult.workloads``, ``workloads`` in the results JSON)."""
    rec = Recorder(0, keep_series=False)
    rec.track("probe", ready=0, desired=0, degraded=False)
    return tuple(rec.per_workload()["probe"])


def _limit(raw: Any, metric: str, path: Path, ck: Checker) -> float | None:
    kind = metric_kind(metric)
    if isinstance(raw, bool):
        raw = None  # true/false is never a bound; fall through to the message of the kind
    if kind == RATE:
        if isinstance(raw, str) and raw.strip().endswith("%"):
            try:
                share = float(raw.strip()[:-1]) / 100
            except ValueError:
                share = -1.0
        else:
            share = float(raw) if isinstance(raw, (int, float)) else -1.0
        if not 0.0 <= share <= 1.0:
            ck.fail(path, f"expected a share of runs such as \"99%\" or 0.99 (0 to 1), got {raw!r}")
            return None
        return share
    if kind == SECONDS:
        try:
            return parse_duration(raw)
        except (ValueError, TypeError):
            ck.fail(path, f"{metric} is {_READS[kind]}; expected a duration such as 0, 90s or 5m, got {raw!r}")
            return None
    if isinstance(raw, (int, float)) and raw >= 0:
        return float(raw)
    ck.fail(path, f"{metric} is {_READS[kind]}; expected a number of 0 or more, got {raw!r}")
    return None


def _workload(name: str, metric: str, path: Path, ck: Checker, cluster: ClusterState | None) -> str | None:
    per = per_workload_metrics()
    if metric not in per:
        ck.fail(path, f"{metric} has no per-workload breakdown; the metrics a run reports per workload: "
                      f"{', '.join(per)}")
        return None
    if cluster is None:
        return None  # the cluster has problems of its own, reported elsewhere
    keys = [w.key for w in cluster.workloads if name in (w.key, w.name)]
    if not keys:
        names = list(dict.fromkeys(w.name for w in cluster.workloads))
        ck.fail(path, f"no workload named {name!r}; {suggest(name, names)}valid: {', '.join(names) or 'none'} "
                      "(or namespace/name)")
        return None
    if len(keys) > 1:
        ck.fail(path, f"{name!r} names a workload in more than one namespace; write namespace/name: {', '.join(keys)}")
        return None
    return keys[0]


def build_expectations(raw: list, ck: Checker, cluster: ClusterState | None) -> tuple[Expectation, ...]:
    """Each well-formed entry as an ``Expectation``; a problem for each one that is not."""
    out = []
    for i, entry in enumerate(raw):
        if broken(entry):
            continue  # its problem is recorded already
        path: Path = ("expect", i)
        metric = entry["metric"]
        if metric not in METRIC_NAMES:
            ck.fail(path + ("metric",), f"unknown metric {metric!r}; {suggest(metric, METRIC_NAMES)}"
                                        f"valid: {', '.join(METRIC_NAMES)} (docs/metrics.md)")
            continue
        allowed = bounds_for(metric)
        given = [b for b in BOUNDS if entry[b] is not None]
        if not given:
            ck.fail(path, f"give a bound on {metric}: one of {', '.join(allowed)}")
            continue
        if len(given) > 1:
            ck.fail(path + (given[1],), f"give one bound per entry, not both {given[0]} and {given[1]}; "
                                        "write a second entry for the second bound")
            continue
        bound = given[0]
        if bound not in allowed:
            if metric_kind(metric) == RATE:
                why = (f"{bound} does not apply to {metric}: it is a rate, the share of runs that "
                       f"{'completed' if metric == 'completed' else 'halted'}")
            else:
                why = (f"{bound} is for rates ({', '.join(RATE_METRICS)}); {metric} is {_READS[metric_kind(metric)]} "
                       "per run, bounded by a statistic over the runs")
            ck.fail(path + (bound,), f"{why}; valid: {', '.join(allowed)}")
            continue
        limit = _limit(entry[bound], metric, path + (bound,), ck)
        workload = None
        if entry["workload"] is not None:
            workload = _workload(entry["workload"], metric, path + ("workload",), ck, cluster)
            if workload is None:
                continue
        if limit is not None:
            out.append(Expectation(metric, bound, limit, workload))
    return tuple(out)


def objective_names() -> tuple[str, ...]:
    """What an objective may name: every numeric metric a run reports, and the derived ones."""
    return tuple(m for m in METRIC_NAMES if m not in RATE_METRICS) + tuple(DERIVED)


def build_objectives(raw: list, ck: Checker) -> tuple[str, ...]:
    """The ``objectives:`` list, each a metric to minimise, named once."""
    valid = objective_names()
    out: list[str] = []
    for i, name in enumerate(raw):
        if broken(name):
            continue
        path: Path = ("objectives", i)
        if name in RATE_METRICS:
            ck.fail(path, f"{name} is a run's outcome, not a metric to minimise (a strategy whose runs halt never "
                          f"ranks above one that completes); valid: {', '.join(valid)}")
        elif name not in valid:
            ck.fail(path, f"unknown metric {name!r}; {suggest(name, valid)}valid: {', '.join(valid)} (docs/metrics.md)")
        elif name in out:
            ck.fail(path, f"{name} is named twice; name each objective once, most important first")
        else:
            out.append(name)
    return tuple(out)
