"""Drains, budgets and rolls as upstream and the platforms do them (docs/fidelity.md): kubectl
drain's filters, one set for the world and the live drain; budgets that select by label;
unhealthyPodEvictionPolicy from the release that has it; what old nodes are told when a roll
starts; the EKS and AKS presets; the add-ons after the workers."""

import dataclasses

import pytest

from models.drain import (
    DAEMONSET_FATAL,
    KUBECTL_DEFAULTS,
    LOCAL_STORAGE_FATAL,
    UNMANAGED_FATAL,
    DrainOptions,
    DrainPod,
    aggregate,
    eviction_outcome,
    go_duration,
    judge,
    plan_drain,
)
from models.plan import plan_for_params
from models.selectors import LabelSelector, Requirement
from sim.adapters.simulated import SimulatedPort
from sim.scenario.build import strategy_by_name
from sim.simulate import world_for
from sim.world.eviction import drain_pod
from tests.fidelity_scenario import run, scenario, world

# -- 7. kubectl drain's filters --------------------------------------------------------------------


@pytest.mark.parametrize("pod, options, status, message", [
    (DrainPod("kube-system", "agent-x", daemonset=True), DrainOptions(), "skip", "ignoring DaemonSet-managed Pods"),
    (DrainPod("kube-system", "agent-x", daemonset=True), KUBECTL_DEFAULTS, "error", DAEMONSET_FATAL),
    (DrainPod("kube-system", "agent-x", "Succeeded", daemonset=True), KUBECTL_DEFAULTS, "delete", ""),
    (DrainPod("kube-system", "etcd-cp", mirror=True, controlled=False), KUBECTL_DEFAULTS, "skip", "a mirror (static) pod"),
    (DrainPod("default", "cache-1", emptydir=True), KUBECTL_DEFAULTS, "error", LOCAL_STORAGE_FATAL),
    (DrainPod("default", "cache-1", emptydir=True), DrainOptions(), "delete", ""),
    (DrainPod("default", "solo", controlled=False), KUBECTL_DEFAULTS, "error", UNMANAGED_FATAL),
    (DrainPod("default", "solo", controlled=False), DrainOptions(), "delete", ""),
    (DrainPod("default", "migrate", "Failed", controlled=False, emptydir=True), KUBECTL_DEFAULTS, "delete", ""),
    (DrainPod("default", "web-1", deleting_for_s=400.0), DrainOptions(skip_wait_for_delete_timeout_s=300), "skip",
     "deleting for more than 300s"),
    (DrainPod("default", "web-1", deleting_for_s=200.0), DrainOptions(skip_wait_for_delete_timeout_s=300), "delete", ""),
    # shouldSkipPod compares whole seconds: 300.9 s truncates to 300, not more than 300; 301 s is
    (DrainPod("default", "web-1", deleting_for_s=300.9), DrainOptions(skip_wait_for_delete_timeout_s=300), "delete", ""),
    (DrainPod("default", "web-1", deleting_for_s=301.0), DrainOptions(skip_wait_for_delete_timeout_s=300), "skip",
     "deleting for more than 300s"),
], ids=["daemonset-ignored", "daemonset-refused", "finished-daemonset-pod-goes", "mirror-skipped", "emptydir-refused",
        "emptydir-deleted", "unmanaged-refused", "unmanaged-forced", "finished-pods-always-go",
        "deleting-past-the-skip-wait", "deleting-within-it-waited-for", "a-fraction-past-it-truncated-waited-for",
        "a-whole-second-past-it-skipped"])
def test_kubectl_filters(pod, options, status, message):
    verdict = judge(pod, options)
    assert (verdict.status, verdict.message) == (status, message)


def test_an_unreachable_node_skips_pods_deleting_for_5_minutes_as_cluster_api():
    pod = DrainPod("default", "web-1", deleting_for_s=301.0)
    assert (judge(pod, DrainOptions(), unreachable=True).status, judge(pod, DrainOptions()).status) == ("skip", "delete")
    almost = DrainPod("default", "web-1", deleting_for_s=300.999)  # 300 whole seconds: not more than 300
    assert judge(almost, DrainOptions(), unreachable=True).status == "delete"


