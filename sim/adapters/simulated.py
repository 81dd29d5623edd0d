"""The simulated cluster behind the ``ClusterPort`` protocol.

A view is made from what changed since the last one: the world lists the nodes it made, changed or
removed (``World.stale_nodes``) and only their records are made again; the view's node indexes and
counts (``models.node_index``) are kept up to date here and handed to it, so that no decision pays for
every node of a large cluster. A test compares every view's indexes with a fresh view's.
"""

from __future__ import annotations

import weakref
from dataclasses import replace

import simpy

from models.actions import (
    Action,
    Annotate,
    Cordon,
    DeleteNode,
    Drain,
    Halt,
    ProvisionNode,
    Taint,
    Uncordon,
    Untaint,
    UpgradeAddon,
    UpgradeControlPlaneInstance,
    UpgradeNodeInPlace,
)
from models.state import (
    IDLE,
    Addon,
    BudgetStatus,
    ClusterState,
    ControlPlane,
    Instance,
    Node,
    Resources,
    Workload,
    WorkloadStatus,
)
from models.state import Taint as TaintRecord
from sim.adapters.port import SubmitResult
from sim.world import World
from models.karpenter import DO_NOT_DISRUPT
from sim.world.entities import RUNNING
from sim.world.eviction import budget
from models.node_index import NodeTally, counted_alike, draining, holding, live
from models.records import made
from models.sorting import natural_key
from models.snapshot import Snapshots
from sim.adapters.ordered import Ordered, Ranks


# the kinds of by-name lists a pool's nodes are kept in (see _groups_of)
LIVE, GOING, HOLDING, DRAINS = "live", "going", "holding", "drains"


def _by_kubelet(lists: dict) -> dict:
    """A pool's by-kubelet lists for a view: a dict of tuples, or ``Snapshots`` if one is a snapshot."""
    out = {}
    wrap = False
    for v, o in lists.items():
        if o:
            handed = out[v] = o.snapshot()
            wrap = wrap or handed.__class__ is not tuple
    return Snapshots(out) if wrap else out


