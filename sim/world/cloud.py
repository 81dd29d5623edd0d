"""Cloud resources a new node needs: an instance within the quota and a free IP in its zone's subnet."""

from __future__ import annotations

from models.state import ClusterState, Subnet, node_ip
from sim.world.entities import SimNode


class CloudOps:
    def __init__(self, world, state: ClusterState):
        self.world = world
        self.quota = state.cloud.instance_quota
        self.free_ips = {s.zone: s.free_ips for s in state.cloud.subnets}
        self.zone_index = {s.zone: i for i, s in enumerate(state.cloud.subnets)}
        self.handed_out = {z: 0 for z in self.free_ips}
        self._subnets: tuple[Subnet, ...] | None = None
        for n in state.nodes:
            self.handed_out[n.zone] = self.handed_out.get(n.zone, 0) + 1

    def reserve(self, node: SimNode) -> str | None:
        """Give ``node`` an instance and an IP, or say why the cloud refuses."""
        world = self.world
        in_use = world.vm_count() - (world.nodes.get(node.name) is node and node.name not in world.failed)
        if world.faults.quota_exhausted() or (self.quota is not None and in_use >= self.quota):
            limit = self.quota if self.quota is not None else in_use
            return f"instance quota exhausted ({in_use} of {limit} instances in use)"
        if world.faults.subnet_exhausted(node.zone) or self.free_ips.get(node.zone, 0) <= 0:
            return f"subnet-{node.zone} has no free IP address"
        self.free_ips[node.zone] -= 1
        self._subnets = None
        zi = self.zone_index.setdefault(node.zone, len(self.zone_index))
        node.ip = node_ip(zi, self.handed_out.get(node.zone, 0))
        self.handed_out[node.zone] = self.handed_out.get(node.zone, 0) + 1
        return None

    def release(self, node: SimNode) -> None:
        if node.ip and node.zone in self.free_ips:
            self.free_ips[node.zone] += 1
            self._subnets = None
            node.ip = ""

    def subnets(self) -> tuple[Subnet, ...]:
        """The subnets as a view shows them (made again only after an address was handed out or back)."""
        if self._subnets is None:
            zones = sorted(self.free_ips, key=lambda z: self.zone_index[z])
            self._subnets = tuple(Subnet(f"subnet-{z}", z, self.free_ips[z]) for z in zones)
        return self._subnets
