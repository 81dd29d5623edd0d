"""The kube-scheduler: places pending pods on Ready, schedulable nodes with room and the labels,
taints, neighbours and volume zone they need.

It runs only while the API is up and a scheduler leader exists; each pass takes the pending
pods by priority (the PrioritySort queue; creation order among equals). For a pod it asks
the predicates of ``models.scheduling`` about the node groups the capacity index returns
(pool, zone, taints: nodes of a group share every label but their hostname): the
TaintToleration, NodeAffinity, InterPodAffinity, PodTopologySpread and VolumeZone filters per
group, the hostname-keyed rules per node. It then orders the groups that fit as midair's
simplification of the scheduler's weighted scores: fewest untolerated PreferNoSchedule taints
first (TaintToleration's weight, 3, outweighs the others in practice), then the preferred node
affinity and pod affinity weights, then spreading (the pod's own zone spread constraints, or,
without any, the default: fewest of its workload's pods in the zone), and takes the node with
the most free CPU (LeastAllocated) of the best group. A pod that fits nowhere may preempt
lower-priority pods (``sim.world.preemption``). A pod whose local volume lives on a node may
only go there; one whose zonal volume lives in a zone, only there.
"""

from __future__ import annotations

from collections import deque

from models.constraints import HOSTNAME, ZONE
from models.scheduling import avoided, untolerated
from sim.world.entities import PENDING, SimNode, SimPod
from sim.world.passes import Kick, run_passes
from sim.world.placement import (
    Counts,
    Spread,
    domain_fits,
    domain_problem,
    included_groups,
    node_fits,
    node_problem,
    preference,
)

LOOK = 8  # fitting nodes compared when a pod scores nodes one by one (preferred hostname-keyed rules)


