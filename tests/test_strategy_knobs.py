"""Each strategy's signature in the metrics, and the knobs every strategy shares."""

import pytest

from sim.scenario import InputError, load_scenario, load_scenario_text
from sim.simulate import simulate

TIGHT = """
apiVersion: midair/v1alpha1
kind: Scenario
metadata: {name: tight}
cluster:
  version: "1.29.4"
  controlPlane: {apiservers: 3}
  nodePools: [{name: general, count: 4, cpu: "4", memory: 16Gi, zones: [a, b]}]
workloads:
  - {name: app, replicas: 14, cpu: "1", memory: 1Gi, pdb: {maxUnavailable: 2}, startupSeconds: 10}
target: "1.29.8"
strategies:
  - {name: inplace, maxUnavailable: 1, drainFirst: true}
  - {name: surge, maxSurge: 2, maxUnavailable: 0}
  - {name: bluegreen, drainBatch: 2, soakSeconds: 60, finalSoakSeconds: 5m}
"""


def run(text_or_path, label, *sets, seed=2, keep=True):
    if text_or_path.endswith(".yaml"):
        scenario = load_scenario(text_or_path, ["faults=[]", *sets])
    else:
        scenario = load_scenario_text(text_or_path, "tight.yaml", sets)
    return simulate(scenario, scenario.strategy(label), seed, keep_world=keep)


def test_surge_has_maxsurge_extra_nodes_and_no_pending_pods_where_in_place_runs_short():
    inplace = run(TIGHT, "inplace")
    surge = run(TIGHT, "surge")
    assert surge.completed
    # the budget (maxUnavailable 2) lets two of general-1's app pods go; the other nodes have no room for them
    assert inplace.metrics["max_pending_pods"] == 2
    assert inplace.halted == (  # and its budget runs out
        'drain of general-1 did not finish within 900s: error when evicting pods/"app-11" -n "default": global '
        "timeout reached: 15m0s; last refusal: Cannot evict pod as it would violate the pod's disruption budget. "
        "(The disruption budget app needs 12 healthy pods and has 12 currently); evictions refused with HTTP 429 "
        "(default/app: 181) (undrainable: fail)")
    assert (surge.metrics["peak_extra_nodes"], surge.metrics["max_pending_pods"]) == (2, 0)


def test_bluegreen_doubles_the_pool_and_completes():
    r = run(TIGHT, "bluegreen")
    assert (r.completed, r.halted) == (True, None)
    assert r.metrics["peak_extra_nodes"] == 4  # a whole green pool
    assert sorted(r.world.nodes) == ["general-5", "general-6", "general-7", "general-8"]
    assert r.metrics["pdb_violations"] == 0


def test_bluegreen_rollback_restores_the_blue_pool_without_losing_a_pod():
    # a green node (general-5 is the first one created) crashes while blue drains onto green, and
    # reboots ten minutes later: the health check at the end of the soak fails
    r = run(TIGHT, "bluegreen", "faults=[{type: node-crash, at: 1100s, target: node/general-5, duration: 10m}]",
            "prechecks=ignore")
    assert r.completed is False
    assert r.halted == "rolled back: node general-5 is NotReady; the blue pool general is serving again on its old version"
    nodes = r.world.nodes.values()
    assert sorted((n.name, str(n.kubelet), n.schedulable, n.ready) for n in nodes) == [
        (f"general-{i}", "1.29.4", True, True) for i in range(1, 5)]
    assert r.metrics["pods_lost_local_data"] == 0
    assert r.world.workloads["default/app"].ready == 14


@pytest.mark.parametrize("label, strategy, peak", [("surge", "{name: surge, maxSurge: 2}", 2),
                                                  ("bluegreen", "{name: bluegreen}", 6)])
def test_the_next_pool_waits_until_the_last_pools_old_machines_are_gone(label, strategy, peak):
    # two pools (6 and 3 nodes): surge never runs more than maxSurge machines above the cluster's size,
    # blue-green never more than its largest pool
    r = run("scenarios/quickstart.yaml", label, f"strategies=[{strategy}]", "workloads[name=cache].localStorage=false",
            "workloads[name=db].localStorage=false")
    assert (r.completed, r.halted) == (True, None)
    assert r.metrics["peak_extra_nodes"] == peak


def test_bluegreen_rolls_back_when_a_blue_node_cannot_be_drained():
    # cache's local volumes keep its pods on their blue nodes; its budget then refuses the drain of
    # stateful-2 (undrainable: fail): blue still exists, so the stateful pool goes back to it
    r = run("scenarios/quickstart.yaml", "bluegreen", "strategies=[{name: bluegreen}]")
    assert r.halted == ("rolled back: blue stateful-2 could not be drained within 900s: error when evicting "
                        'pods/"cache-1" -n "default": global timeout reached: 15m0s; last refusal: Cannot evict pod '
                        "as it would violate the pod's disruption budget. (The disruption budget cache needs 2 "
                        "healthy pods and has 2 currently); evictions refused with HTTP 429 (default/cache: 181); the "
                        "blue pool stateful is serving again on its old version")
    stateful = sorted((n.name, str(n.kubelet), n.schedulable, n.phase) for n in r.world.nodes.values()
                      if n.pool == "stateful")
    assert stateful == [(f"stateful-{i}", "1.29.8", True, "idle") for i in (1, 2, 3)]  # the failed drain is over
    assert (r.metrics["pods_lost_local_data"], r.metrics["pdb_violations"]) == (0, 0)


