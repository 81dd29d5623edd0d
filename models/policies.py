"""Safety policies: checks on a decision's actions before the runner submits them.

Each policy is a small pure function over the observed state (with the effects of the
actions approved before it in the same decision) that returns a ``Refusal`` with a
policy id and a reason, or None. The runner refuses what they refuse and records why;
a scenario with ``safety: off`` records the refusals but lets the actions through.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.actions import (
    Action,
    Cordon,
    DeleteNode,
    Drain,
    ProvisionNode,
    UpgradeAddon,
    UpgradeControlPlaneInstance,
    UpgradeNodeInPlace,
)
from models.plan import Plan
from models.skew import KUBE_PROXY, Versioned, adds_violation, bare, check_transition, check_versions, moved, versions_of
from models.state import IDLE, KUBELET, ClusterState


@dataclass(frozen=True)
class Refusal:
    policy: str
    action: Action
    reason: str


@dataclass
class _Projection:
    """What the approved actions of this decision will have changed."""

    unavailable: set[str] = field(default_factory=set)
    taken: dict[str, int] = field(default_factory=dict)  # per pool, its available nodes among ``unavailable``
    control_plane_busy: bool = False

    def take(self, view: ClusterState, name: str) -> None:
        if name in self.unavailable:
            return
        self.unavailable.add(name)
        node = view.node(name) if view.has_node(name) else None
        if node is not None and node.available:
            self.taken[node.pool] = self.taken.get(node.pool, 0) + 1


def _pool_availability(view: ClusterState, pool: str, proj: _Projection) -> int:
    return view.available_in(pool) - proj.taken.get(pool, 0)


def max_unavailable(action: Action, view: ClusterState, plan: Plan, proj: _Projection) -> Refusal | None:
    """Taking an available node out of service must leave its pool at least size - maxUnavailable available."""
    if not isinstance(action, (Cordon, Drain, UpgradeNodeInPlace, DeleteNode)) or not view.has_node(action.node):
        return None
    node = view.node(action.node)
    if not node.available or node.name in proj.unavailable:
        return None
    pool = view.pool(node.pool)
    size = pool.count
    if pool.name in plan.elastic:  # its size is Karpenter's: at most ``unavailable`` of the nodes it has out at once
        size = sum(1 for n in view.nodes_in(pool.name) if n.phase not in ("deleting", "provisioning", "provision-failed"))
    floor = size - plan.batch(pool.name).unavailable
    left = _pool_availability(view, pool.name, proj) - 1
    if left < floor:
        return Refusal("max-unavailable", action,
                       f"{action.describe()} would leave pool {pool.name} with {left} available node(s); "
                       f"maxUnavailable {plan.batch(pool.name).unavailable} of {size} requires at least {floor}")
    return None


def _kubelet_refusal(action: Action, view: ClusterState, node_name: str, version) -> Refusal | None:
    items = [Versioned(i.component, i.name, i.version) for i in view.control_plane.instances]
    # (the versions alone say whether a kubelet rule breaks, remembered whichever node asks; the names only
    # word a refusal)
    if not adds_violation((), bare(items) + ((KUBELET, version, str(version), None),), (KUBELET,)):
        return None
    items.append(Versioned(KUBELET, node_name, version, node_name))
    bad = [v for v in check_versions(items) if v.component == KUBELET]
    if bad:
        return Refusal("skew", action, f"{action.describe()}: {bad[0].reason} ({bad[0].rule})")
    return None


def skew(action: Action, view: ClusterState, plan: Plan, proj: _Projection) -> Refusal | None:
    """No action may move a component outside the version-skew policy."""
    if isinstance(action, UpgradeNodeInPlace) and view.has_node(action.node):
        return _kubelet_refusal(action, view, action.node, action.version)
    if isinstance(action, ProvisionNode):
        return _kubelet_refusal(action, view, f"a new node in {action.pool}", action.version)
    if isinstance(action, UpgradeControlPlaneInstance):
        before = versions_of(view)

        def to(i):
            return action.version if i.name == action.instance else i.version

        if not adds_violation(bare(before), bare(before, to), None, True):
            return None
        after = moved(before, to)
        present = {(v.rule, v.component, v.subject) for v in check_versions(before)}
        added = [v for v in check_versions(after) if (v.rule, v.component, v.subject) not in present]
        added = check_transition(before, after) + added
        if added:
            return Refusal("skew", action, f"{action.describe()}: {added[0].reason} ({added[0].rule})")
    if isinstance(action, UpgradeAddon) and action.addon == "kube-proxy":
        before = versions_of(view)

        def to(i):
            return action.version if i.component == KUBE_PROXY else i.version

        if not adds_violation(bare(before), bare(before, to), (KUBE_PROXY,)):
            return None
        after = moved(before, to)
        present = {(v.rule, v.subject) for v in check_versions(before)}
        added = [v for v in check_versions(after) if (v.rule, v.subject) not in present and v.component == KUBE_PROXY]
        if added:
            return Refusal("skew", action, f"{action.describe()}: {added[0].reason} ({added[0].rule})")
    return None


def delete_node_with_pods(action: Action, view: ClusterState, plan: Plan, proj: _Projection) -> Refusal | None:
    """A node is deleted only once drained, unless the strategy forces it."""
    if isinstance(action, DeleteNode) and not action.force and view.has_node(action.node):
        node = view.node(action.node)
        if node.pods:
            return Refusal("delete-node-with-pods", action,
                           f"{action.describe()}: it still holds {node.pods} pod(s) that a drain would evict; "
                           "drain it first (or force)")
    return None


def one_control_plane_instance_at_a_time(action: Action, view: ClusterState, plan: Plan, proj: _Projection) -> Refusal | None:
    """Never take a second control-plane instance down while one is being upgraded."""
    if not isinstance(action, UpgradeControlPlaneInstance):
        return None
    busy = [i.name for i in view.control_plane.instances if i.phase != IDLE]
    if busy or proj.control_plane_busy:
        what = busy[0] if busy else "another instance in this decision"
        return Refusal("control-plane-one-at-a-time", action,
                       f"{action.describe()}: {what} is already being upgraded")
    return None


def new_node_zone(action: Action, view: ClusterState, plan: Plan, proj: _Projection) -> Refusal | None:
    """A new node goes to one of its pool's zones (or wherever the cloud balances them)."""
    if isinstance(action, ProvisionNode) and action.zone:
        pools = {p.name: p for p in view.pools}
        pool = pools.get(action.pool)
        if pool is not None and action.zone not in pool.zones:
            return Refusal("new-node-zone", action, f"{action.describe()}: pool {pool.name} has no zone "
                                                    f"{action.zone!r}; valid: {', '.join(pool.zones)}")
    return None


POLICIES = (max_unavailable, skew, delete_node_with_pods, one_control_plane_instance_at_a_time, new_node_zone)
POLICY_IDS = ("max-unavailable", "skew", "delete-node-with-pods", "control-plane-one-at-a-time", "new-node-zone")


def review(actions: tuple[Action, ...], view: ClusterState, plan: Plan) -> list[tuple[Action, Refusal | None]]:
    """Each action with the first refusal it meets, checked in order against the projected state."""
    proj = _Projection()
    out = []
    for action in actions:
        refusal = None
        for policy in POLICIES:
            refusal = policy(action, view, plan, proj)
            if refusal:
                break
        out.append((action, refusal))
        if refusal is None:
            if isinstance(action, (Cordon, Drain, UpgradeNodeInPlace, DeleteNode)):
                proj.take(view, action.node)
            if isinstance(action, UpgradeControlPlaneInstance):
                proj.control_plane_busy = True
    return out
