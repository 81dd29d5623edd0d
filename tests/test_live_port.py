"""The live adapter's own promises: a hook's success counts once the cluster shows it; a failed
delete hook leaves the node for another try; a drain does not wait for pods a dead node cannot stop."""

import sys
import time

from models.actions import DeleteNode, Drain, UpgradeNodeInPlace
from models.version import parse_version as V
from sim.adapters.kube_client import Kube
from sim.adapters.kubeconfig import load_config
from sim.adapters.live import LivePort
from sim.scenario import load_scenario
from sim.scenario.model import LiveSettings
from sim.simulate import world_for
from tests.kube_harness import FAST_RETRY, KubeHarness
from tests.kube_objects import POOL_LABEL, objects_from_world

HOOK = f"{sys.executable} tests/live_hooks.py"


def port_for(server, tmp_path, hooks, timeout=30.0):
    config = load_config(server.kubeconfig(tmp_path / "kc"), None)
    settings = LiveSettings(pool_label=POOL_LABEL, hooks=hooks, hook_timeout_s=timeout, poll_interval_s=0.2)
    return LivePort(lambda: Kube(config, retry=FAST_RETRY), settings, {"workers": 2}, log=lambda text: None, eviction_retry_s=0.2,
                    reconcile_interval_s=0.05)


def wait(port, until, timeout=20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        state = port.observe()
        if until(state):
            return state
        time.sleep(0.1)
    return port.observe()


def world():
    return world_for(load_scenario("scenarios/seed-example.yaml"), seed=1)


def test_an_upgrade_counts_once_the_kubelet_reports_it(tmp_path, monkeypatch):
    with KubeHarness(objects_from_world(world())) as server:
        monkeypatch.setenv("MIDAIR_TEST_SERVER", server.url)
        port = port_for(server, tmp_path, (("upgradeNode", f"{HOOK} upgrade-node-later {{node}} {{version}} 2"),))
        try:
            port.submit(UpgradeNodeInPlace("test", "workers-1", V("1.15.12")))
            state = wait(port, lambda s: "waiting for the kubelet" in s.node("workers-1").message)
            assert (state.node("workers-1").phase, str(state.node("workers-1").kubelet)) == ("upgrading", "1.14.10")
            state = wait(port, lambda s: s.node("workers-1").phase == "idle")
            assert str(state.node("workers-1").kubelet) == "1.15.12"
        finally:
            port.close()


def test_a_hook_that_never_shows_fails_after_the_hook_timeout(tmp_path, monkeypatch):
    with KubeHarness(objects_from_world(world())) as server:
        monkeypatch.setenv("MIDAIR_TEST_SERVER", server.url)
        port = port_for(server, tmp_path, (("upgradeNode", "true"),), timeout=1.0)
        try:
            port.submit(UpgradeNodeInPlace("test", "workers-2", V("1.15.12")))
            state = wait(port, lambda s: s.node("workers-2").phase == "upgrade-failed")
            assert state.node("workers-2").message == ("the upgradeNode hook succeeded but the kubelet still reports "
                                                       "1.14.10 after 1s")
        finally:
            port.close()


def test_a_failed_delete_hook_leaves_the_node(tmp_path, monkeypatch):
    with KubeHarness(objects_from_world(world())) as server:
        monkeypatch.setenv("MIDAIR_TEST_SERVER", server.url)
        port = port_for(server, tmp_path, (("deleteNode", f"{HOOK} fail 'no such instance'"),))
        try:
            port.submit(DeleteNode("test", "workers-2"))
            state = wait(port, lambda s: s.node("workers-2").phase == "idle")
            assert state.node("workers-2").phase == "idle"
            assert server.get("v1/nodes", None, "workers-2") is not None
        finally:
            port.close()


def test_a_drain_does_not_wait_for_pods_a_notready_node_cannot_stop(tmp_path):
    objects = objects_from_world(world())
    node = objects[("v1/nodes", None, "workers-2")]
    node["status"]["conditions"] = [{"type": "Ready", "status": "Unknown"}]
    for key, obj in objects.items():  # its pods are already being deleted, and will never finish
        if key[0] == "v1/pods" and obj["spec"].get("nodeName") == "workers-2":
            obj["metadata"]["deletionTimestamp"] = "2026-11-25T10:00:00Z"
    with KubeHarness(objects) as server:
        port = port_for(server, tmp_path, ())
        try:
            port.submit(Drain("test", "workers-2", timeout_s=30.0))
            state = wait(port, lambda s: s.node("workers-2").phase != "draining")
            assert (state.node("workers-2").phase, state.node("workers-2").message) == ("idle", "")
        finally:
            port.close()


def test_a_forced_drain_deletes_only_what_its_budget_refuses_and_reports_it(tmp_path):
    objects = objects_from_world(world())
    objects[("policy/v1/poddisruptionbudgets", "default", "web-pdb")]["status"].update(disruptionsAllowed=0,
                                                                                        desiredHealthy=2)
    on_node = sorted(key[2] for key, obj in objects.items()
                     if key[0] == "v1/pods" and obj["spec"].get("nodeName") == "workers-1")
    lines: list[str] = []
    with KubeHarness(objects) as server:
        config = load_config(server.kubeconfig(tmp_path / "kc"), None)
        settings = LiveSettings(pool_label=POOL_LABEL, poll_interval_s=0.2)
        port = LivePort(lambda: Kube(config, retry=FAST_RETRY), settings, {"workers": 2}, log=lines.append, eviction_retry_s=0.2,
                        reconcile_interval_s=0.05)
        try:
            port.submit(Drain("test", "workers-1", timeout_s=30.0, force=True))
            state = wait(port, lambda s: s.node("workers-1").phase != "draining")
            assert state.node("workers-1").phase == "idle"
            evicted = sorted(name for name, code in server.call(lambda: list(server.km.evictions)) if code == 201)
            refused = sorted(name for name, code in server.call(lambda: list(server.km.evictions)) if code == 429)
        finally:
            port.close()
    web = [n for n in on_node if n.startswith("web-")]
    assert refused == web  # asked first, refused by its budget, then deleted
    assert [line for line in lines if "violation" in line] == [
        *(f"drain workers-1: deleted pod default/{n} although its budget refused the eviction (Cannot evict pod "
          "as it would violate the pod's disruption budget. (The disruption budget web-pdb needs 2 healthy pods and "
          "has 2 currently)): a PodDisruptionBudget violation (undrainable: force)" for n in web),
        f"drain workers-1: {len(web)} PodDisruptionBudget violation(s): {', '.join(f'default/{n}' for n in web)}"]
    assert evicted == sorted(n for n in on_node if not n.startswith(("web-", "node-exporter-")))
