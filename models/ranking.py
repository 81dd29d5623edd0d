"""Ranking strategies, and the Pareto front of their settings: pure, shared by the report's verdict
and ``midair recommend``.

A strategy's standing is, in order: whether it meets every expectation (the scenario's
``expect:``, or midair's defaults: no API downtime, no budget violation, every run
completes); the share of its runs that completed (a strategy whose runs halted or rolled
back never ranks above one that completed); then the scenario's ``objectives:`` in order,
each a metric to minimise, where two strategies tie on an objective when their 95%
intervals of the mean overlap (the runs cannot tell them apart) and the next objective
decides. Everything is read from each strategy's statistics as the sweep summarises them
(``{"runs", "completed", "metrics": {name: {"mean", "ci95", ...}}}``).

May import the standard library and ``models``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cmp_to_key

DEFAULT_OBJECTIVES = ("outage_s", "degraded_s", "pods_disrupted", "duration_s", "extra_node_hours")
# objectives computed from a run's metrics (and the cluster's size), beside the metrics themselves
DERIVED = {
    "pods_disrupted": "pods evicted or restarted in place",
    "extra_node_hours": "node-hours above the pools' size over the upgrade: what surge costs",
}


def derived(metrics: Mapping, baseline_nodes: int) -> dict[str, float]:
    """The derived objectives of one run."""
    return {"pods_disrupted": float(metrics["pods_evicted"] + metrics["pods_restarted"]),
            "extra_node_hours": max(0.0, float(metrics["node_hours"])
                                    - baseline_nodes * float(metrics["duration_s"]) / 3600.0)}


@dataclass(frozen=True)
class Standing:
    label: str
    meets: bool  # every expectation holds
    completed: float  # share of runs that completed
    means: tuple[float, ...]  # per objective
    intervals: tuple[tuple[float, float], ...]


def standing(label: str, stats: Mapping, meets: bool, objectives: Sequence[str]) -> Standing:
    metrics = stats["metrics"]
    return Standing(label, meets, float(stats["completed"]),
                    tuple(float(metrics[o]["mean"]) for o in objectives),
                    tuple((float(metrics[o]["ci95"][0]), float(metrics[o]["ci95"][1])) for o in objectives))


def _overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


def compare(a: Standing, b: Standing) -> int:
    """Negative when ``a`` ranks above ``b``."""
    if a.meets != b.meets:
        return -1 if a.meets else 1
    if a.completed != b.completed:
        return -1 if a.completed > b.completed else 1
    for ma, mb, ia, ib in zip(a.means, b.means, a.intervals, b.intervals):
        if not _overlap(ia, ib) and ma != mb:
            return -1 if ma < mb else 1
    for ma, mb in zip(a.means, b.means):  # indistinguishable on every objective: the lower means, in order
        if ma != mb:
            return -1 if ma < mb else 1
    return (a.label > b.label) - (a.label < b.label)


def rank(standings: Sequence[Standing]) -> list[Standing]:
    return sorted(standings, key=cmp_to_key(compare))


def deciding(a: Standing, b: Standing, objectives: Sequence[str]) -> str:
    """Why ``a`` ranks above ``b``, in a few words."""
    if a.meets != b.meets:
        return "it meets every expectation"
    if a.completed != b.completed:
        return f"more of its runs completed ({a.completed:.0%} against {b.completed:.0%})"
    for name, ma, mb, ia, ib in zip(objectives, a.means, b.means, a.intervals, b.intervals):
        if not _overlap(ia, ib) and ma != mb:
            return f"lower {name}"
    return "its means are lower, though within the runs' uncertainty"


def contrast(a: Standing, b: Standing, objectives: Sequence[str]) -> tuple[list[str], list[str]]:
    """The objectives on which ``a`` is clearly lower than ``b`` (its gains) and clearly higher (its costs):
    where their 95% intervals do not overlap. What is left the runs cannot tell apart."""
    gains, costs = [], []
    for name, ma, mb, ia, ib in zip(objectives, a.means, b.means, a.intervals, b.intervals):
        if _overlap(ia, ib) or ma == mb:
            continue
        (gains if ma < mb else costs).append(name)
    return gains, costs


def pareto_front(points: Sequence[tuple[str, tuple[float, ...]]]) -> list[str]:
    """The labels of the points no other point beats on every coordinate (all minimised), in order given."""
    front = []
    for label, p in points:
        dominated = any(all(x <= y for x, y in zip(q, p)) and any(x < y for x, y in zip(q, p))
                        for other, q in points if other != label)
        if not dominated:
            front.append(label)
    return front
