"""The simulated cluster's Kubernetes behaviours, one at a time, at exact simulated times.

Some tests drive a ``World`` directly (no strategy in the way: the behaviour alone, stepped
event by event); the others run a whole upgrade with a fixed seed and look at what it left.
"""

from collections import Counter

import pytest

from models.version import parse_version as V
from sim.scenario import load_scenario_text
from sim.simulate import simulate
from sim.simulate import world_for
from sim.world import World
from sim.world.entities import RUNNING, TERMINATING

SEED = 1

CLUSTER = """
apiVersion: midair/v1alpha1
kind: Scenario
metadata: {name: behaviours}
cluster:
  version: "1.29.4"
  controlPlane: {apiservers: 3}
  nodePools: [{name: general, count: 3, zones: [a, b, c]}]
  addons: {corednsReplicas: 0}
workloads:
  - {name: web, replicas: 3, startupSeconds: 5}
  - {name: slow, replicas: 3, startupSeconds: 5, gracePeriodSeconds: 45}
  - {name: agent, kind: DaemonSet}
target: "1.29.8"
# podTermination 1h: these pods ignore SIGTERM, so each takes its whole grace period to go
timing: {controlPlaneInstance: 60s, controllerInstance: 30s, imagePull: 4s, nodeProvision: 60s, podTermination: 1h}
strategies: [{name: inplace, maxUnavailable: 1}, {name: replace, maxSurge: 1, maxUnavailable: 0}]
"""


def scenario(*sets):
    return load_scenario_text(CLUSTER, "behaviours.yaml", sets)


def world(*sets) -> World:
    return world_for(scenario(*sets), SEED)


def run(label, *sets):
    sc = scenario(*sets)
    return simulate(sc, sc.strategy(label), SEED, keep_world=True)


def step_until(w: World, done, limit: float) -> float:
    """Process events one by one until ``done()`` holds; the simulated time it first held."""
    while not done():
        assert w.env.peek() <= limit, f"still not done at {limit}s"
        w.env.step()
    return w.env.now


def spy_on_pods(w: World) -> list:
    """Record (time, what, pod) for every graceful deletion started and every pod gone."""
    seen = []
    terminate, gone = w.pods.terminate, w.pods.gone

    def spy_terminate(pod):
        seen.append((w.env.now, "terminate", pod.name))
        terminate(pod)

    def spy_gone(pod):
        seen.append((w.env.now, "gone", pod.name))
        gone(pod)

    w.pods.terminate, w.pods.gone = spy_terminate, spy_gone
    return seen


def pods_of(w, workload):
    return sorted((p.name, p.node.name if p.node else None, p.state) for p in w.workloads[f"default/{workload}"].pods)


# -- 1. leader election -------------------------------------------------------------------------


def leader_timeline(w: World, component: str, until: float) -> list:
    timeline = [(w.env.now, w.cp.leaders[component])]
    while w.env.peek() < until:
        w.env.step()
        if w.cp.leaders[component] != timeline[-1][1]:
            timeline.append((w.env.now, w.cp.leaders[component]))
    return timeline


@pytest.mark.parametrize("component", ["kube-controller-manager", "kube-scheduler"])
@pytest.mark.parametrize("restart, new_leader", [("30s", "1"), ("10s", "0")],
                         ids=["restart-outlasts-lease", "restart-within-lease"])
def test_leader_restarted_for_its_upgrade_leaves_no_leader_for_the_lease_duration(component, restart, new_leader):
    # Leader election: a stopped leader's lease must expire (15 s) before anyone, even itself restarted, leads.
    w = world(f"timing.controllerInstance={restart}")
    w.env.run(until=100)
    w.cp.upgrade(f"{component}-0", V("1.29.8"))
    assert leader_timeline(w, component, until=300) == [
        (100, f"{component}-0"), (100, None), (115.0, f"{component}-{new_leader}")]
    assert w.cp.instances[f"{component}-0"].version == V("1.29.8")


