"""The simulated cluster: one simpy environment and the objects that live in it.

``World`` builds the mutable cluster from plain records (the first ``ClusterState``, the
``Timing``, the fault specs and a few behaviour settings), starts the long-running
processes (controllers, scheduler, faults), and applies actions through the subsystems in
this package. It tells waiters when something a strategy can observe changed, and checks
every version change against the skew policy. It knows nothing of the scenario format:
the composition root (``sim.simulate.world_for``) hands the records in.
"""

from __future__ import annotations

import operator
from functools import lru_cache

import simpy

from models.skew import Versioned, check_versions
from models.constraints import node_labels
from models.scheduling import untolerated
from models.state import (
    DAEMONSET,
    DELETING,
    ETCD,
    IDLE,
    KUBE_PROXY,
    KUBELET,
    PROVISION_FAILED,
    PROVISIONING,
    ClusterState,
    NodePool,
)
from models.faults import FaultSpec
from models.timing import Timing
from sim.metrics import Recorder
from sim.sampling import stream
from models.version import KubeVersion
from sim.world.addons import AddonOps
from sim.world.admission import Admission
from sim.world.budgets import degraded, link_budgets
from sim.world.capacity import CapacityIndex
from sim.world.cloud import CloudOps
from sim.world.consequences import Consequences
from sim.world.controlplane import ControlPlaneSim
from sim.world.entities import SimInstance, SimNode, SimWorkload
from sim.world.eviction import Evictions
from sim.world.lifecycle import NodeLifecycleController
from sim.world.nodes import Nodes
from sim.world.placement import compile_all
from sim.world.pods import Pods
from sim.world.preemption import Preemption
from sim.world.scheduler import Scheduler
from sim.world.volumes import Volumes
from sim.world.autoscaler import ClusterAutoscaler
from sim.world.traffic import Traffic
from models.autoscaling import Autoscaler


UNHEALTHY_POD_EVICTION_POLICY_FROM = KubeVersion(1, 27)


