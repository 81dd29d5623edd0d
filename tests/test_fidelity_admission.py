"""Admission webhooks served by the cluster's own pods (docs/fidelity.md, admission): a webhook that fails
closed refuses what it matches while none of its pods is Ready, and the controllers retry with their backoff;
one that matches its own pods deadlocks; a timeout delays what fails open; one on the kubelets' leases takes
every node's readiness with it. Times follow from tests/fidelity_scenario.py: an evicted pod exits in 3 s, a
new pod pulls in 4 s and is Ready 5 s later; nodes turn NotReady 40 s after they stop posting."""

import pytest

from sim.scenario import load_scenario
from sim.simulate import simulate
from tests.fidelity_scenario import events, world

POLICY = "workloads[2]={name: policy, namespace: policy, replicas: 1, startupSeconds: 5}"
HOOK = ("webhooks=[{{name: validate.policy.io, rules: [{{operations: [CREATE], resources: [pods]}}], "
        "failurePolicy: {policy}, timeoutSeconds: 10, service: {{namespace: policy, workload: policy}}{extra}}}]")
SPARED = ", namespaceSelector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [policy]}]}"
REFUSED = ('default/web: pod creation refused: Internal error occurred: failed calling webhook "validate.policy.io": '
           'failed to call webhook: no endpoints available for service "policy"')


def drain_the_webhooks_node(*sets):
    w = world(POLICY, *sets)
    (policy,) = w.workloads["policy/policy"].pods
    node = policy.node
    assert sorted(p.name for p in node.pods) == ["agent-1", "policy-1", "web-1"]
    w.env.run(until=100)
    w.evictions.drain(node, timeout_s=0, force=False)
    w.env.run(until=300)
    return w


def test_a_drained_single_replica_fail_webhook_blocks_matching_pods_until_its_own_pod_is_ready_again():
    w = drain_the_webhooks_node(HOOK.format(policy="Fail", extra=SPARED))
    (policy,) = w.workloads["policy/policy"].pods
    # its own replacement (its namespace is spared) is created at 100 s and Ready at 109 s
    assert (policy.name, policy.started_at, policy.ready) == ("policy-2", 100, True)
    # web's replacement is refused from 100 s on; the ReplicaSet's retries (5 ms doubling, and each change to its
    # pods) first come after 109 s at 115.355 s
    said = [(round(t, 3), text) for t, text in events(w, "default/web")]
    assert said == [(100, REFUSED), (115.355, "default/web: pod creation admitted again")]
    replacement = next(p for p in w.workloads["default/web"].pods if p.name == "web-4")
    assert (round(replacement.started_at, 3), replacement.ready) == (115.355, True)
    assert w.rec.workloads["default/web"].counters["blocked_creations"] == 13
    assert events(w, "deadlock") == []


def test_a_webhook_that_matches_its_own_pods_deadlocks_once_they_are_gone():
    w = drain_the_webhooks_node(HOOK.format(policy="Fail", extra=""))
    assert events(w, "deadlock") == [
        (100, "deadlock: webhook validate.policy.io refuses the pods of policy/policy, the workload that serves it; "
              "nothing can recreate them while it fails closed")]
    assert (len(w.workloads["policy/policy"].pods), sorted(p.name for p in w.workloads["default/web"].pods)) == (
        0, ["web-2", "web-3"])  # nothing was created again, and nothing will be
    counters = {k: w.rec.workloads[k].counters["blocked_creations"] for k in ("default/web", "policy/policy")}
    assert counters == {"default/web": 17, "policy/policy": 17}


def test_a_webhook_that_fails_open_lets_pods_through():
    w = drain_the_webhooks_node(HOOK.format(policy="Ignore", extra=""))
    assert (w.rec.counters["blocked_creations"], events(w, "refused")) == (0, [])
    assert sorted(p.name for p in w.workloads["default/web"].pods) == ["web-2", "web-3", "web-4"]


@pytest.mark.parametrize("policy, created, blocked, said", [
    ("Fail", None, 8, 'default/web: pod creation refused: Internal error occurred: failed calling webhook '
                      '"validate.policy.io": failed to call webhook: context deadline exceeded'),
    ("Ignore", 110.0, 0, None),  # created once the call times out, 10 s later
], ids=["fails-closed", "fails-open-after-its-timeout"])
def test_a_webhook_whose_pod_died_with_its_machine_times_out(policy, created, blocked, said):
    # the webhook's machine dies at 100 s; its pod is still a Ready endpoint for the 40 s grace period
    w = world(POLICY, HOOK.format(policy=policy, extra=SPARED))
    (backend,) = w.workloads["policy/policy"].pods
    other = next(p for p in w.workloads["default/web"].pods if p.node is not backend.node)
    w.env.run(until=100)
    w.node_ops.crash(backend.node, None)
    w.pods.terminate(other)  # its ReplicaSet creates a replacement at once
    w.env.run(until=139)
    replacement = [p for p in w.workloads["default/web"].pods if p.name == "web-4"]
    assert (replacement[0].started_at if replacement else None, w.rec.counters["blocked_creations"]) == (created, blocked)
    assert [text for _, text in events(w, "refused")][:1] == ([said] if said else [])


