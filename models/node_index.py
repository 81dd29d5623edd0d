"""Indexes of a view's nodes: by name, by pool (in the order they were made and by name), each pool's
nodes by kubelet version (those not being deleted, those still holding pods or schedulable, those
draining), and running counts that progress checks, safety policies and strategies ask at every
decision.

A view (``ClusterState``) works each out from its ``nodes`` the first time it is asked. An adapter that
keeps them up to date as nodes change (the simulated one: issue 17) hands them to the view instead
(``ClusterState.seeded``); they must be what the view would work out, and ``NodeTally`` is the one piece
of code that counts for both; it may hand the node lists as ``models.snapshot.Snapshot``s, which a view
makes tuples of when it first reads them (its ``nodes`` too). Imports only ``models.sorting`` and
``models.snapshot``: ``models.state`` imports this module and takes the node phases it counts by from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from models.snapshot import Snapshot, read
from models.sorting import natural_key

# node phases models.state names (this module is imported by models.state, which takes them from here)
IDLE = "idle"
DRAINING = "draining"
DRAIN_FAILED = "drain-failed"
PROVISION_FAILED = "provision-failed"
DELETING = "deleting"


@dataclass(frozen=True)
class NodeCounts:
    """What progress checks and policies count over a view's nodes."""

    kubelets: dict  # KubeVersion -> nodes with that kubelet
    proxies: dict  # KubeVersion -> nodes Ready and not being deleted whose kube-proxy runs it
    unsettled: int  # nodes not idle or not Ready
    live: dict  # pool -> its nodes not being deleted
    available: dict  # pool -> its available nodes (Ready, schedulable, idle)
    settled: dict  # (pool, kubelet) -> its nodes Ready and idle at that kubelet
    unready: dict  # (pool, kubelet) -> its nodes idle but NotReady at that kubelet
    phases: dict  # (pool, phase) -> its nodes in that phase
    idle_out: dict  # (pool, kubelet) -> its nodes idle but out of service (NotReady, or cordoned) at that kubelet


# which of a pool's by-kubelet lists a node is in (the simulated adapter keeps the same lists by them)
def live(n) -> bool:
    """Not being deleted (``nodes_by_kubelet``)."""
    return n.phase != DELETING


def holding(n) -> bool:
    """Not being deleted, and still holding pods to drain or schedulable (``nodes_holding``)."""
    return n.phase != DELETING and (n.pods > 0 or n.schedulable)


def draining(n) -> bool:
    """Draining, or its drain failed (``nodes_draining``)."""
    return n.phase in (DRAINING, DRAIN_FAILED)


def counted_alike(a, b) -> bool:
    """Do records ``a`` and ``b`` count the same in a ``NodeTally`` and sit in the same by-kubelet lists
    (``live``, ``holding``, ``draining``)? (Most node changes are pods coming and going: they do.)"""
    return (a.phase == b.phase and a.ready == b.ready and a.schedulable == b.schedulable and a.pool == b.pool
            and (a.pods > 0) == (b.pods > 0) and a.kubelet == b.kubelet and a.kube_proxy == b.kube_proxy)


def _step(counts: dict, key, by: int) -> None:
    left = counts.get(key, 0) + by
    if left:
        counts[key] = left
    else:
        del counts[key]  # a count that reached 0 is gone, as if never counted


class NodeTally:
    """``NodeCounts`` kept by adding and taking away node records."""

    __slots__ = ("kubelets", "proxies", "unsettled", "live", "available", "settled", "unready", "phases", "idle_out")

    def __init__(self):
        self.kubelets: dict = {}
        self.proxies: dict = {}
        self.unsettled = 0
        self.live: dict[str, int] = {}
        self.available: dict[str, int] = {}
        self.settled: dict[tuple, int] = {}
        self.unready: dict[tuple, int] = {}
        self.phases: dict[tuple, int] = {}
        self.idle_out: dict[tuple, int] = {}

    def count(self, node, by: int) -> None:
        """Add ``node``'s record (``by`` 1) or take it away (-1)."""
        _step(self.kubelets, node.kubelet, by)
        idle = node.phase == IDLE
        if not (idle and node.ready):
            self.unsettled += by
            if idle:
                _step(self.unready, (node.pool, node.kubelet), by)
        else:
            _step(self.settled, (node.pool, node.kubelet), by)
        _step(self.phases, (node.pool, node.phase), by)
        if node.phase != DELETING:
            _step(self.live, node.pool, by)
            if node.ready:
                _step(self.proxies, node.kube_proxy, by)
        if idle and node.ready and node.schedulable:
            _step(self.available, node.pool, by)
        elif idle:
            _step(self.idle_out, (node.pool, node.kubelet), by)

    def counts(self) -> NodeCounts:
        """The counts now (a snapshot: later changes do not reach it)."""
        return NodeCounts(dict(self.kubelets), dict(self.proxies), self.unsettled, dict(self.live),
                          dict(self.available), dict(self.settled), dict(self.unready),
                          dict(self.phases), dict(self.idle_out))

    @classmethod
    def of(cls, nodes) -> NodeCounts:
        tally = cls()
        for n in nodes:
            tally.count(n, 1)
        return tally.counts()


