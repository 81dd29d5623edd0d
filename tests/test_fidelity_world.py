"""The world as upstream Kubernetes behaves where the comparison turns (docs/fidelity.md):
container restarts on in-place kubelet upgrades, local volumes of deleted nodes, pod
termination, and the node lifecycle controller's rate limits. Times follow from the constant
timings of tests/fidelity_scenario.py."""

import pytest

from models import compat
from models.version import parse_version as V
from tests.fidelity_scenario import events, run, world

HASH_1_31 = ("the kubelet hashes only some of a container's fields from 1.31 (KK#124220) "
             "(KK#124220, KK#129385, KK#129659)")


# -- 1. in-place kubelet upgrades restart containers when upstream does --------------------------


@pytest.mark.parametrize("old, new, row", [
    ("1.30.4", "1.31.2", "KK#124220, KK#129385, KK#129659"),
    ("1.29.4", "1.31.2", "KK#124220, KK#129385, KK#129659"),  # a skip-level upgrade crosses 1.30 -> 1.31
    ("1.13.4", "1.14.10", "KK#84443"),
    ("1.12.1", "1.14.10", "KK#84443"),
    ("1.11.3", "1.12.3", "KK#72296"),
    ("1.7.1", "1.8.0", "KK#53644"),
    ("1.1.3", "1.2.0", "KK#23104"),
    ("1.29.4", "1.30.2", None),
    ("1.31.0", "1.33.1", None),
    ("1.30.1", "1.30.4", None),
], ids=["1.30-1.31", "skip-level-1.29-1.31", "1.13-1.14", "1.12-1.14", "1.11-1.12", "1.7-1.8", "1.1-1.2",
        "1.29-1.30-keeps", "1.31-1.33-keeps", "patch-keeps"])
def test_the_restart_table(old, new, row):
    found = compat.kubelet_restart(V(old), V(new))
    assert (found.source if found else None, found.restarts if found else None) == (
        row, compat.ALL_CONTAINERS if row else None)


@pytest.mark.parametrize("sets, restarted, reason", [
    ((), 6, f"kubelet 1.31.2 on general-1 restarts every container: kubelet 1.30 -> 1.31: {HASH_1_31}"),
    (("cluster.version=1.29.4",), 6,
     f"kubelet 1.31.2 on general-1 restarts every container: kubelet 1.29 -> 1.31: {HASH_1_31}"),
    (("cluster.version=1.29.4", "target=1.30.2"), 0, None),
    (("inplaceRestarts=never",), 0, None),
    (("cluster.version=1.29.4", "target=1.29.8", "inplaceRestarts=always"), 6,
     "kubelet 1.29.8 on general-1 restarts every container: inplaceRestarts: always"),
], ids=["1.30-to-1.31-restarts-all", "skip-level-restarts-all", "1.29-to-1.30-keeps-them", "never", "always"])
def test_an_in_place_roll_restarts_every_container_when_the_new_kubelet_would(sets, restarted, reason):
    r = run("inplace", *sets)
    m = r.metrics
    assert (r.completed, m["pods_restarted"]) == (True, restarted)  # web 3 and agent 3, one of each per node
    assert (m["pods_evicted"], m["pods_rescheduled"], m["node_ip_changes"]) == (0, 0, 0)  # pods stay where they are
    said = events(r.world, "restarts every container")
    assert (said[0][1] if said else None) == reason
    assert len(said) == (3 if restarted else 0)


def test_a_restarted_pod_is_not_ready_for_its_start_up_time():
    r = run("inplace")
    (t, _), *_ = events(r.world, "general-1 restarts every container")
    # web-1 on general-1 stops being Ready when the kubelet starts, and is Ready again 5 s later
    assert [s for s in r.world.rec.workloads["default/web"].series if t <= s[0] <= t + 5] == [(t, 2, 3), (t + 5, 3, 3)]
    assert r.metrics["degraded_s"] == 30.0  # 5 s for each of web's and agent's 3 pods


@pytest.mark.parametrize("sets, breaches, degraded", [
    (("workloads[0].pdb={minAvailable: 3}",), 3, 30.0),
    (("workloads[0].pdb={minAvailable: 2}",), 0, 15.0),
    (("workloads[0].pdb={minAvailable: 3}", "inplaceRestarts=never"), 0, 0.0),
], ids=["each-restart-breaches-a-full-budget", "one-pod-at-a-time-keeps-minAvailable-2", "no-restart-no-breach"])
def test_a_restart_below_a_budget_is_an_involuntary_breach_not_a_pdb_violation(sets, breaches, degraded):
    r = run("inplace", *sets)
    m = r.metrics
    assert (m["budget_breaches_involuntary"], m["pdb_violations"], m["degraded_s"]) == (breaches, 0, degraded)
    assert r.workloads["default/web"]["budget_breaches_involuntary"] == breaches