class SimulatedPort:
    def __init__(self, world: World, reconcile_interval_s: float | None = None):
        self.world = world
        self.interval = world.timing.reconcile_interval_s if reconcile_interval_s is None else reconcile_interval_s
        self._nodes = None  # the snapshot of _made the views get as their nodes
        self._made = Ordered()  # every node's record in the order its name came into the view (by_name's order)
        self._made_at: dict[str, int] = {}  # node -> when its name came in (a count)
        self._came_in = 0
        # the records of the last view: every node's, each pool's (both in the order they were made), and
        # each pool's by name (sort keys, records); a pool's view tuples (made order, by name) until it changes
        self._by_name: dict[str, Node] = {}
        self._viewers: list = []  # weak references to the views handed _by_name as it is (see _refresh_nodes)
        self._pools_of: dict[str, dict[str, Node]] = {}
        self._named: dict[str, Ordered] = {}
        # (LIVE, GOING, HOLDING or DRAINS, pool) -> {kubelet: those nodes by name}
        self._groups: dict[tuple, dict[object, Ordered]] = {}
        # node -> the rank of its key (its name's natural key, then the order it was made in), which the
        # by-name lists are sorted by
        self._ranks = Ranks()
        self._rank_of: dict[str, float] = {}
        # pool -> (made order, by name, and {kubelet: by name} of its nodes not being deleted, holding, draining)
        self._pool_tuples: dict[str, tuple] = {}
        self._cloud_record = None  # the cloud's record, until its subnets change
        self._workloads: tuple | None = None  # the view's workloads, until one is restated
        self._by_workload: dict | None = None
        self._selecting = [b for b in world.budgets if b.pdb.selector is not None]  # budgets shown on their own
        self._tally = NodeTally()  # the view's node counts, kept as records change
        self._counts = self._tally.counts()
        self._control_plane: ControlPlane | None = None
        self._instances: dict[str, Instance] = {}  # each control-plane instance's record and add-on's, until
        self._addon_records: dict[str, Addon] = {}  # it changes
        self._addons: tuple = ()
        self._seeds: dict = {}
        self._amounts: dict[tuple, Resources] = {}  # (CPU, memory, pods) -> its Resources record
        self._pools = tuple(world.pool_specs.values())
        self._do_not_disrupt = frozenset(w.key for w in world.workloads.values()  # Karpenter's, per workload
                                         if w.spec.annotation(DO_NOT_DISRUPT) == "true")
        self._volumes: tuple = ()

    # -- observe -------------------------------------------------------------------------
    def _node_record(self, n) -> Node:
        if n.record is None:
            waited, waited_cpu, waited_memory = self.world.evictions.waited_for(n)
            keep = tuple(p.name for p in n.pods_in_order() if p.state == RUNNING
                         and p.workload.key in self._do_not_disrupt) if self._do_not_disrupt else ()
            if n.as_recorded is None:  # a node's allocatable and labels stay; its annotations change by annotate
                n.as_recorded = (Resources(n.cpu, n.memory, n.max_pods), tuple(sorted(n.labels.items())),
                                 tuple(sorted(n.annotations.items())))
            allocatable, labels, annotations = n.as_recorded
            # every field named, without the frozen dataclass's __init__ (made for each node that changed)
            n.record = made(Node, {"name": n.name, "pool": n.pool, "zone": n.zone, "kubelet": n.kubelet,
                                      "kube_proxy": n.kube_proxy, "allocatable": allocatable, "runtime": n.runtime,
                                      "ip": n.ip, "ready": n.ready, "schedulable": n.schedulable, "phase": n.phase,
                                      "pods": waited, "created_at": n.created_at, "message": n.message,
                                      "config": n.config, "taints": n.taints, "annotations": annotations,
                                      "requested": self._resources(n.used_cpu, n.used_memory, n.used_pods),
                                      "reschedulable": self._resources(waited_cpu, waited_memory, waited),
                                      "do_not_disrupt": keep, "labels": labels, "volumes": len(n.volumes)})
        return n.record

    def _resources(self, cpu_m: int, memory: int, pods: int) -> Resources:
        """One record per amount (records are frozen: nodes with the same requests share theirs)."""
        key = (cpu_m, memory, pods)
        r = self._amounts.get(key)
        if r is None:
            if len(self._amounts) >= 1 << 14:
                self._amounts.clear()
            r = self._amounts[key] = made(Resources, {"cpu_m": cpu_m, "memory": memory, "pods": pods})
        return r

    def _refresh_nodes(self) -> None:
        """Bring the node records up to date: only those of the nodes the world made, changed or removed
        since the last view (``World.stale_nodes``), each kept in its place: the view's nodes in the order
        they were made, each pool's in that order and by name, and each pool's nodes not being deleted by
        kubelet version, by name."""
        w = self.world
        if any(viewer() is not None for viewer in self._viewers):  # a view still holds the dict: it keeps it
            self._by_name = dict(self._by_name)
        self._viewers = []
        # let go of the snapshots of the lists about to change (a view still holding one keeps its own copy)
        self._nodes = self._seeds = None
        for n in w.stale_nodes:
            self._pool_tuples.pop(n.pool, None)
        counted = False  # did the tally change? (not when only pods came and went: most refreshes)
        for n in w.stale_nodes:
            pool = n.pool
            old = self._by_name.get(n.name)
            if n.removed:
                if old is None:
                    continue
                self._tally.count(old, -1)
                counted = True
                key = self._rank_of.pop(n.name)
                self._ranks.drop(key)
                del self._by_name[n.name], self._pools_of[pool][n.name]
                self._made.take(self._made_at.pop(n.name))
                self._named[pool].take(key)
                for group in self._groups_of(old):
                    group.take(key)
            elif old is None or n.record is None:
                r = self._node_record(n)
                alike = old is not None and counted_alike(old, r)  # (pods came or went: the same counts and lists)
                if old is not None and not alike:
                    self._tally.count(old, -1)
                if not alike:
                    self._tally.count(r, 1)
                    counted = True
                if old is None:  # a new name goes last in the made order: it was made last
                    key = self._new_rank(n)
                    self._pools_of.setdefault(pool, {})
                    self._named.setdefault(pool, Ordered()).put(key, r)
                    for group in self._groups_of(r):
                        group.put(key, r)
                else:
                    key = self._rank_of[n.name]
                    self._named[pool].put(key, r)
                    after = self._groups_of(r)
                    if not alike:
                        for group in self._groups_of(old):
                            if group not in after:  # (a few lists each: by identity)
                                group.take(key)
                    for group in after:
                        group.put(key, r)  # in the list already: its record is replaced where it stands
                self._by_name[n.name] = self._pools_of[pool][n.name] = r
                if old is None:
                    self._came_in += 1
                    self._made_at[n.name] = self._came_in
                self._made.put(self._made_at[n.name], r)
        w.stale_nodes.clear()
        if counted:
            self._counts = self._tally.counts()
        self._nodes = self._made.snapshot()  # (what tuple(self._by_name.values()) gives, when it is read)
        for pool, records in self._pools_of.items():
            if pool not in self._pool_tuples:
                # a pool of every node lists them as the view does (both dicts gain and lose names together)
                made = self._nodes if len(records) == len(self._by_name) else tuple(records.values())
                self._pool_tuples[pool] = (made, self._named[pool].snapshot(),
                                           *(_by_kubelet(self._groups.get((kind, pool), {})) for kind in (LIVE, HOLDING, DRAINS)))
        # what a view would index from its nodes (NodeIndexes.seeded), kept here instead of worked out at every
        # view; views share them until the nodes change (none changes them)
        pools = [(pool, t) for pool, t in self._pool_tuples.items() if self._pools_of[pool]]  # (none without nodes)
        self._seeds = dict(by_name=self._by_name, by_pool={pool: t[0] for pool, t in pools},
                           by_pool_named={pool: t[1] for pool, t in pools},
                           by_pool_version={pool: t[2] for pool, t in pools},
                           by_pool_holding={pool: t[3] for pool, t in pools},
                           by_pool_draining={pool: t[4] for pool, t in pools}, counts=self._counts, nodes=self._nodes)
        w.nodes_dirty = False

    def _new_rank(self, n) -> float:
        """The rank of a node new to the view (its key: its name's natural key, then the order it was made in)."""
        rank, remap = self._ranks.add((natural_key(n.name), n.seq))
        if remap is not None:  # the ranks were spread out again: every list and node follows
            for ordered in (*self._named.values(), *(o for by in self._groups.values() for o in by.values())):
                ordered.renumber(remap)
            self._rank_of = {name: remap[r] for name, r in self._rank_of.items()}
        self._rank_of[n.name] = rank
        return rank

    def _groups_of(self, r: Node) -> list[Ordered]:
        """The by-name lists ``r`` belongs in: its pool's nodes at its kubelet not being deleted (or being
        deleted), those still holding pods or schedulable (``NodeIndexes.nodes_holding``), and those
        draining or whose drain failed (``NodeIndexes.nodes_draining``)."""
        groups = self._groups
        pool, kubelet = r.pool, r.kubelet
        keys = [LIVE if live(r) else GOING]
        if holding(r):
            keys.append(HOLDING)
        if draining(r):
            keys.append(DRAINS)
        out = []
        for kind in keys:
            by = groups.get((kind, pool))
            if by is None:
                by = groups[(kind, pool)] = {}
            found = by.get(kubelet)
            if found is None:
                found = by[kubelet] = Ordered()
            out.append(found)
        return out

    def _workload_records(self) -> tuple:
        """Every workload's record, made again only for those the world restated (``World.stale_workloads``)."""
        w = self.world
        if self._by_workload is None:
            self._by_workload = {sw.key: None for sw in w.workloads.values()}  # in the world's order
            stale = list(w.workloads.values())
        else:
            stale = w.stale_workloads
        for sw in stale:
            if sw.record is None:
                b = budget(sw)  # dataclasses.replace(spec, status=...) without its look at the fields
                sw.record = made(Workload, {**sw.spec.__dict__,
                                               "status": WorkloadStatus(sw.desired, sw.ready, b[0] if b else None)})
            self._by_workload[sw.key] = sw.record
        w.stale_workloads.clear()
        return tuple(self._by_workload.values())

    def _cloud(self):
        subnets = self.world.cloud_ops.subnets()
        if self._cloud_record is None or self._cloud_record.subnets is not subnets:
            self._cloud_record = replace(self.world.cloud, subnets=subnets)
        return self._cloud_record

    def observe(self) -> ClusterState:
        w = self.world
        w.dirty = False
        if w.nodes_dirty:
            self._refresh_nodes()
        if w.cp_dirty or self._control_plane is None:
            self._refresh_control_plane()
            w.cp_dirty = False
        if self._workloads is None or w.stale_workloads:
            self._workloads = self._workload_records()
        budgets = tuple(BudgetStatus(b.pdb.name, b.pdb.namespace, tuple(m.key for m in b.members), b.expected(),
                                     b.desired_healthy(), b.current_healthy(), b.allowed())
                        for b in self._selecting)
        if w.volumes.changed:
            self._volumes = w.volumes.records()
        # every field named, without the frozen dataclass's __init__ (a view is made at every decision), but
        # its nodes: seeded (a snapshot is read when asked)
        state = made(ClusterState, {
            "control_plane": self._control_plane, "pools": self._pools,
            "workloads": self._workloads, "addons": self._addons, "cloud": self._cloud(),
            "api_services": w.api_services, "pods": (), "api_available": w.cp.api_up, "observed_at": w.env.now,
            "unobserved": (), "budgets": budgets, "pdbs": w.pdbs, "services": w.services,
            "clock_origin": w.clock_origin, "webhooks": w.admission.webhooks_declared,
            "priority_classes": w.priority_classes, "volumes": self._volumes})
        view = state.seeded(**self._seeds)
        # the view's nodes by name are the port's own dict, until the nodes change: then a view still alive
        # keeps it and the port goes on with a copy (the reconcile loop lets its last view go before it waits)
        self._viewers.append(weakref.ref(view))
        return view

    def _refresh_control_plane(self) -> None:
        """The control plane's and the add-ons' records, each made again only if it changed."""
        w = self.world
        same = self._control_plane is not None and len(self._instances) == len(w.cp.instances)
        records = []
        for i in w.cp.instances.values():
            r = self._instances.get(i.name)
            if r is None or r.version is not i.version or r.healthy != i.healthy or r.phase != i.phase:
                r = self._instances[i.name] = Instance(i.name, i.component, i.version, i.healthy, i.phase)
                same = False
            records.append(r)
        etcd = tuple(w.etcd)
        if not same or etcd != self._control_plane.instances[len(records):]:
            self._control_plane = ControlPlane(tuple(records) + etcd)
        addons, same = [], len(self._addon_records) == len(w.addon_ops.addons)
        for name, a in w.addon_ops.addons.items():
            r = self._addon_records.get(name)
            if r is None or r.version is not a["version"] or r.phase != a["phase"] or r.healthy != a["healthy"]:
                r = self._addon_records[name] = Addon(name, a["version"], a["flavor"], a["healthy"], a["phase"])
                same = False
            addons.append(r)
        if not same:
            self._addons = tuple(addons)

    # -- submit --------------------------------------------------------------------------
    def submit(self, action: Action) -> SubmitResult:
        w = self.world
        if action.needs_api and not w.cp.api_up:
            return SubmitResult(False, "the API is unavailable")
        node = w.nodes.get(getattr(action, "node", None) or "")
        if hasattr(action, "node") and node is None:
            return SubmitResult(False, f"no node named {action.node}")
        if node is not None or isinstance(action, ProvisionNode):
            w.rec.pool_action(w.env.now, node.pool if node is not None else action.pool)
        if isinstance(action, Cordon):
            w.node_ops.set_schedulable(node, False)
        elif isinstance(action, Uncordon):
            w.node_ops.set_schedulable(node, True)
        elif isinstance(action, Drain):
            if node.phase not in (IDLE, "drain-failed", "upgrade-failed"):
                return SubmitResult(False, f"{node.name} is {node.phase}")
            w.evictions.drain(node, action.timeout_s, action.force, action.options)
        elif isinstance(action, Taint):
            w.node_ops.set_taint(node, TaintRecord(action.key, action.effect, action.value))
        elif isinstance(action, Untaint):
            w.node_ops.remove_taint(node, action.key)
        elif isinstance(action, Annotate):
            w.node_ops.annotate(node, action.key, action.value)
        elif isinstance(action, UpgradeNodeInPlace):
            if node.phase not in (IDLE, "upgrade-failed"):
                return SubmitResult(False, f"{node.name} is {node.phase}")
            w.node_ops.upgrade_in_place(node, action.version)
        elif isinstance(action, DeleteNode):
            if node.phase == "deleting":
                return SubmitResult(False, f"{node.name} is already being deleted")
            w.node_ops.delete(node)
        elif isinstance(action, ProvisionNode):
            created = w.node_ops.provision(action.pool, action.version, action.zone)
            return SubmitResult(True, f"{created.name}: {created.message or created.phase}")
        elif isinstance(action, UpgradeControlPlaneInstance):
            inst = w.cp.instances.get(action.instance)
            if inst is None or inst.phase != IDLE:
                return SubmitResult(False, f"{action.instance} is {'unknown' if inst is None else inst.phase}")
            w.cp.upgrade(action.instance, action.version, action.surge)
        elif isinstance(action, UpgradeAddon):
            if action.addon not in w.addon_ops.addons:
                return SubmitResult(False, f"no add-on {action.addon}")
            w.addon_ops.upgrade(action.addon, action.version)
        elif isinstance(action, Halt):
            pass
        else:
            return SubmitResult(False, f"the simulated cluster cannot apply {action.kind}")
        return SubmitResult(True)

    # -- time ----------------------------------------------------------------------------
    def now(self) -> float:
        return self.world.env.now

    def changed(self):
        return self.world.changed()

    def drive(self, loop):
        """Run the runner's generator as a simpy process; it yields the time it wants to look again."""
        env = self.world.env

        def process():
            try:
                until = next(loop)
                while True:
                    self.world.faults.operator_decision()
                    yield env.timeout(self.interval)
                    if not self.world.dirty:
                        delay = max(0.0, until - env.now) if until is not None else None
                        waits = [self.changed()] + ([env.timeout(delay)] if delay is not None else [])
                        yield env.any_of(waits)
                    until = loop.send(None)
            except StopIteration as stop:
                return stop.value
            except simpy.Interrupt:
                loop.close()  # the operator died between two decisions
                return None

        return env.process(process())
