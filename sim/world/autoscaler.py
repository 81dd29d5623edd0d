"""cluster-autoscaler in the world: a process that scales the autoscaled pools every scan interval.

Scale-up: pods the scheduler could not place (Pending, a scheduler leader present) that no
node on its way would take get new nodes, in a pool they may run in whose template node fits
them (its taints tolerated, node selector and required node affinity met in one of its zones,
the zone of a zonal volume among them: the scheduler's filters cluster-autoscaler runs on a
template node, neighbours and spread aside) and which is below its maximum; among such pools one is drawn at random (the default
``random`` expander). New nodes come through the same provisioning as any
(``timing.nodeProvision``, quota, subnet IPs, faults) at the version of the pool's newest
node: the managed platforms point a pool's template at the target when its roll begins.

Scale-down, when no scale-up was needed: the rules of ``models.autoscaling`` judge every
node of an autoscaled pool that is idle (midair's phases: not being drained, upgraded,
provisioned or deleted) and free of the ``scale-down-disabled`` annotation; its pods must fit
on other schedulable nodes (the same filters), nodes removed in the same scan not counting twice. A node
unneeded long enough is tainted ``ToBeDeletedByClusterAutoscaler``, drained through its
budgets (``--max-pod-eviction-time``, then the scale-down fails and the node is put back)
and deleted; empty nodes go at once, up to ``max-empty-bulk-delete``, non-empty ones one at
a time. Nothing is removed within ``scale-down-delay-after-add`` of a scale-up (or the
delays after a delete and a failure), nor below the pool's minimum. The autoscaler needs the
API. A node the upgrade itself added and the autoscaler removed counts in
``fresh_nodes_scaled_down``: the fight over a pool's size (kubernetes/autoscaler#8494).
"""

from __future__ import annotations

import math

from models.autoscaling import (
    SAFE_TO_EVICT,
    SCALE_DOWN_DISABLED,
    TO_BE_DELETED_TAINT,
    Autoscaler,
    PodFacts,
    pod_blocks_scale_down,
    unneeded_for,
    utilization,
)
from models.drain import DrainOptions
from models.sorting import natural_key
from models.constraints import node_labels
from models.scheduling import node_matches, untolerated
from models.state import BARE_POD, DAEMONSET, DELETING, DRAIN_FAILED, IDLE, NO_SCHEDULE, PROVISION_FAILED, PROVISIONING
from models.state import Taint
from sim.world.budgets import budget_of
from sim.world.entities import GONE, PENDING, TERMINATING, SimNode, SimPod

NODE_GROUP_BACKOFF_S = 300.0  # --initial-node-group-backoff-duration: after a failed scale-up
UNREMOVABLE_RECHECK_S = 300.0  # --unremovable-node-recheck-timeout: after a failed removal
POLL_S = 1.0