def test_the_drain_fails_with_every_reason_kubectl_gives():
    pods = [DrainPod("default", "agent-1", daemonset=True), DrainPod("default", "cache-1", emptydir=True),
            DrainPod("default", "solo-1", controlled=False), DrainPod("default", "web-1")]
    # one aggregate error (utilerrors.NewAggregate): two or more messages in brackets
    assert plan_drain(pods, KUBECTL_DEFAULTS).error_text() == (
        "[cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/agent-1, "
        "cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache-1, "
        "cannot delete Pods that declare no controller (use --force to override): default/solo-1]")


@pytest.mark.parametrize("messages, text", [
    ([], ""),
    (["cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache-1"],
     "cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache-1"),
    (["a", "a"], "a"),
    (["a", "b", "a"], "[a, b]"),
], ids=["none", "one-without-brackets", "one-repeated-without-brackets", "distinct-in-brackets-repeats-dropped"])
def test_errors_aggregate_as_apimachinery_prints_them(messages, text):
    assert aggregate(messages) == text


MIX = ["workloads=[{name: web, replicas: 3, startupSeconds: 5}, {name: agent, kind: DaemonSet}, "
       "{name: cache, replicas: 3, localStorage: true}, {name: solo, kind: Pod, replicas: 1}, "
       "{name: migrate, kind: Pod, phase: Succeeded}]"]


@pytest.mark.parametrize("options, phase, message, evicted", [
    (DrainOptions(), "idle", "drained", 3),
    (DrainOptions(ignore_daemonsets=False), "drain-failed",
     "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/agent-1", 0),
    (DrainOptions(delete_emptydir_data=False), "drain-failed",
     "cannot delete Pods with local storage (use --delete-emptydir-data to override): default/cache-1", 0),
    (DrainOptions(force=False), "drain-failed",
     "cannot delete Pods that declare no controller (use --force to override): default/solo-1", 0),
], ids=["platform-defaults", "no-ignore-daemonsets", "no-delete-emptydir-data", "no-force"])
def test_a_drain_in_the_world_follows_its_options(options, phase, message, evicted):
    w = world(*MIX)
    w.env.run(until=100)
    node = w.nodes["general-1"]
    assert sorted((p.name, p.state) for p in node.pods) == [
        ("agent-1", "Running"), ("cache-1", "Running"), ("migrate-1", "Finished"), ("solo-1", "Running"),
        ("web-1", "Running")]
    w.evictions.drain(node, 0, False, options)
    w.env.run(until=400)
    # web, cache and solo are evicted; the finished pod is deleted, not counted; the DaemonSet pod stays
    assert (node.phase, node.message, w.rec.counters["pods_evicted"]) == (phase, message, evicted)
    assert "migrate-1" not in {p.name for p in node.pods} or phase == "drain-failed"


def test_a_finished_pod_goes_although_its_budget_allows_nothing():
    w = world(*MIX, "podDisruptionBudgets=[{name: jobs, selector: {matchLabels: {app: migrate}}, maxUnavailable: 0}]")
    w.env.run(until=100)
    node = w.nodes["general-1"]
    w.evictions.drain(node, 0, False)
    w.env.run(until=400)
    assert (node.message, w.rec.counters["evictions_refused"], sorted(p.name for p in node.pods)) == (
        "drained", 0, ["agent-1"])


def test_disable_eviction_deletes_past_the_budget_and_counts_the_violation():
    w = world("workloads[0].pdb={minAvailable: 3}")
    w.env.run(until=100)
    w.evictions.drain(w.nodes["general-1"], 0, False, DrainOptions(disable_eviction=True))
    w.env.run(until=400)
    assert (w.nodes["general-1"].message, w.rec.counters["pdb_violations"]) == ("drained", 1)