def test_green_batches_start_when_the_last_batch_is_ready():
    r = run("scenarios/quickstart.yaml", "bluegreen", "strategies=[{name: bluegreen, greenBatch: 2}]",
            "workloads[name=cache].localStorage=false")  # db's zonal volume follows its pod to green
    assert (r.completed, r.halted) == (True, None)
    # six general nodes two at a time, then (after general's blue pool soaked its hour) the stateful pool's
    # three, two and one
    assert [round(e.t, 1) for e in r.log if e.action.startswith("ProvisionNode")] == [
        2022.8, 2022.8, 2097.1, 2097.1, 2150.0, 2150.0, 6056.4, 6056.4, 6182.6]


def test_bluegreen_goes_on_past_a_dead_blue_node():
    # general-2 dies at the start: the not-ready toleration moves its pods; blue-green must neither
    # wait for it to turn Ready nor try to drain it, and deletes it with the rest of blue
    r = run(TIGHT, "bluegreen", "faults=[{type: node-crash, at: 0s, target: node/general-2}]")
    assert (r.completed, r.halted) == (True, None)
    assert [e.action for e in r.log if "general-2" in e.action] == ["Cordon node/general-2", "DeleteNode node/general-2"]
    assert sorted(r.world.nodes) == ["general-5", "general-6", "general-7", "general-8"]
    assert r.metrics["pdb_violations"] == 0


@pytest.mark.parametrize("policy, timeout, violations, halted", [
    ("force", "2m", 2, None),  # each of the two forced drains takes web below minAvailable 2
    ("wait", "0", 0, "did not finish within the horizon (14400s simulated); still to do: "  # nothing is ever forced
                     "workers-1 kubelet 1.14.10, wants 1.16.15; workers-2 kubelet 1.14.10, wants 1.16.15"),
], ids=["force", "wait-forever"])
def test_undrainable(policy, timeout, violations, halted):
    r = run("scenarios/seed-example.yaml", "replace", "workloads[name=web].pdb.minAvailable=2",
            f"strategies[1].undrainable={policy}", f"strategies[1].drainTimeout={timeout}", "prechecks=ignore",
            "horizon=4h")
    assert r.metrics["pdb_violations"] == violations
    if halted:
        assert r.halted == halted
    else:
        assert r.completed


def test_cordon_and_continue_leaves_the_undrainable_node_and_goes_on():
    r = run("scenarios/seed-example.yaml", "inplace", "workloads[name=web].pdb.minAvailable=2",
            "strategies[0].drainFirst=true", "strategies[0].undrainable=cordon-and-continue",
            "strategies[0].drainTimeout=5m", "prechecks=ignore")
    assert r.halted == ("left 1 node(s) cordoned on their old version because they could not be drained "
                        "(undrainable: cordon-and-continue): workers-1")
    assert r.world.nodes["workers-1"].schedulable is False


def test_soak_between_batches_waits_before_the_next_node():
    soaked = run("scenarios/seed-example.yaml", "inplace", "strategies[0].soakSeconds=10m")
    assert soaked.completed
    done = next(e.t for e in soaked.log if e.action == "Uncordon node/workers-1")
    next_batch = next(e.t for e in soaked.log if e.action == "Cordon node/workers-2")
    assert next_batch - done == 600.0  # the soak is counted from the uncordon


def test_validate_halts_when_the_cluster_stays_unhealthy():
    # stateful-3 crashes for good at the start: after the first batch (general-1, done at 2034.286 s) the
    # cluster never validates; it is rechecked every 10 s from 2036.286 s, and the first recheck past the
    # 300 s timeout, at 2336.286 s, halts the upgrade
    r = run("scenarios/quickstart.yaml", "inplace", "strategies[0].validate=true", "strategies[0].validateTimeout=5m",
            "faults=[{type: node-crash, at: 0s, target: node/stateful-3}]")
    assert (r.completed, r.halted) == (False, "the cluster did not validate within 300s after a batch in pool "
                                              "general: node stateful-3 is NotReady")
    assert r.metrics["duration_s"] == 2336.286


def test_order_of_nodes():
    from models.state import Node, Resources
    from models.strategies.workers import ordered
    from models.version import parse_version as V

    nodes = [Node(f"n-{i}", "p", zone, V("1.29"), V("1.29"), Resources(), pods=pods)
             for i, zone, pods in ((1, "c", 9), (2, "a", 4), (10, "b", 1), (3, "a", 7))]
    assert [n.name for n in ordered(nodes, "name")] == ["n-1", "n-2", "n-3", "n-10"]
    assert [n.name for n in ordered(nodes, "zone")] == ["n-2", "n-3", "n-10", "n-1"]
    assert [n.name for n in ordered(nodes, "least-loaded")] == ["n-10", "n-2", "n-3", "n-1"]