class NodeIndexes:
    """The node indexes of a view (a mixin of ``ClusterState``: ``self.nodes`` is its nodes)."""

    def seeded(self, by_name: dict, by_pool: dict, by_pool_named: dict, by_pool_version: dict,
               by_pool_holding: dict, by_pool_draining: dict, counts: NodeCounts,
               nodes: tuple | Snapshot | None = None):
        """This view with its node indexes given (an adapter that keeps them up to date as nodes change):
        each must be what the view would work out from ``nodes``. A list in them may be a ``Snapshot`` (a
        pool's lists by kubelet a ``Snapshots``), and so may ``nodes``, for a view made without its
        ``nodes`` field (given as a tuple, it is the field): each is made a tuple when first read.
        ``dataclasses.replace`` starts afresh."""
        self.__dict__.update(_nodes_by_name=by_name, _nodes_by_pool=by_pool, _nodes_by_pool_named=by_pool_named,
                             _nodes_by_pool_version=by_pool_version, _nodes_by_pool_holding=by_pool_holding,
                             _nodes_by_pool_draining=by_pool_draining, node_counts=counts)
        if nodes.__class__ is tuple:
            self.__dict__["nodes"] = nodes
        elif nodes is not None:
            self.__dict__["_nodes_snapshot"] = nodes
        return self

    def __getattr__(self, name: str):
        # only for what the instance lacks: a view seeded with a snapshot of its nodes reads them here once
        if name == "nodes":
            snapshot = self.__dict__.pop("_nodes_snapshot", None)
            if snapshot is not None:
                nodes = self.__dict__["nodes"] = snapshot.get()
                return nodes
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @cached_property
    def _nodes_by_name(self) -> dict:
        return {n.name: n for n in self.nodes}

    def node(self, name: str):
        return self._nodes_by_name[name]

    def has_node(self, name: str) -> bool:
        return name in self._nodes_by_name

    @cached_property
    def _nodes_by_pool(self) -> dict:
        by_pool: dict[str, list] = {}
        for n in self.nodes:
            by_pool.setdefault(n.pool, []).append(n)
        return {k: tuple(v) for k, v in by_pool.items()}

    def nodes_in(self, pool: str) -> tuple:
        """A pool's nodes, in the order of ``nodes``."""
        return read(self._nodes_by_pool, pool, ())

    @cached_property
    def _nodes_by_pool_named(self) -> dict:
        return {pool: tuple(sorted(nodes, key=lambda n: natural_key(n.name))) for pool, nodes in self._nodes_by_pool.items()}

    def nodes_in_name_order(self, pool: str) -> tuple:
        """A pool's nodes by name, numbers as numbers (``general-2`` before ``general-10``)."""
        return read(self._nodes_by_pool_named, pool, ())

    def _by_kubelet(self, keep) -> dict:
        out: dict[str, dict] = {}
        for pool, nodes in self._nodes_by_pool_named.items():
            groups: dict = {}
            for n in nodes:
                if keep(n):
                    groups.setdefault(n.kubelet, []).append(n)
            out[pool] = {v: tuple(g) for v, g in groups.items()}
        return out

    @cached_property
    def _nodes_by_pool_version(self) -> dict:
        return self._by_kubelet(live)

    @cached_property
    def _nodes_by_pool_holding(self) -> dict:
        return self._by_kubelet(holding)

    @cached_property
    def _nodes_by_pool_draining(self) -> dict:
        return self._by_kubelet(draining)

    def nodes_draining(self, pool: str) -> dict:
        """A pool's nodes draining or whose drain failed, by kubelet version, each version's by name."""
        return read(self._nodes_by_pool_draining, pool, {})

    def nodes_holding(self, pool: str) -> dict:
        """A pool's nodes not being deleted that hold pods to drain or are schedulable (not yet emptied and
        cordoned), by kubelet version, each version's by name."""
        return read(self._nodes_by_pool_holding, pool, {})

    def nodes_by_kubelet(self, pool: str) -> dict:
        """A pool's nodes not being deleted, by kubelet version, each version's by name (a strategy's old and
        new nodes without a look at each node)."""
        return read(self._nodes_by_pool_version, pool, {})

    @cached_property
    def node_counts(self) -> NodeCounts:
        return NodeTally.of(self.nodes)

    def available_in(self, pool: str) -> int:
        """How many of a pool's nodes are available (counted by the safety policies at every action)."""
        return self.node_counts.available.get(pool, 0)

    def settled_in(self, pool: str, version) -> int:
        """How many of a pool's nodes are Ready and idle with a kubelet at ``version`` or later."""
        want = version._k
        return sum(c for (p, v), c in self.node_counts.settled.items() if p == pool and v._k >= want)

    def unready_in(self, pool: str, version) -> int:
        """How many of a pool's nodes are idle but NotReady with a kubelet at ``version`` or later."""
        want = version._k
        return sum(c for (p, v), c in self.node_counts.unready.items() if p == pool and v._k >= want)

    def in_phase(self, pool: str, phase: str) -> int:
        """How many of a pool's nodes are in ``phase`` (provisioning, draining, ...)."""
        return self.node_counts.phases.get((pool, phase), 0)

    def idle_out_at(self, pool: str, version) -> int:
        """How many of a pool's nodes are idle but out of service (NotReady, or cordoned) with a kubelet at
        exactly ``version``."""
        return self.node_counts.idle_out.get((pool, version), 0)

    def failed_in(self, pool: str) -> int:
        """How many of a pool's nodes are machines that were never made (provision-failed)."""
        return self.in_phase(pool, PROVISION_FAILED)

    def live_in(self, pool: str) -> int:
        """How many of a pool's nodes are not being deleted."""
        return self.node_counts.live.get(pool, 0)