def test_the_live_drain_gives_the_worlds_reason(tmp_path):
    # one set of filters: the same forbidden pod fails a live drain with the world's message
    from sim.adapters.kube_client import Kube
    from sim.adapters.kubeconfig import load_config
    from sim.adapters.live import LivePort
    from sim.scenario.model import LiveSettings
    from tests.kube_harness import FAST_RETRY, KubeHarness
    from tests.kube_objects import POOL_LABEL, objects_from_world
    from tests.test_live_port import wait
    from models.actions import Drain

    sim = world(*MIX)
    sim.env.run(until=100)
    sim.evictions.drain(sim.nodes["general-1"], 0, False, DrainOptions(ignore_daemonsets=False))
    sim.env.run(until=101)
    with KubeHarness(objects_from_world(world(*MIX))) as server:
        config = load_config(server.kubeconfig(tmp_path / "kc"), None)
        port = LivePort(lambda: Kube(config, retry=FAST_RETRY), LiveSettings(pool_label=POOL_LABEL, poll_interval_s=0.2),
                        {"general": 3}, log=lambda text: None, eviction_retry_s=0.2, reconcile_interval_s=0.05)
        try:
            port.submit(Drain("test", "general-1", timeout_s=30.0, options=DrainOptions(ignore_daemonsets=False)))
            state = wait(port, lambda s: s.node("general-1").phase != "draining")
            evictions = server.evictions()
        finally:
            port.close()
    live = state.node("general-1")
    assert (live.phase, live.message) == (sim.nodes["general-1"].phase, sim.nodes["general-1"].message) == (
        "drain-failed", "cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): default/agent-1")
    assert evictions == []  # nothing was evicted before the drain gave up


def test_the_live_drain_fails_on_the_500_as_kubectl_does_without_asking_again(tmp_path):
    import copy

    from models.actions import Drain
    from sim.adapters.kube_client import Kube
    from sim.adapters.kubeconfig import load_config
    from sim.adapters.live import LivePort
    from sim.scenario.model import LiveSettings
    from tests.kube_harness import FAST_RETRY, KubeHarness
    from tests.kube_objects import POOL_LABEL, objects_from_world
    from tests.test_live_port import wait

    objects = objects_from_world(world("workloads[0].pdb={maxUnavailable: 1}"))
    again = copy.deepcopy(objects[("policy/v1/poddisruptionbudgets", "default", "web-pdb")])
    again["metadata"]["name"] = "web-again"  # a second budget over web's pods
    objects[("policy/v1/poddisruptionbudgets", "default", "web-again")] = again
    with KubeHarness(objects) as server:
        config = load_config(server.kubeconfig(tmp_path / "kc"), None)
        port = LivePort(lambda: Kube(config, retry=FAST_RETRY), LiveSettings(pool_label=POOL_LABEL, poll_interval_s=0.2),
                        {"general": 3}, log=lambda text: None, eviction_retry_s=0.2, reconcile_interval_s=0.05)
        try:
            port.submit(Drain("test", "general-1", timeout_s=30.0))
            state = wait(port, lambda s: s.node("general-1").phase != "draining")
            evictions = server.evictions()
        finally:
            port.close()
    live = state.node("general-1")
    assert (live.phase, live.message) == (
        "drain-failed", 'error when evicting pods/"web-1" -n "default": This pod has more than one '
                        'PodDisruptionBudget, which the eviction subresource does not support.')
    assert evictions == [("web-1", 500)]  # asked once: kubectl retries only a 429


# -- 8. budgets select as policy/v1 says -------------------------------------------------------------


@pytest.mark.parametrize("selector, labels, selected", [
    (LabelSelector(), {"app": "web"}, True),
    (LabelSelector((("app", "web"),)), {"app": "web", "tier": "front"}, True),
    (LabelSelector((("app", "web"),)), {"app": "api"}, False),
    (LabelSelector((), (Requirement("tier", "In", ("front", "edge")),)), {"tier": "edge"}, True),
    (LabelSelector((), (Requirement("tier", "NotIn", ("front",)),)), {"app": "batch"}, True),
    (LabelSelector((), (Requirement("tier", "Exists"),)), {"app": "batch"}, False),
    (LabelSelector((), (Requirement("canary", "DoesNotExist"),)), {"app": "web"}, True),
    (LabelSelector((("app", "web"),), (Requirement("tier", "In", ("front",)),)), {"app": "web", "tier": "back"}, False),
], ids=["empty-selects-all", "match-labels", "match-labels-miss", "in", "notin-missing-key", "exists-missing",
        "does-not-exist", "labels-and-expressions"])
def test_label_selectors(selector, labels, selected):
    assert selector.matches(labels) is selected


