"""Pods and the controllers that own them.

Pod lifecycle: created Pending → bound to a node → Starting (image pull, then the
readiness delay) → Running (Ready while its node is Ready) → Terminating → Gone. A
terminating pod is not Ready at once (its endpoints go); its preStop hook runs, then
SIGTERM, and it exits after ``timing.podTermination``, or is killed when its grace period
ends, whichever is first (the kubelet's graceful termination); it completes only while the
node's kubelet is up. A node deletion makes its pods Gone at once. A finished bare pod
(Succeeded, Failed) sits on its node holding nothing until something deletes it.

Controllers (ReplicaSet for Deployments, StatefulSet, DaemonSet) recreate what is
missing, but only while the API is up and a controller-manager leader exists. A
ReplicaSet replaces a pod as soon as it starts terminating; a StatefulSet waits until
the old pod is gone and keeps its ordinal; with ``podManagementPolicy: OrderedReady``
(the default) it creates one missing pod at a time, in ordinal order, and none while a
lower ordinal is terminating or not Running and Ready. A StatefulSet pod whose PersistentVolume is
pinned to a node may only run there: when that node is deleted, the claim stays bound to
a volume whose node no longer exists, and the new pod stays Pending ("volume node
affinity conflict", kubernetes#78756) until a person (or a node-cleanup controller)
deletes the claim and the pod, ``timing.operatorResponse`` later; then it starts on a new,
empty volume. Bare pods are never recreated.
"""

from __future__ import annotations

from models.state import BARE_POD, DAEMONSET, STATEFULSET
from sim.sampling import sample
from sim.world.budgets import losing_one_breaches
from sim.world.entities import GONE, RUNNING, STARTING, TERMINATING, SimNode, SimPod, SimWorkload
from sim.world.passes import Kick, run_passes
from sim.world.steps import soon, then

CRASH_BACKOFF_S = 10.0
CRASH_BACKOFF_MAX_S = 300.0
CRASH_BACKOFF_RESET_S = 2 * CRASH_BACKOFF_MAX_S  # client-go flowcontrol hasExpired: "ok for twice the maxDuration"


def crash_backoff_s(failures: int) -> float:
    """The kubelet's wait before restarting a container that exited ``failures`` times in a row: none after
    the first (its back-off entry does not exist yet), then 10 s, doubling, at most 300 s. KK
    pkg/kubelet/kuberuntime doBackOff restarts at once unless ``backOff.IsInBackOffSince(key, ts)``, then
    calls ``backOff.Next(key, ts)``; client-go util/flowcontrol Backoff: IsInBackOffSince is false for an id
    without an entry, Next creates it at the initial 10 s (kubelet backOffPeriod) and doubles it after, capped
    at MaxContainerBackOff (300 s)."""
    if failures <= 1:
        return 0.0
    return min(CRASH_BACKOFF_S * 2 ** (failures - 2), CRASH_BACKOFF_MAX_S)
MIN_SIGTERM_S = 2.0  # the kubelet's minimumGracePeriodInSeconds
FINISHED = "Finished"


