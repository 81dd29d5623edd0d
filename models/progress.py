"""How far an upgrade has come: which phase of a plan is current, and what work remains.

Strategies use it to find where they are; the runner uses the same definition to decide
that a run completed, so the two can never disagree about "done".
"""

from __future__ import annotations

from models import compat
from models.plan import ADDONS, CONTROL_PLANE, KUBE_PROXY_ONLY, WORKERS, Phase, Plan
from models.state import CONTROL_PLANE_COMPONENTS, IDLE, ClusterState, Node
from models.version import KubeVersion


def at_least(have: KubeVersion, want: KubeVersion) -> bool:
    return have._k >= want._k  # KubeVersion's sort key: this is asked of every node at every decision


def coredns_goal(state: ClusterState, version: KubeVersion) -> KubeVersion | None:
    """The CoreDNS version a phase at ``version`` wants, or None if it wants no change."""
    current = state.addon("coredns")
    wanted = compat.coredns_for(version)
    if current is None or wanted is None or current.version >= wanted:
        return None
    return wanted


def control_plane_remaining(state: ClusterState, version: KubeVersion) -> list[str]:
    return [f"{i.name} at {i.version}, wants {version}"
            for i in state.control_plane.instances
            if i.component in CONTROL_PLANE_COMPONENTS and (not at_least(i.version, version) or i.phase != IDLE)]


def control_plane_left(state: ClusterState, version: KubeVersion) -> bool:
    """Whether ``control_plane_remaining`` would say anything (asked at every decision: no text)."""
    want = version._k
    return any(i.component in CONTROL_PLANE_COMPONENTS and (i.version._k < want or i.phase != IDLE)
               for i in state.control_plane.instances)


def kube_proxy_remaining(state: ClusterState, version: KubeVersion) -> list[str]:
    out = []
    proxy = state.addon("kube-proxy")
    if proxy is not None and (not at_least(proxy.version, version) or proxy.phase != IDLE):
        out.append(f"kube-proxy at {proxy.version}, wants {version}")
    # a node that is down cannot run the new kube-proxy; the DaemonSet updates it when it is back
    want = version._k
    lagging = sum(count for v, count in state.node_counts.proxies.items() if v._k < want)  # Ready, not deleting
    if lagging:
        out.append(f"kube-proxy on {lagging} node(s) below {version}")
    return out


def addons_remaining(state: ClusterState, version: KubeVersion) -> list[str]:
    out = kube_proxy_remaining(state, version)
    goal = coredns_goal(state, version)
    dns = state.addon("coredns")
    if goal is not None or (dns is not None and dns.phase != IDLE):
        out.append(f"coredns at {dns.version}, wants {goal or dns.version}")
    return out


def node_done(node: Node, version: KubeVersion) -> bool:
    return at_least(node.kubelet, version) and node.phase == IDLE and node.ready and node.schedulable


def workers_remaining(state: ClusterState, version: KubeVersion, cordoned_by_us: frozenset[str] = frozenset(),
                      elastic: tuple[str, ...] = ()) -> list[str]:
    out = []
    for n in state.nodes:
        if not at_least(n.kubelet, version):
            out.append(f"{n.name} kubelet {n.kubelet}, wants {version}")
        elif n.phase != IDLE:
            out.append(f"{n.name} is {n.phase}")
        elif not n.ready:
            out.append(f"{n.name} is NotReady")
        elif not n.schedulable and n.name in cordoned_by_us:
            out.append(f"{n.name} is still cordoned")
    for p in state.pools:
        have = state.live_in(p.name)
        if have < p.count and p.name not in elastic:  # an elastic pool's size is its autoscaler's
            out.append(f"pool {p.name} has {have} of {p.count} nodes")
    return out


