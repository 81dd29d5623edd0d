"""What an ignored pre-check finding costs: the same scenario run with the finding ignored
(prechecks: ignore) and with it fixed; the metrics differ as the finding predicts."""

from sim.scenario import load_scenario
from sim.simulate import simulate

QUICK = "scenarios/quickstart.yaml"


# fair weather, kubelets that keep their containers, and someone at hand for a pod stranded on a deleted node's
# local volume: only the ignored finding's cost shows
CALM = ["faults=[]", "prechecks=ignore", "inplaceRestarts=never", "timing.operatorResponse=5m"]


def run(path, label, *sets, seed=3):
    scenario = load_scenario(path, [*CALM, *sets])
    return simulate(scenario, scenario.strategy(label), seed, keep_world=True)


def degraded(r) -> dict:
    """The workloads below their desired Ready at some time, and for how long. CoreDNS is, for seconds, at
    each of its rollouts: kubeadm's Deployment allows one of its pods unavailable (maxUnavailable 1)."""
    return {key: w["degraded_s"] for key, w in r.workloads.items() if w["degraded_s"]}


def test_unsupported_cni_leaves_upgraded_nodes_not_ready():
    fixed = run(QUICK, "inplace", "cluster.addons.cni.version=3.29.1")
    ignored = run(QUICK, "inplace", "cluster.addons.cni.version=3.28.2", "horizon=3h")  # tested up to 1.30
    assert (fixed.completed, degraded(fixed)) == (True, {"kube-system/coredns": 17.222})  # two hops' rollouts
    assert (ignored.completed, ignored.halted) == (False, "did not finish within the horizon (10800s simulated); "
                                                          "still to do: general-1 is NotReady; general-2 kubelet 1.29.8, "
                                                          "wants 1.31.2; general-3 kubelet 1.29.8, wants 1.31.2")
    not_ready = sorted(n.name for n in ignored.world.nodes.values() if not n.ready)
    assert not_ready == ["general-1"]  # the first node upgraded to 1.31.2 never came back
    assert str(ignored.world.nodes["general-1"].kubelet) == "1.31.2"
    assert ignored.metrics["degraded_s"] > 0


def test_misrouted_listener_makes_upgraded_apiservers_unreachable():
    fixed = run(QUICK, "inplace")
    ignored = run(QUICK, "inplace", "cluster.cloud.loadBalancer={listeners: [{port: 6443, backendPort: 8443}]}",
                  "horizon=3h")
    assert fixed.metrics["api_downtime_s"] == 0.0
    assert ignored.metrics["api_downtime_s"] > 0.0
    assert ignored.completed is False


def test_no_free_ip_fails_provisioning():
    fixed = run(QUICK, "replace")
    ignored = run(QUICK, "replace", "cluster.cloud.subnetFreeIPs=0")
    assert fixed.completed and fixed.metrics["node_ip_changes"] == 9
    assert ignored.halted == ("could not add a node to pool general in 3 attempts in a row: "
                              "subnet-a has no free IP address")


def test_docker_runtime_fails_the_in_place_kubelet_upgrade():
    fixed = run(QUICK, "inplace")
    ignored = run(QUICK, "inplace", "cluster.nodePools[0].runtime=docker://24.0.7")
    assert fixed.completed
    assert ignored.halted == ("in-place upgrade of general-1 failed 3 times: kubelet 1.31.2 does not start: dockershim "
                              "was removed in 1.24 and the runtime is docker://24.0.7")


def test_unavailable_apiservice_degrades_the_upgraded_controller_manager():
    fixed = run(QUICK, "replace")
    ignored = run(QUICK, "replace", "cluster.apiServices=[{name: v1beta1.metrics.k8s.io, available: false}]")
    assert fixed.completed and ignored.completed
    # controllers answer a minute late once an upgraded controller-manager leads: pods come back later
    assert ignored.metrics["degraded_s"] > fixed.metrics["degraded_s"] + 300
    assert ignored.metrics["outage_s"] > fixed.metrics["outage_s"]


def test_unsynced_clock_makes_the_node_flap():
    fixed = run("scenarios/seed-example.yaml", "inplace")
    ignored = run("scenarios/seed-example.yaml", "inplace", "cluster.nodePools[0].os={ntpSynced: false}")
    assert degraded(fixed) == {"kube-system/coredns": 5.0}  # its rollout alone
    assert ignored.metrics["degraded_s"] > fixed.metrics["degraded_s"]
    flaps = [t for t, text in ignored.world.rec.events if text == "node workers-1 NotReady"]
    assert len(flaps) >= 1


def test_a_cni_outside_its_tested_range_leaves_the_versions_already_running_alone():
    # calico 3.30 is tested with 1.31 to 1.33; the nodes run 1.29.8 with it today, so only an upgrade
    # to an untested version could break them. Before this held, the nodes' first health refresh (the
    # API coming back after the only apiserver's upgrade) turned every one of them NotReady.
    r = run(QUICK, "inplace", "cluster.addons.cni.version=3.30.0", "cluster.controlPlane.apiservers=1")
    assert (r.completed, r.halted, degraded(r)) == (True, None, {"kube-system/coredns": 27.336})
    assert [text for _, text in r.world.rec.events if "NotReady" in text] == []
