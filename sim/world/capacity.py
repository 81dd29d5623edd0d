"""Index of schedulable nodes by free CPU, per pool and zone, so placing a pod never scans every node.

Each (pool, zone) keeps a max-heap of (free CPU, node) entries. An entry goes stale when
its node's capacity or eligibility changes (the node's ``stamp`` moves on); stale entries
are dropped when they surface, and a heap is rebuilt once stale entries dominate it.
"""

from __future__ import annotations

import heapq

from sim.world.entities import SimNode, SimPod


class CapacityIndex:
    def __init__(self, eligible):
        self._eligible = eligible  # SimNode -> bool
        self._heaps: dict[tuple[str, str], list] = {}
        self._members: dict[tuple[str, str], set[SimNode]] = {}

    def update(self, node: SimNode) -> None:
        """Record that ``node``'s free capacity or eligibility may have changed."""
        node.stamp += 1
        key = (node.pool, node.zone)
        members = self._members.setdefault(key, set())
        heap = self._heaps.setdefault(key, [])
        if node.removed:
            members.discard(node)
            return
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
        return sorted({z for (p, z) in self._members if p in pools})

    def best_fit(self, pool: str, zone: str, pod: SimPod) -> SimNode | None:
        """The eligible node with the most free CPU in (pool, zone) that fits ``pod``."""
        heap = self._heaps.get((pool, zone))
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
