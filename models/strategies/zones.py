"""Where a strategy's new nodes go, so that a pool keeps capacity in every zone its volumes need.

A zonal volume (EBS, Persistent Disk, Azure Disk) can only be attached in its zone, so its
pod can only run there. A rolling replacement that adds its new nodes wherever the cloud
balances them can drain the last old node of such a zone before any new one is there, and
the pod waits for the roll to come back to its zone. ``zone_for_new_node`` puts a new node in
the zone of the next old node to go (in the strategy's order) that holds an attached zonal
volume, while that zone has no node at the target yet, as a per-zone node group or
MachineDeployment would; otherwise it leaves the choice to the cloud ("").
"""

from __future__ import annotations

from collections import Counter

from models.actions import ProvisionNode
from models.progress import at_least
from models.state import DELETING, PROVISION_FAILED, ClusterState, NodePool
from models.storage import ZONAL


def zone_for_new_node(view: ClusterState, pool: NodePool, version, order_nodes, planned: list[str]) -> tuple[str, str]:
    """(zone, why) for the next new node of ``pool`` at ``version``; ``order_nodes`` are the pool's
    nodes in the strategy's order; ``planned`` the zones of new nodes this decision already adds."""
    attached = {v.node: v for v in view.volumes if v.kind == ZONAL and v.node is not None}
    if not attached:
        return "", ""
    new = Counter(n.zone for n in order_nodes if at_least(n.kubelet, version) and n.phase not in (DELETING,
                                                                                                   PROVISION_FAILED))
    new.update(planned)
    for n in order_nodes:
        if at_least(n.kubelet, version) or n.phase == DELETING or n.zone not in pool.zones:
            continue
        v = attached.get(n.name)
        if v is not None and not new[n.zone]:
            return n.zone, f"zone {n.zone}: volume {v.name} on {n.name} can only be attached in that zone"
    return "", ""


def new_node(view: ClusterState, pool: NodePool, version, order_nodes, why: str, planned: list[str]) -> ProvisionNode:
    """A ``ProvisionNode`` for ``pool``, in the zone its volumes need if they need one (``planned`` grows)."""
    zone, because = zone_for_new_node(view, pool, version, order_nodes, planned)
    if zone:
        planned.append(zone)
        return ProvisionNode(f"{why}; {because}", pool.name, version, zone)
    return ProvisionNode(why, pool.name, version)
