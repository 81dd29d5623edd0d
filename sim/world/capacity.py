"""Index of schedulable nodes by free CPU, per pool, zone and taint class, so placing a pod never
scans every node.

Each (pool, zone, class) keeps a max-heap of (free CPU, node) entries; the class is 0 for
a node a pod may prefer, 1 for one with a PreferNoSchedule taint. An entry goes stale when
its node's capacity, eligibility or class changes (the node's ``stamp`` moves on); stale
entries are dropped when they surface, and a heap is rebuilt once stale entries dominate it.
"""

from __future__ import annotations

import heapq

from models.state import PREFER_NO_SCHEDULE
from sim.world.entities import SimNode, SimPod

PREFERRED, AVOIDED = 0, 1  # taint classes


def taint_class(node: SimNode) -> int:
    return AVOIDED if any(t.effect == PREFER_NO_SCHEDULE for t in node.taints) else PREFERRED


class CapacityIndex:
    def __init__(self, eligible):
        self._eligible = eligible  # SimNode -> bool
        self._heaps: dict[tuple[str, str, int], list] = {}
        self._members: dict[tuple[str, str, int], set[SimNode]] = {}
        self._key_of: dict[str, tuple[str, str, int]] = {}

    def update(self, node: SimNode) -> None:
        """Record that ``node``'s free capacity, eligibility or taints may have changed."""
        node.stamp += 1
        key = (node.pool, node.zone, taint_class(node))
        old = self._key_of.get(node.name)
        if old is not None and old != key:
            self._members[old].discard(node)
        members = self._members.setdefault(key, set())
        heap = self._heaps.setdefault(key, [])
        if node.removed:
            members.discard(node)
            self._key_of.pop(node.name, None)
            return
        self._key_of[node.name] = key
        members.add(node)
        if self._eligible(node):
            heapq.heappush(heap, (-node.free_cpu, node.seq, node.stamp, node))
            if len(heap) > 4 * len(members) + 64:
                self._rebuild(key)

    def _rebuild(self, key) -> None:
        heap = [(-n.free_cpu, n.seq, n.stamp, n) for n in self._members[key] if self._eligible(n)]
        heapq.heapify(heap)
        self._heaps[key] = heap

    def zones(self, pools) -> list[str]:
        return sorted({z for (p, z, _) in self._members if p in pools})

    def best_fit(self, pool: str, zone: str, pod: SimPod, cls: int = PREFERRED) -> SimNode | None:
        """The eligible node with the most free CPU in (pool, zone, class) that fits ``pod``."""
        heap = self._heaps.get((pool, zone, cls))
        if not heap:
            return None
        popped = []
        found = None
        need_cpu = pod.workload.spec.requests.cpu_m
        while heap:
            entry = heapq.heappop(heap)
            _, _, stamp, node = entry
            if stamp != node.stamp or node.removed or not self._eligible(node):
                continue
            popped.append(entry)
            if node.fits(pod):
                found = node
                break
            if node.free_cpu < need_cpu:
                break  # every other node has less free CPU
        for entry in popped:
            heapq.heappush(heap, entry)
        return found
