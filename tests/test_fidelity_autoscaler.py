"""cluster-autoscaler as its FAQ and flags describe it (docs/fidelity.md, "Autoscalers"): scale-up
for pods that cannot be placed, scale-down of nodes unneeded for 10 minutes, the scale-down-disabled
annotation, budgets, the pool's minimum, and what it does to an upgrade's fresh surge node unless
the strategy pauses it. Times follow from tests/fidelity_scenario.py: the autoscaler scans every
10 s from 0; a node takes 60 s to join."""

import pytest

from models.autoscaling import PodFacts, pod_blocks_scale_down, utilization
from tests.fidelity_scenario import events, run, world

DISABLED = "cluster-autoscaler.kubernetes.io/scale-down-disabled: 'true'"


@pytest.mark.parametrize("pod, reason", [
    (PodFacts("web-1"), None),
    (PodFacts("agent-1", daemonset=True, controlled=True), None),
    (PodFacts("solo", controlled=False), "pod default/solo is not backed by a controller"),
    (PodFacts("solo", controlled=False, safe_to_evict="true"), None),
    (PodFacts("cache-1", local_storage=True), "pod default/cache-1 has local storage"),
    (PodFacts("coredns-1", namespace="kube-system"),
     "pod kube-system/coredns-1 runs in kube-system without a PodDisruptionBudget"),
    (PodFacts("coredns-1", namespace="kube-system", has_budget=True), None),
    (PodFacts("web-1", has_budget=True, budget_allows=False), "pod default/web-1's PodDisruptionBudget allows no "
                                                             "disruption"),
    (PodFacts("web-1", has_budget=True, budget_allows=False, safe_to_evict="true"),
     "pod default/web-1's PodDisruptionBudget allows no disruption"),
    (PodFacts("web-1", safe_to_evict="false"),
     'pod default/web-1 is annotated cluster-autoscaler.kubernetes.io/safe-to-evict: "false"'),
], ids=["movable", "daemonset-never-blocks", "no-controller", "no-controller-safe-to-evict", "local-storage",
        "kube-system-without-budget", "kube-system-with-budget", "budget-allows-none",
        "safe-to-evict-does-not-override-a-budget", "safe-to-evict-false"])
def test_the_pods_that_keep_a_node_from_scale_down(pod, reason):
    assert pod_blocks_scale_down(pod) == reason


@pytest.mark.parametrize("used, alloc, share", [
    ((1000, 2 * 2**30), (4000, 16 * 2**30), 0.25), ((200, 12 * 2**30), (4000, 16 * 2**30), 0.75),
], ids=["cpu-dominates", "memory-dominates"])
def test_utilization_is_the_larger_of_cpu_and_memory_requests(used, alloc, share):
    assert utilization(*used, *alloc) == share


# -- scale-down ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sets, removed", [
    ((), [(610.0, "general-1", "unneeded for 600s (requests below 0.5 of allocatable, pods fit elsewhere)")]),
    ((f"annotations={{nodes: {{general-1: {{{DISABLED}}}}}}}",),
     [(610.0, "general-2", "unneeded for 600s (requests below 0.5 of allocatable, pods fit elsewhere)")]),
    ((f"annotations={{nodes: {{general-1: {{{DISABLED}}}, general-2: {{{DISABLED}}}, general-3: {{{DISABLED}}}}}}}",),
     []),
    (("workloads[0].pdb={minAvailable: 3}",), []),
    (("workloads[0].replicas=1", "autoscaler={pools: [{name: general, minNodes: 1}]}"),
     [(610.0, "general-2", "empty, unneeded for 600s"), (610.0, "general-3", "empty, unneeded for 600s")]),
    (("autoscaler={pools: [{name: general, minNodes: 2}], scaleDownUnneededTime: 5m}",),
     [(310.0, "general-1", "unneeded for 300s (requests below 0.5 of allocatable, pods fit elsewhere)")]),
], ids=["first-unneeded-node-after-10-minutes", "annotated-node-kept", "every-node-annotated", "budget-allows-none",
        "empty-nodes-in-bulk-down-to-the-minimum", "unneeded-time-flag"])
def test_scale_down_removes_nodes_unneeded_for_its_delay_down_to_the_pools_minimum(sets, removed):
    w = world("autoscaler={pools: [{name: general, minNodes: 2}]}", *sets)
    w.env.run(until=1500)
    said = [(t, e.removeprefix("cluster-autoscaler: scale-down of ")) for t, e in events(w, "scale-down of")]
    assert said == [(t, f"{n} in pool general: {why}") for t, n, why in removed]
    assert w.rec.counters["nodes_scaled_down"] == len(removed)
    assert sorted(w.nodes) == sorted({"general-1", "general-2", "general-3"} - {n for _, n, _ in removed})


# -- scale-up ----------------------------------------------------------------------------------------------


def test_pods_pending_for_lack_of_room_get_a_node_at_the_next_scan():
    w = world("autoscaler={}", "workloads[0].cpu=3")  # one web pod fills a node
    w.env.run(until=100)
    w.evictions.drain(w.nodes["general-1"], 0, False)  # web-1 is replaced; its new pod fits nowhere
    w.env.run(until=400)
    assert events(w, "cluster-autoscaler") == [
        (110.0, "cluster-autoscaler: scale-up: 1 node(s) in pool general at 1.30.4 for pods that could not be placed")]
    assert (w.rec.counters["nodes_scaled_up"], w.nodes["general-4"].created_at, w.sched.pending) == (1, 110.0, 0)