class Scheduler:
    def __init__(self, world):
        self.world = world
        self.queue: deque[SimPod] = deque()
        self.wake = Kick(world.env)
        self.prioritized = False  # does any workload have a priority? (then passes sort by it)
        self._plain: dict[tuple, tuple] = {}  # (pools, tolerations) -> (index shape, groups by zone)

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
        world = self.world
        waiting: deque[SimPod] = deque()
        pods = [p for p in self.queue if p.state == PENDING and p.node is None]
        if self.prioritized:
            pods.sort(key=lambda p: (-p.workload.priority, p.uid))
        self.queue = deque()
        for pod in pods:
            if pod.state != PENDING or pod.node is not None:
                continue  # a preemption of this pass took it
            node = self.place(pod)
            if node is None:
                world.preemption.preempt_for(pod)
                waiting.append(pod)
                self.unplaced(pod)
            else:
                world.pods.bind(pod, node)
        arrived, self.queue = self.queue, waiting
        self.queue.extend(arrived)
        world.rec.pending(world.env.now, len(self.queue))

    # -- Pending for lack of a node (unschedulable_pod_s) ---------------------------------------
    def unplaced(self, pod: SimPod) -> None:
        if pod.unplaced_since is None:
            world = self.world
            pod.unplaced_since = world.env.now
            world.rec.unschedulable(world.env.now, pod.workload.key, 1)
            if pod.pinned is None:  # a pinned pod's own event says why (volume node affinity conflict)
                world.rec.event(world.env.now, f"pod {pod.name} is unschedulable: {self.why_unplaced(pod)}")

    def placed(self, pod: SimPod) -> None:
        """``pod`` is bound or gone: it no longer waits for a node."""
        pod.nominated = None
        if pod.unplaced_since is not None:
            pod.unplaced_since = None
            self.world.rec.unschedulable(self.world.env.now, pod.workload.key, -1)

    # -- placing one pod -----------------------------------------------------------------------
    def place(self, pod: SimPod, finished: bool = False) -> SimNode | None:
        """The node ``pod`` goes to, or None if none fits (a finished pod only needs a node to sit on)."""
        world = self.world
        tolerations = pod.workload.spec.scheduling.tolerations
        if pod.pinned is not None:
            node = world.nodes.get(pod.pinned)
            ok = node is not None and world.eligible(node) and (finished or node.fits(pod)) \
                and untolerated(node.taints, tolerations) is None
            return node if ok else None
        if pod.workload.compiled is None:
            return self._place_plain(pod, tolerations)
        return self._place_constrained(pod)

    def why_unplaced(self, pod: SimPod) -> str:
        """Why no node takes ``pod``, counted per reason as kube-scheduler's FailedScheduling event words it
        ("0/6 nodes are available: 2 node(s) ..."). It looks at every node of the pod's pools: it runs once per
        pod, when the pod first fails."""
        world = self.world
        w = pod.workload
        c = w.compiled
        pools = c.pools if c else ((w.spec.pool,) if w.spec.pool else world.pool_names)
        groups = world.index.groups(pools)
        tolerations = w.spec.scheduling.tolerations
        counts = Counts(world.nodes)
        spreads = [] if c is None else [
            Spread(con, picked, me, included_groups(c, groups, world.pool_labels, con), world.index, counts)
            for con, picked, me in c.spread if con.when_unsatisfiable == "DoNotSchedule"]
        zone = world.volumes.zone_of(pod) if c is not None and c.zonal else None
        reasons: dict[str, int] = {}
        total = 0
        for g in groups:
            members = sorted((n for n in world.index.members(g) if not n.removed), key=lambda n: n.seq)
            total += len(members)
            taint = untolerated(g[2], tolerations)
            if taint is not None:
                why = f"had untolerated taint {{{taint.key}: {taint.value}}}" if taint.value else \
                    f"had untolerated taint {{{taint.key}}}"
            elif c is not None and not c.static(g, world.pool_labels(g[0]))[0]:
                why = "didn't match Pod's node affinity/selector"
            elif zone is not None and g[1] != zone:
                why = "had volume node affinity conflict"
            else:
                why = domain_problem(c, c.static(g, world.pool_labels(g[0]))[3], counts, spreads) if c else None
            if why is not None:
                reasons[why] = reasons.get(why, 0) + len(members)
                continue
            for n in members:
                if not world.eligible(n):
                    why = "were unschedulable (cordoned, NotReady or going away)"
                elif not n.fits(pod):
                    why = "had too little free cpu, memory or pod slots"
                else:
                    why = (node_problem(c, n, counts, spreads) if c is not None else None) or "were taken"
                reasons[why] = reasons.get(why, 0) + 1
        parts = ", ".join(f"{k} node(s) {why}" for why, k in sorted(reasons.items(), key=lambda kv: (kv[1], kv[0])))
        return f"0/{total} nodes are available: {parts}"

    def _plain_groups(self, pools, tolerations) -> dict[str, list]:
        """The node groups of ``pools`` a pod with ``tolerations`` may go to, by zone, each with whether it
        carries a PreferNoSchedule taint the pod does not tolerate; kept until the index's groups change."""
        index = self.world.index
        key = (pools, tolerations)
        kept = self._plain.get(key)
        if kept is not None and kept[0] == index.shape:
            return kept[1]
        by_zone: dict[str, list] = {}
        for g in index.groups(pools):
            if untolerated(g[2], tolerations) is None:
                by_zone.setdefault(g[1], []).append((1 if avoided(g[2], tolerations) else 0, g))
        self._plain[key] = (index.shape, by_zone)
        return by_zone

    def _place_plain(self, pod: SimPod, tolerations) -> SimNode | None:
        """A pod with no constraint but tolerations: zones with fewest of its workload's pods first."""
        world = self.world
        spec = pod.workload.spec
        pools = (spec.pool,) if spec.pool else world.pool_names
        by_zone = self._plain_groups(pools, tolerations)
        counts = pod.workload.zone_counts
        zones = []
        for z in by_zone:
            zones.append((counts.get(z, 0), z))
        zones.sort()  # fewest of its pods first, then by name
        for cls in (0, 1):
            for _, zone in zones:
                best = None
                for g_cls, g in by_zone[zone]:
                    if g_cls != cls:
                        continue
                    node = world.index.best_fit(g, pod)
                    if node is not None and (best is None or node.free_cpu > best.free_cpu
                                             or node.pool == best.pool and node.free_cpu == best.free_cpu
                                             and node.seq < best.seq):
                        best = node
                if best is not None:
                    return best
        return None

    def _place_constrained(self, pod: SimPod) -> SimNode | None:
        world = self.world
        w = pod.workload
        c = w.compiled
        groups = world.index.groups(c.pools)
        labels_of = world.pool_labels
        counts = Counts(world.nodes)
        spreads = [Spread(con, picked, self_match, included_groups(c, groups, labels_of, con), world.index, counts)
                   for con, picked, self_match in c.spread if con.when_unsatisfiable == "DoNotSchedule"]
        volume_zone = world.volumes.zone_of(pod) if c.zonal else None
        zone_spread = [(con, picked) for con, picked, _ in c.spread if con.topology_key == ZONE]

        def spread_order(zone: str) -> int:
            if zone_spread:
                return sum(counts.domain(picked, ZONE, zone, True) for _, picked in zone_spread)
            return w.zone_counts.get(zone, 0)

        candidates = []
        for i, g in enumerate(groups):
            ok, avoid, pref, labels = c.static(g, labels_of(g[0]))
            if not ok or (volume_zone is not None and g[1] != volume_zone):
                continue
            if not domain_fits(c, labels, counts, spreads):
                continue
            dyn = preference(c, lambda k: k != HOSTNAME, labels.get, counts)
            candidates.append(((1 if avoid else 0, -(pref + dyn), spread_order(g[1]), g[1]), i, g))
        accept = (lambda n: node_fits(c, n, counts, spreads)) if c.node_rules else None
        score = (lambda n: preference(c, lambda k: k == HOSTNAME, lambda k: n.name, counts)) if c.node_scored else None
        if pod.nominated is not None:  # a preemption freed this node for it: look there first
            node = world.nodes.get(pod.nominated)
            if node is not None and world.eligible(node) and node.fits(pod) and any(
                    g == (node.pool, node.zone, node.taints) for _, _, g in candidates) and (accept is None or accept(node)):
                return node
        candidates.sort()
        k = 0
        while k < len(candidates):
            key = candidates[k][0]
            best = best_score = None
            while k < len(candidates) and candidates[k][0] == key:
                node = world.index.best_fit(candidates[k][2], pod, accept, score, LOOK if score else 1)
                k += 1
                if node is None:
                    continue
                mine = (score(node) if score else 0, node.free_cpu)
                if best is None or mine > best_score:
                    best, best_score = node, mine
            if best is not None:
                return best
        return None