# -- 2. local persistent volumes: a pod whose volume's node is gone waits for a person ----------

DB = "workloads[2]={name: db, kind: StatefulSet, replicas: 1, localStorage: true, startupSeconds: 5}"


def test_a_local_volume_pod_stays_pending_until_the_operator_then_starts_empty():
    r = run("replace", DB, "timing.operatorResponse=600s")
    w = r.world
    drain = next(e.t for e in r.log if e.action == "Drain node/general-1")
    deleted = next(e.t for e in r.log if e.action == "DeleteNode node/general-1")
    assert deleted == drain + 4  # db-0 exits in 3 s, the drain ends, the loop's next look deletes the node
    assert events(w, "db") == [
        (deleted, "pod db-0 is Pending: volume node affinity conflict (its PersistentVolume is pinned to general-1, "
                  "which is gone)"),
        (deleted + 600, "an operator deleted the claim and the pod of default/db ordinal 0: it starts again on a new, "
                        "empty volume")]
    db = r.workloads["default/db"]
    # down from its eviction until the operator (600 s after the node went) plus the image pull and start-up
    assert (db["outage_s"], db["manual_interventions"], db["pods_lost_local_data"]) == (4 + 600 + 4 + 5, 1, 1)
    assert r.metrics["manual_interventions"] == 1
    pod, = w.workloads["default/db"].pods
    assert (pod.node.name, str(pod.node.kubelet), w.workloads["default/db"].volumes) == (
        "general-4", "1.31.2", {0: "general-4"})


def test_without_an_operator_the_pod_stays_pending_for_good():
    r = run("replace", DB, "timing.operatorResponse=never")
    w = r.world
    pod, = w.workloads["default/db"].pods
    assert (pod.state, pod.node, pod.pinned) == ("Pending", None, "general-1")
    drain = next(e.t for e in r.log if e.action == "Drain node/general-1")
    # the upgrade itself completes; the outage lasts until the end of the watch (the hour after it)
    assert (r.completed, r.metrics["manual_interventions"]) == (True, 0)
    assert r.workloads["default/db"]["outage_s"] == round(w.env.now - drain, 3)


def test_the_retired_rebind_field_says_what_replaced_it():
    from sim.scenario import InputError
    with pytest.raises(InputError) as err:
        run("replace", "timing.localVolumeRebind=300s")
    assert [f"{p.path}: {p.message}" for p in err.value.problems] == [
        "timing.localVolumeRebind: 'localVolumeRebind' is no longer part of the format: no volume re-binds by "
        "itself when its node is gone (the pod stays Pending, volume node affinity conflict); give "
        "timing.operatorResponse, the time until a person recovers it, or never"]


# -- 5. pods stop as they really stop ---------------------------------------------------------------


@pytest.mark.parametrize("sets, gone_after", [
    ((), 3.0),
    (("workloads[0].preStopSeconds=10",), 13.0),
    # the kubelet cuts the preStop hook off at 30 s, then gives SIGTERM its 2 s minimum (minimumGracePeriodInSeconds)
    (("workloads[0].preStopSeconds=40",), 32.0),
    (("workloads[0].preStopSeconds=29",), 31.0),
    (("workloads[0].preStopSeconds=29", "timing.podTermination=1s"), 30.0),
    (("timing.podTermination=1h",), 30.0),
    (("timing.podTermination=1h", "workloads[0].gracePeriodSeconds=45"), 45.0),
    (("timing.podTermination=1h", "workloads[0].preStopSeconds=40"), 32.0),
], ids=["exits-on-sigterm", "prestop-then-sigterm", "prestop-cut-off-then-2s-of-sigterm",
        "prestop-leaves-1s-sigterm-gets-2", "exits-within-the-2s", "ignores-sigterm-killed-at-grace", "longer-grace",
        "prestop-cut-off-sigterm-ignored-killed-2s-later"])
def test_an_evicted_pod_goes_when_its_containers_exit_or_its_grace_period_ends(sets, gone_after):
    w = world(*sets)
    w.env.run(until=100)
    node = w.nodes["general-1"]
    web = next(p for p in node.pods if p.workload.spec.name == "web")
    w.evictions.drain(node, timeout_s=0, force=False)
    while web.state != "Gone":
        w.env.step()
    assert w.env.now - 100 == gone_after
    while node.phase == "draining":
        w.env.step()
    assert (w.env.now - 100, node.message) == (gone_after, "drained")  # the drain waits for it, no longer


# -- 6. the node lifecycle controller's rate limits ------------------------------------------------


