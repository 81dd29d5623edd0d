"""The simulated cluster end to end: what in-place and replacement cost on the seed's example."""

import pytest

from models.state import DAEMONSET
from sim.scenario import load_scenario
from sim.simulate import simulate

SEED = "scenarios/seed-example.yaml"


def run(label, sets=(), seed=7, keep_world=True, path=SEED):
    scenario = load_scenario(path, sets)
    return simulate(scenario, scenario.strategy(label), seed, keep_world=keep_world)


def test_inplace_upgrades_every_node_without_rebuilding_a_pod():
    r = run("inplace")
    world = r.world
    assert (r.completed, r.halted) == (True, None)
    assert sorted((n.name, str(n.kubelet), str(n.kube_proxy), n.ip) for n in world.nodes.values()) == [
        ("workers-1", "1.16.15", "1.16.15", "10.0.0.10"), ("workers-2", "1.16.15", "1.16.15", "10.1.0.10")]
    m = r.metrics
    assert (m["pods_rescheduled"], m["pods_evicted"], m["node_ip_changes"], m["pods_lost_local_data"]) == (0, 0, 0, 0)
    assert m["outage_s"] == 0.0 and all(w["outage_s"] == 0.0 for w in r.workloads.values())
    assert (m["skew_violations"], m["pdb_violations"], m["peak_extra_nodes"]) == (0, 0, 0)
    assert {str(i.version) for i in world.cp.instances.values()} == {"1.16.15"}


def test_replace_rebuilds_every_pod_and_changes_every_ip():
    scenario = load_scenario(SEED)
    before = {n.name: n.ip for n in scenario.cluster.nodes}
    r = run("replace")
    world = r.world
    m = r.metrics
    assert (r.completed, r.halted) == (True, None)
    # web 2, db 1 and CoreDNS 2 ran on the two old nodes: every one was evicted and rescheduled
    non_daemon = sum(w.replicas for w in scenario.cluster.workloads if w.kind != DAEMONSET)
    assert (m["pods_evicted"], m["pods_rescheduled"]) == (non_daemon, non_daemon) == (5, 5)
    assert sorted(world.nodes) == ["workers-3", "workers-4"]
    assert not set(before.values()) & {n.ip for n in world.nodes.values()}
    # maxSurge 1: the next new machine starts once the drained one is gone (Cluster API counts machines being
    # deleted in their MachineSet), so never more than one above the pool
    assert m["node_ip_changes"] == 2 and m["peak_extra_nodes"] == 1
    # the db StatefulSet keeps its data on the node's disk: lost, and out while its pod waits for a volume
    assert m["pods_lost_local_data"] == 1
    assert r.workloads["default/db"]["outage_s"] > 300.0  # at least the 300 s volume re-bind
    assert r.workloads["default/web"]["outage_s"] == 0.0  # the budget kept one web pod up


@pytest.mark.parametrize("label", ["inplace", "replace"])
@pytest.mark.parametrize("apiservers, down", [(1, True), (2, False), (3, False)], ids=["one", "two", "three"])
def test_api_is_down_only_with_a_single_apiserver(label, apiservers, down):
    r = run(label, [f"cluster.controlPlane.apiservers={apiservers}"], keep_world=False)
    assert r.completed
    assert (r.metrics["api_downtime_s"] > 0) is down


def test_single_apiserver_downtime_is_the_sum_of_its_restarts():
    r = run("inplace", ["cluster.controlPlane.apiservers=1", "timing.controlPlaneInstance=200s"])
    assert r.metrics["api_downtime_s"] == 400.0  # two hops, 200 s each


def test_wrong_strategy_with_safety_off_breaks_skew_and_nodes_go_not_ready():
    r = run("tests.strategy_fixtures:WorkersFirst",
            ["strategies=[{name: 'tests.strategy_fixtures:WorkersFirst'}]", "safety=off", "horizon=2h"])
    assert r.metrics["skew_violations"] >= 1
    rules = {rule for _, rule, _ in r.world.rec.skew}
    assert "kubelet-newer-than-apiserver" in rules
    assert {n.name: n.ready for n in r.world.nodes.values()} == {"workers-1": False, "workers-2": False}
    assert [e.kind for e in r.log if e.action.startswith("UpgradeNodeInPlace")] == ["unsafe", "unsafe"]


def test_wrong_strategy_with_safety_on_is_refused_and_recorded():
    r = run("tests.strategy_fixtures:WorkersFirst",
            ["strategies=[{name: 'tests.strategy_fixtures:WorkersFirst'}]", "horizon=2h"])
    refused = [e for e in r.log if e.kind == "refused"]
    assert [(e.action, e.detail.split(":")[0]) for e in refused] == [
        ("UpgradeNodeInPlace node/workers-1 to 1.16.15", "skew"),
        ("Cordon node/workers-2", "max-unavailable"),
        ("UpgradeNodeInPlace node/workers-2 to 1.16.15", "max-unavailable")]
    assert refused[0].detail == ("skew: UpgradeNodeInPlace node/workers-1 to 1.16.15: kubelet 1.16.15 (workers-1) is newer "
                                 "than the oldest kube-apiserver (1.14.10); it must not be newer (kubelet-newer-than-apiserver)")
    assert r.metrics["skew_violations"] == 0
    assert all(n.ready for n in r.world.nodes.values())


def test_a_budget_that_never_allows_is_blocked_by_the_prechecks():
    r = run("replace", ["workloads[name=web].pdb.minAvailable=2"])
    assert (r.completed, r.metrics["duration_s"]) == (False, 0.0)
    assert r.halted == ("blocked by 1 pre-check finding(s): disruption.pdb-never-allows "
                        "(see midair precheck; prechecks: ignore to run anyway)")


def test_a_budget_that_never_allows_blocks_the_drain_and_halts_after_the_timeout():
    r = run("replace", ["workloads[name=web].pdb.minAvailable=2", "strategies[1].drainTimeout=10m", "prechecks=ignore"])
    assert r.completed is False
    assert r.halted == ('drain of workers-1 did not finish within 600s: error when evicting pods/"web-1" -n '
                        '"default": global timeout reached: 10m0s; last refusal: Cannot evict pod as it would '
                        "violate the pod's disruption budget. (The disruption budget web needs 2 healthy pods and has 2 "
                        "currently); evictions refused with HTTP 429 (default/web: 121) (undrainable: fail)")
    assert r.metrics["evictions_refused"] == 121
    assert r.metrics["pdb_violations"] == 0


def test_same_seed_same_result_and_different_seeds_differ():
    a = run("replace", seed=3, keep_world=False)
    b = run("replace", seed=3, keep_world=False)
    c = run("replace", seed=4, keep_world=False)
    assert a.metrics == b.metrics and [e.line() for e in a.log] == [e.line() for e in b.log]
    assert a.metrics["duration_s"] != c.metrics["duration_s"]