class ClusterAutoscaler:
    def __init__(self, world, settings: Autoscaler, rng):
        self.world = world
        self.settings = settings
        self.rng = rng
        self.pools = {p.name: p for p in settings.pools if p.name in world.pool_specs}
        self.unneeded_since: dict[str, float] = {}
        self.last_scale_up = self.last_delete = self.last_failure = -math.inf
        self.added: set[str] = set()  # nodes it created
        self.removing: set[str] = set()
        self.failed: dict[str, float] = {}  # node -> when its removal failed
        self.backoff: dict[str, float] = {}  # pool -> until when scale-up is backed off
        self.pending_since: dict[int, float] = {}
        self.template: dict[str, object] = {}  # pool -> the newest kubelet version seen in it
        world.env.process(self.run())

    def run(self):
        env = self.world.env
        while True:
            yield env.timeout(self.settings.scan_interval_s)
            if not self.world.cp.api_up:
                continue  # it lists pods and nodes through the API
            for pool in self.pools:
                self._version(pool)  # follow the template as the upgrade moves it
            self._clean_up_failed_launches()
            if not self.scale_up() and self.settings.scale_down_enabled:
                self.scale_down()

    # -- helpers -----------------------------------------------------------------------------
    def _members(self, pool: str) -> list[SimNode]:
        return sorted((n for n in self.world.nodes.values() if n.pool == pool and not n.removed
                       and n.phase not in (DELETING, PROVISION_FAILED)), key=lambda n: natural_key(n.name))

    def _event(self, text: str) -> None:
        self.world.rec.event(self.world.env.now, f"cluster-autoscaler: {text}")

    def _version(self, pool: str):
        """The pool's template: the newest kubelet it has run (a node on its way counts; the pool may be empty)."""
        newest = max((n.kubelet for n in self._members(pool)), default=self.world.pool_specs[pool].version)
        self.template[pool] = max(newest, self.template.get(pool, newest))
        return self.template[pool]

    def _clean_up_failed_launches(self) -> None:
        for node in [n for n in self.world.nodes.values() if n.name in self.added and n.phase == PROVISION_FAILED]:
            self.backoff[node.pool] = self.world.env.now + NODE_GROUP_BACKOFF_S
            self._event(f"scale-up of pool {node.pool} failed ({node.message}); backing off for "
                        f"{NODE_GROUP_BACKOFF_S:g}s")
            self.world.node_ops.delete(node)

    def _may_run(self, pod: SimPod, pool: str) -> bool:
        """Would ``pod`` pass the scheduler's filters on a template node of ``pool``: its taints tolerated, its
        node selector and required node affinity met in one of the pool's zones, the zone of its volume among
        them? (Its neighbours and spread are left to the scheduler.)"""
        spec, s = self.world.pool_specs[pool], pod.workload.spec.scheduling
        if (pod.workload.spec.pool or pool) != pool or untolerated(spec.taints, s.tolerations) is not None:
            return False
        volume_zone = self.world.volumes.zone_of(pod)
        return any(node_matches(s, dict(node_labels(spec.labels, zone, f"{pool}-template")), f"{pool}-template")
                   for zone in spec.zones if volume_zone in (None, zone))

    # -- scale-up ------------------------------------------------------------------------------
    def _daemon_load(self, pool: str) -> tuple[int, int, int]:
        """What DaemonSet pods take on a new node of ``pool``."""
        cpu = mem = pods = 0
        for w in self.world.workloads.values():
            if w.kind == DAEMONSET and w.spec.pool in (None, pool):
                cpu, mem, pods = cpu + w.spec.requests.cpu_m, mem + w.spec.requests.memory, pods + 1
        return cpu, mem, pods

    def scale_up(self) -> bool:
        world = self.world
        now = world.env.now
        if not world.cp.scheduler_available:
            return False  # no scheduler has judged the pending pods
        pending = [p for p in world.sched.queue if p.state == PENDING and p.node is None and p.pinned is None]
        for p in pending:
            self.pending_since.setdefault(p.uid, now)
        self.pending_since = {uid: t for uid, t in self.pending_since.items() if any(p.uid == uid for p in pending)}
        pending = [p for p in pending if now - self.pending_since[p.uid] >= self.settings.new_pod_scale_up_delay_s]
        if not pending:
            return False
        # capacity there or on its way: schedulable nodes the scheduler has not used yet (FilterOutSchedulable),
        # nodes being provisioned (the upgrade's surge nodes too), then the new ones
        bins: list[list] = [[n.pool, n.cpu - n.used_cpu, n.memory - n.used_memory, n.max_pods - n.used_pods, False,
                             n.taints] for n in sorted(world.nodes.values(), key=lambda n: natural_key(n.name))
                            if world.eligible(n)]
        for name in sorted(self.pools):
            load = self._daemon_load(name)
            spec = world.pool_specs[name]
            for n in self._members(name):
                if n.phase == PROVISIONING:
                    bins.append([name, spec.allocatable.cpu_m - load[0], spec.allocatable.memory - load[1],
                                 spec.allocatable.pods - load[2], False, spec.taints])
        new: dict[str, int] = {}
        for pod in pending:
            r = pod.workload.spec.requests
            allowed = {name for name in world.pool_specs if self._may_run(pod, name)}
            tolerations = pod.workload.spec.scheduling.tolerations
            home = next((b for b in bins if b[0] in allowed and b[1] >= r.cpu_m and b[2] >= r.memory and b[3] >= 1
                         and untolerated(b[5], tolerations) is None), None)
            if home is None:
                options = []
                for name in sorted(allowed & set(self.pools)):
                    spec, load = world.pool_specs[name], self._daemon_load(name)
                    room = (spec.allocatable.cpu_m - load[0], spec.allocatable.memory - load[1],
                            spec.allocatable.pods - load[2])
                    size = len(self._members(name)) + new.get(name, 0)
                    if (room[0] >= r.cpu_m and room[1] >= r.memory and room[2] >= 1
                            and size < self.pools[name].max_nodes and self.backoff.get(name, -math.inf) <= now):
                        options.append((name, room))
                if not options:
                    continue  # no pool can help this pod
                name, room = options[self.rng.randrange(len(options))] if len(options) > 1 else options[0]
                home = [name, *room, True, world.pool_specs[name].taints]
                bins.append(home)
                new[name] = new.get(name, 0) + 1
            home[1], home[2], home[3] = home[1] - r.cpu_m, home[2] - r.memory, home[3] - 1
        for name, count in sorted(new.items()):
            version = self._version(name)
            for _ in range(count):
                node = world.node_ops.provision(name, version)
                self.added.add(node.name)
                world.rec.count("nodes_scaled_up")
            self._event(f"scale-up: {count} node(s) in pool {name} at {version} for pods that could not be placed")
        if new:
            self.last_scale_up = now
        return bool(new)

    # -- scale-down ------------------------------------------------------------------------------
    def _blocker(self, pod: SimPod, on_node: dict) -> str | None:
        w = pod.workload
        b = budget_of(w)
        facts = PodFacts(pod.name, w.spec.namespace, controlled=w.kind != BARE_POD, daemonset=w.kind == DAEMONSET,
                         local_storage=w.spec.local_storage, has_budget=bool(w.budgets),
                         budget_allows=b is not None and b.allowed() >= on_node.get(b.key, 0),
                         safe_to_evict=w.spec.annotation(SAFE_TO_EVICT))
        return pod_blocks_scale_down(facts)

    def _movable(self, node: SimNode) -> list[SimPod]:
        return [p for p in node.pods_in_order() if p.workload.kind != DAEMONSET and not p.workload.finished
                and p.state not in (GONE, TERMINATING)]

    def _fits_elsewhere(self, node: SimNode, pods: list[SimPod], taken: dict[str, list[int]]) -> bool:
        """Can every pod move to another schedulable node? (``taken``: room promised earlier in this scan)"""
        world = self.world
        room = {}
        for n in world.nodes.values():
            if n is node or n.name in self.removing or not world.eligible(n):
                continue
            used = taken.get(n.name, [0, 0, 0])
            room[n.name] = [n.cpu - n.used_cpu - used[0], n.memory - n.used_memory - used[1],
                            n.max_pods - n.used_pods - used[2], n.pool, n]
        plan: dict[str, list[int]] = {}
        for pod in sorted(pods, key=lambda p: -p.workload.spec.requests.cpu_m):
            r = pod.workload.spec.requests
            fits = sorted((name for name, v in room.items() if v[0] >= r.cpu_m and v[1] >= r.memory and v[2] >= 1
                           and self._fits_node(pod, v[4])), key=lambda name: (-room[name][0], name))
            if not fits:
                return False
            v = room[fits[0]]
            v[0], v[1], v[2] = v[0] - r.cpu_m, v[1] - r.memory, v[2] - 1
            p = plan.setdefault(fits[0], [0, 0, 0])
            p[0], p[1], p[2] = p[0] + r.cpu_m, p[1] + r.memory, p[2] + 1
        for name, add in plan.items():
            t = taken.setdefault(name, [0, 0, 0])
            t[0], t[1], t[2] = t[0] + add[0], t[1] + add[1], t[2] + add[2]
        return True

    def _fits_node(self, pod: SimPod, node: SimNode) -> bool:
        """Its pool, taints, selectors and node affinity, and its volume's zone (neighbours and spread aside)."""
        s = pod.workload.spec.scheduling
        zone = self.world.volumes.zone_of(pod)
        return pod.workload.spec.pool in (None, node.pool) and untolerated(node.taints, s.tolerations) is None \
            and node_matches(s, node.labels, node.name) and zone in (None, node.zone)

    def unneeded(self) -> list[SimNode]:
        """Judge every candidate now; the nodes unneeded at this scan, in order."""
        now = self.world.env.now
        out, taken = [], {}
        for pool in sorted(self.pools):
            for node in self._members(pool):
                ok = (node.phase == IDLE and node.alive and node.name not in self.removing
                      and node.annotations.get(SCALE_DOWN_DISABLED) != "true"
                      and now - self.failed.get(node.name, -math.inf) >= UNREMOVABLE_RECHECK_S
                      and utilization(node.used_cpu, node.used_memory, node.cpu, node.memory)
                      < self.settings.scale_down_utilization_threshold)
                pods = self._movable(node) if ok else []
                if ok:
                    on_node: dict = {}
                    for p in pods:
                        b = budget_of(p.workload)
                        if b is not None:
                            on_node[b.key] = on_node.get(b.key, 0) + 1
                    ok = all(self._blocker(p, on_node) is None for p in pods) and self._fits_elsewhere(node, pods,
                                                                                                         taken)
                if ok:
                    self.unneeded_since.setdefault(node.name, now)
                    out.append(node)
                else:
                    self.unneeded_since.pop(node.name, None)
        return out

    def scale_down(self) -> None:
        now = self.world.env.now
        s = self.settings
        candidates = self.unneeded()
        if (now - self.last_scale_up < s.scale_down_delay_after_add_s or now - self.last_delete < s.delay_after_delete_s
                or now - self.last_failure < s.scale_down_delay_after_failure_s):
            return  # in cooldown: unneeded times keep counting
        ripe = [n for n in candidates if now - self.unneeded_since[n.name] >= unneeded_for(n.ready, s)]
        size = {p: len(self._members(p)) - sum(1 for n in self.removing if self.world.nodes.get(n) is not None
                                               and self.world.nodes[n].pool == p) for p in self.pools}
        empty = [n for n in ripe if not self._movable(n)]
        busy = [n for n in ripe if self._movable(n)]
        chosen_empty = []
        for n in empty:
            if len(chosen_empty) < s.max_empty_bulk_delete and size[n.pool] > self.pools[n.pool].min_nodes:
                size[n.pool] -= 1
                chosen_empty.append(n)
        for n in chosen_empty:
            self._remove(n, f"empty, unneeded for {now - self.unneeded_since[n.name]:.0f}s")
        if chosen_empty or any(self.world.nodes.get(n) is not None and self.world.nodes[n].phase != IDLE
                               for n in self.removing):
            return  # one non-empty node at a time, and not beside a bulk delete
        for n in busy:
            if size[n.pool] > self.pools[n.pool].min_nodes:
                self._remove(n, f"unneeded for {now - self.unneeded_since[n.name]:.0f}s (requests below "
                                f"{s.scale_down_utilization_threshold:g} of allocatable, pods fit elsewhere)")
                break

    def _remove(self, node: SimNode, why: str) -> None:
        world = self.world
        self.removing.add(node.name)
        self.unneeded_since.pop(node.name, None)
        world.node_ops.set_taint(node, Taint(TO_BE_DELETED_TAINT, NO_SCHEDULE, str(int(world.env.now))))
        self._event(f"scale-down of {node.name} in pool {node.pool}: {why}")
        if not self._movable(node):
            self._delete(node)
            return
        world.evictions.drain(node, self.settings.max_pod_eviction_s, False, DrainOptions())
        world.env.process(self._after_drain(node))

    def _after_drain(self, node: SimNode):
        world = self.world
        while not node.removed and node.phase == "draining":
            yield world.env.timeout(POLL_S)
        if node.removed or node.phase == DELETING:
            self.removing.discard(node.name)
            return
        if node.phase == DRAIN_FAILED:
            self.removing.discard(node.name)
            self.failed[node.name] = self.last_failure = world.env.now
            world.node_ops.remove_taint(node, TO_BE_DELETED_TAINT)
            world.node_ops.set_schedulable(node, True)
            self._event(f"scale-down of {node.name} failed ({node.message}); it stays")
            return
        self._delete(node)

    def _delete(self, node: SimNode) -> None:
        world = self.world
        self.removing.discard(node.name)
        self.last_delete = world.env.now
        world.rec.count("nodes_scaled_down")
        if node.created_at > 0 and node.name not in self.added:
            world.rec.count("fresh_nodes_scaled_down")
            self._event(f"{node.name} was added by the upgrade {world.env.now - node.created_at:.0f}s ago; the "
                        "autoscaler removes it")
        world.node_ops.delete(node)