def _same(a: list, b: list) -> bool:
    """The same objects, in the same order."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


@lru_cache(maxsize=1024)
def _rules_broken(key: tuple) -> frozenset:
    """The skew rules broken by the distinct versions of ``key`` (each control-plane instance's component and
    version; the (kubelet, kube-proxy) pairs on nodes), as (rule, component, version, bound): pure, so
    remembered across runs (a sweep's runs go through the same versions)."""
    instances, pairs = key
    bare = [Versioned(component, "", version) for component, version, _ in instances]
    for kubelet, proxy in pairs:
        node = f"nodes:{kubelet}:{proxy}"
        bare += [Versioned(KUBELET, "", kubelet, node), Versioned(KUBE_PROXY, "", proxy, node)]
    return frozenset((v.rule, v.component, str(v.version), str(v.bound)) for v in check_versions(bare))


class World:
    def __init__(self, state: ClusterState, timing: Timing, seed: int, faults: tuple[FaultSpec, ...] = (), *,
                 inplace_restarts: str = "auto", faults_factory=None, keep_series: bool = True,
                 autoscaler: Autoscaler | None = None, clock_origin: float = 0.0):
        self.env = simpy.Environment()
        self.clock_origin = clock_origin  # wall time (seconds since the epoch) at simulated time 0
        self.timing = timing
        self.inplace_restarts = inplace_restarts
        self.api_services = state.api_services
        self.pdbs = state.pdbs
        self.priority_classes = state.priority_classes
        self.services = state.services
        self.rng = stream(seed, "timing")
        self.start_version = state.oldest_apiserver
        self.pool_specs: dict[str, NodePool] = {p.name: p for p in state.pools}
        self.pool_names = tuple(self.pool_specs)
        self.cloud = state.cloud
        self.rec = Recorder(sum(p.count for p in state.pools), keep_series)
        self._rising: SimWorkload | None = None  # a workload whose pods the start places (_place_initial_pods)
        self.nodes: dict[str, SimNode] = {}
        self.node_counter = {p.name: p.count for p in state.pools}
        self._seq = 0
        self._changed = None
        self.dirty = True
        self.nodes_dirty = True
        self.stale_nodes: list[SimNode] = []  # nodes made, changed or removed since the last view
        self.stale_workloads: list[SimWorkload] = []  # workloads whose record was dropped since the last view
        self.cp_dirty = True
        self.active_skew: frozenset[tuple] = frozenset()
        self._skew_seen: tuple[list, list] | None = None  # what the skew check last looked at (versions_changed)
        self.version_pairs: dict[tuple, dict[str, None]] = {}  # (kubelet, kube-proxy) -> nodes, in order
        self.available: set[str] = set()  # names of Ready, schedulable, idle nodes
        self.failed: set[str] = set()  # names of nodes whose machine was never made (provision-failed)
        # (pool, zone, kubelet) -> nodes there not deleting or failed; (pool, zone, None) -> all such nodes
        self.zone_tally: dict[tuple, int] = {}
        self.available_in: dict[str, int] = {}
        self.min_available: dict[str, int] = {}  # per pool, the fewest available nodes seen
        self.index = CapacityIndex(self.eligible, self.registered)
        self._pool_labels = {p.name: dict(p.labels) for p in state.pools}
        self.sched = Scheduler(self)
        self.preemption = Preemption(self)
        self.volumes = Volumes(self)
        self.pods = Pods(self)
        self.evictions = Evictions(self)
        self.cloud_ops = CloudOps(self, state)
        self.cp = ControlPlaneSim(self, [SimInstance(i.name, i.component, i.version, i.healthy)
                                         for i in state.control_plane.instances if i.component != ETCD])
        self.etcd = [i for i in state.control_plane.instances if i.component == ETCD]
        self.addon_ops = AddonOps(self, {a.name: {"version": a.version, "flavor": a.flavor, "healthy": a.healthy,
                                                  "phase": a.phase} for a in state.addons})
        self.node_ops = Nodes(self)
        self.lifecycle = NodeLifecycleController(self, state.control_plane.node_lifecycle)
        self.consequences = Consequences(self, state)
        from sim.faults import Faults  # late: faults reach into every subsystem
        self.faults = (faults_factory or Faults)(self, faults, stream(seed, "faults"))
        for n in state.nodes:
            node = self._new_node(n.name, self.pool_specs[n.pool], n.zone, n.kubelet, n.ip, 0.0)
            node.kube_proxy, node.runtime, node.config = n.kube_proxy, n.runtime, n.config
            node.annotations = dict(n.annotations)
            node.as_recorded = None
            if not (n.ready and n.config.kubelet_running and n.config.runtime_running):
                node.kubelet_up = False
                node.ready = False
            self.count_versions(node, True)
            self._track_availability(node)
            self.lifecycle.registered(node)
            self.index.update(node)
        self.workloads: dict[str, SimWorkload] = {w.key: SimWorkload(w) for w in state.workloads}
        self.budgets = link_budgets(self.workloads, state.pdbs)
        self.daemonsets = [w for w in self.workloads.values() if w.kind == DAEMONSET]  # asked at every node change
        compile_all(self.workloads, self.pool_names)
        self.volumes.declare(self.workloads.values())
        self.sched.prioritized = any(w.priority for w in self.workloads.values())
        self.admission = Admission(self, state.webhooks)
        self.traffic = Traffic(self, state.services, stream(seed, "traffic"))  # issue 16: services' requests
        self._place_initial_pods()
        self.traffic.start()
        self.autoscaler = ClusterAutoscaler(self, autoscaler, stream(seed, "autoscaler")) if autoscaler else None
        self.rec.node_count(0.0, self.vm_count())
        self.min_available = dict(self.available_in)  # the floor counts from the start, not from an empty pool
        self.env.process(self.pods.run_controllers())
        self.env.process(self.sched.run())
        self.volumes.start()
        self.consequences.start()
        self.faults.start()
        self.versions_changed()

    # -- nodes ---------------------------------------------------------------------------
    def _new_node(self, name, pool: NodePool, zone, kubelet, ip, created_at) -> SimNode:
        self._seq += 1
        proxy = self.addon_ops.addons["kube-proxy"]["version"] if "kube-proxy" in self.addon_ops.addons else kubelet
        node = SimNode(name, pool.name, zone, kubelet, proxy, pool.target_runtime or pool.runtime,
                       pool.allocatable, ip, self._seq, created_at, pool.config,
                       dict(node_labels(pool.labels, zone, name)), pool.taints)
        self.nodes[name] = node
        self.nodes_dirty = True
        self.stale_nodes.append(node)
        return node

    def add_node(self, pool: NodePool, zone: str, version, phase: str) -> SimNode:
        self.node_counter[pool.name] += 1
        node = self._new_node(f"{pool.name}-{self.node_counter[pool.name]}", pool, zone, version, "", self.env.now)
        node.phase = phase
        node.alive = node.kubelet_up = node.ready = False
        self.index.update(node)
        self.touch(node)
        self.rec.node_count(self.env.now, self.vm_count())
        return node

    def remove_node(self, node: SimNode) -> None:
        self.lifecycle.deregistered(node)
        self.volumes.node_gone(node)
        self.count_versions(node, False)
        node.removed = True
        self._track_availability(node)
        del self.nodes[node.name]
        if node.ip:  # a machine that existed (a request the cloud refused got no address)
            self.rec.pool_nodes(node.pool, removed=1)
        self.cloud_ops.release(node)
        self.index.update(node)
        self.nodes_dirty = True
        self.stale_nodes.append(node)
        self.notify()
        self.sched.kick()  # a node gone is a topology domain gone: a spread may now allow what it refused
        self.daemonsets_changed()
        self.versions_changed()
        self.rec.node_count(self.env.now, self.vm_count())

    def vm_count(self) -> int:
        """Machines in the cloud: the nodes but those that failed to be made (counted as they are touched)."""
        return len(self.nodes) - len(self.failed)

    def eligible(self, node: SimNode) -> bool:
        """Ready, schedulable, up and not going: a node a pod may be placed on, taints aside."""
        return (not node.removed and node.alive and node.ready and node.schedulable
                and node.phase not in (DELETING, PROVISIONING, PROVISION_FAILED))

    def registered(self, node: SimNode) -> bool:
        """Does ``node`` have a Node object (a topology domain, Ready or not)?"""
        return node.name in self.lifecycle.members

    def pool_labels(self, pool: str) -> dict:
        return self._pool_labels[pool]

    def daemon_nodes(self, w: SimWorkload) -> list[SimNode]:
        """The nodes a DaemonSet runs a pod on: those of its pool whose own taints (its pool's) it tolerates
        (the DaemonSet controller's NoSchedule and NoExecute check; taints strategies add later do not
        remove pods that run)."""
        tolerations = w.spec.scheduling.tolerations
        return [n for n in self.nodes.values()  # in the order they were made (by seq)
                if n.alive and n.phase not in (DELETING, PROVISIONING, PROVISION_FAILED)
                and (w.spec.pool is None or n.pool == w.spec.pool)
                and untolerated(self.pool_specs[n.pool].taints, tolerations) is None]

    def daemonsets_changed(self) -> None:
        for w in self.daemonsets:
            desired = len(self.daemon_nodes(w))
            if desired != w.desired:
                w.desired = desired
                self.restate_workload(w)
                self.workload_changed(w)
            self.pods.changed(w)

    def workload_changed(self, w: SimWorkload) -> None:
        """``w``'s Ready or desired count changed: record it, and every workload whose budget it shares."""
        if w is self._rising:  # its pods are being placed as the cluster starts: recorded once they all are
            return
        now = self.env.now
        for other in (w, *w.sharing):  # (most budgets are one workload's own: w alone)
            self.restate_workload(other)
            self.rec.workload(now, other.key, other.ready, other.desired, degraded(other))
        if w.served:
            self.admission.backend_changed(w)

    def has_unhealthy_pod_policy(self) -> bool:
        """Does the API honour a budget's unhealthyPodEvictionPolicy? Beta and on by default from 1.27
        (alpha in 1.26, off; GA in 1.31: KEP-3017); the oldest apiserver decides."""
        return self.cp.oldest_apiserver() >= UNHEALTHY_POD_EVICTION_POLICY_FROM

    def _place_initial_pods(self) -> None:
        for w in self.workloads.values():
            if w.kind == DAEMONSET:
                w.desired = len(self.daemon_nodes(w))
            if w.finished:
                w.desired = 0  # nothing runs: no outage, nothing to degrade
            self.rec.track(w.key, w.ready, w.desired, degraded(w))
            # Its Ready count rises pod by pod, all at time 0: recorded at once after the last (Recorder.rose),
            # unless a change of it reaches further (a budget shared with others, webhooks it serves)
            alone = not w.served and not w.sharing
            before = w.ready
            self._rising = w if alone else None
            for pod in self.pods.reconcile(w, initial=True):
                node = self.sched.place(pod, finished=w.finished)
                if node is None:
                    self.sched.queue.append(pod)
                else:
                    self.pods.bind(pod, node, instant=True)
            self._rising = None
            if alone and w.ready != before:
                self.restate_workload(w)
                self.rec.rose(self.env.now, w.key, before, w.ready, w.desired, degraded(w))
        self.sched.wake.kicked = bool(self.sched.queue)
        self.rec.pending(0.0, len(self.sched.queue))

    # -- versions on nodes ----------------------------------------------------------------
    def count_versions(self, node: SimNode, present: bool) -> None:
        """Add ``node``'s (kubelet, kube-proxy) pair to the running tally, or take it out."""
        names = self.version_pairs.setdefault((node.kubelet, node.kube_proxy), {})
        if present:
            names[node.name] = None
        else:
            names.pop(node.name, None)

    def set_node_versions(self, node: SimNode, kubelet=None, kube_proxy=None) -> None:
        counted = node.name in self.version_pairs.get((node.kubelet, node.kube_proxy), {})
        if counted:
            self.count_versions(node, False)
        node.kubelet = kubelet or node.kubelet
        node.kube_proxy = kube_proxy or node.kube_proxy
        if counted:
            self.count_versions(node, True)
        self.touch(node)
        self.versions_changed()

    # -- change notification -------------------------------------------------------------
    def touch(self, node: SimNode) -> None:
        self.restate(node)
        self._track_availability(node)
        self.notify()

    def pods_moved(self, node: SimNode) -> None:
        """A pod came to ``node`` or left it: its record changes (its pods and requests), not whether it is
        available nor where it is counted (``_track_availability`` reads neither)."""
        self.restate(node)
        self.notify()

    def restate_workload(self, w: SimWorkload) -> None:
        """Drop ``w``'s observed record: the next view makes it again (and only it)."""
        if w.record is not None:
            w.record = None
            self.stale_workloads.append(w)

    def restate(self, node: SimNode) -> None:
        """Drop ``node``'s observed record: the next view makes it again (and only it)."""
        if node.record is not None:
            node.record = None
            self.stale_nodes.append(node)
        self.nodes_dirty = True

    def _track_availability(self, node: SimNode) -> None:
        """Keep each pool's count of available nodes, and the lowest it has been (and the failed machines)."""
        if node.phase == PROVISION_FAILED and not node.removed:
            self.failed.add(node.name)
        else:
            self.failed.discard(node.name)
        tallied = (None if node.removed or node.phase in (DELETING, PROVISION_FAILED)
                   else (node.pool, node.zone, node.kubelet))
        if tallied != node.tallied:
            tally = self.zone_tally
            for key, step in ((node.tallied, -1), (tallied, 1)):
                if key is not None:
                    tally[key] = tally.get(key, 0) + step
                    tally[key[:2]] = tally.get(key[:2], 0) + step
            node.tallied = tallied
        available = (not node.removed and node.ready and node.schedulable and node.phase == IDLE)
        if available != (node.name in self.available):
            if available:
                self.available.add(node.name)
            else:
                self.available.discard(node.name)
            count = self.available_in[node.pool] = self.available_in.get(node.pool, 0) + (1 if available else -1)
            if count < self.min_available.get(node.pool, count + 1):
                self.min_available[node.pool] = count

    def touch_control_plane(self) -> None:
        self.cp_dirty = True
        self.notify()

    def notify(self) -> None:
        self.dirty = True
        if self._changed is not None and not self._changed.triggered:
            self._changed.succeed()

    def changed(self):
        """An event that fires at the next observable change."""
        if self._changed is None or self._changed.triggered:
            self._changed = self.env.event()
        return self._changed

    def versions_changed(self, apiserver: bool = False) -> None:
        """Check the new versions against the skew policy; record violations that start now."""
        if apiserver:
            for node in list(self.nodes.values()):
                self.node_ops.refresh(node)
        # which rules are broken depends only on the distinct versions (not on the names and counts the
        # items carry, which only the reasons show): ask once per set of them, and for the reasons only
        # when a violation starts; the same objects as at the last look (most node changes move a node
        # between pairs that stay) answer as they did then, and active_skew is that answer already
        present = [pair for pair, names in self.version_pairs.items() if names]
        instances = [x for i in self.cp.instances.values() for x in (i.component, i.version)]
        seen = self._skew_seen
        if seen is not None and _same(seen[0], present) and _same(seen[1], instances):
            return
        self._skew_seen = (present, instances)
        pairs = tuple(sorted(present))
        key = (tuple((i.component, i.version, str(i.version)) for i in self.cp.instances.values()), pairs)
        now = _rules_broken(key)
        if not now <= self.active_skew:
            items = [Versioned(i.component, i.name, i.version) for i in self.cp.instances.values()]
            for kubelet, proxy in pairs:
                names = self.version_pairs[(kubelet, proxy)]
                node = f"nodes:{kubelet}:{proxy}"
                items.append(Versioned(KUBELET, next(iter(names)), kubelet, node, len(names)))
                items.append(Versioned(KUBE_PROXY, next(iter(names)), proxy, node, len(names)))
            for v in check_versions(items):
                identity = (v.rule, v.component, str(v.version), str(v.bound))
                if identity not in self.active_skew:
                    self.rec.skew_violation(self.env.now, v.rule, v.reason)
        self.active_skew = now
