"""One contract, two adapters: the simulated cluster and a real API (a fake one on loopback)
must look the same to a strategy and answer its actions the same way."""

import sys
import time

import pytest
import yaml
from hypothesis import given

from models.actions import (
    Cordon,
    DeleteNode,
    Drain,
    ProvisionNode,
    Uncordon,
    UpgradeAddon,
    UpgradeControlPlaneInstance,
    UpgradeNodeInPlace,
)
from models.state import BARE_POD
from models.testing import to_scenario, upgrades
from models.version import parse_version as V
from sim.adapters.kube_client import Kube
from sim.adapters.kube_state import build_state
from sim.adapters.kubeconfig import load_config
from sim.adapters.live import LivePort
from sim.adapters.simulated import SimulatedPort
from sim.scenario import load_scenario, load_scenario_text
from sim.scenario.model import LiveSettings
from sim.simulate import world_for
from tests.kube_harness import FAST_RETRY, KubeHarness
from tests.kube_objects import POOL_LABEL, objects_from_world

HOOKS = (("upgradeNode", f"{sys.executable} tests/live_hooks.py upgrade-node {{node}} {{version}}"),
         ("upgradeControlPlane", f"{sys.executable} tests/live_hooks.py upgrade-control-plane {{instance}} {{version}}"),
         # the hook works on for a second after it has made the Node, as a real one waits for it to be Ready
         ("provisionNode", f"{sys.executable} tests/live_hooks.py provision-node {{pool}} {{zone}} {{version}} workers-3 1.0"),
         ("deleteNode", f"{sys.executable} tests/live_hooks.py delete-node {{node}}"))
SETS = ["workloads[name=web].pdb.minAvailable=2"]  # the web budget allows no disruption


def _labels(labels):
    return tuple((k, v) for k, v in labels if k != POOL_LABEL)  # the live view's pools are named by a label


def projection(state):
    """What the contract promises to be equal: all of the view but what the Kubernetes API
    cannot show (the hosts' configuration and the cloud's resources), which the live view
    names in ``unobserved`` instead."""
    return {
        "node_labels": sorted((n.name, _labels(n.labels), n.taints, n.volumes) for n in state.nodes),
        "pool_labels": sorted((p.name, _labels(p.labels), p.taints) for p in state.pools
                              if state.nodes_in(p.name)),  # the live view reads them off the pool's nodes
        "scheduling": sorted((w.key, w.scheduling, w.storage) for w in state.workloads),
        "webhooks": state.webhooks,
        "priority_classes": sorted(state.priority_classes, key=lambda c: c.name),
        "volumes": state.volumes,
        "control_plane": sorted((i.name, i.component, str(i.version), i.healthy, i.phase)
                                for i in state.control_plane.instances),
        "api_services": sorted((s.name, s.available, s.service) for s in state.api_services),
        "pools": sorted((p.name, p.count, str(p.version), tuple(sorted(p.zones))) for p in state.pools),
        "nodes": sorted((n.name, n.pool, n.zone, str(n.kubelet), str(n.kube_proxy), n.runtime, n.ip, n.ready,
                         n.schedulable, n.phase, n.pods, n.allocatable) for n in state.nodes),
        # a budget by its bounds: the API shows every budget with its selector, a scenario may write it on its
        # workload (bare pods listed one by one share the budget a scenario writes on their one entry)
        "workloads": sorted((w.key, w.kind, w.replicas, _bounds(w.pdb), w.local_storage, w.requests, w.status.desired,
                             w.status.ready, w.status.disruptions_allowed) for w in state.workloads),
        "addons": sorted((a.name, str(a.version), a.flavor, a.phase) for a in state.addons),
        "api_available": state.api_available,
    }


def _bounds(pdb):
    return None if pdb is None else (pdb.min_available, pdb.max_unavailable, pdb.unhealthy_pod_eviction_policy)


def comparable(state):
    """``projection`` less what the API cannot show at all: a pool's template version and the
    zones it may use (the live view takes them from its nodes), and which bare pods a scenario
    wrote as one entry with ``replicas`` (the API has only the pods: web-1, web-2, ...)."""
    p = projection(state)
    p["pools"] = sorted((name, count) for name, count, _, _ in p["pools"])
    bare: dict = {}
    for key, kind, replicas, pdb, local, requests, desired, ready, allowed in p["workloads"]:
        if kind == BARE_POD:
            ns, name = key.split("/")
            base = name.rsplit("-", 1)[0] if name.rsplit("-", 1)[-1].isdigit() else name
            totals = bare.setdefault((f"{ns}/{base}", pdb, local, requests), [0, 0, 0])
            totals[0], totals[1], totals[2] = totals[0] + replicas, totals[1] + desired, totals[2] + ready
    p["workloads"] = ([w for w in p["workloads"] if w[1] != BARE_POD],
                      sorted((k, tuple(v)) for k, v in bare.items() if v[0]))
    kinds = {w.key: w.kind for w in state.workloads}
    listed = {w[0] for w in p["workloads"][0]} | {k for (k, *_), _ in p["workloads"][1]}
    p["scheduling"] = sorted({(base, s, st) for k, s, st in p["scheduling"]
                              if (base := k.rsplit("-", 1)[0] if kinds[k] == BARE_POD and k.rsplit("-", 1)[-1].isdigit()
                                  else k) in listed})
    return p


