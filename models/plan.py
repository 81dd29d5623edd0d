"""The static upgrade plan: which versions to pass through, in which order, in what batches.

``version_path`` finds the shortest way from a cluster's versions to a target as a
path in a networkx graph whose nodes are (control-plane version, kubelet versions)
states and whose edges are the two moves an upgrade has: the control plane up one
minor, or every worker rolled to the control plane's version. Only states that the
skew policy (``models.skew``) allows are in the graph. A worker roll costs far more
than a control-plane hop, so the path rolls the workers as few times as possible and,
among equals, as late as possible (workers then take skip-level jumps within skew).

``resolve_batch`` turns maxSurge / maxUnavailable into node counts as Kubernetes does
for Deployments and Cluster API for MachineDeployments (pkg/controller/deployment/util
ResolveFenceposts): surge rounds up, unavailable rounds down, and if both round to 0
unavailable becomes 1; both given as 0 is an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from models.quantity import IntOrPercent
from models.skew import Versioned, check_versions
from models.state import APISERVER, CONTROL_PLANE_COMPONENTS, CONTROLLER_MANAGER, KUBELET, SCHEDULER, ClusterState
from models.version import KubeVersion

CONTROL_PLANE = "control-plane"
ADDONS = "addons"
WORKERS = "workers"

_ROLL_COST = 1000
_HOP_COST = 1


@dataclass(frozen=True)
class Step:
    component: str
    version: KubeVersion

    def to_json(self) -> dict:
        return {"component": self.component, "version": str(self.version)}


@dataclass(frozen=True)
class VersionPath:
    start: KubeVersion
    target: KubeVersion
    kubelets: tuple[KubeVersion, ...]
    steps: tuple[Step, ...]

    @property
    def worker_rolls(self) -> int:
        return sum(1 for s in self.steps if s.component == WORKERS)

    @property
    def control_plane_hops(self) -> tuple[KubeVersion, ...]:
        return tuple(s.version for s in self.steps if s.component == CONTROL_PLANE)

    def to_json(self) -> dict:
        return {
            "from": str(self.start),
            "to": str(self.target),
            "kubelets": [str(k) for k in self.kubelets],
            "steps": [s.to_json() for s in self.steps],
        }


def _valid(cp: KubeVersion, kubelets: frozenset[KubeVersion]) -> bool:
    items = [Versioned(c, c, cp) for c in (APISERVER, CONTROLLER_MANAGER, SCHEDULER)]
    items += [Versioned(KUBELET, str(k), k) for k in kubelets]
    return not check_versions(items)


def _next_hop(cp: KubeVersion, target: KubeVersion) -> KubeVersion | None:
    if cp >= target:
        return None
    if cp.same_minor(target):
        return target
    nxt = cp.add_minors(1)
    return target if nxt.same_minor(target) else nxt


def version_path(control_plane: KubeVersion, target: KubeVersion,
                 kubelets: Iterable[KubeVersion] | None = None) -> VersionPath:
    """The shortest skew-safe sequence of steps from ``control_plane`` and ``kubelets`` to ``target``.

    Raises ``ValueError`` when the target is behind the cluster or no path exists.
    """
    kubelets = tuple(sorted(set(kubelets or (control_plane,))))
    if target < control_plane:
        raise ValueError(f"target {target} is older than the control plane {control_plane}; midair plans upgrades, not downgrades")
    if target.major != control_plane.major:
        raise ValueError(f"cannot plan from {control_plane} to {target}: different major versions")
    for k in kubelets:
        if k > control_plane and not k.same_minor(control_plane):
            raise ValueError(f"kubelet {k} is newer than the control plane {control_plane}; a kubelet must never be newer than the apiserver")
        if k > target:
            raise ValueError(f"kubelet {k} is newer than the target {target}")
    start = (control_plane, frozenset(kubelets))
    goal = (target, frozenset({target}))
    graph = nx.DiGraph()
    graph.add_node(start)
    frontier = [start]
    while frontier:
        state = frontier.pop()
        cp, ks = state
        moves = []
        hop = _next_hop(cp, target)
        if hop is not None and _valid(hop, ks):
            moves.append(((hop, ks), _HOP_COST, Step(CONTROL_PLANE, hop)))
        if any(k != cp for k in ks):
            rolled = frozenset({cp})
            if _valid(cp, rolled):
                moves.append(((cp, rolled), _ROLL_COST + target.minor - cp.minor, Step(WORKERS, cp)))
        for nxt, cost, step in moves:
            if nxt not in graph:
                frontier.append(nxt)
            graph.add_edge(state, nxt, weight=cost, step=step)
    if goal not in graph:
        raise ValueError(f"no skew-safe path from control plane {control_plane} with kubelets "
                         f"{', '.join(map(str, kubelets))} to {target}")
    nodes = nx.shortest_path(graph, start, goal, weight="weight")
    steps = tuple(graph.edges[a, b]["step"] for a, b in zip(nodes, nodes[1:]))
    return VersionPath(control_plane, target, kubelets, steps)


def path_for_state(state: ClusterState, target: KubeVersion) -> VersionPath:
    return version_path(state.oldest_apiserver, target, [n.kubelet for n in state.nodes] or None)


@dataclass(frozen=True)
class BatchSize:
    """How many nodes a pool may have above its size (surge) and below it (unavailable)."""

    surge: int
    unavailable: int


def resolve_batch(max_surge: IntOrPercent | int | str | None, max_unavailable: IntOrPercent | int | str | None,
                  total: int) -> BatchSize:
    surge = IntOrPercent.parse(max_surge if max_surge is not None else 0)
    unavailable = IntOrPercent.parse(max_unavailable if max_unavailable is not None else 0)
    if surge.value == 0 and unavailable.value == 0:
        raise ValueError("maxSurge and maxUnavailable cannot both be 0: no node could ever be replaced")
    s = surge.scaled(total, round_up=True)
    u = unavailable.scaled(total, round_up=False)
    if s == 0 and u == 0:
        u = 1
    return BatchSize(s, u)


@dataclass(frozen=True)
class Phase:
    kind: str
    version: KubeVersion

    def __str__(self) -> str:
        return f"{self.kind} {self.version}"


@dataclass(frozen=True)
class Plan:
    """What a strategy follows: the target, the path, the phases and each pool's batch size."""

    target: KubeVersion
    path: VersionPath
    phases: tuple[Phase, ...]
    batches: tuple[tuple[str, BatchSize], ...]

    def batch(self, pool: str) -> BatchSize:
        for name, size in self.batches:
            if name == pool:
                return size
        raise KeyError(pool)