@pytest.mark.parametrize("component", ["kube-controller-manager", "kube-scheduler"])
def test_upgrading_a_non_leader_keeps_the_leader(component):
    # Leader election: only the lease holder's absence opens a gap; a follower restarting changes nothing.
    w = world()
    w.cp.upgrade(f"{component}-2", V("1.29.8"))
    assert leader_timeline(w, component, until=300) == [(0, f"{component}-0")]


def test_no_controller_acts_while_the_controller_manager_lease_is_vacant():
    # Leader election: controllers run in the leader only, so a pod deleted in the gap is replaced at 15 s.
    w = world()
    w.env.run(until=100)
    w.cp.upgrade("kube-controller-manager-0", V("1.29.8"))
    w.env.run(until=101)
    web = w.workloads["default/web"]
    pod = min(web.pods)
    w.pods.terminate(pod)  # deleted through the API (still up): Terminating for its 30 s grace period
    assert (pod.name, pod.state, len(web.pods) - web.terminating) == ("web-1", TERMINATING, 2)
    step_until(w, lambda: len(web.pods) - web.terminating == 3, limit=200)
    assert (w.env.now, w.cp.leaders["kube-controller-manager"]) == (115.0, "kube-controller-manager-1")
    assert [name for name, _, _ in pods_of(w, "web")] == ["web-1", "web-2", "web-3", "web-4"]  # web-4: its replacement


# -- 2. zone spreading --------------------------------------------------------------------------


@pytest.mark.parametrize("replicas, nodes, zones, expected", [
    (6, 3, "[a, b, c]", {"a": 2, "b": 2, "c": 2}),
    (7, 3, "[a, b, c]", {"a": 3, "b": 2, "c": 2}),
    (6, 6, "[a, b, c]", {"a": 2, "b": 2, "c": 2}),
    (4, 4, "[a, b]", {"a": 2, "b": 2}),
], ids=["6-over-3-zones", "7-over-3-zones-first-zone-gets-the-extra", "6-over-6-nodes-in-3-zones", "4-over-2-zones"])
def test_deployment_pods_spread_evenly_over_zones(replicas, nodes, zones, expected):
    # Scheduler zone spreading (topology spread by zone): each pod goes to the zone with the fewest of its pods.
    w = world(f"workloads[0].replicas={replicas}", f"cluster.nodePools[0].count={nodes}",
              f"cluster.nodePools[0].zones={zones}")
    web = w.workloads["default/web"]
    assert dict(Counter(p.node.zone for p in web.pods)) == expected
    assert {z: c for z, c in web.zone_counts.items() if c} == expected
    assert sorted(p.state for p in web.pods) == [RUNNING] * replicas


def test_pods_land_one_per_node_when_zones_have_several_nodes():
    # Scheduler spreading: within a zone the least-allocated node wins, so 6 pods on 6 nodes land one per node.
    w = world("workloads[0].replicas=6", "cluster.nodePools[0].count=6")
    assert sorted(Counter(p.node.name for p in w.workloads["default/web"].pods).values()) == [1] * 6


# -- 3 and 4. a replacement upgrade: bare pods and DaemonSets -----------------------------------

BARE = ["workloads[3]={name: solo, kind: Pod, replicas: 2, startupSeconds: 5}"]


@pytest.fixture(scope="module")
def replaced():
    return run("replace", *BARE)


def test_replacement_upgrade_completes(replaced):
    # Rolling replacement (maxSurge 1): every old node is replaced by one at the target.
    assert (replaced.completed, replaced.halted) == (True, None)
    assert sorted((n.name, str(n.kubelet)) for n in replaced.world.nodes.values()) == [
        ("general-4", "1.29.8"), ("general-5", "1.29.8"), ("general-6", "1.29.8")]