# -- the upgrade's fresh surge node ------------------------------------------------------------------------------


@pytest.mark.parametrize("pause, removed, annotated", [
    (False, [(1040.0, "cluster-autoscaler: general-4 was added by the upgrade 665s ago; the autoscaler removes it")],
     0),
    (True, [], 4),
], ids=["unpaused-the-idle-surge-node-goes-after-its-delay", "paused-it-stays"])
def test_the_autoscaler_deletes_an_idle_surge_node_after_its_delay_unless_paused(pause, removed, annotated):
    # web's budget blocks the drain of general-1, so surge node general-4 (joined at 435 s) stays idle
    r = run("surge", f"strategies=[{{name: surge, maxSurge: 1, maxUnavailable: 0, drainTimeout: 0, undrainable: wait, "
                     f"pauseAutoscaler: {str(pause).lower()}}}]", "workloads[0].pdb={minAvailable: 3}", "autoscaler={}",
            "horizon=1500s", "prechecks=ignore")
    assert events(r.world, "added by the upgrade") == removed
    assert (r.metrics["fresh_nodes_scaled_down"], r.metrics["nodes_scaled_down"]) == (len(removed), len(removed))
    assert sum(1 for e in r.log if e.action.startswith("Annotate") and e.action.endswith("=true")) == annotated


def test_a_paused_autoscaler_gets_its_nodes_back_when_the_upgrade_is_done():
    r = run("surge", "strategies=[{name: surge, maxSurge: 1, maxUnavailable: 0, pauseAutoscaler: true}]",
            "autoscaler={}")
    assert r.completed
    marks = [e.action for e in r.log if e.action.startswith("Annotate")]
    assert marks[-3:] == [f"Annotate node/general-{k} cluster-autoscaler.kubernetes.io/scale-down-disabled-"
                          for k in (4, 5, 6)]
    assert [n.annotations for n in r.world.nodes.values()] == [{}, {}, {}]


@pytest.mark.parametrize("pause, autoscaler_removed, strategy_deleted", [
    # once the green pool is on its way the pool is above its minimum: the autoscaler takes the drained blue
    # nodes during the final soak (no way back to blue is left), then an idle green one, which blue-green makes good
    ("false", [(610.0, "general-2"), (610.0, "general-3"), (1040.0, "general-6")], ["general-1"]),
    ("true", [], ["general-1", "general-2", "general-3"]),
], ids=["unpaused-it-takes-blue-and-green-nodes", "paused-blue-green-deletes-blue-itself"])
def test_the_autoscaler_beside_a_blue_green_upgrade(pause, autoscaler_removed, strategy_deleted):
    r = run("b", f"strategies=[{{name: bluegreen, label: b, finalSoakSeconds: 15m, pauseAutoscaler: {pause}}}]",
            "autoscaler={}")
    removed = [(t, e.split()[3]) for t, e in events(r.world, "cluster-autoscaler: scale-down of")]
    deleted = [e.action.removeprefix("DeleteNode node/") for e in r.log if e.action.startswith("DeleteNode")]
    refills = [e.t for e in r.log if "the green pool has 2 of 3 nodes (one was removed)" in e.reason]
    assert (r.completed, removed, deleted, refills) == (True, autoscaler_removed, strategy_deleted,
                                                        [1349.0] if autoscaler_removed else [])


GPU_POOL = ("cluster.nodePools=[{name: general, count: 3, zones: [a, b, c]}, {name: gpu, count: 1, zones: [a], "
            "labels: {accelerator: gpu}, taints: [{key: dedicated, value: gpu, effect: NoSchedule}]}]")


TOLERATES = "workloads[0].tolerations=[{key: dedicated, operator: Exists}]"


@pytest.mark.parametrize("sets, scaled, pending", [
    (("workloads[0].nodeSelector={accelerator: gpu}",), [], 3),  # gpu's taint is not tolerated
    (("workloads[0].nodeSelector={accelerator: gpu}", TOLERATES),
     [(10.0, "cluster-autoscaler: scale-up: 2 node(s) in pool gpu at 1.30.4 for pods that could not be placed")], 0),
    (("workloads[0].nodeSelector={accelerator: tpu}", TOLERATES), [], 3),  # no template node has the label
], ids=["untolerated-taint", "tolerated-and-selected", "no-pool-has-the-label"])
def test_scale_up_only_adds_nodes_the_pending_pods_would_be_scheduled_on(sets, scaled, pending):
    # cluster-autoscaler runs the scheduler's filters on a template node of each pool before it picks one:
    # one web pod fills a node, and general is at its maximum
    w = world(GPU_POOL, "autoscaler={pools: [{name: general, maxNodes: 3}, {name: gpu, maxNodes: 3}]}",
              "workloads[0].cpu=3", *sets)
    w.env.run(until=400)
    assert events(w, "cluster-autoscaler: scale-up") == scaled
    assert (w.rec.counters["nodes_scaled_up"], w.sched.pending) == (2 if scaled else 0, pending)
