"""Pods that cannot be placed, as kube-scheduler leaves them (docs/fidelity.md, scheduling): required
anti-affinity, topology spread with DoNotSchedule, taints and tolerations, node affinity, priorities and
preemption. Times follow from the constant timings of tests/fidelity_scenario.py: a drain's evicted pod
exits in 3 s; a node is deleted 30 s after it is asked; a new node joins 60 s after it is asked."""

import pytest

from tests.fidelity_scenario import events, run, world

APART = ("workloads[0].affinity={{podAntiAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: "
         "[{{topologyKey: {}, labelSelector: {{matchLabels: {{app: web}}}}}}]}}}}")
HOST, ZONE = "kubernetes.io/hostname", "topology.kubernetes.io/zone"
SPREAD = ("workloads[0].topologySpreadConstraints=[{{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, "
          "whenUnsatisfiable: {}, labelSelector: {{matchLabels: {{app: web}}}}}}]")


# -- required anti-affinity -------------------------------------------------------------------------


@pytest.mark.parametrize("key, reason", [
    (HOST, "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules"),
    (ZONE, "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules"),
], ids=["one-per-node", "one-per-zone"])
def test_a_pod_with_required_anti_affinity_and_nowhere_to_go_stays_pending_and_is_counted(key, reason):
    # four replicas that must keep apart, on three nodes in three zones: the fourth never runs
    r = run("inplace", "workloads[0].replicas=4", APART.format(key))
    w = r.world
    pending = [p for p in w.workloads["default/web"].pods if p.node is None]
    assert [(p.name, p.state) for p in pending] == [("web-4", "Pending")]
    assert events(w, "is unschedulable") == [(0, f"pod web-4 is unschedulable: {reason}")]
    # Pending from the first attempt (t=0) to the end of the watch after the upgrade
    assert (r.metrics["unschedulable_pod_s"], r.workloads["default/web"]["unschedulable_pod_s"]) == (w.env.now, w.env.now)
    assert (r.metrics["max_pending_pods"], r.completed) == (1, True)


def test_a_drained_node_takes_the_only_place_a_kept_apart_pod_had():
    # three replicas one per node, drained in place one node at a time: each evicted pod waits for its node
    r = run("inplace", APART.format(HOST), "strategies[0].drainFirst=true")
    drains = [e.t for e in r.log if e.action.startswith("Drain")]
    assert len(drains) == 3
    # each replacement is created at the eviction and waits 24 s: the drain (3 s), the four in-place steps (20 s)
    # and the loop's next look, which uncordons the node
    said = events(r.world, "is unschedulable")
    assert [text for _, text in said] == [
        f"pod web-{k} is unschedulable: 0/3 nodes are available: 1 node(s) were unschedulable (cordoned, NotReady or "
        "going away), 2 node(s) didn't match pod anti-affinity rules" for k in (4, 5, 6)]
    assert [t for t, _ in said] == drains
    assert r.metrics["unschedulable_pod_s"] == 3 * 24.0


# -- topology spread --------------------------------------------------------------------------------


def zones_bound(*sets, label="replace"):
    """(the run, [(time, pod, node, zone)] of every web pod bound)."""
    import sim.world.pods as pods

    binds = []
    bind = pods.Pods.bind

    def recorded(self, pod, node, instant=False):
        if pod.workload.spec.name == "web":
            binds.append((self.world.env.now, pod.name, node.name, node.zone))
        return bind(self, pod, node, instant)

    pods.Pods.bind = recorded
    try:
        return run(label, *sets), binds
    finally:
        pods.Pods.bind = bind


def test_a_do_not_schedule_spread_holds_during_a_surge_roll():
    r, binds = zones_bound(SPREAD.format("DoNotSchedule"))
    # each replacement goes to the zone its predecessor left (the surge node there), never past maxSkew 1
    assert binds[3:] == [(435.0, "web-4", "general-4", "a"), (529.0, "web-5", "general-5", "b"),
                         (623.0, "web-6", "general-6", "c")]
    assert (r.metrics["unschedulable_pod_s"], r.completed) == (0.0, True)


