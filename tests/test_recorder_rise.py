"""A workload's Ready count rising pod by pod at one moment (the cluster's start) is recorded at once
(``Recorder.rose``) exactly as one ``Recorder.workload`` call per pod records it, series and all (the
golden results and logs check that the runs are the ones they were)."""

import dataclasses

import pytest

from sim.metrics import Recorder
from sim.scenario import load_scenario
from sim.simulate import simulate


def _tracks(keep_series: bool, at_once: bool, t: float, since: float):
    rec = Recorder(3, keep_series)
    rec.track("default/web", 0, 6, True)
    rec.workloads["default/web"].since = since
    if at_once:
        rec.rose(t, "default/web", 0, 6, 6, False)
    else:  # degraded until 5 of 6 are Ready (a budget of minAvailable 5)
        for ready in range(1, 7):
            rec.workload(t, "default/web", ready, 6, ready < 5)
    return dataclasses.asdict(rec.workloads["default/web"])


@pytest.mark.parametrize("keep_series", [True, False])
@pytest.mark.parametrize("t, since", [(0.0, 0.0), (30.0, 10.0)])
def test_a_rise_at_one_moment_records_what_one_call_per_pod_records(keep_series, t, since):
    at_once = _tracks(keep_series, True, t, since)
    assert at_once == _tracks(keep_series, False, t, since)
    # the span before the rise counts as an outage (0 Ready of 6) and degraded; the steps take no time
    assert (at_once["outage_s"], at_once["degraded_s"], at_once["since"]) == (t - since, t - since, t)
    assert at_once["series"] == ([(0.0, 0, 6)] + [(t, k, 6) for k in range(1, 7)] if keep_series else [(0.0, 0, 6)])


def test_a_rise_of_nothing_records_nothing():
    rec = Recorder(3, True)
    rec.track("default/web", 2, 6, True)
    rec.rose(0.0, "default/web", 2, 2, 6, False)
    assert (rec.workloads["default/web"].series, rec.workloads["default/web"].degraded) == ([(0.0, 2, 6)], True)


def test_the_start_records_each_workload_as_it_was_placed():
    # every workload of the quickstart starts with its pods Ready: its series rises by one per pod at time 0
    scenario = load_scenario("scenarios/quickstart.yaml")
    result = simulate(scenario, scenario.strategies[0], seed=1, keep_world=True)
    web = result.world.rec.workloads["default/web"]
    assert web.series[:7] == [(0.0, k, 6) for k in range(7)]
    assert web.series[7][0] > 0.0  # the next change comes once the upgrade moves a pod