def crash(w, at, *names):
    w.env.run(until=at)
    for name in names:
        w.node_ops.crash(w.nodes[name], None)


def tainted(w):
    return [(t, text.split()[1]) for t, text in events(w, "tainted NoExecute")]


@pytest.mark.parametrize("sets, crashed, expected", [
    ((), ("general-1", "general-2"), [(140.0, "general-1"), (140.0, "general-2")]),
    (("cluster.nodePools[0].count=10", "cluster.nodePools[0].zones=[a]"), ("general-1", "general-2"),
     [(140.0, "general-1"), (150.0, "general-2")]),
    (("cluster.nodePools[0].count=10", "cluster.nodePools[0].zones=[a]"), tuple(f"general-{i}" for i in range(1, 7)),
     []),
    (("cluster.nodePools[0].count=60", "cluster.nodePools[0].zones=[a]"), tuple(f"general-{i}" for i in range(1, 35)),
     [(140.0, "general-1"), (240.0, "general-2"), (340.0, "general-3"), (440.0, "general-4")]),
], ids=["each-zone-its-own-limiter", "normal-zone-one-node-per-10s", "small-zone-partially-disrupted-evicts-nothing",
        "large-zone-partially-disrupted-one-per-100s"])
def test_not_ready_nodes_are_tainted_at_the_zone_rate(sets, crashed, expected):
    # --node-eviction-rate 0.1/s per zone; a zone with more than 2 and at least 55% of its nodes NotReady is
    # partially disrupted: --secondary-node-eviction-rate 0.01/s above 50 nodes, nothing at or below
    w = world(*sets)
    crash(w, 100, *crashed)
    w.env.run(until=450)
    assert tainted(w) == expected


def test_the_pods_of_a_tainted_node_go_when_their_toleration_ends():
    w = world()
    crash(w, 100, "general-1")
    w.env.run(until=439.9)
    assert sorted(p.state for p in w.nodes["general-1"].pods) == ["Running", "Running"]
    w.env.run(until=441)
    assert sorted((p.workload.spec.name, p.state) for p in w.nodes["general-1"].pods) == [
        ("agent", "Running"), ("web", "Terminating")]  # DaemonSet pods tolerate the taint for good


def test_no_evictions_while_every_zone_is_fully_disrupted():
    # a one-zone cluster: general-1 fails first and is tainted at 140 s; when the other two go too, every zone
    # is fully disrupted, the controller stops evicting and removes its taints: nobody is evicted at 440 s
    w = world("cluster.nodePools[0].zones=[a]")
    crash(w, 100, "general-1")
    crash(w, 200, "general-2", "general-3")
    w.env.run(until=2000)
    assert tainted(w) == [(140.0, "general-1")]
    assert events(w, "node lifecycle:") == [
        (240.0, "node lifecycle: every zone is fully disrupted; no evictions, and the NoExecute taints are removed")]
    assert [p.state for p in sorted(w.workloads["default/web"].pods)] == ["Running"] * 3


# -- 7. StatefulSets recreate pods as their pod management policy says -------------------------------

SET = "workloads[2]={name: db, kind: StatefulSet, replicas: 3, startupSeconds: 5, podManagementPolicy: %s}"


def ordinal(w, n):
    return next(p for p in w.workloads["default/db"].pods if p.ordinal == n)


@pytest.mark.parametrize("policy, series", [
    # OrderedReady (KK stateful_set_control.go processReplica): db-0 is created when it is gone (103 s) and
    # Ready 5 s later; db-2 only then ("StatefulSet is waiting for Pod to be Running and Ready"), Ready at 113 s
    ("OrderedReady", [(100, 2, 3), (100, 1, 3), (108.0, 2, 3), (113.0, 3, 3)]),
    ("Parallel", [(100, 2, 3), (100, 1, 3), (108.0, 2, 3), (108.0, 3, 3)]),
], ids=["ordered-ready-one-at-a-time", "parallel-both-at-once"])
def test_a_stateful_set_recreates_its_missing_ordinals_in_order_unless_parallel(policy, series):
    w = world(SET % policy)
    w.env.run(until=100)
    w.pods.terminate(ordinal(w, 0))
    w.pods.terminate(ordinal(w, 2))  # both exit 3 s later
    w.env.run(until=200)
    assert [s for s in w.rec.workloads["default/db"].series if s[0] >= 100] == series
    assert sorted(p.name for p in w.workloads["default/db"].pods) == ["db-0", "db-1", "db-2"]


