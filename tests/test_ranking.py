"""Ranking strategies: expectations first, then completion, then the objectives in order, ties where the
runs cannot tell two strategies apart; and the Pareto front."""

import pytest

from models.ranking import Standing, deciding, derived, pareto_front, rank


def s(label, meets=True, completed=1.0, means=(0.0,), intervals=None):
    return Standing(label, meets, completed, tuple(means), tuple(intervals or [(m, m) for m in means]))


@pytest.mark.parametrize("standings, order, why", [
    ([s("a", meets=False, means=(0,)), s("b", means=(500,))], ["b", "a"], "it meets every expectation"),
    ([s("fast", completed=0.9, means=(0,)), s("slow", means=(900,))], ["slow", "fast"],
     "more of its runs completed (100% against 90%)"),
    ([s("x", means=(10, 5)), s("y", means=(20, 1))], ["x", "y"], "lower outage_s"),
    ([s("x", means=(10, 50), intervals=[(0, 30), (50, 50)]), s("y", means=(20, 1), intervals=[(5, 35), (1, 1)])],
     ["y", "x"], "lower duration_s"),
    ([s("x", means=(10, 5), intervals=[(0, 30), (0, 20)]), s("y", means=(20, 1), intervals=[(5, 35), (0, 9)])],
     ["x", "y"], "its means are lower, though within the runs' uncertainty"),
], ids=["expectations-first", "a-halting-strategy-never-above-a-completing-one", "first-objective",
        "tie-on-the-first-the-second-decides", "no-clear-difference-falls-back-to-the-means"])
def test_rank(standings, order, why):
    ranked = rank(standings)
    assert [x.label for x in ranked] == order
    assert deciding(ranked[0], ranked[1], ("outage_s", "duration_s")) == why


def test_derived_objectives():
    metrics = {"pods_evicted": 21, "pods_restarted": 2, "node_hours": 10.5, "duration_s": 3600.0}
    assert derived(metrics, 9) == {"pods_disrupted": 23.0, "extra_node_hours": 1.5}


@pytest.mark.parametrize("points, front", [
    ([("a", (1, 5)), ("b", (2, 2)), ("c", (3, 3)), ("d", (5, 1))], ["a", "b", "d"]),
    ([("a", (1, 1)), ("b", (1, 1))], ["a", "b"]),
], ids=["c-is-beaten-by-b", "equal-points-are-both-on-it"])
def test_pareto_front(points, front):
    assert pareto_front(points) == front
