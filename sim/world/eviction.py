"""Draining nodes as kubectl drain does, through the Eviction API and PodDisruptionBudgets.

A drain cordons the node and sorts its pods with kubectl's filters (``models.drain``, the
same predicates the live drain uses): if any pod is one the drain's options forbid (a
DaemonSet's, one with emptyDir data, one no controller owns), the drain fails at once with
kubectl's message and evicts nothing. Otherwise every pod to delete is evicted, all in
parallel. An eviction asks the pod's budget: refused with HTTP 429 while it allows no
disruption (the Eviction API's words, ``models.drain.BUDGET_REFUSAL``), retried every
``evictionRetry`` (5 s); allowed, the pod terminates gracefully, and the drain looks for it to
be gone every second (kubectl's waitForDelete interval). Pods that are not running yet and
finished pods are deleted without asking; a pod that two budgets select is refused with
HTTP 500, which kubectl does not retry (``models.drain.eviction_outcome``): that pod's
eviction fails, and the drain fails with kubectl's error once its other pods are gone.
``disableEviction`` (and a forced drain) deletes past every budget. The drain then waits until
the pods are gone, except those deleting for longer than ``skipWaitForDeleteTimeout`` (on an
unreachable node: 5 minutes, as Cluster API waits). A drain that outlives its timeout stops
and leaves the node ``drain-failed``, with kubectl's ``global timeout reached`` error for each
pod still pending, the last refusal and the count of refusals per workload.
"""

from __future__ import annotations

from models.drain import (
    BUDGET_REFUSAL,
    FAIL,
    FORCED,
    MULTIPLE_BUDGETS,
    SKIP,
    DrainOptions,
    DrainPod,
    budget_cause,
    bypasses_budgets,
    drain_failure,
    eviction_error,
    eviction_outcome,
    judge,
    plan_drain,
    processing_cause,
    skip_wait_s,
    timeout_error,
    with_cause,
)
from models.records import made
from models.state import DAEMONSET, DRAIN_FAILED, DRAINING, IDLE, STATEFULSET
from sim.world.budgets import budget_of, losing_one_breaches
from sim.world.entities import GONE, TERMINATING, SimNode, SimPod, SimWorkload
from sim.world.pods import FINISHED

ACCEPTED = (True, 201, "")
WAIT_FOR_DELETE_POLL_S = 1.0  # k8s.io/kubectl/pkg/drain: waitForDelete polls every second


def budget(w: SimWorkload) -> tuple[int, int] | None:
    """(disruptions allowed, desired healthy) of ``w``'s budget, or None without exactly one."""
    b = budget_of(w)
    if b is None:
        return None
    _, desired, allowed = b.status()
    return allowed, desired


def drain_pod(pod: SimPod, now: float, timed: bool = True) -> DrainPod:
    """What kubectl's filters see of a pod in the world (``timed`` False: not how long it has been deleting,
    which no filter looks at then: see ``skip_wait_s``)."""
    w = pod.workload
    kind = w.kind
    return made(DrainPod, {  # (every field, without the frozen dataclass's __init__: one per pod drained)
        "namespace": w.spec.namespace, "name": pod.name, "phase": w.spec.phase, "daemonset": kind == DAEMONSET,
        "mirror": False, "controlled": kind != "Pod",
        "emptydir": w.spec.local_storage and kind != STATEFULSET,  # midair's local storage off a StatefulSet
        "deleting_for_s": now - pod.deleted_at if pod.state == TERMINATING and pod.deleted_at is not None
        and timed else None})


def unreachable(node: SimNode) -> bool:
    """The node's Ready condition is Unknown: its kubelet stopped posting (not just reporting NotReady)."""
    return not node.ready and not (node.alive and node.kubelet_up)