@pytest.mark.parametrize("policy, left, series", [
    # db-1's node crashed (NotReady at 140 s, db-1 not Ready, Terminating for good after its toleration):
    # OrderedReady never recreates db-2 past it; Parallel does once db-2 is gone (153 s), Ready at 158 s
    ("OrderedReady", ["db-0", "db-1"], [(140.0, 2, 3), (150, 1, 3)]),
    ("Parallel", ["db-0", "db-1", "db-2"], [(140.0, 2, 3), (150, 1, 3), (158.0, 2, 3)]),
], ids=["ordered-ready-waits-behind-a-not-ready-pod", "parallel-does-not"])
def test_an_ordered_stateful_set_creates_nothing_past_a_pod_that_is_not_ready(policy, left, series):
    w = world(SET % policy)
    w.env.run(until=100)
    w.node_ops.crash(w.nodes["general-2"], None)  # db-1's
    w.env.run(until=150)
    w.pods.terminate(ordinal(w, 2))
    w.env.run(until=1000)
    assert sorted(p.name for p in w.workloads["default/db"].pods) == left
    assert (ordinal(w, 1).state, ordinal(w, 1).node.name) == ("Terminating", "general-2")
    assert [s for s in w.rec.workloads["default/db"].series if s[0] >= 100] == series


# -- 8. the node-monitor grace period is the leading controller-manager's -------------------------

def not_ready(w, name):
    return [t for t, text in events(w, f"node {name} NotReady")]


@pytest.mark.parametrize("controller_managers, expected", [
    ("1.31.4", [140.0]),  # apiservers at 1.32, controller-managers still 1.31: its 40 s, not 1.32's 50 s
    ("1.32.2", [150.0]),
], ids=["apiservers-1.32-controller-manager-1.31-40s", "controller-manager-1.32-50s"])
def test_the_grace_period_is_the_controller_managers_default_not_the_apiservers(controller_managers, expected):
    w = world("cluster.version=1.31.4", "target=1.32.2", "timing.controllerInstance=10s")
    for i in range(3):
        w.cp.upgrade(f"kube-apiserver-{i}", V("1.32.2"), surge=True)
    if controller_managers == "1.32.2":
        for i in range(3):
            w.cp.upgrade(f"kube-controller-manager-{i}", V("1.32.2"), surge=True)
    w.env.run(until=100)
    assert str(w.cp.oldest_apiserver()) == "1.32.2"
    w.node_ops.crash(w.nodes["general-2"], None)
    w.env.run(until=300)
    assert not_ready(w, "general-2") == expected


@pytest.mark.parametrize("upgrade_at, expected", [
    (120, [175.0]),  # leader gone at 120 s, kube-controller-manager-1 leads at 135 s (lease 15 s): 135 + 40
    (139, [194.0]),  # a second before the old leader would have marked it: 154 + 40
], ids=["failover-restarts-the-count", "failover-just-before-the-deadline"])
def test_a_new_controller_manager_leader_counts_the_grace_period_from_its_start(upgrade_at, expected):
    # tryUpdateNodeHealth: "Missing timestamp for Node. Assuming now as a timestamp" (probeTimestamp: nc.now())
    w = world()
    w.env.run(until=100)
    w.node_ops.crash(w.nodes["general-2"], None)
    w.env.run(until=upgrade_at)
    w.cp.upgrade("kube-controller-manager-0", V("1.31.2"))
    w.env.run(until=600)
    assert (not_ready(w, "general-2"), w.cp.leaders["kube-controller-manager"]) == (expected, "kube-controller-manager-1")


# -- 9. CrashLoopBackOff as the kubelet backs off --------------------------------------------------

def test_the_crash_back_off_sequence():
    from sim.world.pods import crash_backoff_s
    assert [crash_backoff_s(n) for n in range(1, 10)] == [0.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0, 300.0, 300.0]


@pytest.mark.parametrize("startup, starts", [
    # fails 5 s after each start: restarted at once, then after 10, 20, 40, 80, 160, 300, 300 s
    (5, [50, 55, 70, 95, 140, 225, 390, 695, 1000]),
    # fails after 700 s of running: more than 10 min since the back-off last moved, so it starts over each time
    (700, [50, 750, 1450, 2150, 2850]),
], ids=["doubling-to-5-min", "reset-after-10-min-running"])
def test_a_crash_looping_container_is_restarted_as_the_kubelet_backs_off(startup, starts):
    w = world("faults=[{type: pod-startup-failure, probability: 1.0, target: workload/web}]",
              f"workloads[0].startupSeconds={startup}")
    w.env.run(until=50)
    w.pods.terminate(min(w.workloads["default/web"].pods))  # its replacement, web-4, is created at 50 s
    seen = []
    create = w.pods._create_containers

    def spy(pod, attempt, gen):
        if pod.name == "web-4":
            seen.append(w.env.now)
        create(pod, attempt, gen)

    w.pods._create_containers = spy
    w.env.run(until=starts[-1] + 1)
    assert seen == starts
