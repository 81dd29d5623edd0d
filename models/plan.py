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
unavailable becomes 1; both given as 0 is an error. AKS rounds a percent maxUnavailable up
(``unavailableRounding: up``); EKS managed node groups surge by the larger of twice the
pool's zones and maxUnavailable (``surgePerZone: 2``).

The add-ons (kube-proxy, CoreDNS) move with every control-plane hop, as ``kubeadm upgrade
apply`` moves them (``addons: withControlPlane``), or once after the workers, the seed's
third movement (``afterWorkers``); then kube-proxy still moves to the control plane's
version before a step that would otherwise take it outside the skew policy (more than 3
minors behind an apiserver or a kubelet; 2 for kube-proxies older than 1.25).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property

from models.karpenter import DRIFTED, always_allowed
from models.quantity import IntOrPercent
from models.skew import KUBE_PROXY, Versioned, check_versions
from models.state import APISERVER, CONTROL_PLANE_COMPONENTS, CONTROLLER_MANAGER, KUBELET, SCHEDULER, ClusterState
from models.version import KubeVersion

CONTROL_PLANE = "control-plane"
ADDONS = "addons"
WORKERS = "workers"
KUBE_PROXY_ONLY = "kube-proxy"  # a phase that moves kube-proxy alone (addons: afterWorkers)
WITH_CONTROL_PLANE = "withControlPlane"
AFTER_WORKERS = "afterWorkers"

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
    import networkx as nx  # here, not above: the commands that never plan (--help, validate) start faster

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
                  total: int, *, zones: int = 1, surge_per_zone: int = 0, unavailable_round_up: bool = False) -> BatchSize:
    surge = IntOrPercent.parse(max_surge if max_surge is not None else 0)
    unavailable = IntOrPercent.parse(max_unavailable if max_unavailable is not None else 0)
    if surge.value == 0 and unavailable.value == 0 and not surge_per_zone:
        raise ValueError("maxSurge and maxUnavailable cannot both be 0: no node could ever be replaced")
    s = surge.scaled(total, round_up=True)
    u = unavailable.scaled(total, round_up=unavailable_round_up)
    if surge_per_zone:
        s = max(s, surge_per_zone * zones, u)
    if s == 0 and u == 0:
        u = 1
    return BatchSize(s, u)


@dataclass(frozen=True)
class Phase:
    kind: str
    version: KubeVersion
    why: str = field(default="", compare=False)  # for a phase the plan moved out of its usual place

    def __str__(self) -> str:
        return f"{self.kind} {self.version}"


@dataclass(frozen=True)
class Plan:
    """What a strategy follows: the target, the path, the phases and each pool's batch size."""

    target: KubeVersion
    path: VersionPath
    phases: tuple[Phase, ...]
    batches: tuple[tuple[str, BatchSize], ...]
    # pools whose size is not the upgrade's to keep: Karpenter consolidates them (a dynamic NodePool)
    elastic: tuple[str, ...] = ()

    @cached_property
    def labels(self) -> tuple[str, ...]:
        """Each phase as a memo names it ("workers 1.30.4"), in order."""
        return tuple(str(p) for p in self.phases)

    def batch(self, pool: str) -> BatchSize:
        for name, size in self.batches:
            if name == pool:
                return size
        raise KeyError(pool)


def _proxy_problem(proxy: KubeVersion, cp: KubeVersion, kubelets: frozenset[KubeVersion]) -> str | None:
    """Why a kube-proxy at ``proxy`` breaks the skew policy beside this control plane and these kubelets."""
    items = [Versioned(c, c, cp) for c in (APISERVER, CONTROLLER_MANAGER, SCHEDULER)]
    for k in sorted(kubelets):
        items += [Versioned(KUBELET, f"kubelet {k}", k, str(k)), Versioned(KUBE_PROXY, "kube-proxy", proxy, str(k))]
    bad = [v for v in check_versions(items) if v.component == KUBE_PROXY]
    return f"{bad[0].reason} ({bad[0].rule})" if bad else None


def phases_of(path: VersionPath, finish_control_plane: bool = False, addons: str = WITH_CONTROL_PLANE,
              kube_proxy: KubeVersion | None = None) -> tuple[Phase, ...]:
    """Control plane then add-ons at every hop, workers where the path rolls them; or, with
    ``addons: afterWorkers``, the add-ons once at the end (kube-proxy, at ``kube_proxy`` now,
    moving early only where the skew policy needs it).

    ``finish_control_plane``: some control-plane instances trail the oldest apiserver (an
    upgrade stopped part-way, after the apiservers): they catch up first, at the path's
    start, before anything else moves (a controller-manager or scheduler must stay within
    one minor of every apiserver, so the next hop may not leave them further behind).
    """
    phases: list[Phase] = [Phase(CONTROL_PLANE, path.start)] if finish_control_plane else []
    if addons == AFTER_WORKERS:
        proxy = kube_proxy or path.start
        cp, kubelets = path.start, frozenset(path.kubelets)
        for step in path.steps:
            after_cp, after_kubelets = (step.version, kubelets) if step.component == CONTROL_PLANE else \
                (cp, frozenset({step.version}))
            problem = _proxy_problem(proxy, after_cp, after_kubelets)
            if problem and proxy < cp:
                phases.append(Phase(KUBE_PROXY_ONLY, cp, f"addons: afterWorkers, but kube-proxy moves to {cp} before "
                                                         f"{step.component} {step.version}: there, {problem}"))
                proxy = cp
            phases.append(Phase(step.component, step.version))
            cp, kubelets = after_cp, after_kubelets
        phases.append(Phase(ADDONS, path.target))
        return tuple(phases)
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


def make_plan(state: ClusterState, target: KubeVersion, max_surge=None, max_unavailable=None, *,
              surge_per_zone: int = 0, unavailable_round_up: bool = False, addons: str = WITH_CONTROL_PLANE) -> Plan:
    path = path_for_state(state, target)
    batches = tuple((p.name, resolve_batch(max_surge, max_unavailable, p.count, zones=len(p.zones),
                                           surge_per_zone=surge_per_zone, unavailable_round_up=unavailable_round_up))
                    for p in state.pools)
    proxy = state.addon("kube-proxy")
    phases = phases_of(path, bool(trailing_instances(state)), addons, proxy.version if proxy else None)
    return Plan(target, path, phases, batches)


def plan_for_params(state: ClusterState, target: KubeVersion, params: dict) -> Plan:
    """The plan a strategy with these knobs follows (the knobs it does not have keep their defaults).

    Karpenter's knobs (``budgets``) give each pool the bound its disruption budgets keep at every
    time: replacements launched at once (surge) and, where consolidation may shrink the pool,
    nodes out at once (unavailable); a static NodePool (``consolidation: off``) replaces before it
    drains, so none is unavailable."""
    if "budgets" in params:
        plan = make_plan(state, target, 1, 0, addons=params.get("addons") or WITH_CONTROL_PLANE)
        elastic = params.get("consolidation", "off") != "off"
        batches = []
        for p in state.pools:
            bound = always_allowed(tuple(params["budgets"]), p.count, DRIFTED)
            batches.append((p.name, BatchSize(bound, bound if elastic else 0)))
        return replace(plan, batches=tuple(batches), elastic=tuple(p.name for p in state.pools) if elastic else ())
    return make_plan(state, target, params.get("maxSurge"), params.get("maxUnavailable"),
                     surge_per_zone=int(params.get("surgePerZone") or 0),
                     unavailable_round_up=params.get("unavailableRounding") == "up",
                     addons=params.get("addons") or WITH_CONTROL_PLANE)