FRONT = ["workloads=[{name: web, replicas: 3, labels: {tier: front, app: web}}, "
         "{name: api, replicas: 3, labels: {tier: front, app: api}}, {name: batch, replicas: 3}]",
         "podDisruptionBudgets=[{name: front, selector: {matchExpressions: [{key: tier, operator: In, "
         "values: [front]}]}, maxUnavailable: 1}]"]


def test_a_budget_over_two_workloads_counts_their_pods_together():
    sc = scenario(*FRONT)
    assert [(w.key, w.pdb.name if w.pdb else None, w.budgets) for w in sc.cluster.workloads] == [
        ("default/web", "front", 1), ("default/api", "front", 1), ("default/batch", None, 0)]
    w = world_for(sc, 1)
    w.env.run(until=50)
    view = SimulatedPort(w).observe()
    assert [(b.name, b.workloads, b.expected, b.desired_healthy, b.current_healthy, b.disruptions_allowed)
            for b in view.budgets] == [("front", ("default/web", "default/api"), 6, 5, 6, 1)]
    node = w.nodes["general-1"]  # web-1, api-1 and batch-1: the budget lets one of web-1 and api-1 go
    w.evictions.drain(node, 0, False)
    w.env.run(until=60)
    assert (w.rec.counters["pods_evicted"], w.rec.counters["evictions_refused"]) == (2, 2)


def test_an_empty_selector_takes_every_pod_of_its_namespace_and_two_budgets_fail_the_drain():
    sc = scenario("workloads[0].pdb={maxUnavailable: 1}", "podDisruptionBudgets=[{name: all, selector: {}, "
                                                          "maxUnavailable: 1}]")
    assert [(w.key, w.budgets) for w in sc.cluster.workloads] == [("default/web", 2), ("default/agent", 1)]
    w = world_for(sc, 1)
    w.env.run(until=50)
    node = w.nodes["general-1"]
    w.evictions.drain(node, 30, False)
    w.env.run(until=200)
    # kubectl does not ask again after the HTTP 500 (only after a 429): one refusal, and the drain fails at once
    assert (node.phase, node.message, w.rec.counters["evictions_refused"]) == (
        "drain-failed", 'error when evicting pods/"web-1" -n "default": This pod has more than one '
                        'PodDisruptionBudget, which the eviction subresource does not support.', 1)


TWICE = ["workloads=[{name: web, replicas: 6, startupSeconds: 5, pdb: {maxUnavailable: 1}}, "
         "{name: batch, replicas: 3, startupSeconds: 5}]",
         "podDisruptionBudgets=[{name: web-again, selector: {matchLabels: {app: web}}, maxUnavailable: 1}]"]


def test_a_pod_under_two_budgets_fails_the_drain_once_the_other_pods_are_gone():
    w = world(*TWICE)
    w.env.run(until=50)
    node = w.nodes["general-1"]
    assert sorted(p.name for p in node.pods) == ["batch-1", "web-1", "web-4"]
    w.evictions.drain(node, 0, False)
    w.env.run(until=52)  # batch-1 is evicted and terminating (3 s): kubectl waits for it before it returns
    assert (node.phase, [p.name for p in node.pods_in_order() if p.state == "Terminating"]) == (
        "draining", ["batch-1"])
    w.env.run(until=60)
    # both web pods' evictions failed once each (HTTP 500), in one aggregate error, brackets and all
    assert (node.phase, node.message) == (
        "drain-failed", '[error when evicting pods/"web-1" -n "default": This pod has more than one '
                        'PodDisruptionBudget, which the eviction subresource does not support., error when evicting '
                        'pods/"web-4" -n "default": This pod has more than one PodDisruptionBudget, which the eviction '
                        'subresource does not support.]')
    assert ("batch-1" not in {p.name for p in node.pods}, w.rec.counters["pods_evicted"],
            w.rec.counters["evictions_refused"]) == (True, 1, 2)


def test_a_drain_that_times_out_gives_kubectls_error_for_each_pod_still_going():
    w = world("timing.podTermination=120s")  # web-1 is evicted at once and takes its 30 s grace period to go
    w.env.run(until=50)
    node = w.nodes["general-1"]
    w.evictions.drain(node, 20, False)
    w.env.run(until=100)
    assert (node.phase, node.message) == (
        "drain-failed", 'error when waiting for pod "web-1" in namespace "default" to terminate: global timeout '
                        'reached: 20s')


