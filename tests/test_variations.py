"""The generators ``midair fuzz`` draws from: small cluster changes that keep the scenario valid and
its upgrade unblocked, timings pinned within each distribution's range, and ``varied()``."""

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from models.prechecks import blocking
from models.prechecks.base import Traits
from models.quantity import parse_duration
from models.testing import FAULT_TYPES, cluster_changes, fault_schedules, fault_types_for, timings, to_scenario, upgrades, varied
from models.testing.faults import is_window
from models.testing.variations import change_candidates
from sim.fuzz import timing_ranges
from sim.prechecks import findings_for
from sim.scenario import load_scenario, load_scenario_text
from sim.scenario.export import source_document
from sim.scenario.source import load_yaml_file
from tests.conftest import examples
from tests.tiny_scenarios import TINY


def test_the_changes_for_the_quickstart_cluster():
    cluster = load_scenario("scenarios/quickstart.yaml").cluster
    # web 6 (minAvailable 4), api 4 (maxUnavailable 1), worker 3, cache 3 (maxUnavailable 1), db 1: a replica
    # fewer wherever a budget still allows an eviction; a tighter budget only for web (api's and cache's would
    # allow none)
    assert change_candidates(cluster, not_ready=False) == [
        {"workload": "default/web", "replicas": 5}, {"workload": "default/api", "replicas": 3},
        {"workload": "default/worker", "replicas": 2}, {"workload": "default/cache", "replicas": 2},
        {"workload": "default/web", "pdb": {"minAvailable": 5}}]
    assert change_candidates(cluster)[:2] == [{"node": "general-1", "ready": False}, {"node": "general-2", "ready": False}]


def test_a_tiny_cluster_with_a_tight_budget_has_no_change_to_make():
    # web: 2 replicas, minAvailable 1: one fewer, or a tighter budget, would allow no eviction at all
    assert change_candidates(load_scenario_text(TINY).cluster, not_ready=False) == []


def test_timing_ranges_come_from_the_scenarios_distributions():
    ranges = timing_ranges(source_document(load_yaml_file("scenarios/quickstart.yaml")))
    assert ranges["nodeProvision"] == (40.0, 150.0)  # the default uniform
    assert ranges["inplace.replaceBinaries"] == (5.0, 15.0)
    assert ranges["nodeDelete"] == (30.0, 30.0)  # a constant has no range
    low, high = ranges["imagePull"]  # lognormal, median 8 s, p95 30 s: its 1st to 99th percentile
    assert (round(low, 3), round(high, 3)) == (1.234, 51.874)


def test_traffic_timings_are_varied_only_where_services_send_traffic():
    quiet = timing_ranges(source_document(load_yaml_file("scenarios/quickstart.yaml")))
    busy = timing_ranges(source_document(load_yaml_file("scenarios/traffic.yaml")))
    traffic = ["endpointPropagation", "lbDeregistration", "lbHealthCheck"]
    assert ([k for k in traffic if k in quiet], [busy[k] for k in traffic][2]) == ([], (20.0, 30.0))
    assert sorted(set(busy) - set(quiet)) == sorted(traffic)


def test_varied_writes_every_part_into_the_scenario():
    doc = {"cluster": {"nodePools": [{"name": "general", "count": 2}]}, "faults": [{"type": "stuck-pdb"}],
           "timing": {"inplace": {"rejoin": "5s"}},
           "workloads": [{"name": "web", "replicas": 3, "pdb": {"minAvailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow"}},
                         {"name": "web", "namespace": "shop", "replicas": 4}]}
    out = varied(doc, faults=[{"type": "node-crash", "at": "5m"}], timing={"inplace": {"replaceBinaries": "7s"}},
                 changes=[{"node": "general-2", "ready": False}, {"workload": "default/web", "pdb": {"minAvailable": 2}},
                          {"workload": "shop/web", "replicas": 3}], seed=9)
    assert out == {"cluster": {"nodePools": [{"name": "general", "count": 2, "nodes": [{"name": "general-2", "ready": False}]}]},
                   "faults": [{"type": "stuck-pdb"}, {"type": "node-crash", "at": "5m"}],
                   "timing": {"inplace": {"rejoin": "5s", "replaceBinaries": "7s"}},
                   "workloads": [{"name": "web", "replicas": 3,
                                  "pdb": {"minAvailable": 2, "unhealthyPodEvictionPolicy": "AlwaysAllow"}},
                                 {"name": "web", "namespace": "shop", "replicas": 3}], "seed": 9}
    assert doc["faults"] == [{"type": "stuck-pdb"}]  # a copy: the original is left as it was


