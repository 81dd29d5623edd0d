"""Preemption: a pending pod that fits nowhere takes the room of lower-priority pods.

As the scheduler's DefaultPreemption plugin (kubernetes pkg/scheduler/framework/plugins/
defaultpreemption, pkg/scheduler/framework/preemption): only a pod whose preemptionPolicy is
PreemptLowerPriority preempts, and not while pods it already preempted are still terminating on
its nominated node. Candidate nodes are those that pass the pod's filters where lower-priority
pods run; on each, ``models.scheduling.select_victims`` picks the fewest pods whose removal
makes room (budgets honoured as far as possible), and ``preemption_rank`` picks the node. The
victims are deleted gracefully; the pod is nominated to the node and placed there once they are
gone.

Simplifications (docs/fidelity.md): victims are chosen to free resources; pod (anti-)affinity and
spread are judged with the victims still in place. At most max(100, 10% of the nodes) candidate
nodes are examined per attempt, as the plugin's defaults examine; an attempt that found no
candidate is not repeated until a pod is bound or gone somewhere.
"""

from __future__ import annotations

from models.constraints import PREEMPT_NEVER
from models.scheduling import Resident, preemption_rank, select_victims, untolerated
from models.state import Resources
from sim.world.budgets import budget_of, losing_one_breaches
from sim.world.entities import GONE, TERMINATING, SimNode, SimPod
from sim.world.pods import FINISHED
from sim.world.placement import Counts, domain_fits, node_fits

MIN_CANDIDATES = 100
CANDIDATE_SHARE = 0.10


class Preemption:
    def __init__(self, world):
        self.world = world
        self.hosts: dict[int, dict[str, int]] = {}  # priority -> node -> pods of that priority on it
        self.changes = 0  # bumps whenever a pod is bound or gone
        self._tried: dict[int, int] = {}  # pod uid -> ``changes`` at its last fruitless attempt

    def bound(self, pod: SimPod, node: SimNode, delta: int) -> None:
        self.changes += 1
        per = self.hosts.setdefault(pod.workload.priority, {})
        left = per.get(node.name, 0) + delta
        if left:
            per[node.name] = left
        else:
            per.pop(node.name, None)

    def preempt_for(self, pod: SimPod) -> bool:
        """Preempt for ``pod`` if it may and something can make room; True if it now waits for victims."""
        world = self.world
        w = pod.workload
        priority = w.priority
        if w.spec.scheduling.preemption_policy == PREEMPT_NEVER or w.kind == "DaemonSet" or pod.pinned is not None:
            return False
        if pod.nominated is not None:
            node = world.nodes.get(pod.nominated)
            if node is not None and any(p.state == TERMINATING and p.workload.priority < priority for p in node.pods):
                return True  # its victims are still going (PodEligibleToPreemptOthers)
        if self._tried.get(pod.uid) == self.changes:
            return False
        best = None
        examined = 0
        cap = max(MIN_CANDIDATES, int(CANDIDATE_SHARE * len(world.nodes)))
        seen: set[str] = set()
        for low in sorted(p for p in self.hosts if p < priority):
            for name in self.hosts[low]:
                if name in seen:
                    continue
                seen.add(name)
                node = world.nodes.get(name)
                if node is None or not self._may_land(pod, node):
                    continue
                examined += 1
                found = self._victims(pod, node)
                if found is not None and (best is None or found[0] < best[0]):
                    best = (found[0], node, found[1])
                if examined >= cap:
                    break
            if examined >= cap:
                break
        if best is None:
            self._tried[pod.uid] = self.changes
            return False
        _, node, victims = best
        for victim in victims:
            self._evict(victim, pod, node)
        pod.nominated = node.name
        return True

    def _may_land(self, pod: SimPod, node: SimNode) -> bool:
        """Does ``node`` pass the pod's filters, resources aside?"""
        world = self.world
        if not world.eligible(node):
            return False
        c = pod.workload.compiled
        if c is None:
            spec = pod.workload.spec
            return (spec.pool in (None, node.pool)
                    and untolerated(node.taints, spec.scheduling.tolerations) is None)
        if node.pool not in c.pools:
            return False
        ok, _, _, labels = c.static((node.pool, node.zone, node.taints), world.pool_labels(node.pool))
        zone = world.volumes.zone_of(pod) if c.zonal else None
        if not ok or (zone is not None and node.zone != zone):
            return False
        counts = Counts(world.nodes)
        return domain_fits(c, labels, counts, []) and node_fits(c, node, counts, [])

    def _victims(self, pod: SimPod, node: SimNode):
        residents = []
        allowed: dict[int, int] = {}
        running = sorted((p for p in node.pods if p.state not in (TERMINATING, GONE, FINISHED)),
                         key=lambda p: (-p.workload.priority, p.started_at, p.uid))
        for p in running:
            b = budget_of(p.workload)
            ok = True
            if b is not None:
                left = allowed.setdefault(id(b), b.allowed())
                ok = left > 0
                allowed[id(b)] = left - 1
            r = p.workload.spec.requests
            residents.append(Resident(p, p.workload.priority, p.started_at, Resources(r.cpu_m, r.memory, 1), ok))
        free = Resources(node.cpu - node.used_cpu, node.memory - node.used_memory, node.max_pods - node.used_pods)
        need = pod.workload.spec.requests
        chosen = select_victims(Resources(need.cpu_m, need.memory, 1), free, residents, pod.workload.priority)
        if chosen is None or not chosen[0]:
            return None
        victims, broken = chosen
        return preemption_rank(victims, broken), [v.key for v in victims]

    def _evict(self, victim: SimPod, by: SimPod, node: SimNode) -> None:
        world = self.world
        w = victim.workload
        if victim.ready and losing_one_breaches(w):
            world.rec.count("budget_breaches_involuntary", workload=w.key)  # budgets are honoured as far as possible
        world.rec.count("pods_preempted", workload=w.key)
        world.rec.event(world.env.now, f"pod {victim.name} (priority {w.priority}) preempted on {node.name} for "
                                       f"{by.name} (priority {by.workload.priority})")
        world.pods.terminate(victim)
