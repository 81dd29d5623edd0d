"""The kube-scheduler: places pending pods on Ready, schedulable nodes with room.

It runs only while the API is up and a scheduler leader exists. A node with a NoSchedule
taint takes no new pod (midair's workloads tolerate none yet); nodes with a
PreferNoSchedule taint are used only when no other node fits (the TaintToleration score,
weight 3, outweighs the others in practice). Among the rest, pods of a workload are spread
over zones (fewest of the workload's pods first), then the node with the most free CPU is
chosen (the default LeastAllocated scoring, simplified). A pod whose local volume lives on
a node may only go there.
"""

from __future__ import annotations

from collections import deque

from sim.world.capacity import AVOIDED, PREFERRED
from sim.world.entities import PENDING, SimNode, SimPod
from sim.world.passes import Kick, run_passes


class Scheduler:
    def __init__(self, world):
        self.world = world
        self.queue: deque[SimPod] = deque()
        self.wake = Kick(world.env)

    def enqueue(self, pod: SimPod) -> None:
        self.queue.append(pod)
        self.kick()

    def kick(self) -> None:
        self.wake.kick()

    @property
    def pending(self) -> int:
        return sum(1 for p in self.queue if p.state == PENDING and p.node is None)

    def run(self):
        cp = self.world.cp
        return run_passes(self.world.env, self.wake, lambda: cp.scheduler_available, cp.when_scheduler_available,
                          self.schedule_pending)

    def schedule_pending(self) -> None:
        waiting: deque[SimPod] = deque()
        while self.queue:
            pod = self.queue.popleft()
            if pod.state != PENDING or pod.node is not None:
                continue
            node = self.place(pod)
            if node is None:
                waiting.append(pod)
            else:
                self.world.pods.bind(pod, node)
        self.queue = waiting
        self.world.rec.pending(self.world.env.now, len(waiting))

    def place(self, pod: SimPod, finished: bool = False) -> SimNode | None:
        """The node ``pod`` goes to, or None if none fits (a finished pod only needs a node to sit on)."""
        world = self.world
        if pod.pinned is not None:
            node = world.nodes.get(pod.pinned)
            ok = node is not None and world.eligible(node) and (finished or node.fits(pod))
            return node if ok else None
        spec = pod.workload.spec
        pools = (spec.pool,) if spec.pool else world.pool_names
        counts = pod.workload.zone_counts
        zones = sorted(world.index.zones(pools), key=lambda z: (counts.get(z, 0), z))
        for cls in (PREFERRED, AVOIDED):
            for zone in zones:
                best = None
                for pool in pools:
                    node = world.index.best_fit(pool, zone, pod, cls)
                    if node is not None and (best is None or node.free_cpu > best.free_cpu):
                        best = node
                if best is not None:
                    return best
        return None