@pytest.mark.parametrize("when, waited, placed", [
    # the drained zone a keeps its cordoned node as a domain with 0 pods: b and c would reach a skew of 2, so
    # web-4 waits until general-1 is gone (deleted at 379 s, gone 30 s later), then goes to b
    ("DoNotSchedule", 68.0, (409.0, "web-4", "general-2", "b")),
    ("ScheduleAnyway", 0.0, (375.0, "web-4", "general-2", "b")),
], ids=["do-not-schedule-waits-for-the-drained-domain-to-go", "schedule-anyway-goes-at-once"])
def test_a_roll_without_surge_leaves_a_spread_pod_pending_while_its_zone_is_drained(when, waited, placed):
    r, binds = zones_bound(SPREAD.format(when), "strategies[1].maxSurge=0", "strategies[1].maxUnavailable=1")
    assert binds[3] == placed
    assert (r.workloads["default/web"]["unschedulable_pod_s"], r.metrics["unschedulable_pod_s"]) == (waited, waited)
    if when == "DoNotSchedule":
        assert events(r.world, "web-4 is unschedulable") == [
            (375.0, "pod web-4 is unschedulable: 0/3 nodes are available: 1 node(s) were unschedulable (cordoned, "
                    "NotReady or going away), 2 node(s) didn't match pod topology spread constraints")]


# -- taints, tolerations and node affinity ------------------------------------------------------------------

DEDICATED = "cluster.nodePools[0].taints=[{key: dedicated, value: batch, effect: %s}]"


@pytest.mark.parametrize("sets, placed, reason", [
    ((DEDICATED % "NoSchedule",), 0,
     "0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: batch}"),
    ((DEDICATED % "NoSchedule", "workloads[0].tolerations=[{key: dedicated, value: batch, effect: NoSchedule}]"),
     3, None),
    ((DEDICATED % "NoSchedule", "workloads[0].tolerations=[{operator: Exists}]"), 3, None),
    ((DEDICATED % "NoSchedule", "workloads[0].tolerations=[{key: dedicated, value: other, effect: NoSchedule}]"), 0,
     "0/3 nodes are available: 3 node(s) had untolerated taint {dedicated: batch}"),
    ((DEDICATED % "PreferNoSchedule",), 3, None),  # only preferred: with nowhere else to go, they go there
    (("workloads[0].nodeSelector={disktype: ssd}",), 0,
     "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector"),
    (("workloads[0].nodeSelector={disktype: ssd}", "cluster.nodePools[0].labels={disktype: ssd}"), 3, None),
], ids=["no-schedule-untolerated", "tolerated", "exists-tolerates-all", "other-value", "prefer-no-schedule",
        "node-selector-unmatched", "node-selector-matched"])
def test_taints_tolerations_and_node_selectors(sets, placed, reason):
    w = world(*sets)
    w.env.run(until=1)
    assert sum(1 for p in w.workloads["default/web"].pods if p.node is not None) == placed
    said = events(w, "is unschedulable: ")
    assert (said[0][1].split(": ", 1)[1] if said else None) == reason


@pytest.mark.parametrize("affinity, zones", [
    ("{requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: "
     "[{key: topology.kubernetes.io/zone, operator: In, values: [b]}]}]}}", ["b", "b", "b"]),
    ("{requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: "
     "[{key: topology.kubernetes.io/zone, operator: NotIn, values: [a]}]}]}}", ["b", "b", "c"]),
    ("{preferredDuringSchedulingIgnoredDuringExecution: [{weight: 50, preference: {matchExpressions: "
     "[{key: topology.kubernetes.io/zone, operator: In, values: [c]}]}}]}", ["c", "c", "c"]),
    ("{requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchFields: "
     "[{key: metadata.name, operator: In, values: [general-2]}]}]}}", ["b", "b", "b"]),
], ids=["required-zone-in", "required-zone-not-in", "preferred-zone", "required-node-name"])
def test_node_affinity_places_pods_on_matching_nodes(affinity, zones):
    w = world(f"workloads[0].affinity={{nodeAffinity: {affinity}}}")
    assert sorted(p.node.zone for p in w.workloads["default/web"].pods) == zones