def test_bare_pods_are_never_recreated_after_their_node_is_replaced(replaced):
    # Bare pods (no controller): evicted by the drain, nothing recreates them.
    w = replaced.world
    solo = w.workloads["default/solo"]
    assert pods_of(w, "solo") == []
    assert (solo.next_index, solo.ready, solo.desired) == (2, 0, 2)  # only solo-1 and solo-2 ever existed
    assert replaced.log[-1].reason == "every component is at the target"
    # the Deployment's evicted pods were replaced meanwhile
    assert len(pods_of(w, "web")) == 3
    assert {state for _, _, state in pods_of(w, "web")} == {RUNNING}


def test_daemonset_runs_exactly_one_pod_per_node_after_a_replacement(replaced):
    # DaemonSet controller: one pod per eligible node; new nodes get one, deleted nodes lose theirs.
    w = replaced.world
    assert pods_of(w, "agent") == [("agent-4", "general-4", RUNNING), ("agent-5", "general-5", RUNNING),
                                   ("agent-6", "general-6", RUNNING)]
    agent = w.workloads["default/agent"]
    assert (agent.desired, agent.ready) == (3, 3)
    # with maxSurge 1 the pool had four nodes at its peak, and so four DaemonSet pods were wanted
    assert max(desired for _, _, desired in w.rec.workloads["default/agent"].series) == 4


# -- 5. graceful termination --------------------------------------------------------------------


def test_evicted_pods_take_their_grace_period_to_terminate_and_the_drain_waits_for_them():
    # Graceful termination: evicted pods go after terminationGracePeriodSeconds (30 s default, 45 s); the drain waits.
    w = world()
    seen = spy_on_pods(w)
    w.env.run(until=100)
    node = w.nodes["general-1"]
    w.evictions.drain(node, timeout_s=0, force=False)
    finished = step_until(w, lambda: node.phase == "idle", limit=1000)
    assert finished == 145.0
    assert (node.message, node.schedulable) == ("drained", False)
    assert seen == [(100, "terminate", "web-1"), (100, "terminate", "slow-1"),
                    (130.0, "gone", "web-1"), (145.0, "gone", "slow-1")]
    assert sorted(p.name for p in node.pods) == ["agent-1"]


def test_an_evicted_pod_is_terminating_until_the_grace_period_ends():
    # Graceful termination: not Ready at once, still on its node until the grace period ends.
    w = world()
    w.env.run(until=100)
    node = w.nodes["general-1"]
    web1 = next(p for p in node.pods if p.name == "web-1")
    w.evictions.drain(node, timeout_s=0, force=False)
    w.env.run(until=129.999)
    assert (web1.state, web1.ready, web1.node.name) == (TERMINATING, False, "general-1")
    gone = step_until(w, lambda: web1.state == "Gone", limit=200)
    assert gone == 130.0


# -- 6. controllers wait for the API ------------------------------------------------------------


@pytest.mark.parametrize("apiservers, not_ready_at, evicted_at, api_events", [
    (3, 50.0, 350.0, []),
    (1, 642.0, 942.0, [(0, "API unavailable"), (600.0, "API available")]),
], ids=["api-up", "api-down-during-the-only-apiserver-upgrade"])
def test_node_lifecycle_evictions_wait_until_the_api_is_back(apiservers, not_ready_at, evicted_at, api_events):
    # Controllers need the API: the node lifecycle controller marks the node NotReady only once the API is back
    # (600 s) and a leader is elected (+2 s), and counts the 40 s grace period from its own start (a new leader
    # "assumes now" as every node's heartbeat time: tryUpdateNodeHealth); the 300 s toleration counts from the
    # taint, so eviction is at 602 + 40 + 300 = 942 s.
    w = world(f"cluster.controlPlane.apiservers={apiservers}", "timing.controlPlaneInstance=600s")
    seen = spy_on_pods(w)
    w.cp.upgrade("kube-apiserver-0", V("1.29.8"))
    w.env.run(until=10)
    w.node_ops.crash(w.nodes["general-2"], None)
    w.env.run(until=1000)
    assert [e for e in seen if e[1] == "terminate"] == [(evicted_at, "terminate", "web-2"),
                                                        (evicted_at, "terminate", "slow-2")]
    # one node of its zone: the zone is fully disrupted, the others are not, so it is tainted at once
    tainted = evicted_at - 300
    assert sorted(w.rec.events) == sorted([*api_events, (10, "node general-2 crashed"),
                                           (not_ready_at, "node general-2 NotReady"),
                                           (tainted, "node general-2 tainted NoExecute by the node lifecycle controller")])
    # the ReplicaSets replace the evicted pods at once; they are Ready after the 5 s start-up
    assert w.rec.workloads["default/web"].series[-2:] == [(not_ready_at, 2, 3), (evicted_at + 5, 3, 3)]


