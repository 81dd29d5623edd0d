"""Where a strategy's new nodes go, so that a pool keeps capacity in every zone its volumes need.

A zonal volume (EBS, Persistent Disk, Azure Disk) can only be attached in its zone, so its
pod can only run there. A rolling replacement that adds its new nodes wherever the cloud
balances them can drain the last old node of such a zone before any new one is there, and
the pod waits for the roll to come back to its zone. ``zone_for_new_node`` puts a new node in
the zone of the next old node to go (in the strategy's order) that holds an attached zonal
volume, while that zone has no node at the target yet, as a per-zone node group or
MachineDeployment would; otherwise it leaves the choice to the cloud ("").

``volume_zone`` is the other rule, Karpenter's: a replacement for a node goes to the zone the
zonal volumes attached to that node require (its pods can only run there), whatever the other
nodes are doing.
"""

from __future__ import annotations

from collections import Counter

from models.actions import ProvisionNode
from models.progress import at_least
from models.state import DELETING, PROVISION_FAILED, ClusterState, NodePool
from models.storage import ZONAL, Volume


def attached_zonal(view: ClusterState) -> dict[str, tuple[Volume, ...]]:
    """The zonal volumes attached to each node, in the view's order: each one's pod can run only in its zone."""
    out: dict[str, list[Volume]] = {}
    for v in view.volumes:
        if v.kind == ZONAL and v.node is not None:
            out.setdefault(v.node, []).append(v)
    return {node: tuple(vs) for node, vs in out.items()}


def pinned(v: Volume, node: str, zone: str) -> str:
    """Why a new node goes to ``zone``: ``v``, attached to ``node``, lives there."""
    return f"zone {zone}: volume {v.name} on {node} can only be attached in that zone"


def volume_zone(attached: dict[str, tuple[Volume, ...]], pool: NodePool, node: str) -> tuple[str, str]:
    """(zone, why) the pods on ``node`` need a node in: the zone of a zonal volume attached to it, one of
    ``pool``'s (every volume attached to one node lives in that node's zone); ("", "") when none does.
    ``attached`` is ``attached_zonal(view)``."""
    for v in attached.get(node, ()):
        if v.zone and v.zone in pool.zones:
            return v.zone, pinned(v, node, v.zone)
    return "", ""


def zone_for_new_node(view: ClusterState, pool: NodePool, version, order_nodes, planned: list[str]) -> tuple[str, str]:
    """(zone, why) for the next new node of ``pool`` at ``version``; ``order_nodes`` are the pool's
    nodes in the strategy's order; ``planned`` the zones of new nodes this decision already adds."""
    attached = attached_zonal(view)
    if not attached:
        return "", ""
    new = Counter(n.zone for n in order_nodes if at_least(n.kubelet, version) and n.phase not in (DELETING,
                                                                                                   PROVISION_FAILED))
    new.update(planned)
    for n in order_nodes:
        if at_least(n.kubelet, version) or n.phase == DELETING or n.zone not in pool.zones:
            continue
        on = attached.get(n.name)
        if on and not new[n.zone]:
            return n.zone, pinned(on[0], n.name, n.zone)
    return "", ""


def new_node(view: ClusterState, pool: NodePool, version, order_nodes, why: str, planned: list[str]) -> ProvisionNode:
    """A ``ProvisionNode`` for ``pool``, in the zone its volumes need if they need one (``planned`` grows)."""
    zone, because = zone_for_new_node(view, pool, version, order_nodes, planned)
    if zone:
        planned.append(zone)
        return ProvisionNode(f"{why}; {because}", pool.name, version, zone)
    return ProvisionNode(why, pool.name, version)