@pytest.mark.parametrize("tolerations, evicted_at", [
    ("[]", 440.0),  # the default 300 s (DefaultTolerationSeconds) after the taint at 140 s
    ("[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 30}]", 170.0),
    ("[{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 30}]", 440.0),
    ("[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}]", None),  # for good
    ("[{operator: Exists}]", None),
    # the taint manager's getMinTolerationTime: the shortest tolerationSeconds wins over a toleration for good
    ("[{operator: Exists}, {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, "
     "tolerationSeconds: 60}]", 200.0),
], ids=["default-300s", "own-30s-unreachable", "not-ready-does-not-apply-to-a-silent-node", "forever", "everything",
        "seconds-beside-forever"])
def test_a_pod_leaves_a_silent_node_when_its_toleration_ends(tolerations, evicted_at):
    # general-1 crashes at 100 s: its kubelet stops posting (unreachable), NotReady and tainted at 140 s
    w = world(f"workloads[0].tolerations={tolerations}")
    node = w.nodes["general-1"]
    web = next(p for p in node.pods if p.workload.spec.name == "web")
    w.env.run(until=100)
    w.node_ops.crash(node, None)
    w.env.run(until=2000)
    assert web.deleted_at == evicted_at


# -- priorities and preemption -------------------------------------------------------------------------

CLASSES = "priorityClasses=[{name: critical, value: 1000, preemptionPolicy: %s}]"
BATCH = "workloads[2]={name: batch, replicas: 3, cpu: 3500m, startupSeconds: 5}"  # fills every node
CRITICAL = "workloads[3]={name: critical, replicas: 1, cpu: 2000m, startupSeconds: 5, priorityClassName: critical}"


def test_preemption_evicts_the_lower_priority_pod_and_the_preemptor_takes_its_room():
    w = world(CLASSES % "PreemptLowerPriority", BATCH, CRITICAL)
    w.env.run(until=30)
    assert events(w, "preempted") == [(0, "pod batch-1 (priority 0) preempted on general-1 for critical-1 "
                                          "(priority 1000)")]
    (critical,) = w.workloads["default/critical"].pods
    # the victim exits in 3 s; the preemptor, nominated to its node, is bound there then
    assert (critical.node.name, critical.started_at, critical.ready) == ("general-1", 3.0, True)
    assert [(p.name, p.node.name if p.node else None) for p in sorted(w.workloads["default/batch"].pods)] == [
        ("batch-2", "general-2"), ("batch-3", "general-3"), ("batch-4", None)]  # its replacement has no room
    assert w.rec.workloads["default/batch"].counters["pods_preempted"] == 1


def test_a_pod_that_may_not_preempt_waits():
    w = world(CLASSES % "Never", BATCH, CRITICAL)
    w.env.run(until=30)
    assert (events(w, "preempted"), [p.node for p in w.workloads["default/critical"].pods]) == ([], [None])
    assert w.rec.counters["pods_preempted"] == 0


def test_the_scheduling_queue_takes_higher_priority_first():
    # two pending pods, room for one: the critical one gets it although the other was created first
    w = world(CLASSES % "Never", "workloads[2]={name: batch, replicas: 3, cpu: 3500m, startupSeconds: 5}",
              "workloads[3]={name: early, replicas: 1, cpu: 2000m, startupSeconds: 5}",
              CRITICAL.replace("workloads[3]", "workloads[4]"))
    w.env.run(until=1)
    w.pods.terminate(next(p for p in w.workloads["default/batch"].pods if p.node.name == "general-2"))
    w.env.run(until=10)
    assert [p.node.name if p.node else None for p in w.workloads["default/critical"].pods] == ["general-2"]
    assert [p.node for p in w.workloads["default/early"].pods] == [None]