class Evictions:
    def __init__(self, world):
        self.world = world
        self._uid = 0
        self._refusals: dict[tuple, tuple] = {}  # (budget, healthy, desired) -> the Eviction API's 429 answer

    def allowed(self, pod: SimPod) -> tuple[bool, int, str]:
        """Would the Eviction API accept ``pod`` now? (allowed, HTTP status, message)"""
        w = pod.workload
        if not pod.started or w.finished:  # Pending, or finished: deleted without a budget check (canIgnorePDB)
            return ACCEPTED
        if len(w.budgets) != 1:
            return (False, 500, MULTIPLE_BUDGETS) if w.budgets else ACCEPTED
        b = w.budgets[0]
        faults = self.world.faults
        if faults.stuck_pdbs and faults.pdb_stuck(w):  # (asked at every eviction: a stuck-pdb is rarely declared)
            return False, 429, f"PodDisruptionBudget {b.key} allows no disruption (a stuck-pdb fault)"
        current, desired, allowed = b.status()
        if not pod.ready:  # a running pod that is not Ready (pkg/registry/core/pod/storage/eviction.go)
            always = b.pdb.unhealthy_pod_eviction_policy == "AlwaysAllow" and self.world.has_unhealthy_pod_policy()
            if always or (current >= desired and desired > 0):
                return ACCEPTED
        if allowed > 0:
            return ACCEPTED
        failing = b.failing()  # never synced: its observedGeneration is behind (createTooManyRequestsError)
        key = (b.key, current, desired, failing)
        refusal = self._refusals.get(key)  # (refused, and asked again, a million times)
        if refusal is None:
            if len(self._refusals) >= 1 << 14:
                self._refusals.clear()
            cause = processing_cause(b.name) if failing else budget_cause(b.name, desired, current)
            refusal = self._refusals[key] = (False, 429, with_cause(BUDGET_REFUSAL, cause))
        return refusal

    def evict(self, pod: SimPod, bypass: bool = False) -> None:
        world = self.world
        w = pod.workload
        if w.finished:
            world.pods.gone(pod)  # nothing runs: it is simply deleted
            return
        if bypass and pod.ready and losing_one_breaches(w):
            world.rec.count("pdb_violations", workload=w.key)
        world.rec.count("pods_evicted", workload=w.key)
        node = pod.node
        if pod.evicted_from is not None and node is not None and node.kubelet <= pod.evicted_from:
            world.rec.count("pods_evicted_again", workload=w.key)  # it had landed on another node as old as the last
        if node is not None and w.kind != DAEMONSET:
            self._uid += 1
            w.displaced[pod.ordinal if w.kind == STATEFULSET else self._uid] = node.kubelet
        if w.spec.local_storage and w.kind != STATEFULSET:
            world.rec.count("pods_lost_local_data", workload=w.key)  # emptyDir data goes with the pod
        world.pods.terminate(pod)

    def remaining(self, node: SimNode, options: DrainOptions = DrainOptions()) -> list[SimPod]:
        """The pods a drain of ``node`` still waits for (not the ones kubectl's filters skip), in uid order.

        Of the filters, only ``skip_deleted`` skips a pod the world holds that is neither a
        DaemonSet's nor finished (the world has no mirror pods), and only a terminating one:
        the others are asked nothing."""
        # finished pods go with the drain, without a budget: they hold nothing up (nor do DaemonSets' pods)
        waited = [p for p in node.pods_in_order() if p.state != GONE and p.workload.drained]
        lost = unreachable(node)
        if not skip_wait_s(options, lost) > 0:
            return waited  # no filter skips a deleting pod
        now = self.world.env.now
        return [p for p in waited if p.state != TERMINATING
                or judge(drain_pod(p, now), options, lost).status != SKIP]

    def waited_for(self, node: SimNode, options: DrainOptions = DrainOptions()) -> tuple[int, int, int]:
        """How many pods ``remaining`` lists, and their CPU and memory requests: while no filter skips a
        deleting pod, the node's counts, kept as its pods come and go (``SimNode.waited_pods``)."""
        if not skip_wait_s(options, unreachable(node)) > 0:
            return node.waited_pods, node.waited_cpu, node.waited_memory
        pods = self.remaining(node, options)
        return (len(pods), sum(p.workload.spec.requests.cpu_m for p in pods),
                sum(p.workload.spec.requests.memory for p in pods))

    def drain(self, node: SimNode, timeout_s: float, force: bool, options: DrainOptions = DrainOptions()) -> None:
        world = self.world
        node.phase = DRAINING
        node.message = ""
        world.node_ops.set_schedulable(node, False)
        world.faults.on_node_operation(node)
        world.env.process(self._drain(node, timeout_s, FORCED if force else options))

    def _fail(self, node: SimNode, message: str) -> None:
        node.phase = DRAIN_FAILED
        node.message = message
        self.world.touch(node)

    def _sorted_out(self, node: SimNode, options: DrainOptions, still: dict, kept: dict):
        """kubectl's filters over the node's pods: (the error that fails the drain or None, the pods to
        delete, each with whether it goes past its budget). While no filter looks at how long a pod has been
        deleting (``skip_wait_s``), the answer is kept until a pod comes to or leaves the node or its
        reachability changes."""
        now = self.world.env.now
        lost = unreachable(node)
        timed = skip_wait_s(options, lost) > 0
        order = node.pods_in_order()  # the same tuple while no pod came or went (a pod gone leaves it)
        if not timed and kept.get("order") is not None and kept.get("lost") == lost:
            if kept["order"] is order:
                return kept["answer"]
            error, deletes = kept["answer"]
            present = {p.uid for p in order}
            if error is None and present <= kept["uids"]:  # pods only went: the others keep their verdicts
                answer = (None, [(p, bypass) for p, bypass in deletes if p.uid in present])
                kept.update(order=order, uids=present, answer=answer)
                return answer
        pods, verdicts = {}, {}  # by the id of what the filters see: the pod, and the filters' verdict
        for p in order:
            if p.state == GONE:
                continue
            if p.state == TERMINATING and timed:
                d = drain_pod(p, now)
                verdict = judge(d, options, lost)
            else:  # what the filters see of it stays, and so does their verdict while its reachability does
                seen = still.get(p.uid)
                if seen is None or seen[2] != lost:
                    d = drain_pod(p, now, timed)
                    # all the filters see of it but its name is its workload's (not how long it is deleting,
                    # untimed): one verdict per workload and reachability
                    by_workload = kept.setdefault("verdicts", {})
                    verdict = by_workload.get((p.workload.key, lost))
                    if verdict is None:
                        verdict = by_workload[(p.workload.key, lost)] = judge(d, options, lost)
                    seen = still[p.uid] = (d, verdict, lost)
                d, verdict = seen[0], seen[1]
            pods[id(d)], verdicts[id(d)] = (d, p), verdict
        plan = plan_drain([d for d, _ in pods.values()], options, lost, judge=lambda d, _o, _l: verdicts[id(d)])
        answer = (None if plan.ok else plan.error_text(),
                  [(pods[id(d)][1], bypasses_budgets(d, options)) for d in plan.delete])
        kept.update(order=None if timed else order, uids={p.uid for p in order}, lost=lost, answer=answer)
        return answer

    def _drain(self, node: SimNode, timeout_s: float, options: DrainOptions):
        """kubectl drain's evictPods: each pod is asked until the API accepts it; only a 429 is asked again
        (after evictionRetry); any other refusal ends that pod's eviction with kubectl's error, and the drain
        fails with the pods' errors once the others are gone, or at its timeout."""
        world = self.world
        env = world.env
        deadline = env.now + timeout_s if timeout_s > 0 else None
        refusals: dict[str, int] = {}  # workload -> evictions refused with HTTP 429 (and asked again)
        failed: dict[int, str] = {}  # pod uid -> kubectl's error for it: its eviction failed for good
        last_refusal = ""
        waiting: list[SimPod] = []  # the pods the drain waits for, as last seen while the API was up
        still: dict[int, tuple] = {}  # pod uid -> what the filters see of it (not deleting) and their verdict
        kept: dict = {}  # the filters' last answer, what it was asked of, and their verdict per workload
        while True:
            if node.removed or node.phase != DRAINING:
                return
            api_up = world.cp.api_up
            refused_now = not api_up  # (with the API down, look again after evictionRetry)
            if api_up:
                error, deletes = self._sorted_out(node, options, still, kept)
                if error is not None:  # kubectl drain stops before it evicts anything
                    self._fail(node, error)
                    return
                waiting = [pod for pod, _ in deletes if pod.uid not in failed]
                if not waiting:
                    if failed:  # the other pods are gone: kubectl returns the failed evictions' errors
                        self._fail(node, drain_failure(failed.values(), last_refusal, refusals))
                        return
                    node.phase = IDLE
                    node.message = "drained"
                    world.touch(node)
                    return
                refused = []  # the workloads of the pods refused now, one entry each
                for pod, bypass in deletes:
                    if pod.state == TERMINATING or pod.uid in failed:
                        continue  # waited for, or given up
                    ok, code, why = (True, 200, "") if bypass else self.allowed(pod)
                    if ok:
                        self.evict(pod, bypass=options.disable_eviction)
                        continue
                    w = pod.workload
                    refused.append(w.key)
                    if eviction_outcome(code) == FAIL:  # not a 429: kubectl does not ask again
                        failed[pod.uid] = eviction_error(w.spec.namespace, pod.name, why)
                    else:
                        refused_now = True
                        refusals[w.key] = refusals.get(w.key, 0) + 1
                        last_refusal = why
                if refused:
                    world.rec.refused_evictions(refused)
            if deadline is not None and env.now >= deadline:
                errors = [*failed.values(), *(timeout_error(p.workload.spec.namespace, p.name, timeout_s,
                                                            evicting=p.state != TERMINATING)
                                              for p in waiting if p.state != GONE)]
                message = drain_failure(errors, last_refusal, refusals)
                if not api_up:
                    message = f"{message}; the API is unavailable" if message else "the API is unavailable"
                self._fail(node, message)
                return
            # a refused eviction is asked again after evictionRetry; pods already going are looked for every second
            wait = world.timing.eviction_retry_s if refused_now else WAIT_FOR_DELETE_POLL_S
            if deadline is not None:
                wait = min(wait, max(deadline - env.now, 0.001))
            yield env.timeout(wait)

    def kill_all(self, node: SimNode) -> None:
        """The node is going away: its pods are gone now; local data on it is lost."""
        world = self.world
        for pod in node.pods_in_order():
            w = pod.workload
            if w.kind != DAEMONSET and pod.state not in (TERMINATING, FINISHED):
                if pod.ready and losing_one_breaches(w):
                    world.rec.count("pdb_violations", workload=w.key)  # a voluntary deletion below the budget
                if w.spec.local_storage and w.kind != STATEFULSET:
                    world.rec.count("pods_lost_local_data", workload=w.key)
            world.pods.gone(pod)
        for w in world.workloads.values():
            if w.kind == STATEFULSET and w.spec.local_storage:
                for ordinal, holder in sorted(w.volumes.items()):
                    if holder == node.name:
                        world.pods.volume_orphaned(w, ordinal)