@given(upgrades())
def test_any_cluster_listed_as_api_objects_translates_back_to_the_simulated_view(pair):
    # the translators on every shape of cluster the generators make: CNI flavours, etcd, CoreDNS scaled
    # to 0, bare and Pending pods, budgets with either eviction policy, node-local volumes, pool labels and
    # taints, tolerations, node and pod (anti-)affinity, spread constraints, priorities, zonal and shared
    # volumes with their zones and attachments, webhooks and the workloads that serve them
    scenario = load_scenario_text(yaml.safe_dump(to_scenario(*pair)), "generated.yaml")
    world = world_for(scenario, seed=1)
    by_kind: dict = {}
    for obj in objects_from_world(world).values():
        by_kind.setdefault(obj["kind"], []).append(obj)
    live = build_state(by_kind, pool_label=POOL_LABEL, pool_sizes={p.name: p.count for p in scenario.cluster.pools},
                       api_version=world.start_version)
    assert comparable(live) == comparable(SimulatedPort(world).observe())


class Sim:
    def __init__(self, world):
        self.world = world
        self.port = SimulatedPort(world)

    def wait(self, until, timeout):
        end = self.world.env.now + timeout
        while self.world.env.now < end:
            state = self.port.observe()
            if until(state):
                return state
            self.world.env.run(until=self.world.env.now + 1)
        return self.port.observe()


class Live:
    def __init__(self, world, tmp_path, monkeypatch, extra_unknown_fields=False):
        objects = objects_from_world(world, extra_unknown_fields)
        self.server = KubeHarness(objects, version=f"v{world.start_version}").__enter__()
        monkeypatch.setenv("MIDAIR_TEST_SERVER", self.server.url)
        config = load_config(self.server.kubeconfig(tmp_path / "kubeconfig"), None)
        settings = LiveSettings(pool_label=POOL_LABEL, hooks=HOOKS, hook_timeout_s=30, poll_interval_s=0.2)
        sizes = {p.name: p.count for p in world.pool_specs.values()}
        self.port = LivePort(lambda: Kube(config, retry=FAST_RETRY), settings, sizes, log=lambda text: None, eviction_retry_s=0.2,
                             reconcile_interval_s=0.05)

    def wait(self, until, timeout):
        end = time.monotonic() + min(timeout, 20)
        while time.monotonic() < end:
            state = self.port.observe()
            if until(state):
                return state
            time.sleep(0.1)
        return self.port.observe()

    def close(self):
        self.port.close()
        self.server.__exit__(None, None, None)


@pytest.fixture(params=["simulated", "live"])
def adapter(request, tmp_path, monkeypatch):
    marker = request.node.get_closest_marker("scenario_sets")
    scenario = load_scenario("scenarios/seed-example.yaml", marker.args[0] if marker else SETS)
    world = world_for(scenario, seed=1)
    if request.param == "simulated":
        yield Sim(world)
    else:
        live = Live(world, tmp_path, monkeypatch)
        yield live
        live.close()


API_SERVICES = ("cluster.apiServices=[{name: v1beta1.metrics.k8s.io, available: false, service: kube-system/metrics-server},"
                " {name: v1.apps, available: true}]")


def test_observe_returns_equal_views(tmp_path, monkeypatch):
    scenario = load_scenario("scenarios/seed-example.yaml", [*SETS, API_SERVICES, "cluster.controlPlane.etcd=1",
                                                                      "cluster.controlPlane.etcdVersion=3.3.10"])
    world = world_for(scenario, seed=1)
    live = Live(world, tmp_path, monkeypatch, extra_unknown_fields=True)  # fields a newer server adds are ignored
    try:
        live_view = live.port.observe()
    finally:
        live.close()
    sim_view = SimulatedPort(world).observe()
    assert projection(live_view) == projection(sim_view)
    assert len(sim_view.nodes) == 2 and sim_view.node("workers-1").pods == 3
    assert [(s.name, s.available) for s in sim_view.api_services] == [("v1beta1.metrics.k8s.io", False), ("v1.apps", True)]
    assert [i.name for i in live_view.control_plane.of("etcd")] == ["etcd-0"]
    assert (sim_view.unobserved, live_view.unobserved) == ((), ("host", "cloud"))


def test_cordon_and_uncordon(adapter):
    adapter.port.submit(Cordon("test", "workers-1"))
    state = adapter.port.observe()
    assert (state.node("workers-1").schedulable, state.node("workers-1").available) == (False, False)
    adapter.port.submit(Uncordon("test", "workers-1"))
    assert adapter.port.observe().node("workers-1").schedulable is True


