"""The replace strategy's arithmetic against Cluster API's MachineDeployment rolling update.

Machines being deleted count against replicas + maxSurge (mdutil.TotalMachineSetsReplicaSum, max(spec,
status) replicas; kubernetes-sigs/cluster-api#3434), and unhealthy old machines are cleaned up first but
no more than maxScaledDown (reconcileOldMachineSets, cleanupUnhealthyReplicas). Timings are the fidelity
scenario's constants: a node provisions in 60 s and is deleted in 30 s.
"""

from tests.fidelity_scenario import run

NODE_STEPS = ("Drain", "DeleteNode", "ProvisionNode")


def node_steps(r):
    return [(e.t, e.action) for e in r.log if e.kind == "action" and e.action.startswith(NODE_STEPS)]


def test_a_replacement_starts_once_the_machine_it_replaces_is_gone():
    r = run("replace")  # maxSurge 1, maxUnavailable 0, three nodes
    assert (r.completed, r.metrics["peak_extra_nodes"]) == (True, 1)
    # general-1 is deleted at 439 s and gone 30 s later: only then is the next machine added
    assert node_steps(r) == [
        (375.0, "ProvisionNode in pool/general at 1.31.2"), (435.0, "Drain node/general-1"),
        (439.0, "DeleteNode node/general-1"), (469.0, "ProvisionNode in pool/general at 1.31.2"),
        (529.0, "Drain node/general-2"), (533.0, "DeleteNode node/general-2"),
        (563.0, "ProvisionNode in pool/general at 1.31.2"), (623.0, "Drain node/general-3"),
        (627.0, "DeleteNode node/general-3")]


def test_without_surge_the_pool_never_runs_a_machine_above_its_size():
    r = run("replace", "strategies=[{name: replace, maxSurge: 0, maxUnavailable: 1}]")
    assert (r.completed, r.metrics["peak_extra_nodes"]) == (True, 0)
    assert node_steps(r)[:3] == [(375.0, "Drain node/general-1"), (379.0, "DeleteNode node/general-1"),
                                 (409.0, "ProvisionNode in pool/general at 1.31.2")]


def test_unhealthy_old_nodes_go_one_at_a_time_once_the_surge_node_is_available():
    # two of five old nodes crashed before the roll: Cluster API removes unhealthy machines first, but no more
    # than the machines it keeps less minAvailable (5) less its new ones not yet available
    r = run("replace", "cluster.nodePools[0].count=5", "prechecks=ignore",
            "faults=[{type: node-crash, at: 100s, target: node/general-2, duration: 2h},"
            " {type: node-crash, at: 100s, target: node/general-4, duration: 2h}]")
    assert (r.completed, r.metrics["peak_extra_nodes"]) == (True, 1)
    drains = [(t, a) for t, a in node_steps(r) if a.startswith("Drain")]
    assert drains[:2] == [(435.0, "Drain node/general-2"), (826.0, "Drain node/general-4")]
    reasons = [e.reason for e in r.log if e.kind == "action" and e.action == "Drain node/general-2"]
    assert reasons == ["replace general-2 (kubelet 1.30.4): general-2 is unavailable: it goes first, as the pool "
                       "keeps at least 5 available nodes with its new ones"]


# -- CoreDNS: kubeadm's Deployment (maxUnavailable 1, maxSurge 25%) as the Deployment controller rolls it ------


def coredns_rollout(replicas: int):
    """Roll CoreDNS on the fidelity cluster: [(time, created/terminated, pod)], the fewest Ready pods seen."""
    import sim.world.pods as pods
    from models.version import KubeVersion
    from tests.fidelity_scenario import world

    w = world(f"cluster.addons.corednsReplicas={replicas}")
    w.env.run(until=60)
    dns = w.workloads["kube-system/coredns"]
    seen = []
    terminate, new_pod = pods.Pods.terminate, pods.Pods.new_pod

    def terminated(self, pod, *args, **kwargs):
        if pod.workload is dns:
            seen.append((w.env.now, "terminated", pod.name))
        return terminate(self, pod, *args, **kwargs)

    def created(self, workload, *args, **kwargs):
        pod = new_pod(self, workload, *args, **kwargs)
        if workload is dns:
            seen.append((w.env.now, "created", pod.name))
        return pod

    pods.Pods.terminate, pods.Pods.new_pod = terminated, created
    ready = []
    try:
        w.addon_ops.upgrade("coredns", KubeVersion.parse("1.11.3"))
        while w.addon_ops.addons["coredns"]["phase"] != "idle":
            w.env.run(until=w.env.now + 0.5)
            ready.append(dns.ready)
    finally:
        pods.Pods.terminate, pods.Pods.new_pod = terminate, new_pod
    return seen, min(ready)


def test_coredns_rolls_two_replicas_one_down_one_surging():
    # maxSurge ceil(25% of 2) = 1, maxUnavailable 1: a new pod and an old one terminated at once, the second new
    # pod as soon as the old one is terminating (terminating pods do not count), the last old once one is Ready
    seen, fewest = coredns_rollout(2)
    assert seen == [(60, "created", "coredns-3"), (60, "terminated", "coredns-1"), (60, "created", "coredns-4"),
                    (65.0, "terminated", "coredns-2")]
    assert fewest == 1


def test_coredns_with_one_replica_is_down_while_its_new_pod_starts():
    seen, fewest = coredns_rollout(1)  # maxUnavailable 1 of 1: the old pod goes at once
    assert (seen, fewest) == ([(60, "created", "coredns-2"), (60, "terminated", "coredns-1")], 0)


def test_coredns_with_four_replicas_keeps_three_available():
    seen, fewest = coredns_rollout(4)
    assert [s for s in seen if s[1] == "terminated"] == [
        (60, "terminated", "coredns-1"), (65.0, "terminated", "coredns-2"), (65.0, "terminated", "coredns-3"),
        (70.0, "terminated", "coredns-4")]
    assert fewest == 3
