"""Nodes: readiness, cordoning, in-place upgrades, provisioning and deletion.

A node is healthy while its VM is alive, its kubelet runs and posts status, and its
kubelet is not newer than the oldest apiserver (the seed's warning: a newer kubelet
makes the node NotReady). An unhealthy node turns NotReady after the node-monitor
grace period (40 s; 50 s from 1.32: the leading controller-manager's default), counted from
when it stopped posting or, if later, from when that controller-manager became leader (none
marks it while there is no leader); its pods then stop being Ready. The node lifecycle
controller (``sim.world.lifecycle``) taints it and evicts its pods, at its own pace.

An in-place upgrade is four steps (stop the kubelet, replace binaries and config,
start it, rejoin). Containers keep running while the kubelet is stopped. When the kubelet
starts again it restarts every container if it computes their hashes differently from
the kubelet it replaced (``models.compat.kubelet_restart``: 1.30 → 1.31 among others;
``inplaceRestarts`` overrides), and always when the container runtime was replaced too
(the old runtime's containers stop with it). It can stop after any step (a fault),
leaving the node half-done and NotReady.
"""

from __future__ import annotations

from models import compat
from models.state import (
    DELETING,
    DRAIN_FAILED,
    IDLE,
    PROVISION_FAILED,
    PROVISIONING,
    UPGRADE_FAILED,
    UPGRADING,
)
from sim.sampling import sample
from sim.world.admission import REGISTER_RETRY_S
from sim.world.entities import SimNode

STEPS = ("stopKubelet", "replaceBinaries", "startKubelet", "rejoin")