@pytest.mark.parametrize("ranges, drawn", [({"nodeDelete": (30.0, 30.0)}, {}),
                                           ({"inplace.rejoin": (5.0, 5.2)}, {"inplace": {"rejoin": "5s"}})],
                         ids=["constant-left-alone", "tenths-within-the-range"])
def test_timings_pin_within_the_range(ranges, drawn):
    from hypothesis import find

    assert find(timings(ranges), lambda d: True) == {}  # the simplest draw changes nothing
    if drawn:
        assert find(timings(ranges), lambda d: bool(d)) == drawn


@settings(max_examples=examples(15))
@given(upgrades(max_minors=1).flatmap(lambda p: st.tuples(st.just(p), cluster_changes(p[0], not_ready=False))))
def test_changes_keep_a_generated_scenario_valid_and_unblocked(drawn):
    (cluster, target), changes = drawn
    doc = varied(to_scenario(cluster, target), changes=changes)
    scenario = load_scenario_text(yaml.safe_dump(doc, sort_keys=False), "varied.yaml")
    assert blocking(findings_for(scenario, scenario.strategies[0])) == []


TRAITS = [
    ("in-place-only", Traits("inplace", creates_nodes=False, drains=False, in_place=True),
     ("node-crash", "inplace-step-failure", "slow-image-pull", "pod-startup-failure", "apiserver-crash",
      "lb-listener-misconfigured", "operator-crash")),
    ("replacement", Traits("replace", creates_nodes=True, drains=True, in_place=False),
     ("node-crash", "provision-failure", "quota-exhausted", "subnet-exhausted", "slow-image-pull",
      "pod-startup-failure", "apiserver-crash", "lb-listener-misconfigured", "stuck-pdb", "operator-crash")),
    ("unknown-strategy-meets-everything", Traits(), FAULT_TYPES),
]


@pytest.mark.parametrize("traits, types", [c[1:] for c in TRAITS], ids=[c[0] for c in TRAITS])
def test_fault_types_that_can_touch_a_strategy(traits, types):
    assert fault_types_for(traits) == types


@given(fault_schedules(load_scenario_text(TINY).cluster, min_faults=1, max_faults=4, horizon_s=300,
                       at_times=[123, 999], min_probability=0.05, min_rate=12.0, max_rate=36.0, windows_close=True))
def test_the_fuzzs_fault_bounds_hold(faults):
    for f in faults:
        assert 0.05 <= f.get("probability", 0.05) <= 1.0
        assert 12.0 <= f.get("rate", 12.0) <= 36.0
        assert parse_duration(f.get("at", 0)) <= 300  # 999 is past the horizon: never drawn
        if is_window(f["type"]):
            assert "duration" in f, f


def test_a_time_worth_hitting_is_drawn():
    from hypothesis import find

    found = find(fault_schedules(min_faults=1, max_faults=1, types=["node-crash"], at_times=[123]),
                 lambda fs: fs[0].get("at") == "123s")
    assert found == ({"type": "node-crash", "at": "123s"},)


@pytest.mark.parametrize("make, message", [
    (lambda: fault_schedules(min_rate=3, max_rate=1), "min_rate is more than max_rate"),
    (lambda: fault_schedules(min_probability=0.5, max_probability=0.1), "min_probability is more than max_probability"),
    (lambda: fault_schedules(min_probability=2), r"min_probability=2; valid: a finite number, 0 to 1"),
    (lambda: cluster_changes(load_scenario_text(TINY).cluster, max_changes=-1), r"max_changes=-1; valid: a whole number"),
], ids=["rates", "probabilities", "probability-above-1", "negative-changes"])
def test_impossible_variation_bounds_are_refused_at_once(make, message):
    from hypothesis.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match=message):
        make()