def test_a_webhook_on_the_kubelets_leases_takes_every_node_down_with_its_pod():
    lease = ("webhooks=[{name: lease.policy.io, rules: [{operations: [UPDATE], apiGroups: [coordination.k8s.io], "
             "resources: [leases]}], service: {namespace: policy, workload: policy}}]")
    w = world(POLICY, lease)
    (backend,) = w.workloads["policy/policy"].pods
    w.env.run(until=100)
    w.node_ops.crash(backend.node, None)
    w.env.run(until=1000)
    # no Lease renewal gets through: every node turns NotReady after the grace period, every zone is fully
    # disrupted, and the node lifecycle controller evicts nothing, so the webhook's pod never moves
    assert [e for e in w.rec.events if e[0] >= 100] == [
        (100, "node general-1 crashed"), (140.0, "node general-1 NotReady"), (140.0, "node general-2 NotReady"),
        (140.0, "node general-3 NotReady"),
        (140.0, "node lifecycle: every zone is fully disrupted; no evictions, and the NoExecute taints are removed")]


def test_a_webhook_on_node_registration_keeps_new_machines_from_joining():
    hook = ("webhooks=[{name: nodes.policy.io, rules: [{operations: [CREATE], resources: [nodes]}], "
            "service: {namespace: policy, workload: policy}}]")
    w = world(POLICY, hook)
    (backend,) = w.workloads["policy/policy"].pods
    node = w.node_ops.provision("general", w.nodes["general-1"].kubelet)  # its machine is up at 60 s
    w.env.run(until=58)
    w.pods.terminate(backend)  # its replacement is created at once and Ready at 67 s
    w.env.run(until=61)
    assert (node.phase, node.message) == (
        "provisioning", 'cannot register: Internal error occurred: failed calling webhook "nodes.policy.io": failed to '
                        'call webhook: no endpoints available for service "policy"')
    w.env.run(until=73.9)  # its next try, 7 s after the first, comes at 67 s just before the pod is Ready
    assert node.phase == "provisioning"
    w.env.run(until=74.1)  # the one after gets through
    assert (node.phase, node.message, node.ready) == ("idle", "joined", True)


def test_the_shipped_deadlock_scenario_deadlocks_under_replace_and_not_in_place():
    scenario = load_scenario("scenarios/webhook-deadlock.yaml")
    replace = simulate(scenario, scenario.strategy("replace"), seed=1, keep_world=True)
    inplace = simulate(scenario, scenario.strategy("inplace"), seed=1, keep_world=True)
    assert [text for _, text in events(replace.world, "deadlock")] == [
        "deadlock: webhook validate.policy.example.com refuses the pods of policy/policy-controller, the workload "
        "that serves it; nothing can recreate them while it fails closed"]
    assert replace.halted.startswith('drain of general-2 did not finish within 600s: error when evicting pods/"web-2" '
                                     '-n "default": global timeout reached: 10m0s; last refusal: Cannot evict pod as '
                                     "it would violate the pod's disruption budget. (The disruption budget web needs 2 "
                                     "healthy pods and has 2 currently)")
    assert (replace.metrics["blocked_creations"], replace.workloads["policy/policy-controller"]["outage_s"]) == (
        114, 4387.195)  # every retry refused, and the controller out from its eviction to the end of the watch
    assert (inplace.completed, inplace.metrics["blocked_creations"]) == (True, 0)


LEAVES_ITS_NAMESPACE = ("webhooks[0].namespaceSelector={matchExpressions: [{key: kubernetes.io/metadata.name, "
                        "operator: NotIn, values: [kube-system, policy]}]}")


@pytest.mark.parametrize("sets, blocked, controller_out", [
    # its own pods pass: other pods are refused only until the controller's new pod is Ready
    ((LEAVES_ITS_NAMESPACE,), 53, 38.837),
    # one of two replicas under a budget always answers
    (("workloads[name=policy-controller].replicas=2", "workloads[name=policy-controller].pdb={minAvailable: 1}"), 0,
     0.0),
], ids=["webhook-spares-its-namespace", "two-replicas-and-a-budget"])
def test_what_the_deadlock_scenario_says_avoids_it(sets, blocked, controller_out):
    scenario = load_scenario("scenarios/webhook-deadlock.yaml", sets)
    r = simulate(scenario, scenario.strategy("replace"), seed=1, keep_world=True)
    assert (r.completed, r.halted, events(r.world, "deadlock")) == (True, None, [])
    assert (r.metrics["blocked_creations"], r.workloads["policy/policy-controller"]["outage_s"]) == (blocked,
                                                                                                   controller_out)
