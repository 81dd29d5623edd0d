"""Workloads and their PodDisruptionBudgets, drawn to fit the pools they run on.

Requests are kept to at most half of what the nodes offer (after the DaemonSets' pods), so a
generated cluster has room to drain a node; budgets never ask for more pods than there are
and, unless asked to, always allow at least one eviction. Scheduling constraints
(``scheduling_for``) can be met when the cluster starts: tolerations for the taints of the
pools a workload is pinned to, node selectors and affinity that its pools' labels and zones
satisfy, preferred pod affinity and anti-affinity, required anti-affinity only with no more
replicas than its pools have nodes (or zones), zone spread, a toleration of unreachable nodes
for some seconds, a priority class of the cluster's; storage: zonal, shared or local volumes
for StatefulSets, a zonal one for a Deployment of at most one replica. Required pod affinity
is not drawn: it packs a workload into one node or zone, and draining that node or zone can
leave its pods nowhere to go, so a cluster with it is not valid by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hypothesis import strategies as st

from models.constraints import (
    DO_NOT_SCHEDULE,
    HOSTNAME,
    SCHEDULE_ANYWAY,
    ZONE,
    NodeAffinity,
    NodeRequirement,
    NodeSelectorTerm,
    PodAffinity,
    PodAffinityTerm,
    PreferredTerm,
    PriorityClass,
    Scheduling,
    SpreadConstraint,
    Toleration,
    WeightedTerm,
)
from models.quantity import IntOrPercent
from models.scheduling import untolerated
from models.selectors import LabelSelector
from models.state import (
    BARE_POD,
    COREDNS_REQUESTS,
    DAEMONSET,
    DEPLOYMENT,
    PDB,
    STATEFULSET,
    NodePool,
    Resources,
    Workload,
)
from models.storage import LOCAL, SHARED, ZONAL, StorageClaim
from models.testing.bounds import check_int

WORKLOAD_NAMES = ("web", "api", "checkout", "cart", "search", "db", "cache", "queue", "worker", "ingress",
                  "logs", "metrics")
NAMESPACES = ("default", "shop", "data")
MI = 2**20
GI = 2**30
POD_CPU = (50, 100, 250, 500)
POD_MEMORY = (64 * MI, 128 * MI, 256 * MI, 512 * MI)
DAEMON_CPU = (50, 100, 200)
DAEMON_MEMORY = (32 * MI, 64 * MI, 128 * MI)


def pdbs(replicas: int, *, blocking: bool = False) -> st.SearchStrategy[PDB]:
    """Budgets over ``replicas`` pods: integers never above ``replicas``; unless ``blocking``,
    each allows at least one eviction when every pod is healthy."""
    check_int("replicas", replicas, 0)
    r = replicas
    policy = st.sampled_from(("IfHealthyBudget", "AlwaysAllow"))
    if blocking or r == 0:
        forms = [
            st.builds(IntOrPercent, st.integers(0, r)).map(lambda v: (v, None)),
            st.builds(IntOrPercent, st.integers(0, 100), st.just(True)).map(lambda v: (v, None)),
            st.builds(IntOrPercent, st.integers(0, r)).map(lambda v: (None, v)),
            st.builds(IntOrPercent, st.integers(0, 100), st.just(True)).map(lambda v: (None, v)),
        ]
    else:
        forms = [
            st.builds(IntOrPercent, st.integers(0, r - 1)).map(lambda v: (v, None)),
            # ceil(p * r / 100) <= r - 1  <=>  p <= 100 (r - 1) / r
            st.builds(IntOrPercent, st.integers(0, 100 * (r - 1) // r), st.just(True)).map(lambda v: (v, None)),
            st.builds(IntOrPercent, st.integers(1, r)).map(lambda v: (None, v)),
            st.builds(IntOrPercent, st.integers(1, 100), st.just(True)).map(lambda v: (None, v)),
        ]
    return st.builds(lambda lo_hi, p: PDB(lo_hi[0], lo_hi[1], p), st.one_of(forms), policy)


def integer_min_available(pdb: PDB, replicas: int) -> PDB:
    """``pdb`` as the integer minAvailable that keeps as many of ``replicas`` pods healthy: the one form
    that works over pods no controller with a scale owns (bare pods: ``models.disruption``)."""
    return PDB(IntOrPercent(pdb.desired_healthy(replicas)), None, pdb.unhealthy_pod_eviction_policy)


@dataclass
class _Room:
    """What is left of half a pool's capacity for the pods placed so far."""

    cpu_m: int
    memory: int
    pods: int

    def replicas_that_fit(self, req: Resources, want: int) -> int:
        fit = want
        for have, need in ((self.cpu_m, req.cpu_m), (self.memory, req.memory), (self.pods, req.pods)):
            if need:
                fit = min(fit, max(0, have) // need)
        return fit

    def take(self, req: Resources, n: int) -> None:
        self.cpu_m -= req.cpu_m * n
        self.memory -= req.memory * n
        self.pods -= req.pods * n


def _take_across(rooms: dict[str, _Room], names: list[str], req: Resources, want: int) -> int:
    """Place up to ``want`` pods in the rooms named, first come first served; how many were placed."""
    placed = 0
    for name in names:
        n = rooms[name].replicas_that_fit(req, want - placed)
        rooms[name].take(req, n)
        placed += n
    return placed


def usable_pools(pools: tuple[NodePool, ...], pool: str | None, tolerations) -> list[NodePool]:
    """The pools a workload's pods may run on: its own, or those whose hard taints it tolerates."""
    return [p for p in pools if pool in (None, p.name) and untolerated(p.taints, tolerations) is None]


@st.composite
def scheduling_for(draw, name: str, kind: str, pools: tuple[NodePool, ...], pool: str | None,
                   classes: tuple[PriorityClass, ...] = ()) -> Scheduling:
    """Constraints a workload's pods can meet on ``pools`` (module docstring); replicas come later."""
    own = [p for p in pools if p.name == pool] if pool else list(pools)
    tolerations = []
    for p in own:  # tolerate the taints of the pools it is pinned to; elsewhere, perhaps
        if p.taints and (pool or draw(st.booleans())):
            tolerations += [Toleration(t.key, "Equal", t.value, t.effect) for t in p.taints]
    if draw(st.integers(0, 5)) == 0:
        tolerations.append(Toleration("node.kubernetes.io/unreachable", "Exists", "", "NoExecute",
                                      float(draw(st.sampled_from((30, 120, 600))))))
    usable = usable_pools(pools, pool, tolerations)
    selector = ()
    affinity = None
    if usable and draw(st.booleans()):
        shared = set.intersection(*(set(p.labels) for p in usable))
        if shared and draw(st.booleans()):
            selector = (sorted(shared)[0],)
        zones = sorted({z for p in usable for z in p.zones})
        required = (NodeSelectorTerm((NodeRequirement(ZONE, "In", tuple(zones)),)),) if draw(st.booleans()) else None
        preferred = tuple(PreferredTerm(draw(st.integers(1, 100)), NodeSelectorTerm((NodeRequirement(ZONE, "In", (z,)),)))
                          for z in draw(st.lists(st.sampled_from(zones), max_size=1)))
        affinity = NodeAffinity(required, preferred) if required or preferred else None
    mine = LabelSelector((("app", name),))
    anti = spread = None
    if kind != DAEMONSET and draw(st.booleans()):
        key = draw(st.sampled_from((HOSTNAME, ZONE)))
        anti = PodAffinity(preferred=(WeightedTerm(draw(st.integers(1, 100)), PodAffinityTerm(key, mine)),))
    if kind != DAEMONSET and draw(st.booleans()):
        spread = (SpreadConstraint(draw(st.integers(1, 3)), ZONE, draw(st.sampled_from((DO_NOT_SCHEDULE,
                                                                                        SCHEDULE_ANYWAY))), mine),)
    near = None
    if kind != DAEMONSET and draw(st.integers(0, 3)) == 0:  # near its own pods or another workload's
        key, other = draw(st.sampled_from((HOSTNAME, ZONE))), draw(st.sampled_from(WORKLOAD_NAMES))
        near = PodAffinity(preferred=(WeightedTerm(draw(st.integers(1, 100)),
                                                   PodAffinityTerm(key, LabelSelector((("app", other),)))),))
    cls = draw(st.none() | st.sampled_from(classes)) if classes else None
    return Scheduling(selector, affinity, near, anti, tuple(tolerations), spread or (),
                      cls.name if cls else "", cls.value if cls else 0,
                      cls.preemption_policy if cls else "PreemptLowerPriority")


def required_anti_affinity(s: Scheduling, name: str, replicas: int, usable: list[NodePool],
                           by_zone: bool = False) -> Scheduling:
    """``s`` with required anti-affinity among the workload's own pods where its pools can hold them apart with
    a node or a zone to spare for a drained pod (N nodes in Z zones: one per node up to N // 2 replicas, one per
    zone up to min(Z, N) - 1), by zone if ``by_zone`` and both can."""
    nodes = sum(p.count for p in usable)
    zones = len({z for p in usable for z in p.zones})
    keys = [k for k, ok in ((HOSTNAME, replicas <= nodes // 2), (ZONE, replicas <= min(zones, nodes) - 1)) if ok]
    if not keys:
        return s
    key = keys[-1] if by_zone else keys[0]
    term = PodAffinityTerm(key, LabelSelector((("app", name),)))
    preferred = s.pod_anti_affinity.preferred if s.pod_anti_affinity else ()
    return replace(s, pod_anti_affinity=PodAffinity((term,), preferred))


@st.composite
def storage_for(draw, kind: str, replicas: int) -> tuple[StorageClaim | None, bool]:
    """(storage claim, local storage) of a workload of ``kind``."""
    size = draw(st.none() | st.sampled_from((GI, 10 * GI, 100 * GI)))
    if kind == STATEFULSET:
        choice = draw(st.sampled_from((None, LOCAL, LOCAL, ZONAL, SHARED)))
    elif kind == DEPLOYMENT and replicas <= 1:
        choice = draw(st.sampled_from((None, None, ZONAL, SHARED)))
    elif kind == BARE_POD:
        choice = draw(st.sampled_from((None, LOCAL)))
    else:
        choice = None
    if choice is None:
        return None, False
    if choice == LOCAL:
        return None, True
    return StorageClaim(choice, size), False


@st.composite
def workloads(draw, pools: tuple[NodePool, ...], *, max_workloads: int = 4, max_replicas: int = 6,
              blocking_pdbs: bool = False, coredns_replicas: int = 0,
              classes: tuple[PriorityClass, ...] = ()) -> tuple[Workload, ...]:
    """User workloads (after CoreDNS, if it runs) whose requests fit in half of the pools' capacity."""
    count = draw(st.integers(0, max_workloads))
    names = draw(st.lists(st.sampled_from(WORKLOAD_NAMES), min_size=count, max_size=count, unique=True))
    specs = []
    for name in names:
        kind = draw(st.sampled_from((DEPLOYMENT, STATEFULSET, DAEMONSET, BARE_POD)))
        daemon = kind == DAEMONSET
        req = Resources(draw(st.sampled_from(DAEMON_CPU if daemon else POD_CPU)),
                        draw(st.sampled_from(DAEMON_MEMORY if daemon else POD_MEMORY)), 1)
        pool = draw(st.none() | st.sampled_from([p.name for p in pools]))
        sched = draw(scheduling_for(name, kind, pools, pool, classes))
        specs.append((name, kind, req, pool, sched))
    # DaemonSet pods come first: one on every node of their pool (or of every pool) that they tolerate
    per_node = {p.name: Resources() for p in pools}
    for _, kind, req, pool, sched in specs:
        if kind == DAEMONSET:
            for p in usable_pools(pools, pool, sched.tolerations):
                per_node[p.name] = per_node[p.name] + req
    rooms = {}
    for p in pools:
        left = p.allocatable - per_node[p.name]
        rooms[p.name] = _Room(left.cpu_m * p.count // 2, left.memory * p.count // 2, left.pods * p.count // 2)
    if coredns_replicas:
        _take_across(rooms, [p.name for p in pools if untolerated(p.taints, ()) is None], COREDNS_REQUESTS,
                     coredns_replicas)
    out = []
    for name, kind, req, pool, sched in specs:
        namespace = draw(st.sampled_from(NAMESPACES))
        usable = usable_pools(pools, pool, sched.tolerations)
        if kind == DAEMONSET:
            replicas, pdb = 0, None
        else:
            want = draw(st.integers(0, max_replicas))
            replicas = _take_across(rooms, [p.name for p in usable], req, want)
            pdb = draw(st.none() | pdbs(replicas, blocking=blocking_pdbs))
            if kind == BARE_POD and pdb is not None:  # the one form that works over pods without a controller
                pdb = integer_min_available(pdb, replicas)
            if replicas > 1 and draw(st.booleans()):
                sched = required_anti_affinity(sched, name, replicas, usable, draw(st.booleans()))
        claim, local = draw(storage_for(kind, replicas))
        out.append(Workload(name, kind, namespace, replicas, req, pdb, local_storage=local, pool=pool,
                            labels=(("app", name),), budgets=int(pdb is not None), scheduling=sched, storage=claim))
    return tuple(out)