@pytest.mark.parametrize("code, causes, deleting, outcome", [
    (201, (), False, "wait"),
    (404, (), False, "gone"),
    (429, ("DisruptionBudget",), False, "retry"),
    (500, (), False, "fail"),
    (403, (), False, "fail"),
    (403, ("NamespaceTerminating",), False, "retry"),
    (403, ("NamespaceTerminating",), True, "wait"),
    (503, (), False, "fail"),
], ids=["accepted", "already-gone", "budget-429-retried", "two-budgets-500-fails", "forbidden-fails",
        "terminating-namespace-retried", "terminating-namespace-pod-deleting-waited-for", "unavailable-fails"])
def test_kubectl_asks_again_only_after_a_429(code, causes, deleting, outcome):
    assert eviction_outcome(code, causes, deleting) == outcome


@pytest.mark.parametrize("seconds, text", [(900, "15m0s"), (30, "30s"), (0.2, "200ms"), (3600, "1h0m0s"),
                                           (90.5, "1m30.5s"), (0, "0s")],
                         ids=["minutes", "seconds", "milliseconds", "hours", "fraction", "zero"])
def test_durations_read_as_go_prints_them(seconds, text):
    assert go_duration(seconds) == text


MIXED = ("workloads=[{name: web, replicas: 3, startupSeconds: 5, labels: {tier: front, app: web}}, "
         "{name: solo, kind: Pod, replicas: 2, labels: {tier: front, app: solo}}, "
         "{name: agent, kind: DaemonSet, startupSeconds: 5, labels: {tier: {tier}, app: agent}}]")
REFUSED = "Cannot evict pod as it would violate the pod's disruption budget. ({})"


@pytest.mark.parametrize("agent_tier, budget, status, answer", [
    # maxUnavailable: the controllers' scales (web's 3); solo's bare pods add nothing but count as healthy
    ("back", "maxUnavailable: 1", (3, 2, 5, 3), (True, 201, "")),
    # a percent minAvailable likewise: 50% of 3, rounded up
    ("back", "minAvailable: 50%", (3, 2, 5, 3), (True, 201, "")),
    # an integer minAvailable counts the pods it selects, bare ones too
    ("back", "minAvailable: 4", (5, 4, 5, 1), (True, 201, "")),
    # a DaemonSet has no scale subresource: the sync fails and the budget keeps a never-synced status
    ("front", "maxUnavailable: 1", (0, 0, 0, 0),
     (False, 429, REFUSED.format("The disruption budget front is still being processed by the server."))),
    # but an integer minAvailable needs no scale: 5 + the DaemonSet's 3 pods
    ("front", "minAvailable: 4", (8, 4, 8, 4), (True, 201, "")),
], ids=["max-unavailable-bare-pods-add-nothing", "percent-likewise", "integer-counts-every-pod",
        "daemonset-fails-the-sync", "integer-over-a-daemonset"])
def test_a_budget_expects_its_controllers_scale_as_the_disruption_controller_counts(agent_tier, budget, status,
                                                                                     answer):
    w = world(MIXED.replace("{tier}", agent_tier),
              f"podDisruptionBudgets=[{{name: front, selector: {{matchLabels: {{tier: front}}}}, {budget}}}]")
    w.env.run(until=50)
    (b,) = SimulatedPort(w).observe().budgets
    assert (b.expected, b.desired_healthy, b.current_healthy, b.disruptions_allowed) == status
    assert w.evictions.allowed(min(w.workloads["default/web"].pods)) == answer


def test_a_budget_over_bare_pods_alone_expects_none_and_allows_nothing_but_with_an_integer_min_available():
    w = world("workloads=[{name: solo, kind: Pod, replicas: 2, pdb: {maxUnavailable: 1}}]")
    w.env.run(until=50)
    pod = min(w.workloads["default/solo"].pods)
    assert w.evictions.allowed(pod) == (False, 429, REFUSED.format(
        "The disruption budget solo needs 0 healthy pods and has 2 currently"))
    w = world("workloads=[{name: solo, kind: Pod, replicas: 2, pdb: {minAvailable: 1}}]")
    w.env.run(until=50)
    assert w.evictions.allowed(min(w.workloads["default/solo"].pods)) == (True, 201, "")