class Nodes:
    def __init__(self, world):
        self.world = world
        self._kubelet_waiters: dict[str, list] = {}

    # -- health --------------------------------------------------------------------------
    def posting(self, node: SimNode) -> bool:
        """Does the node's kubelet post its status? (If not, the node turns NotReady after the grace period.)"""
        world = self.world
        if not (node.alive and node.kubelet_up):
            return False
        if node.kubelet.minor_release > world.cp.oldest_apiserver().minor_release:
            return False
        if world.admission.heartbeat_refused():  # a webhook stands in the way of its Lease renewals
            return False
        return world.consequences.posting(node)

    def healthy(self, node: SimNode) -> bool:
        return self.posting(node) and self.world.consequences.reports_ready(node)

    def grace_s(self) -> float:
        """``--node-monitor-grace-period``: a kube-controller-manager flag, so the leading controller-manager's
        default (40 s; 50 s from 1.32), whatever the apiservers run; ``timing.nodeMonitorGrace`` overrides it."""
        t = self.world.timing.node_monitor_grace_s
        if t is not None:
            return t
        leader = self.world.cp.controller_manager_leader()
        return compat.node_monitor_grace_s(leader.version if leader else self.world.cp.oldest_apiserver())

    def _watch_silence(self, node: SimNode) -> None:
        """The node lifecycle controller (in the leading controller-manager) marks a node whose kubelet stopped
        posting NotReady (Unknown) ``grace_s`` after the later of the last heartbeat and its own start: a new
        leader has no heartbeat times and takes its start as every node's (KK pkg/controller/nodelifecycle
        node_lifecycle_controller.go, ``tryUpdateNodeHealth``: "Missing timestamp for Node. Assuming now as a
        timestamp", probeTimestamp: nc.now()). Without a leader nobody marks it."""
        cp = self.world.cp
        if cp.controller_manager_leader() is None:
            return  # ``monitor_started`` starts the count when a leader is elected
        node.episode += 1
        due = max(node.quiet_since, cp.kcm_since) + self.grace_s()
        self.world.env.process(self._going_not_ready(node, node.episode, max(0.0, due - self.world.env.now),
                                                     cp.kcm_term))

    def monitor_started(self) -> None:
        """A controller-manager became leader: its node lifecycle controller counts every silent node's grace
        period from now."""
        for node in sorted(self.world.nodes.values(), key=lambda n: n.seq):
            if node.going_down and not node.removed and not self.posting(node):
                self._watch_silence(node)

    def refresh(self, node: SimNode) -> None:
        """Re-evaluate ``node``'s health after anything that can change it."""
        if node.removed:
            return
        world = self.world
        if node.kubelet_up:
            for ev in self._kubelet_waiters.pop(node.name, []):
                if not ev.triggered:
                    ev.succeed()
            world.volumes.kubelet_up(node)
        if self.healthy(node):
            if node.going_down or not node.ready:
                node.episode += 1  # cancels a pending NotReady transition
                node.going_down = False
            if not node.ready and not world.admission.status_refused():  # it must post its status to be Ready
                self._set_ready(node, True)
        elif node.ready and (self.posting(node) or not node.going_down):
            # a kubelet that posts "not ready" (its network plugin failed) is NotReady at once;
            # one that stopped posting is noticed after the node-monitor grace period, counted
            # from when it stopped (a later refresh does not restart it)
            node.going_down = True
            if self.posting(node):  # the kubelet itself posts NotReady
                node.episode += 1
                world.env.process(self._going_not_ready(node, node.episode, 0.0))
            else:
                node.quiet_since = world.env.now
                self._watch_silence(node)

    def _going_not_ready(self, node: SimNode, episode: int, delay: float, term: int | None = None):
        world = self.world
        if delay:
            yield world.env.timeout(delay)
        if node.episode != episode or node.removed:
            return
        if term is not None and term != world.cp.kcm_term:
            return  # the leader that counted changed or went: the next one counts again (``monitor_started``)
        node.going_down = False
        self._set_ready(node, False)

    def _set_ready(self, node: SimNode, ready: bool) -> None:
        world = self.world
        node.ready = ready
        world.rec.event(world.env.now, f"node {node.name} {'Ready' if ready else 'NotReady'}")
        for pod in node.pods_in_order():
            world.pods.set_ready(pod, ready, involuntary=True)
        world.lifecycle.readiness(node, ready)
        world.touch(node)
        world.index.update(node)
        if ready:
            world.sched.kick()
            world.addon_ops.node_ready(node)

    def when_kubelet_up(self, node: SimNode):
        ev = self.world.env.event()
        self._kubelet_waiters.setdefault(node.name, []).append(ev)
        return ev

    # -- cordon --------------------------------------------------------------------------
    def set_schedulable(self, node: SimNode, schedulable: bool) -> None:
        node.schedulable = schedulable
        if schedulable and node.phase == DRAIN_FAILED:  # back in service: the failed drain is over
            node.phase = IDLE
            node.message = ""
        self.world.touch(node)
        self.world.index.update(node)
        if schedulable:
            self.world.sched.kick()

    # -- taints --------------------------------------------------------------------------
    def set_taint(self, node: SimNode, taint) -> None:
        node.taints = tuple(t for t in node.taints if t.key != taint.key) + (taint,)
        self.world.touch(node)
        self.world.index.update(node)

    def remove_taint(self, node: SimNode, key: str) -> None:
        if any(t.key == key for t in node.taints):
            node.taints = tuple(t for t in node.taints if t.key != key)
            self.world.touch(node)
            self.world.index.update(node)
            self.world.sched.kick()

    def annotate(self, node: SimNode, key: str, value: str | None) -> None:
        """``kubectl annotate node``: set ``key`` (None removes it)."""
        if value is None:
            node.annotations.pop(key, None)
        else:
            node.annotations[key] = value
        node.as_recorded = None
        self.world.touch(node)

    # -- in place ------------------------------------------------------------------------
    def upgrade_in_place(self, node: SimNode, version) -> None:
        node.phase = UPGRADING
        node.message = ""
        self.world.touch(node)
        self.world.faults.on_node_operation(node)
        self.world.env.process(self._in_place(node, version))

    # -- crashes -------------------------------------------------------------------------
    def crash(self, node: SimNode, duration: float | None) -> None:
        """The VM dies: the kubelet stops posting; it comes back after ``duration`` (None: never)."""
        node.alive = False
        node.kubelet_up = False
        node.message = "the machine crashed"
        self.world.touch(node)
        self.world.index.update(node)
        self.refresh(node)
        self.world.admission.machine_changed(node)
        self.world.traffic.node_changed(node)  # its pods stop answering (issue 16)
        self.world.rec.event(self.world.env.now, f"node {node.name} crashed")
        if duration is not None:
            self.world.env.process(self._come_back(node, duration))

    def _come_back(self, node: SimNode, duration: float):
        yield self.world.env.timeout(duration)
        if node.removed:
            return
        node.alive = True
        node.kubelet_up = node.phase != UPGRADE_FAILED
        node.message = "the machine rebooted"
        self.world.pods.restart_containers(node)  # every container died with the machine
        self.world.touch(node)
        self.world.index.update(node)
        self.refresh(node)
        self.world.admission.machine_changed(node)
        self.world.traffic.node_changed(node)
        self.world.rec.event(self.world.env.now, f"node {node.name} came back")

    def _fail(self, node: SimNode, message: str) -> None:
        node.phase = UPGRADE_FAILED
        node.message = message
        node.kubelet_up = False
        self.world.touch(node)
        self.refresh(node)

    def restarts_containers(self, old, new) -> str | None:
        """Why the kubelet at ``new`` restarts the containers the one at ``old`` started (None: it does not)."""
        mode = self.world.inplace_restarts
        if mode == "never" or new == old:
            return None
        if mode == "always":
            return "inplaceRestarts: always"
        row = compat.kubelet_restart(old, new)
        return f"kubelet {old.minor_release} -> {new.minor_release}: {row.why} ({row.source})" if row else None

    def _in_place(self, node: SimNode, version):
        world = self.world
        steps = dict(world.timing.inplace_steps)
        pool = world.pool_specs[node.pool]
        runtime_replaced = False
        for k, step in enumerate(STEPS, 1):
            if not node.alive:
                self._fail(node, f"node unreachable during step {k} ({step})")
                return
            if step == "stopKubelet":
                node.kubelet_up = False
                self.refresh(node)
            yield world.env.timeout(sample(steps[step], world.rng))
            if not node.alive:  # it died during the step
                self._fail(node, f"node unreachable during step {k} ({step})")
                return
            if step == "replaceBinaries" and pool.target_runtime and node.runtime != pool.target_runtime:
                world.pods.stop_containers(node)  # the old runtime's containers stop with it
                yield world.env.timeout(sample(world.timing.runtime_upgrade, world.rng))
                node.runtime = pool.target_runtime
                runtime_replaced = True
            if step == "startKubelet":
                old = node.kubelet
                world.set_node_versions(node, kubelet=version)
                problem = world.consequences.kubelet_start_problem(node, version)
                if problem:
                    self._fail(node, problem)
                    return
                why = "the container runtime was replaced" if runtime_replaced else self.restarts_containers(old, version)
                if why:
                    world.rec.event(world.env.now, f"kubelet {version} on {node.name} restarts every container: {why}")
                    world.pods.restart_containers(node)
            failure = world.faults.inplace_step_fails(node, k, step)
            if failure:
                self._fail(node, failure)
                return
        node.kubelet_up = True
        node.phase = IDLE
        node.message = f"upgraded in place to {version}"
        world.touch(node)
        self.refresh(node)

    # -- provisioning and deletion -------------------------------------------------------
    def provision(self, pool_name: str, version, zone: str = "") -> SimNode:
        """A new machine in the pool: in ``zone`` if the strategy chose one, else as the cloud balances them."""
        world = self.world
        pool = world.pool_specs[pool_name]
        zone = zone if zone in pool.zones else self._zone_for(pool, version)
        node = world.add_node(pool, zone, version, phase=PROVISIONING)
        problem = world.cloud_ops.reserve(node)
        if problem:
            node.phase = PROVISION_FAILED
            node.message = problem
            world.touch(node)
            world.rec.node_count(world.env.now, world.vm_count())  # no machine was created
            return node
        world.env.process(self._provision(node))
        return node

    def _zone_for(self, pool, version) -> str:
        """The zone with the fewest of the pool's nodes at ``version``, then the fewest nodes: a
        rolling replacement rebuilds the pool spread as evenly as it was (a cloud's zone balancing)."""
        tally = self.world.zone_tally  # the pool's nodes not deleting or failed, by zone (and kubelet)
        return min(pool.zones, key=lambda z: (tally.get((pool.name, z, version), 0), tally.get((pool.name, z), 0),
                                              pool.zones.index(z)))

    def _provision(self, node: SimNode):
        world = self.world
        yield world.env.timeout(sample(world.timing.node_provision, world.rng))
        if node.removed or node.phase != PROVISIONING:
            return
        problem = world.faults.provision_fails(node)
        if problem:
            node.phase = PROVISION_FAILED
            node.message = problem
            world.touch(node)
            world.rec.node_count(world.env.now, world.vm_count())
            return
        while (refused := world.admission.registration_refused()) is not None:  # the kubelet retries registering
            if node.message != f"cannot register: {refused.message}":
                node.message = f"cannot register: {refused.message}"
                world.touch(node)
            yield world.env.timeout(refused.delay_s + REGISTER_RETRY_S)
            if node.removed or node.phase != PROVISIONING:
                return
        node.alive = True
        node.kubelet_up = True
        node.phase = IDLE
        node.message = "joined"
        world.rec.count("node_ip_changes")
        world.rec.pool_nodes(node.pool, added=1)
        world.count_versions(node, True)
        world.lifecycle.registered(node)
        world.index.update(node)
        world.touch(node)
        self.refresh(node)
        world.daemonsets_changed()
        world.versions_changed()

    def delete(self, node: SimNode) -> None:
        world = self.world
        was_failed = node.phase == PROVISION_FAILED
        node.phase = DELETING
        node.schedulable = False
        world.touch(node)
        world.index.update(node)
        world.evictions.kill_all(node)
        world.daemonsets_changed()  # its DaemonSet pods are gone now, not when the machine is
        if was_failed:
            world.remove_node(node)
            return
        world.env.process(self._delete(node))

    def _delete(self, node: SimNode):
        world = self.world
        node.alive = False
        node.kubelet_up = False
        world.traffic.node_changed(node)  # the machine is going: load balancers must notice (issue 16)
        yield world.env.timeout(sample(world.timing.node_delete, world.rng))
        world.remove_node(node)
