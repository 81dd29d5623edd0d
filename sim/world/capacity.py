"""Index of nodes by free CPU, per pool, zone and set of taints, so placing a pod never scans every
node.

Each group (pool, zone, taints) keeps a max-heap of (free CPU, node) entries of its eligible
nodes, and counts its registered nodes (the topology domains a spread constraint sees, eligible
or not). Nodes of a group share their labels but for their hostname, and their taints, so the
scheduler decides a group's fit once per pod and looks into its heap only for the best node. An
entry goes stale when its node's capacity, eligibility or group changes (the node's ``stamp``
moves on); stale entries are dropped when they surface (or replaced where they stand, when a node's old
entry is the best: the node that just took a pod), and a heap is rebuilt once stale entries dominate
it. Only valid entries are ever answered, in the order of their (free CPU, node) keys, so when a stale
one goes does not change an answer.
"""

from __future__ import annotations

import heapq

from sim.world.entities import SimNode, SimPod

Group = tuple  # (pool, zone, taints)
# A heap entry is (rank, stamp, node): the rank orders by most free CPU, then by the order nodes were made
# in (free CPU times SEQS, less the node's sequence number: one integer, unique, so a comparison never
# looks further), which is (-free CPU, seq) as a pair would order them while seq < SEQS.
SEQS = 1 << 40


def group_of(node: SimNode) -> Group:
    return (node.pool, node.zone, node.taints)


class CapacityIndex:
    def __init__(self, eligible, registered):
        self._eligible = eligible  # SimNode -> bool
        self._registered = registered  # SimNode -> bool: it has a Node object
        self._heaps: dict[Group, list] = {}
        self._members: dict[Group, set[SimNode]] = {}
        self._group_of: dict[str, Group] = {}
        self._by_pool: dict[str, dict[Group, None]] = {}  # the groups of each pool, in order of appearance
        self.registered: dict[Group, int] = {}  # registered nodes per group
        self._counted: dict[str, Group] = {}  # node -> the group it is counted registered in
        self.shape = 0  # bumps whenever groups() would answer differently (a group gains its first node, or
        # loses its last)

    def update(self, node: SimNode) -> None:
        """Record that ``node``'s free capacity, eligibility, registration or taints may have changed."""
        node.stamp += 1
        key = group_of(node)
        old = self._group_of.get(node.name)
        if old is not None and old != key:
            self._leave(old, node)
        self._count(node, None if node.removed or not self._registered(node) else key)
        if node.removed:
            if old is not None:
                self._leave(old, node)
            self._group_of.pop(node.name, None)
            return
        members = self._members.get(key)
        if members is None:
            members = self._members[key] = set()
            self._heaps[key] = []
            self._by_pool.setdefault(node.pool, {})[key] = None
        heap = self._heaps[key]
        self._group_of[node.name] = key
        if not members:
            self.shape += 1  # a group has nodes again (or for the first time): groups() changes
        members.add(node)
        if self._eligible(node):
            self._enter(key, heap, node)

    def resized(self, node: SimNode) -> None:
        """Record that only ``node``'s free capacity changed (a pod came to it or left it): its group and
        registration are as at its last ``update`` (the world's binds and releases), so only its entry moves."""
        node.stamp += 1
        if self._eligible(node):
            key = self._group_of[node.name]
            self._enter(key, self._heaps[key], node)

    def _enter(self, key: Group, heap: list, node: SimNode) -> None:
        """Push ``node``'s new entry (its stamp moved on: any older one is stale)."""
        entry = (node.seq - (node.cpu - node.used_cpu) * SEQS, node.stamp, node)  # (free CPU: SimNode.free_cpu)
        if heap and heap[0][2] is node:  # its old entry was the best (it just took a pod):
            heapq.heapreplace(heap, entry)  # replaced where it stands, one sift instead of a push and a pop
        else:
            heapq.heappush(heap, entry)
        if len(heap) > 4 * len(self._members[key]) + 64:
            self._rebuild(key)

    def _leave(self, key: Group, node: SimNode) -> None:
        members = self._members[key]
        if node in members:
            members.discard(node)
            if not members:
                self.shape += 1  # a group has no nodes left: groups() changes

    def _count(self, node: SimNode, key: Group | None) -> None:
        old = self._counted.get(node.name)
        if old == key:
            return
        if old is not None:
            self.registered[old] -= 1
            del self._counted[node.name]
        if key is not None:
            self.registered[key] = self.registered.get(key, 0) + 1
            self._counted[node.name] = key

    def _rebuild(self, key) -> None:
        heap = [(n.seq - n.free_cpu * SEQS, n.stamp, n) for n in self._members[key] if self._eligible(n)]
        heapq.heapify(heap)
        self._heaps[key] = heap

    def groups(self, pools) -> list[Group]:
        """Every group of ``pools`` that has nodes, in pool order, then in order of appearance."""
        return [g for p in pools for g in self._by_pool.get(p, ()) if self._members[g]]

    def zones(self, pools) -> list[str]:
        return sorted({g[1] for g in self.groups(pools)})

    def counted_in(self, name: str) -> Group | None:
        """The group a registered node is counted in (None: not registered)."""
        return self._counted.get(name)

    def members(self, group: Group) -> set[SimNode]:
        return self._members.get(group, set())

    def best_fit(self, group: Group, pod: SimPod, accept=None, score=None, look: int = 1) -> SimNode | None:
        """The eligible node of ``group`` with the most free CPU that fits ``pod`` (and that ``accept``
        takes). With ``score``, the best by (score, free CPU) of the first ``look`` nodes that fit."""
        heap = self._heaps.get(group)
        if not heap:
            return None
        need_cpu = pod.workload.spec.requests.cpu_m
        while heap and look == 1:  # the best entry, if it is one to take, stays where it is (no pop and push back)
            _, stamp, node = heap[0]
            if stamp != node.stamp or node.removed or not self._eligible(node):
                heapq.heappop(heap)  # stale: dropped, as below
                continue
            if node.cpu - node.used_cpu < need_cpu:  # (its free CPU)
                return None
            if node.fits(pod) and (accept is None or accept(node)):
                return node
            break  # not this one: look further down, below
        popped = []
        found: list[SimNode] = []
        while heap:
            entry = heapq.heappop(heap)
            _, stamp, node = entry
            if stamp != node.stamp or node.removed or not self._eligible(node):
                continue
            popped.append(entry)
            if node.free_cpu < need_cpu:
                break  # every other node has less free CPU
            if node.fits(pod) and (accept is None or accept(node)):
                found.append(node)
                if len(found) >= look:
                    break
        for entry in popped:
            heapq.heappush(heap, entry)
        if not found:
            return None
        if score is None or len(found) == 1:
            return found[0]
        return max(found, key=lambda n: (score(n), n.free_cpu, -n.seq))