# -- 7. node failure ----------------------------------------------------------------------------


@pytest.mark.parametrize("version, target, not_ready_at, evicted_at", [
    ("1.29.4", "1.29.8", 140.0, 440.0),
    ("1.32.0", "1.32.2", 150.0, 450.0),
], ids=["1.29-grace-40s", "1.32-grace-50s"])
def test_crashed_node_pods_are_evicted_after_grace_and_toleration(version, target, not_ready_at, evicted_at):
    # Node lifecycle: NotReady after node-monitor-grace-period (40 s; 50 s from 1.32), evicted 300 s later.
    w = world(f"cluster.version={version}", f"target={target}")
    seen = spy_on_pods(w)
    w.env.run(until=100)
    w.node_ops.crash(w.nodes["general-2"], None)
    w.env.run(until=1000)
    assert w.rec.events == [(100, "node general-2 crashed"), (not_ready_at, "node general-2 NotReady"),
                            (not_ready_at, "node general-2 tainted NoExecute by the node lifecycle controller")]
    assert seen == [(evicted_at, "terminate", "web-2"), (evicted_at, "terminate", "slow-2")]
    # the pods stay Terminating: a dead kubelet never confirms them gone; the DaemonSet pod is not evicted
    assert sorted((p.name, p.state) for p in w.nodes["general-2"].pods) == [
        ("agent-2", RUNNING), ("slow-2", TERMINATING), ("web-2", TERMINATING)]
    # their replacements run on the surviving nodes
    assert [n for n, node, _ in pods_of(w, "web") if node == "general-2"] == ["web-2"]
    assert len(pods_of(w, "web")) == 4


# -- 8. in-place upgrade of the container runtime ---------------------------------------------

RUNTIME = ["cluster.nodePools[0].runtime=containerd://1.6.20", "cluster.nodePools[0].targetRuntime=containerd://1.7.20"]


def test_inplace_upgrade_with_target_runtime_upgrades_it_and_restarts_every_container():
    # Runtime upgrade: every container on the node restarts (web, slow, agent x 3 nodes = 9); no pod moves.
    r = run("inplace", *RUNTIME)
    assert (r.completed, r.halted) == (True, None)
    assert (r.metrics["pods_restarted"], r.metrics["pods_evicted"], r.metrics["pods_rescheduled"]) == (9, 0, 0)
    assert sorted((n.name, n.runtime, str(n.kubelet)) for n in r.world.nodes.values()) == [
        ("general-1", "containerd://1.7.20", "1.29.8"), ("general-2", "containerd://1.7.20", "1.29.8"),
        ("general-3", "containerd://1.7.20", "1.29.8")]
    assert pods_of(r.world, "web") == [("web-1", "general-1", RUNNING), ("web-2", "general-2", RUNNING),
                                       ("web-3", "general-3", RUNNING)]


def test_inplace_upgrade_without_target_runtime_restarts_no_container():
    # kubelet restart: containers keep running when only the kubelet is replaced.
    r = run("inplace", "cluster.nodePools[0].runtime=containerd://1.6.20")
    assert (r.completed, r.metrics["pods_restarted"]) == (True, 0)
    assert {n.runtime for n in r.world.nodes.values()} == {"containerd://1.6.20"}
