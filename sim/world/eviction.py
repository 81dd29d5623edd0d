"""Draining nodes: evictions through PodDisruptionBudgets, as kubectl drain does them.

A drain cordons the node and evicts every pod a drain must (not DaemonSet pods), all in
parallel. An eviction asks the pod's budget: refused with HTTP 429 while it allows no
disruption, retried every ``evictionRetry`` (5 s); allowed, the pod terminates
gracefully. Pods that are not running yet are deleted without asking. The budget
arithmetic is Kubernetes' (pkg/controller/disruption): see ``models.state.PDB``.
A drain that outlives its timeout stops and leaves the node ``drain-failed``.
"""

from __future__ import annotations

from models.state import DAEMONSET, DRAIN_FAILED, DRAINING, IDLE, STATEFULSET
from sim.world.entities import GONE, TERMINATING, SimNode, SimPod, SimWorkload


def budget(w: SimWorkload) -> tuple[int, int] | None:
    """(disruptions allowed, desired healthy) of ``w``'s budget, or None without one."""
    pdb = w.spec.pdb
    if pdb is None:
        return None
    expected = pdb.expected_count(w.desired, len(w.pods))  # w.pods holds the pods not yet gone
    desired = pdb.desired_healthy(expected)
    return pdb.disruptions_allowed(w.ready, expected), desired


class Evictions:
    def __init__(self, world):
        self.world = world

    def allowed(self, pod: SimPod) -> tuple[bool, str]:
        """Would the Eviction API accept ``pod`` now? (and why not)."""
        w = pod.workload
        if not pod.started:  # Pending (containers not created yet): deleted without a budget check
            return True, ""
        b = budget(w)
        if b is None:
            return True, ""
        allowed, desired = b
        if self.world.faults.pdb_stuck(w):
            return False, f"PodDisruptionBudget {w.key} allows no disruption (a stuck-pdb fault)"
        if not pod.ready:  # a running pod that is not Ready (pkg/registry/core/pod/storage/eviction.go)
            if w.spec.pdb.unhealthy_pod_eviction_policy == "AlwaysAllow" or (w.ready >= desired and desired > 0):
                return True, ""
        if allowed > 0:
            return True, ""
        return False, (f"PodDisruptionBudget {w.key} allows 0 disruptions "
                       f"({w.ready} healthy, {desired} desired)")

    def evict(self, pod: SimPod, force: bool = False) -> None:
        world = self.world
        w = pod.workload
        if force:
            b = budget(w)
            if b is not None and pod.ready and w.ready - 1 < b[1]:
                world.rec.count("pdb_violations")
        world.rec.count("pods_evicted")
        if w.spec.local_storage and w.kind != STATEFULSET:
            world.rec.count("pods_lost_local_data")  # emptyDir data goes with the pod
        world.pods.terminate(pod)

    @staticmethod
    def remaining(node: SimNode) -> list[SimPod]:
        """The pods a drain of ``node`` still waits for.

        Not DaemonSet pods; and not pods already terminating on a node whose kubelet is
        down: they cannot finish there (Cluster API's drain skips them likewise).
        """
        return [p for p in sorted(node.pods) if p.workload.kind != DAEMONSET and p.state != GONE
                and not (p.state == TERMINATING and not node.kubelet_up)]

    def drain(self, node: SimNode, timeout_s: float, force: bool) -> None:
        world = self.world
        node.phase = DRAINING
        node.message = ""
        world.node_ops.set_schedulable(node, False)
        world.faults.on_node_operation(node)
        world.env.process(self._drain(node, timeout_s, force))

    def _drain(self, node: SimNode, timeout_s: float, force: bool):
        world = self.world
        env = world.env
        deadline = env.now + timeout_s if timeout_s > 0 else None
        refusals: dict[str, int] = {}
        last_reason = ""
        while True:
            if node.removed or node.phase != DRAINING:
                return
            targets = self.remaining(node)
            if not targets:
                node.phase = IDLE
                node.message = "drained"
                world.touch(node)
                return
            if world.cp.api_up:
                for pod in targets:
                    if pod.state == TERMINATING:
                        continue
                    ok, why = (True, "") if force else self.allowed(pod)
                    if ok:
                        self.evict(pod, force)
                    else:
                        refusals[pod.workload.key] = refusals.get(pod.workload.key, 0) + 1
                        last_reason = why
                        world.rec.refused_eviction(env.now, pod.workload.key)
            else:
                last_reason = "the API is unavailable"
            if deadline is not None and env.now >= deadline:
                node.phase = DRAIN_FAILED
                counts = ", ".join(f"{k}: {v}" for k, v in sorted(refusals.items()))
                node.message = f"{last_reason}; evictions refused with HTTP 429 ({counts})" if refusals else last_reason
                world.touch(node)
                return
            wait = world.timing.eviction_retry_s
            if deadline is not None:
                wait = min(wait, max(deadline - env.now, 0.001))
            yield env.timeout(wait)

    def kill_all(self, node: SimNode) -> None:
        """The node is going away: its pods are gone now; local data on it is lost."""
        world = self.world
        for pod in sorted(node.pods):
            w = pod.workload
            if w.kind != DAEMONSET and pod.state != TERMINATING:
                b = budget(w)
                if b is not None and pod.ready and w.ready - 1 < b[1]:
                    world.rec.count("pdb_violations")  # a voluntary deletion below the budget
                if w.spec.local_storage and w.kind != STATEFULSET:
                    world.rec.count("pods_lost_local_data")
            world.pods.gone(pod)
        for w in world.workloads.values():
            if w.kind == STATEFULSET and w.spec.local_storage:
                for ordinal, holder in sorted(w.volumes.items()):
                    if holder == node.name:
                        world.pods.volume_lost(w, ordinal)