def phases_of(path: VersionPath, finish_control_plane: bool = False) -> tuple[Phase, ...]:
    """Control plane then add-ons at every hop; workers where the path rolls them.

    ``finish_control_plane``: some control-plane instances trail the oldest apiserver (an
    upgrade stopped part-way, after the apiservers): they catch up first, at the path's
    start, before anything else moves (a controller-manager or scheduler must stay within
    one minor of every apiserver, so the next hop may not leave them further behind).
    """
    phases: list[Phase] = [Phase(CONTROL_PLANE, path.start)] if finish_control_plane else []
    if not path.control_plane_hops:
        phases.append(Phase(ADDONS, path.target))
    for step in path.steps:
        phases.append(Phase(step.component, step.version))
        if step.component == CONTROL_PLANE:
            phases.append(Phase(ADDONS, step.version))
    return tuple(phases)


def trailing_instances(state: ClusterState) -> tuple[str, ...]:
    """Control-plane instances behind the oldest apiserver (an upgrade that stopped part-way)."""
    start = state.oldest_apiserver
    return tuple(i.name for i in state.control_plane.instances
                 if i.component in CONTROL_PLANE_COMPONENTS and i.version < start)


def make_plan(state: ClusterState, target: KubeVersion, max_surge=None, max_unavailable=None) -> Plan:
    path = path_for_state(state, target)
    batches = tuple((p.name, resolve_batch(max_surge, max_unavailable, p.count)) for p in state.pools)
    return Plan(target, path, phases_of(path, bool(trailing_instances(state))), batches)
