"""``mid_upgrades()`` and ``mid_upgrade_views()``: clusters part-way through an upgrade.

A view is built from a ``(cluster, target)`` pair and the plan to it: every phase before a
drawn one is finished, the drawn one is partly done (some control-plane instances at the
hop's version and one perhaps upgrading or failed; kube-proxy and CoreDNS rolling; nodes
cordoned, draining, drained, upgrading in place, failed, being deleted or replaced by new
ones that are still provisioning), and, with ``faults``, a few things are broken besides (a
node down, an instance unhealthy, the API unreachable). Versions only ever move as the plan
moves them, so every view is within the version-skew policy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from models.plan import ADDONS, CONTROL_PLANE, WORKERS, Phase, Plan, make_plan
from models.progress import coredns_goal
from models.quantity import IntOrPercent
from models.state import (
    CONTROL_PLANE_COMPONENTS,
    DAEMONSET,
    DELETING,
    DRAIN_FAILED,
    DRAINING,
    IDLE,
    PROVISION_FAILED,
    PROVISIONING,
    UPGRADE_FAILED,
    UPGRADING,
    ClusterState,
    Node,
    WorkloadStatus,
)
from models.strategies.base import CONTROL_PLANE_ORDER
from models.testing.clusters import upgrades as upgrade_pairs
from models.constraints import node_labels
from models.storage import ZONAL, Volume, claim_name
from models.version import KubeVersion


@dataclass(frozen=True)
class MidUpgrade:
    """An upgrade caught part-way: where it started, where it goes, its plan (with the batch
    knobs it was made with) and the view a strategy would observe now."""

    cluster: ClusterState
    target: KubeVersion
    max_surge: IntOrPercent
    max_unavailable: IntOrPercent
    plan: Plan
    view: ClusterState


def batch_knobs() -> st.SearchStrategy[tuple[IntOrPercent, IntOrPercent]]:
    """``(maxSurge, maxUnavailable)`` pairs that ``resolve_batch`` accepts (never both 0)."""
    value = st.integers(0, 3).map(IntOrPercent) | st.integers(0, 100).map(lambda p: IntOrPercent(p, True))
    return st.tuples(value, value).filter(lambda b: b[0].value or b[1].value)


def _instances(state: ClusterState, fn) -> ClusterState:
    cp = state.control_plane
    return replace(state, control_plane=replace(cp, instances=tuple(fn(i) for i in cp.instances)))


def _addon(state: ClusterState, name: str, **changes) -> ClusterState:
    return replace(state, addons=tuple(replace(a, **changes) if a.name == name else a for a in state.addons))


def _finish(state: ClusterState, phase: Phase) -> ClusterState:
    v = phase.version
    if phase.kind == CONTROL_PLANE:
        return _instances(state, lambda i: replace(i, version=v) if i.component in CONTROL_PLANE_COMPONENTS else i)
    if phase.kind == ADDONS:
        goal = coredns_goal(state, v)
        if goal is not None:
            state = _addon(state, "coredns", version=goal)
        if state.addon("kube-proxy") is not None:
            state = _addon(state, "kube-proxy", version=v)
        return replace(state, nodes=tuple(replace(n, kube_proxy=v) for n in state.nodes))
    return replace(state, nodes=tuple(replace(n, kubelet=v) for n in state.nodes))


@st.composite
def _control_plane_part(draw, state: ClusterState, v: KubeVersion) -> ClusterState:
    order = [i.name for c in CONTROL_PLANE_ORDER
             for i in sorted(state.control_plane.of(c), key=lambda i: i.name)]
    done = set(order[:draw(st.integers(0, len(order)))])
    busy = next((n for n in order if n not in done), None)
    phase = draw(st.sampled_from((IDLE, UPGRADING, UPGRADE_FAILED))) if busy else IDLE

    def move(i):
        if i.name in done:
            return replace(i, version=v)
        if i.name == busy and phase != IDLE:
            return replace(i, phase=phase, message="the new instance did not become healthy"
                           if phase == UPGRADE_FAILED else "")
        return i
    return _instances(state, move)


@st.composite
def _addons_part(draw, state: ClusterState, v: KubeVersion) -> ClusterState:
    goal = coredns_goal(state, v)
    if goal is not None:
        stage = draw(st.sampled_from(("waiting", "rolling", "done")))
        if stage != "waiting":
            state = _addon(state, "coredns", version=goal if stage == "done" else state.addon("coredns").version,
                           phase=UPGRADING if stage == "rolling" else IDLE)
    proxy = state.addon("kube-proxy")
    stage = draw(st.sampled_from(("waiting", "rolling", "done")))
    if proxy is not None and stage != "waiting":
        state = _addon(state, "kube-proxy", version=v if stage == "done" else proxy.version,
                       phase=UPGRADING if stage == "rolling" else IDLE)
        nodes = tuple(replace(n, kube_proxy=v) if draw(st.booleans()) else n for n in state.nodes)
        state = replace(state, nodes=nodes)
    return state


OLD_NODE = ("untouched", "cordoned", "draining", "drained", "drain-failed", "upgrading", "upgrade-failed",
            "deleting", "gone", "upgraded", "upgraded-cordoned", "upgraded-not-ready")
NEW_NODE = ("provisioning", "provision-failed", "joined-not-ready", "joined")


@st.composite
def _node_part(draw, n: Node, v: KubeVersion) -> Node | None:
    if n.kubelet >= v:
        return n
    how = draw(st.sampled_from(OLD_NODE))
    pods = draw(st.integers(1, 8))
    out = {
        "untouched": lambda: n,
        "cordoned": lambda: replace(n, schedulable=False, pods=pods),
        "draining": lambda: replace(n, schedulable=False, phase=DRAINING, pods=pods),
        "drained": lambda: replace(n, schedulable=False, pods=0),
        "drain-failed": lambda: replace(n, schedulable=False, phase=DRAIN_FAILED, pods=pods,
                                        message=f"{pods} pod(s) left: their budget allows no eviction"),
        # the kubelet's version changes at the startKubelet step, part-way through
        "upgrading": lambda: replace(n, schedulable=False, phase=UPGRADING, ready=draw(st.booleans()),
                                     kubelet=draw(st.sampled_from((n.kubelet, v)))),
        "upgrade-failed": lambda: replace(n, schedulable=False, phase=UPGRADE_FAILED, ready=False,
                                          kubelet=draw(st.sampled_from((n.kubelet, v))),
                                          message="step 2 (replaceBinaries) failed"),
        "deleting": lambda: replace(n, schedulable=False, phase=DELETING, ready=False, pods=0),
        "gone": lambda: None,
        "upgraded": lambda: replace(n, kubelet=v),
        "upgraded-cordoned": lambda: replace(n, kubelet=v, schedulable=False),
        "upgraded-not-ready": lambda: replace(n, kubelet=v, schedulable=False, ready=False),
    }[how]()
    return out


def _new_node(pool, number: int, v: KubeVersion, proxy: KubeVersion, how: str, at: float) -> Node:
    zone = pool.zones[(number - 1) % len(pool.zones)]
    name = f"{pool.name}-{number}"
    node = Node(name, pool.name, zone, v, proxy, pool.allocatable, pool.runtime, created_at=at, taints=pool.taints,
                labels=node_labels(pool.labels, zone, name))
    if how == "provisioning":
        return replace(node, ready=False, phase=PROVISIONING)
    if how == "provision-failed":
        return replace(node, ready=False, phase=PROVISION_FAILED, message="no free IP in the zone's subnet")
    return replace(node, ready=how == "joined")


@st.composite
def _workers_part(draw, state: ClusterState, v: KubeVersion) -> ClusterState:
    nodes = [m for m in (draw(_node_part(n, v)) for n in state.nodes) if m is not None]
    proxy = state.addon("kube-proxy").version if state.addon("kube-proxy") else v
    for pool in state.pools:
        taken = [int(n.name.rpartition("-")[2]) for n in state.nodes_in(pool.name)
                 if n.name.rpartition("-")[2].isdigit()]
        first = max(taken, default=0) + 1
        for k, how in enumerate(draw(st.lists(st.sampled_from(NEW_NODE), max_size=2))):
            nodes.append(_new_node(pool, first + k, v, proxy, how, state.observed_at))
    return replace(state, nodes=tuple(nodes))


@st.composite
def _broken(draw, state: ClusterState) -> ClusterState:
    """A few things broken besides the upgrade: a node down, an instance unhealthy, the API unreachable."""
    if state.nodes and draw(st.booleans()):
        down = draw(st.sampled_from([n.name for n in state.nodes]))
        state = replace(state, nodes=tuple(replace(n, ready=False, message="the machine crashed")
                                           if n.name == down else n for n in state.nodes))
    if draw(st.booleans()):
        sick = draw(st.sampled_from([i.name for i in state.control_plane.instances]))
        state = _instances(state, lambda i: replace(i, healthy=False) if i.name == sick else i)
    if draw(st.integers(0, 4)) == 0:
        state = replace(state, api_available=False)
    return state


@st.composite
def _with_status(draw, state: ClusterState) -> ClusterState:
    """Pods on the nodes that hold some, and each workload's Ready count and allowed disruptions."""
    nodes = tuple(replace(n, pods=draw(st.integers(0, 8))) if n.phase == IDLE and n.schedulable and n.ready else n
                  for n in state.nodes)
    workloads = []
    for w in state.workloads:
        desired = sum(1 for n in nodes if n.ready and (w.pool in (None, n.pool))) if w.kind == DAEMONSET else w.replicas
        ready = draw(st.just(desired) | st.integers(0, desired))
        allowed = w.pdb.disruptions_allowed(ready, w.pdb.expected_count(desired, desired)) if w.pdb else None
        workloads.append(replace(w, status=WorkloadStatus(desired, ready, allowed)))
    volumes = []  # each zonal claim attached to a node of its pools that holds pods (if there is one)
    for w in state.workloads:
        if w.storage is None or w.storage.kind != ZONAL:
            continue
        hosts = [n for n in nodes if n.pods and w.pool in (None, n.pool)]
        for ordinal in (range(w.replicas) if w.kind == "StatefulSet" else [None]):
            node = draw(st.sampled_from(hosts)) if hosts else None
            volumes.append(Volume(f"{w.namespace}/{claim_name(w.name, ordinal)}", w.key, ZONAL,
                                  node.zone if node else None, node.name if node else None, ordinal))
    return replace(state, nodes=nodes, workloads=tuple(workloads), volumes=tuple(volumes))


