"""Pods and the controllers that own them.

Pod lifecycle: created Pending → bound to a node → Starting (image pull, then the
readiness delay) → Running (Ready while its node is Ready) → Terminating (the grace
period; it completes only while the node's kubelet is up) → Gone. A node deletion
makes its pods Gone at once.

Controllers (ReplicaSet for Deployments, StatefulSet, DaemonSet) recreate what is
missing, but only while the API is up and a controller-manager leader exists. A
ReplicaSet replaces a pod as soon as it starts terminating; a StatefulSet waits until
the old pod is gone and keeps its ordinal, and a pod with a local volume is tied to
the node holding it. Bare pods are never recreated.
"""

from __future__ import annotations

from models.state import BARE_POD, DAEMONSET, STATEFULSET
from sim.sampling import sample
from sim.world.entities import GONE, PENDING, RUNNING, STARTING, TERMINATING, SimNode, SimPod, SimWorkload
from sim.world.passes import Kick, run_passes

CRASH_BACKOFF_S = 10.0
CRASH_BACKOFF_MAX_S = 300.0


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
        w.record = None
        return pod

    def bind(self, pod: SimPod, node: SimNode, instant: bool = False) -> None:
        world = self.world
        r = pod.workload.spec.requests
        pod.node = node
        node.pods.add(pod)
        node.used_cpu += r.cpu_m
        node.used_memory += r.memory
        node.used_pods += 1
        if pod.workload.kind != DAEMONSET:
            world.touch(node)  # its count of pods to drain changed
        world.index.update(node)
        w = pod.workload
        w.zone_counts[node.zone] = w.zone_counts.get(node.zone, 0) + 1
        if w.kind == STATEFULSET and w.spec.local_storage:
            w.volumes[pod.ordinal] = node.name
            pod.pinned = node.name
        if pod.replacement:
            world.rec.count("pods_rescheduled")
        if instant:
            node.images.add(w.key)
            self._run(pod)
        else:
            pod.state = STARTING
            world.env.process(self._start(pod, pull=w.key not in node.images))

    def _start(self, pod: SimPod, pull: bool, attempt: int = 0):
        world = self.world
        gen = pod.gen
        if attempt:  # CrashLoopBackOff: 10 s, doubling, at most 5 min (the kubelet's back-off)
            yield world.env.timeout(min(CRASH_BACKOFF_S * 2 ** (attempt - 1), CRASH_BACKOFF_MAX_S))
            if pod.gen != gen:
                return
        spec = pod.workload.spec
        if pull:
            pull_s = spec.image_pull_s if spec.image_pull_s is not None else sample(world.timing.image_pull, world.rng)
            yield world.env.timeout(pull_s * world.faults.image_pull_factor(pod))
            if pod.gen != gen:
                return
            pod.node.images.add(pod.workload.key)
        pod.started = True  # containers created: Running, not Ready yet
        start_s = spec.startup_seconds if spec.startup_seconds is not None else sample(world.timing.pod_startup, world.rng)
        yield world.env.timeout(start_s)
        if pod.gen != gen:
            return
        if world.faults.pod_fails_to_start(pod):
            world.rec.count("pods_restarted")
            world.env.process(self._start(pod, pull=False, attempt=attempt + 1))
            return
        self._run(pod)

    def _run(self, pod: SimPod) -> None:
        pod.state = RUNNING
        pod.started = True
        self.set_ready(pod, pod.node.ready)

    def set_ready(self, pod: SimPod, ready: bool) -> None:
        ready = ready and pod.state == RUNNING
        if pod.ready == ready:
            return
        pod.ready = ready
        w = pod.workload
        w.ready += 1 if ready else -1
        w.record = None
        self.world.rec.workload(self.world.env.now, w)

    def restart_containers(self, node: SimNode) -> None:
        """A container-runtime restart: every container on the node starts again (pods are not rebuilt)."""
        for pod in sorted(node.pods):
            if pod.state in (RUNNING, STARTING):
                pod.gen += 1
                self.set_ready(pod, False)
                pod.state = STARTING
                self.world.rec.count("pods_restarted")
                self.world.env.process(self._start(pod, pull=False))

    # -- deletion ----------------------------------------------------------------------------
    def terminate(self, pod: SimPod) -> None:
        """Graceful deletion: not Ready at once, gone after the grace period (needs a live kubelet)."""
        if pod.state in (TERMINATING, GONE):
            return
        pod.gen += 1
        self.set_ready(pod, False)
        if pod.node is None:
            self.gone(pod)
            return
        pod.state = TERMINATING
        pod.workload.terminating += 1
        self.world.env.process(self._finish(pod))
        self.changed(pod.workload)

    def _finish(self, pod: SimPod):
        world = self.world
        grace = pod.workload.spec.grace_period_s
        while pod.state == TERMINATING:
            node = pod.node
            if node is None or node.removed:
                break
            if node.kubelet_up:
                yield world.env.timeout(grace)
                break
            yield world.node_ops.when_kubelet_up(node)
        self.gone(pod)

    def gone(self, pod: SimPod) -> None:
        if pod.state == GONE:
            return
        world = self.world
        pod.gen += 1
        self.set_ready(pod, False)
        w = pod.workload
        if pod.state == TERMINATING:
            w.terminating -= 1
        pod.state = GONE
        w.pods.discard(pod)
        w.record = None
        node = pod.node
        if node is not None:
            r = w.spec.requests
            node.pods.discard(pod)
            node.used_cpu -= r.cpu_m
            node.used_memory -= r.memory
            node.used_pods -= 1
            w.zone_counts[node.zone] -= 1
            if w.kind != DAEMONSET:
                world.touch(node)
            world.index.update(node)
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
        """Create the pods ``w`` lacks; returns them (bound already for DaemonSets)."""
        kind = w.kind
        created = []
        if kind == BARE_POD:
            if initial:
                created = [self.new_pod(w) for _ in range(w.spec.replicas)]
        elif kind == DAEMONSET:
            covered = {p.daemon_node for p in w.pods}
            for node in self.world.daemon_nodes(w):
                if node.name not in covered:
                    pod = self.new_pod(w, replacement=False)
                    pod.daemon_node = node.name
                    self.bind(pod, node, instant=initial)
        elif kind == STATEFULSET:
            taken = {p.ordinal for p in w.pods}
            for ordinal in range(w.spec.replicas):
                if ordinal in taken:
                    continue
                pod = self.new_pod(w, ordinal, replacement=not initial)
                if w.spec.local_storage:
                    if ordinal in w.volumes and w.volumes[ordinal] is None:
                        w.pods.discard(pod)  # the lost volume is not re-bound yet
                        continue
                    pod.pinned = w.volumes.get(ordinal)
                created.append(pod)
        else:
            active = len(w.pods) - w.terminating
            created = [self.new_pod(w, replacement=not initial) for _ in range(w.spec.replicas - active)]
        if not initial:
            for pod in created:
                self.world.sched.enqueue(pod)
        return created

    def volume_lost(self, w: SimWorkload, ordinal: int) -> None:
        """A StatefulSet pod's local volume died with its node; a new one binds after a delay."""
        w.volumes[ordinal] = None
        self.world.rec.count("pods_lost_local_data")
        for pod in list(w.pods):
            if pod.ordinal == ordinal and pod.state == PENDING and pod.node is None:
                self.gone(pod)
        self.world.env.process(self._rebind(w, ordinal))

    def _rebind(self, w: SimWorkload, ordinal: int):
        yield self.world.env.timeout(sample(self.world.timing.local_volume_rebind, self.world.rng))
        del w.volumes[ordinal]
        self.changed(w)