@pytest.mark.parametrize("version, target, allowed", [
    ("1.26.9", "1.27.8", (False, 429, "Cannot evict pod as it would violate the pod's disruption budget. (The "
                                      "disruption budget web needs 3 healthy pods and has 2 currently)")),
    ("1.27.4", "1.28.4", (True, 201, "")),
], ids=["1.26-alpha-off-acts-as-IfHealthyBudget", "1.27-beta-on"])
def test_always_allow_applies_from_the_release_that_has_it(version, target, allowed):
    w = world(f"cluster.version={version}", f"target={target}",
              "workloads[0].pdb={minAvailable: 3, unhealthyPodEvictionPolicy: AlwaysAllow}")
    w.env.run(until=50)
    pod = min(w.workloads["default/web"].pods)
    w.pods.set_ready(pod, False)  # running, not Ready
    assert w.evictions.allowed(pod) == allowed


# -- 3. what the old nodes of a pool are told when its roll starts ----------------------------------

ONE_ZONE = ["cluster.nodePools[0].zones=[a]", "workloads=[{name: web, replicas: 3, startupSeconds: 5}]"]


@pytest.mark.parametrize("old, surge, unavailable, evicted, again, degraded", [
    ("schedulable", 0, 1, 5, 2, 23.0),
    ("preferNoSchedule", 0, 1, 4, 1, 23.0),
    ("cordon", 0, 1, 3, 0, 112.0),
    ("schedulable", 1, 0, 3, 0, 27.0),
    ("preferNoSchedule", 1, 0, 3, 0, 27.0),
], ids=["capi-lands-on-the-next-old-node", "kops-only-while-no-new-node-fits", "eks-never-twice-but-waits",
        "surge-new-node-has-room", "surge-and-taint"])
def test_old_nodes_schedulable_tainted_or_cordoned(old, surge, unavailable, evicted, again, degraded):
    r = run("replace", *ONE_ZONE, f"strategies=[{{name: replace, maxSurge: {surge}, maxUnavailable: {unavailable}, "
                                  f"oldNodes: {old}}}]")
    m = r.metrics
    assert (r.completed, m["pods_evicted"], m["pods_evicted_again"], m["degraded_s"]) == (True, evicted, again, degraded)


def test_cordoned_old_nodes_are_marked_before_any_drain_with_the_platforms_reason():
    r = run("replace", *ONE_ZONE, "strategies=[{name: replace, maxSurge: 0, maxUnavailable: 1, oldNodes: cordon}]")
    first = [(e.action, e.reason) for e in r.log if e.action.startswith(("Taint", "Drain"))][:4]
    why = ("oldNodes: cordon (EKS managed node groups mark old nodes unschedulable once the surge nodes are Ready): "
           "no pod evicted in this roll lands on an old node")
    assert first == [("Taint node/general-1 midair.io/old-node:NoSchedule", why),
                     ("Taint node/general-2 midair.io/old-node:NoSchedule", why),
                     ("Taint node/general-3 midair.io/old-node:NoSchedule", why),
                     ("Drain node/general-1", "replace general-1 (kubelet 1.30.4): pool general keeps at least 2 "
                                              "available nodes")]


# -- 4. presets that say what the platform does ---------------------------------------------------


@pytest.mark.parametrize("sets, extra, batch", [
    (("cluster.nodePools[0].count=6",), {}, (6, 1)),  # 3 zones: twice as many surge nodes
    (("cluster.nodePools[0].count=6",), {"maxUnavailable": 10}, (10, 10)),  # maxUnavailable when it is more
    (("cluster.nodePools[0].count=6", "cluster.nodePools[0].zones=[a]"), {}, (2, 1)),
], ids=["twice-the-zones", "or-max-unavailable", "one-zone"])
def test_eks_surges_by_the_larger_of_twice_the_zones_and_max_unavailable(sets, extra, batch):
    sc = scenario(*sets)
    spec = strategy_by_name("eks-managed", list(sc.cluster.pools))
    b = plan_for_params(sc.cluster, sc.target, {**spec.kwargs(), **extra}).batch("general")
    assert (b.surge, b.unavailable) == batch