@st.composite
def _mid_upgrades(draw, pairs, faults: bool) -> MidUpgrade:
    cluster, target = draw(pairs)
    surge, unavailable = draw(batch_knobs())
    plan = make_plan(cluster, target, surge, unavailable)
    at = float(draw(st.integers(0, 4 * 3600)))
    state = replace(cluster, observed_at=at)
    current = draw(st.integers(0, len(plan.phases)))  # len: every phase is finished
    for phase in plan.phases[:current]:
        state = _finish(state, phase)
    if current < len(plan.phases):
        phase = plan.phases[current]
        part = {CONTROL_PLANE: _control_plane_part, ADDONS: _addons_part, WORKERS: _workers_part}[phase.kind]
        state = draw(part(state, phase.version))
    state = draw(_with_status(state))
    if faults:
        state = draw(_broken(state))
    if any(i.phase != IDLE for i in state.control_plane.apiservers) and len(state.control_plane.apiservers) == 1:
        state = replace(state, api_available=False)  # the only apiserver is down for its upgrade
    return MidUpgrade(cluster, target, surge, unavailable, plan, state)


def mid_upgrades(*, upgrades: st.SearchStrategy | None = None, faults: bool = True) -> st.SearchStrategy[MidUpgrade]:
    """``MidUpgrade`` records: a pair from ``upgrades`` (default ``upgrades(min_minors=1)``), batch
    knobs from ``batch_knobs()``, the plan made with them, and a view part-way along it."""
    if upgrades is not None and not isinstance(upgrades, st.SearchStrategy):
        raise InvalidArgument(f"upgrades must be a generator of (cluster, target) pairs, not {upgrades!r}")
    return _mid_upgrades(upgrades if upgrades is not None else upgrade_pairs(min_minors=1), bool(faults))


def mid_upgrade_views(*, upgrades: st.SearchStrategy | None = None, faults: bool = True) -> st.SearchStrategy[ClusterState]:
    """Just the views of ``mid_upgrades()``: clusters part-way through an upgrade, within the skew policy."""
    return mid_upgrades(upgrades=upgrades, faults=faults).map(lambda m: m.view)