def workers_left(state: ClusterState, version: KubeVersion, cordoned_by_us: frozenset[str] = frozenset(),
                 elastic: tuple[str, ...] = ()) -> bool:
    """Whether ``workers_remaining`` would say anything: the same tests, stopping at the first node."""
    want = version._k
    counts = state.node_counts  # a node below the version, or not idle, or NotReady; then one we cordoned
    if counts.unsettled or any(v._k < want for v in counts.kubelets):
        return True
    if any(state.has_node(name) and not state.node(name).schedulable for name in cordoned_by_us):
        return True
    return any(p.name not in elastic and state.live_in(p.name) < p.count for p in state.pools)


def phase_left(state: ClusterState, phase: Phase, cordoned_by_us: frozenset[str] = frozenset(),
               elastic: tuple[str, ...] = ()) -> bool:
    """Whether ``phase_remaining`` would say anything (what deciding the current phase asks)."""
    if phase.kind == WORKERS:
        return workers_left(state, phase.version, cordoned_by_us, elastic)
    if phase.kind == CONTROL_PLANE:
        return control_plane_left(state, phase.version)
    return bool(phase_remaining(state, phase, cordoned_by_us, elastic))


def phase_remaining(state: ClusterState, phase: Phase, cordoned_by_us: frozenset[str] = frozenset(),
                    elastic: tuple[str, ...] = ()) -> list[str]:
    if phase.kind == CONTROL_PLANE:
        return control_plane_remaining(state, phase.version)
    if phase.kind == ADDONS:
        return addons_remaining(state, phase.version)
    if phase.kind == KUBE_PROXY_ONLY:
        return kube_proxy_remaining(state, phase.version)
    if phase.kind == WORKERS:
        return workers_remaining(state, phase.version, cordoned_by_us, elastic)
    raise ValueError(f"unknown phase {phase.kind!r}")


def current_phase(state: ClusterState, plan: Plan, cordoned_by_us: frozenset[str] = frozenset(),
                  start: int = 0) -> tuple[int, Phase | None]:
    """The first phase at or after index ``start`` with work left (and its index), or None when done.

    Phases only move forward: a later phase's batch (nodes cordoned for the final roll)
    must not send the plan back to an earlier one. And a control plane already at a later
    hop means every phase before that hop is behind us, whatever the memo says (a strategy
    started on, or resumed without its journal on, a cluster part-way through an upgrade):
    a worker roll to an older hop would only make kubelets the skew policy refuses.
    """
    for i in range(len(plan.phases) - 1, start, -1):
        if plan.phases[i].kind == CONTROL_PLANE and not phase_left(state, plan.phases[i], cordoned_by_us):
            start = i
            break
    for i in range(start, len(plan.phases)):
        if phase_left(state, plan.phases[i], cordoned_by_us, plan.elastic):
            return i, plan.phases[i]
    return len(plan.phases), None


def remaining_work(state: ClusterState, plan: Plan) -> list[str]:
    """Everything that still differs from the plan's end state (empty: complete)."""
    target = plan.target
    out = control_plane_remaining(state, target)
    if any(p.kind == ADDONS for p in plan.phases):
        out += addons_remaining(state, target)
    out += workers_remaining(state, target, elastic=plan.elastic)
    return out


def left_behind(state: ClusterState, plan: Plan, limit: int = 10) -> dict:
    """What an upgrade that stopped left: each pool's kubelet versions (nodes per version), the nodes
    cordoned and NotReady, and the first ``limit`` items of the work that remains."""
    pools: dict[str, dict[str, int]] = {}
    for n in state.nodes:
        versions = pools.setdefault(n.pool, {})
        versions[str(n.kubelet)] = versions.get(str(n.kubelet), 0) + 1
    remaining = remaining_work(state, plan)
    return {"pools": {p: dict(sorted(v.items())) for p, v in sorted(pools.items())},
            "control_plane": sorted({str(i.version) for i in state.control_plane.instances
                                     if i.component in CONTROL_PLANE_COMPONENTS}),
            "cordoned": sorted(n.name for n in state.nodes if not n.schedulable),
            "not_ready": sorted(n.name for n in state.nodes if not n.ready),
            "still_to_do": remaining[:limit] + ([f"... and {len(remaining) - limit} more"] if len(remaining) > limit else [])}
