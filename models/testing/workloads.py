"""Workloads and their PodDisruptionBudgets, drawn to fit the pools they run on.

Requests are kept to at most half of what the nodes offer (after the DaemonSets' pods), so a
generated cluster has room to drain a node; budgets never ask for more pods than there are
and, unless asked to, always allow at least one eviction.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from models.quantity import IntOrPercent
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
from models.testing.bounds import check_int

WORKLOAD_NAMES = ("web", "api", "checkout", "cart", "search", "db", "cache", "queue", "worker", "ingress",
                  "logs", "metrics")
NAMESPACES = ("default", "shop", "data")
MI = 2**20
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


@st.composite
def workloads(draw, pools: tuple[NodePool, ...], *, max_workloads: int = 4, max_replicas: int = 6,
              blocking_pdbs: bool = False, coredns_replicas: int = 0) -> tuple[Workload, ...]:
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
        specs.append((name, kind, req, pool))
    # DaemonSet pods come first: one on every node of their pool (or of every pool)
    per_node = {p.name: Resources() for p in pools}
    for _, kind, req, pool in specs:
        if kind == DAEMONSET:
            for p in pools:
                if pool in (None, p.name):
                    per_node[p.name] = per_node[p.name] + req
    rooms = {}
    for p in pools:
        left = p.allocatable - per_node[p.name]
        rooms[p.name] = _Room(left.cpu_m * p.count // 2, left.memory * p.count // 2, left.pods * p.count // 2)
    everywhere = [p.name for p in pools]
    if coredns_replicas:
        _take_across(rooms, everywhere, COREDNS_REQUESTS, coredns_replicas)
    out = []
    for name, kind, req, pool in specs:
        namespace = draw(st.sampled_from(NAMESPACES))
        if kind == DAEMONSET:
            replicas, pdb = 0, None
        else:
            want = draw(st.integers(0, max_replicas))
            replicas = _take_across(rooms, [pool] if pool else everywhere, req, want)
            pdb = draw(st.none() | pdbs(replicas, blocking=blocking_pdbs))
        local = kind in (STATEFULSET, BARE_POD) and draw(st.booleans())
        out.append(Workload(name, kind, namespace, replicas, req, pdb, local_storage=local, pool=pool,
                            labels=(("app", name),), budgets=int(pdb is not None)))
    return tuple(out)