def test_drain_refused_by_a_budget_fails_after_its_timeout(adapter):
    assert adapter.port.observe().node("workers-1").pods == 3  # web, db and a CoreDNS pod
    assert adapter.port.submit(Drain("test", "workers-1", timeout_s=3.0)).accepted
    state = adapter.wait(lambda s: s.node("workers-1").phase == "drain-failed", timeout=30)
    failed = state.node("workers-1")
    assert failed.phase == "drain-failed"
    assert "evictions refused with HTTP 429 (default/web: " in failed.message
    assert failed.schedulable is False
    # the evicted pods finish terminating; the web pod, refused by its budget, stays
    state = adapter.wait(lambda s: s.node("workers-1").pods == 1, timeout=60)
    assert state.node("workers-1").pods == 1


@pytest.mark.scenario_sets([])  # web's budget (minAvailable 1 of 2) allows one eviction
def test_drain_with_room_in_the_budgets_empties_the_node(adapter):
    assert adapter.port.submit(Drain("test", "workers-1", timeout_s=60.0)).accepted
    state = adapter.wait(lambda s: s.node("workers-1").phase != "draining", timeout=120)
    assert (state.node("workers-1").phase, state.node("workers-1").pods) == ("idle", 0)
    assert state.node("workers-1").schedulable is False


def test_in_place_upgrade_through_the_hook(adapter):
    adapter.port.submit(Cordon("test", "workers-2"))
    assert adapter.port.submit(UpgradeNodeInPlace("test", "workers-2", V("1.14.10"))).accepted
    state = adapter.wait(lambda s: s.node("workers-2").phase == "idle" and s.node("workers-2").ready, timeout=120)
    assert (str(state.node("workers-2").kubelet), state.node("workers-2").phase) == ("1.14.10", "idle")


def test_add_on_upgrade_patches_the_image(adapter):
    assert adapter.port.submit(UpgradeAddon("test", "kube-proxy", V("1.15.12"))).accepted
    state = adapter.wait(lambda s: s.addon("kube-proxy").phase == "idle"
                         and all(str(n.kube_proxy) == "1.15.12" for n in s.nodes), timeout=120)
    assert str(state.addon("kube-proxy").version) == "1.15.12"
    assert {str(n.kube_proxy) for n in state.nodes} == {"1.15.12"}


def test_control_plane_instance_upgrade_through_the_hook(adapter):
    assert adapter.port.submit(UpgradeControlPlaneInstance("test", "kube-apiserver-0", V("1.15.12"))).accepted
    state = adapter.wait(lambda s: s.control_plane.instance("kube-apiserver-0").phase == "idle"
                         and str(s.control_plane.instance("kube-apiserver-0").version) == "1.15.12", timeout=600)
    upgraded = state.control_plane.instance("kube-apiserver-0")
    assert (str(upgraded.version), upgraded.phase) == ("1.15.12", "idle")
    assert str(state.control_plane.instance("kube-apiserver-1").version) == "1.14.10"
    assert state.api_available is True  # the other apiserver served throughout


def test_a_provisioned_node_joins_its_pool_ready(adapter):
    assert adapter.port.submit(ProvisionNode("test", "workers", V("1.14.10"))).accepted
    assert [n.phase for n in adapter.port.observe().nodes if n.name not in ("workers-1", "workers-2")] == ["provisioning"]
    views = []  # each view's new nodes

    def done(state):
        views.append([(n.name, n.phase) for n in state.nodes if n.name not in ("workers-1", "workers-2")])
        return state.has_node("workers-3") and state.node("workers-3").ready and state.node("workers-3").phase == "idle"

    state = adapter.wait(done, timeout=900)
    # one new node in every view, never the Node and a placeholder both: the live view shows a placeholder
    # until the Node is listed, then the Node, provisioning while its hook works on (a second), then idle
    assert all(len(nodes) == 1 for nodes in views), views
    changes = [nodes for i, nodes in enumerate(views) if i == 0 or nodes != views[i - 1]]
    assert changes[-2:] == [[("workers-3", "provisioning")], [("workers-3", "idle")]]
    assert all(name.startswith("workers-provisioning-") for ((name, _),) in changes[:-2])
    joined = state.node("workers-3")
    assert (joined.pool, str(joined.kubelet), joined.ready, joined.phase) == ("workers", "1.14.10", True, "idle")
    assert sorted(n.name for n in state.nodes) == ["workers-1", "workers-2", "workers-3"]


def test_a_provisioned_node_goes_to_the_zone_the_strategy_names(adapter):
    # a zonal volume's zone (models.strategies.zones); without one, each adapter balances the pool's zones: a first
    assert adapter.port.submit(ProvisionNode("test", "workers", V("1.14.10"), "b")).accepted
    state = adapter.wait(lambda s: s.has_node("workers-3") and s.node("workers-3").ready, timeout=900)
    assert (state.node("workers-3").zone, state.node("workers-3").ready) == ("b", True)


def test_a_deleted_node_leaves_the_view(adapter):
    assert adapter.port.submit(DeleteNode("test", "workers-2")).accepted
    state = adapter.wait(lambda s: not s.has_node("workers-2"), timeout=600)
    assert [n.name for n in state.nodes] == ["workers-1"]