def test_zone_order_upgrades_a_zone_at_a_time():
    r = run("scenarios/quickstart.yaml", "inplace", "strategies[0].order=zone", keep=False)
    cordons = [e.action.split("/")[1] for e in r.log if e.action.startswith("Cordon node/general")]
    assert cordons == ["general-1", "general-4", "general-2", "general-5", "general-3", "general-6"]  # zones a, b, c


def test_control_plane_surge_keeps_a_single_apiserver_serving():
    plain = run("scenarios/seed-example.yaml", "inplace", "cluster.controlPlane.apiservers=1")
    surge = run("scenarios/seed-example.yaml", "inplace", "cluster.controlPlane.apiservers=1",
                "strategies[0].controlPlaneSurge=true")
    # the only apiserver is down through both its upgrades: 282.648 s to 1.15, 210.391 s to 1.16.15
    assert plain.metrics["api_downtime_s"] == 493.039
    assert surge.metrics["api_downtime_s"] == 0.0
    assert surge.completed


def test_presets_expand_with_overrides():
    s = load_scenario("scenarios/seed-example.yaml", ["strategies=[{preset: eks-managed, drainTimeout: 5m}, {preset: kops}]"])
    eks, kops = s.strategies
    assert (eks.label, eks.name, str(eks.param("maxSurge")), str(eks.param("maxUnavailable")), eks.param("drainTimeout"),
            eks.param("undrainable")) == ("eks-managed", "replace", "1", "1", 300.0, "fail")
    assert (kops.name, kops.param("validate"), kops.param("soakSeconds")) == ("replace", True, 15.0)


def test_every_preset_knob_names_its_source():
    from models.strategies.presets import PRESETS

    for preset in PRESETS.values():
        sourced = {k.strip() for keys, _ in preset.sources for k in keys.split(",")}
        assert {k for k, _ in preset.params} - sourced == set(), preset.name


def test_bluegreen_rolls_back_a_green_pool_that_never_gets_ready():
    r = run("scenarios/quickstart.yaml", "bluegreen", "strategies=[{name: bluegreen}]", "prechecks=ignore",
            "cluster.addons.cni.version=3.28.2", "workloads[name=cache].localStorage=false",
            "workloads[name=db].localStorage=false")  # calico 3.28 is tested up to 1.30: green (1.31.2) is NotReady
    # general-9 joined first of the green nodes, so its 300 s run out first
    assert r.halted == ("rolled back: green node general-9 stayed NotReady for 300s; the blue pool general is "
                        "serving again on its old version")
    assert sorted(r.world.nodes) == [*(f"general-{i}" for i in range(1, 7)), "stateful-1", "stateful-2", "stateful-3"]
    assert (r.metrics["pods_evicted"], r.metrics["outage_s"]) == (0, 0.0)


def test_unknown_preset_is_an_error():
    with pytest.raises(InputError) as err:
        load_scenario("scenarios/seed-example.yaml", ["strategies=[{preset: gke-surg}]"])
    assert [f"{p.path}: {p.message}" for p in err.value.problems] == [
        "strategies[0].preset: unknown preset 'gke-surg'; did you mean 'gke-surge'? valid: gke-surge, eks-managed, "
        "aks, capi, kops, karpenter, ack-inplace"]


MULTI_HOP = ["cluster.version=1.24.17", "cluster.addons.kubeProxy=1.24.17", "cluster.addons.coredns=1.8.6",
             "cluster.nodePools[0].runtime=containerd://1.6.24", "target=1.29.4", "horizon=12h",
             "workloads[name=db].localStorage=false"]


@pytest.mark.parametrize("label", ["inplace", "replace", "surge", "bluegreen"])
def test_multi_hop_1_24_to_1_29_with_every_strategy(label):
    r = run("scenarios/seed-example.yaml", label, *MULTI_HOP, f"strategies=[{{name: {label}}}]")
    assert (r.completed, r.halted) == (True, None)
    hops = [e.action.rsplit(" to ", 1)[1] for e in r.log if e.action.startswith("UpgradeControlPlaneInstance kube-apiserver-0")]
    assert hops == ["1.25", "1.26", "1.27", "1.28", "1.29.4"]
    workers = sorted({str(n.kubelet) for n in r.world.nodes.values()})
    assert workers == ["1.29.4"]
    rolls = [e for e in r.log if e.action.startswith(("UpgradeNodeInPlace", "ProvisionNode"))]
    assert sorted({e.action.rsplit(" ", 1)[1] for e in rolls}) == ["1.26", "1.29.4"]  # two worker rolls
    assert r.metrics["skew_violations"] == 0