def test_eks_replaces_one_node_at_a_time_and_waits_60s_after_each_drain():
    r = run("eks-managed", "strategies=[{preset: eks-managed}]")
    assert (r.completed, r.metrics["pods_evicted_again"]) == (True, 0)
    steps = [(e.t, e.action) for e in r.log if e.action.startswith(("Drain", "DeleteNode"))]
    assert steps == [(437.0, "Drain node/general-1"), (501.0, "DeleteNode node/general-1"),
                     (503.0, "Drain node/general-2"), (567.0, "DeleteNode node/general-2"),
                     (569.0, "Drain node/general-3"), (633.0, "DeleteNode node/general-3")]
    delete = next(e for e in r.log if e.action == "DeleteNode node/general-1")
    assert delete.reason == ("general-1 is drained: delete it (its replacement runs 1.31.2), 60s after its drain "
                             "(postDrainWait)")


@pytest.mark.parametrize("rounding, unavailable", [("up", 3), ("down", 2)], ids=["aks-rounds-up", "kubernetes-rounds-down"])
def test_a_percent_max_unavailable_rounds_as_the_platform_rounds(rounding, unavailable):
    sc = scenario("cluster.nodePools[0].count=10")
    params = {**strategy_by_name("aks", list(sc.cluster.pools)).kwargs(), "maxUnavailable": "25%",
              "unavailableRounding": rounding}
    assert plan_for_params(sc.cluster, sc.target, params).batch("general").unavailable == unavailable


# -- 10. the three movements in the seed's order -----------------------------------------------------


def test_afterworkers_moves_the_add_ons_once_the_workers_are_done():
    r = run("ack-inplace", "strategies=[{preset: ack-inplace}]", "cluster.version=1.29.4",
            "cluster.addons={corednsReplicas: 2}")
    order = [e.action for e in r.log if e.action.startswith(("UpgradeAddon", "Uncordon"))]
    assert order == ["Uncordon node/general-1", "Uncordon node/general-2", "Uncordon node/general-3",
                     "UpgradeAddon kube-proxy to 1.31.2", "UpgradeAddon coredns to 1.11.3"]


def test_afterworkers_still_moves_kube_proxy_where_the_skew_policy_needs_it():
    r = run("ack-inplace", "strategies=[{preset: ack-inplace}]", "cluster.version=1.24.17", "target=1.29.4")
    assert (r.completed, r.metrics["skew_violations"]) == (True, 0)
    moves = [(e.action, e.reason) for e in r.log if e.action.startswith("UpgradeAddon kube-proxy")]
    assert moves == [
        ("UpgradeAddon kube-proxy to 1.26", "addons: afterWorkers, but kube-proxy moves to 1.26 before control-plane "
                                            "1.27: there, kube-proxy 1.24.17 (kube-proxy) is 3 minor versions older "
                                            "than the newest kube-apiserver (1.27); at most 2 allowed (kube-proxy "
                                            "older than 1.25 may trail by at most 2) (kube-proxy-too-old)"),
        ("UpgradeAddon kube-proxy to 1.29.4", "kube-proxy follows the control plane to 1.29.4 (never newer than the "
                                              "apiserver; within three minors of every kubelet)")]


def test_what_the_filters_see_of_a_pod_in_the_world_is_the_record_its_constructor_makes():
    w = world(*MIX)
    w.env.run(until=100)
    node = w.nodes["general-1"]
    seen = {p.name: drain_pod(p, w.env.now) for p in node.pods_in_order()}
    assert {name: (d.daemonset, d.controlled, d.emptydir, d.phase) for name, d in seen.items()} == {
        "agent-1": (True, True, False, "Running"), "cache-1": (False, True, True, "Running"),  # (emptyDir data)
        "migrate-1": (False, False, False, "Succeeded"), "solo-1": (False, False, False, "Running"),
        "web-1": (False, True, False, "Running")}
    for p in node.pods_in_order():  # made without DrainPod's __init__: the same record, every field
        d = seen[p.name]
        assert set(d.__dict__) == {f.name for f in dataclasses.fields(DrainPod)}
        assert d == DrainPod(d.namespace, d.name, d.phase, d.daemonset, False, d.controlled, d.emptydir, None)