class Pods:
    def __init__(self, world):
        self.world = world
        self.next_uid = 0
        self.dirty: set[str] = set()
        self.wake = Kick(world.env)

    # -- creation and binding -------------------------------------------------------------
    def new_pod(self, w: SimWorkload, ordinal: int | None = None, replacement: bool = False) -> SimPod:
        self.next_uid += 1
        if ordinal is not None:
            name = f"{w.spec.name}-{ordinal}"
        else:
            w.next_index += 1
            name = f"{w.spec.name}-{w.next_index}"
        pod = SimPod(self.next_uid, name, w, ordinal, replacement, w.template)
        w.pods.add(pod)
        self.world.restate_workload(w)
        if replacement:  # it takes over from a pod evicted earlier, if there was one
            displaced = w.displaced.pop(ordinal, None) if ordinal is not None else None
            if ordinal is None and w.displaced:
                displaced = w.displaced.pop(min(w.displaced))
            pod.evicted_from = displaced
        return pod

    def bind(self, pod: SimPod, node: SimNode, instant: bool = False) -> None:
        world = self.world
        w = pod.workload
        pod.node = node
        node.add_pod(pod)
        if w.finished:  # a finished pod holds no resources; it waits to be deleted
            pod.state = FINISHED
            return
        spec = w.spec
        r = spec.requests
        node.used_cpu += r.cpu_m
        node.used_memory += r.memory
        node.used_pods += 1
        if spec.kind != DAEMONSET:
            world.pods_moved(node)  # its count of pods to drain changed
        else:
            world.restate(node)  # its requests changed; nothing a strategy waits for
        world.index.resized(node)
        zone, name = node.zone, node.name
        w.zone_counts[zone] = w.zone_counts.get(zone, 0) + 1
        w.node_counts[name] = w.node_counts.get(name, 0) + 1
        w.live_zone[zone] = w.live_zone.get(zone, 0) + 1
        w.live_node[name] = w.live_node.get(name, 0) + 1
        pod.live = True
        pod.started_at = world.env.now
        if pod.nominated is not None or pod.unplaced_since is not None:
            world.sched.placed(pod)  # it waited for a node
        world.preemption.bound(pod, node, 1)
        if spec.storage is not None:  # (a claim: Volumes.claim)
            instant = world.volumes.bound(pod, node, instant) and instant
        if spec.kind == STATEFULSET and spec.local_storage:
            w.volumes[pod.ordinal] = node.name
            pod.pinned = node.name
        if pod.replacement:
            world.rec.count("pods_rescheduled", workload=w.key)
        if instant:
            node.images.add(w.key)
            self._run(pod)
        else:
            pod.state = STARTING
            soon(world.env, self._start, pod, w.key not in node.images)

    # A pod's start-up: steps chained by callbacks (``sim.world.steps``), each where a process would resume.
    def _start(self, pod: SimPod, pull: bool, attempt: int = 0) -> None:
        gen = pod.gen
        backoff = crash_backoff_s(attempt)  # CrashLoopBackOff: at once, then 10 s, doubling, at most 5 min
        if backoff:
            then(self.world.env.timeout(backoff), self._backed_off, pod, pull, attempt, gen)
            return
        if attempt:
            self._pull(pod, pull, attempt, gen)  # the first restart is immediate
            return
        waiting = self.world.volumes.ready(pod)
        if waiting is not None:  # its volume is not attached to this node yet
            pod.waiting_since = self.world.env.now
            self.world.rec.volume_wait(self.world.env.now, pod.workload.key, 1)
            then(waiting, self._attached, pod, pull, gen)
            return
        self._pull(pod, pull, attempt, gen)

    def _backed_off(self, pod: SimPod, pull: bool, attempt: int, gen: int) -> None:
        if pod.gen == gen:
            self._pull(pod, pull, attempt, gen)

    def _attached(self, pod: SimPod, pull: bool, gen: int) -> None:
        self.stop_waiting(pod)
        if pod.gen == gen:
            self._pull(pod, pull, 0, gen)

    def _pull(self, pod: SimPod, pull: bool, attempt: int, gen: int) -> None:
        if not pull:
            self._create_containers(pod, attempt, gen)
            return
        world = self.world
        spec = pod.workload.spec
        pull_s = spec.image_pull_s if spec.image_pull_s is not None else sample(world.timing.image_pull, world.rng)
        then(world.env.timeout(pull_s * world.faults.image_pull_factor(pod)), self._pulled, pod, attempt, gen)

    def _pulled(self, pod: SimPod, attempt: int, gen: int) -> None:
        if pod.gen == gen:
            pod.node.images.add(pod.workload.key)
            self._create_containers(pod, attempt, gen)

    def _create_containers(self, pod: SimPod, attempt: int, gen: int) -> None:
        world = self.world
        pod.started = True  # containers created: Running, not Ready yet
        spec = pod.workload.spec
        start_s = spec.startup_seconds if spec.startup_seconds is not None else sample(world.timing.pod_startup, world.rng)
        then(world.env.timeout(start_s), self._ready_check, pod, attempt, gen, world.env.now)

    def _ready_check(self, pod: SimPod, attempt: int, gen: int, created_at: float = 0.0) -> None:
        if pod.gen != gen:
            return
        if self.world.faults.pod_fails_to_start(pod):
            self.world.rec.count("pods_restarted", workload=pod.workload.key)
            if attempt and self.world.env.now - created_at > CRASH_BACKOFF_RESET_S:
                attempt = 0  # it ran for more than 10 min since the back-off last moved: the back-off starts over
            soon(self.world.env, self._start, pod, False, attempt + 1)
            return
        self._run(pod)

    def stop_waiting(self, pod: SimPod) -> None:
        if pod.waiting_since is not None:
            pod.waiting_since = None
            self.world.rec.volume_wait(self.world.env.now, pod.workload.key, -1)

    def _unlive(self, pod: SimPod) -> None:
        """``pod`` no longer counts for topology spread (it terminates, or is gone)."""
        if pod.live:
            pod.live = False
            w, node = pod.workload, pod.node
            w.live_zone[node.zone] -= 1
            w.live_node[node.name] -= 1
            if not w.live_node[node.name]:
                del w.live_node[node.name]

    def _run(self, pod: SimPod) -> None:
        pod.state = RUNNING
        pod.started = True
        self.set_ready(pod, pod.node.ready)

    def set_ready(self, pod: SimPod, ready: bool, involuntary: bool = False) -> None:
        """Mark ``pod`` Ready or not. A Ready pod lost ``involuntary`` (its node NotReady, its containers
        restarted) that takes a budget below its desired healthy is an involuntary breach."""
        self.world.traffic.touch(pod)  # every change of a pod passes here: its endpoint may change (issue 16)
        ready = ready and pod.state == RUNNING
        if pod.ready == ready:
            return
        w = pod.workload
        if not ready and involuntary and losing_one_breaches(w):
            self.world.rec.count("budget_breaches_involuntary", workload=w.key)
        pod.ready = ready
        w.ready += 1 if ready else -1
        self.world.workload_changed(w)  # (which restates it)
        if ready and w.kind == STATEFULSET and len(w.pods) < w.spec.replicas:
            self.changed(w)  # an OrderedReady set may create its next missing ordinal now

    def stop_containers(self, node: SimNode) -> None:
        """The container runtime stops (it is being replaced): every container on the node stops; the
        kubelet starts them again when it next starts (``restart_containers``)."""
        for pod in node.pods_in_order():
            if pod.state in (RUNNING, STARTING):
                pod.gen += 1
                self.set_ready(pod, False, involuntary=True)
                pod.state = STARTING

    def restart_containers(self, node: SimNode) -> None:
        """Every container on the node starts again (pods are not rebuilt, images are there): a machine
        that rebooted, a container runtime replaced, a kubelet that sees every container as changed."""
        for pod in node.pods_in_order():
            if pod.state in (RUNNING, STARTING):
                pod.gen += 1
                self.set_ready(pod, False, involuntary=True)
                pod.state = STARTING
                self.world.rec.count("pods_restarted", workload=pod.workload.key)
                soon(self.world.env, self._start, pod, False)

    # -- deletion ----------------------------------------------------------------------------
    def terminate(self, pod: SimPod) -> None:
        """Graceful deletion: not Ready at once; gone once its containers exit (see the module docstring)."""
        if pod.state in (TERMINATING, GONE):
            return
        if pod.state == FINISHED or pod.node is None:
            self.gone(pod)
            return
        pod.gen += 1
        self.set_ready(pod, False)
        self._unlive(pod)
        pod.state = TERMINATING
        pod.deleted_at = self.world.env.now
        pod.workload.terminating += 1
        soon(self.world.env, self._finish, pod)
        self.changed(pod.workload)

    def exit_after(self, pod: SimPod) -> float:
        """Seconds from the start of a graceful deletion until the pod's containers have exited: the
        preStop hook (cut off by the grace period), then SIGTERM until it exits, SIGKILL when what is
        left of the grace period ends, but never sooner than 2 s after SIGTERM. The kubelet's
        killContainer (KK pkg/kubelet/kuberuntime/kuberuntime_container.go)::

            gracePeriod = gracePeriod - m.executePreStopHook(ctx, pod, containerID, containerSpec, gracePeriod)
            // always give containers a minimal shutdown window to avoid unnecessary SIGKILLs
            if gracePeriod < minimumGracePeriodInSeconds {   // 2
                gracePeriod = minimumGracePeriodInSeconds

        (A grace period of 0 is left as midair had it: the containers are gone at once.)"""
        spec = pod.workload.spec
        grace = spec.grace_period_s
        if grace <= 0:
            return 0.0
        pre_stop = min(spec.pre_stop_s, grace)  # executePreStopHook returns when the grace period ends
        left = max(grace - pre_stop, MIN_SIGTERM_S)
        return pre_stop + min(left, sample(self.world.timing.pod_termination, self.world.rng))

    def _finish(self, pod: SimPod) -> None:
        """The containers exit ``exit_after`` from now while the kubelet is up (from when it is up again,
        if it is down); then the pod is gone. A step chain: ``sim.world.steps``."""
        node = pod.node
        if pod.state != TERMINATING or node is None or node.removed:
            self.gone(pod)
        elif node.kubelet_up:
            then(self.world.env.timeout(self.exit_after(pod)), self.gone, pod)
        else:
            then(self.world.node_ops.when_kubelet_up(node), self._finish, pod)

    def gone(self, pod: SimPod) -> None:
        if pod.state == GONE:
            return
        world = self.world
        pod.gen += 1
        self.set_ready(pod, False)
        w = pod.workload
        if pod.state == TERMINATING:
            w.terminating -= 1
        finished = pod.state == FINISHED
        self.stop_waiting(pod)
        world.sched.placed(pod)
        pod.state = GONE
        w.pods.discard(pod)
        self.world.restate_workload(w)
        node = pod.node
        if node is not None:
            node.discard_pod(pod)
            if not finished:
                self._unlive(pod)
                r = w.spec.requests
                node.used_cpu -= r.cpu_m
                node.used_memory -= r.memory
                node.used_pods -= 1
                w.zone_counts[node.zone] -= 1
                w.node_counts[node.name] -= 1
                if not w.node_counts[node.name]:
                    del w.node_counts[node.name]
                world.preemption.bound(pod, node, -1)
                world.volumes.left(pod, node)
                if w.kind != DAEMONSET:
                    world.pods_moved(node)
                else:
                    world.restate(node)  # its requests changed; no one waits for it
                world.index.resized(node)
                world.sched.kick()
        self.changed(w)

    # -- controllers ---------------------------------------------------------------------------
    def changed(self, w: SimWorkload) -> None:
        self.dirty.add(w.key)
        self.wake.kick()

    def run_controllers(self):
        cp = self.world.cp
        return run_passes(self.world.env, self.wake, lambda: cp.controllers_available, cp.when_controllers_available,
                          self._pass, delay=self.world.consequences.controller_delay)

    def _pass(self) -> None:
        dirty, self.dirty = self.dirty, set()
        for key in sorted(dirty):
            self.reconcile(self.world.workloads[key])

    def reconcile(self, w: SimWorkload, initial: bool = False) -> list[SimPod]:
        """Create the pods ``w`` lacks, each if admission lets it; returns them (bound already for DaemonSets).
        Admission refuses: nothing more is created in this pass (the controller backs off)."""
        kind = w.kind
        created = []
        delay = 0.0

        def admitted() -> bool:
            nonlocal delay
            if initial:
                return True
            verdict = self.world.admission.pod_creation(w)
            delay = max(delay, verdict.delay_s)
            return verdict.allowed

        if kind == BARE_POD:
            if initial:
                created = [self.new_pod(w) for _ in range(w.spec.replicas)]
        elif kind == DAEMONSET:
            covered = {p.daemon_node for p in w.pods}
            for node in self.world.daemon_nodes(w):
                if node.name not in covered:
                    if not admitted():
                        break
                    pod = self.new_pod(w, replacement=False)
                    pod.daemon_node = node.name
                    self.bind(pod, node, instant=initial)
        elif kind == STATEFULSET:
            # OrderedReady (the default) is monotonic: ordinals in order, a missing one created alone, and
            # nothing past a pod that is terminating or not Running and Ready (``ordered_blocks``). A pod of
            # the ordinal still terminating is never replaced before it is gone.
            ordered = w.spec.pod_management == "OrderedReady" and not initial
            have = {p.ordinal: p for p in w.pods}
            for ordinal in range(w.spec.replicas):
                existing = have.get(ordinal)
                if existing is not None:
                    if ordered and self.ordered_blocks(existing):
                        break
                    continue
                if not admitted():
                    break
                pod = self.new_pod(w, ordinal, replacement=not initial)
                if w.spec.local_storage:
                    pod.pinned = w.volumes.get(ordinal)  # its claim is bound: it may run only on that node
                created.append(pod)
                if ordered:
                    break  # "if the set does not allow bursting, return immediately"
        else:
            active = len(w.pods) - w.terminating
            for _ in range(w.spec.replicas - active):
                if not initial and not admitted():
                    break
                created.append(self.new_pod(w, replacement=not initial))
        if not initial:
            if delay:  # a webhook that timed out and fails open: the pods exist once the request returns
                self.world.env.process(self._enqueue_after(created, delay))
            else:
                for pod in created:
                    self.world.sched.enqueue(pod)
        return created

    @staticmethod
    def ordered_blocks(pod: SimPod) -> bool:
        """Does ``pod`` hold back an OrderedReady StatefulSet's higher ordinals? KK
        pkg/controller/statefulset/stateful_set_control.go, ``processReplica`` (monotonic = OrderedReady)::

            if isTerminating(replicas[i]) && monotonic {
                logger.V(4).Info("StatefulSet is waiting for Pod to Terminate", ...)
                return true, nil
            }
            if !isRunningAndReady(replicas[i]) && monotonic {
                logger.V(4).Info("StatefulSet is waiting for Pod to be Running and Ready", ...)
                return true, nil
            }
        """
        return pod.state == TERMINATING or not pod.ready

    def _enqueue_after(self, pods: list[SimPod], delay: float):
        yield self.world.env.timeout(delay)
        for pod in pods:
            if pod.state == "Pending":
                self.world.sched.enqueue(pod)

    # -- node-local volumes --------------------------------------------------------------------
    def volume_orphaned(self, w: SimWorkload, ordinal: int) -> None:
        """The node holding a StatefulSet pod's local volume is gone, and its data with it. The claim
        stays bound to that volume, so the pod cannot be placed anywhere until someone deletes the
        claim and the pod (``timing.operatorResponse``; never, without one)."""
        world = self.world
        world.rec.count("pods_lost_local_data", workload=w.key)
        world.rec.event(world.env.now, f"pod {w.spec.name}-{ordinal} is Pending: volume node affinity conflict "
                                       f"(its PersistentVolume is pinned to {w.volumes[ordinal]}, which is gone)")
        if world.timing.operator_response is not None:
            world.env.process(self._operator_recovers(w, ordinal, w.volumes[ordinal]))

    def _operator_recovers(self, w: SimWorkload, ordinal: int, holder: str):
        world = self.world
        yield world.env.timeout(sample(world.timing.operator_response, world.rng))
        if w.volumes.get(ordinal) != holder:
            return  # already recovered
        while not world.cp.api_up:
            yield world.cp.when_controllers_available()
        world.rec.count("manual_interventions", workload=w.key)
        world.rec.event(world.env.now, f"an operator deleted the claim and the pod of {w.key} ordinal {ordinal}: it "
                                       "starts again on a new, empty volume")
        del w.volumes[ordinal]
        for pod in sorted(w.pods):
            if pod.ordinal == ordinal and pod.node is None:
                self.gone(pod)
        self.changed(w)
