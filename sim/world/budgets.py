"""PodDisruptionBudgets in the world: each budget over the workloads whose pods it selects.

The arithmetic is the disruption controller's (kubernetes pkg/controller/disruption, in
``models.state.PDB``): the expected count is the matched pods for an integer
minAvailable, else the sum of the matched controllers' scales; current healthy is the
matched pods that are Ready and not being deleted; disruptions allowed is current
healthy minus desired healthy, at least 0. A pod that more than one budget selects can
never be evicted (the Eviction API answers HTTP 500).
"""

from __future__ import annotations

from models.state import PDB
from sim.world.entities import SimWorkload


class SimBudget:
    __slots__ = ("pdb", "key", "name", "members", "_counts_pods", "_desired")

    def __init__(self, pdb: PDB, key: str, members: list[SimWorkload], name: str = ""):
        self.pdb = pdb
        self.key = key
        self.name = name or pdb.name  # its bare name, as the Eviction API's 429 names it (a workload's own: the workload's)
        self.members = members
        self._counts_pods = pdb.min_available is not None and not pdb.min_available.percent
        self._desired: dict[int, int] = {}  # desired healthy by expected count (asked at every eviction)

    def expected(self) -> int:
        if len(self.members) == 1:
            m = self.members[0]
            return len(m.pods) if self._counts_pods else m.desired
        if self._counts_pods:
            return sum(len(m.pods) for m in self.members)  # the pods not gone yet
        return sum(m.desired for m in self.members)

    def _desired_for(self, expected: int) -> int:
        d = self._desired.get(expected)
        if d is None:
            d = self._desired[expected] = self.pdb.desired_healthy(expected)
        return d

    def desired_healthy(self) -> int:
        return self._desired_for(self.expected())

    def current_healthy(self) -> int:
        if len(self.members) == 1:
            return self.members[0].ready
        return sum(m.ready for m in self.members)

    def allowed(self) -> int:
        return self.status()[2]

    def status(self) -> tuple[int, int, int]:
        """(current healthy, desired healthy, disruptions allowed: PDB.disruptions_allowed), each worked out once
        (asked at every eviction: one member's counts are read here, as ``expected`` and ``current_healthy`` do)."""
        members = self.members
        if len(members) == 1:
            m = members[0]
            expected = len(m.pods) if self._counts_pods else m.desired
            current = m.ready
        else:
            expected = self.expected()
            current = self.current_healthy()
        desired = self._desired.get(expected)
        if desired is None:
            desired = self._desired_for(expected)
        return current, desired, 0 if expected <= 0 else max(0, current - desired)

    def breached_by_losing_one(self) -> bool:
        """Would one more Ready pod going away take the budget below its desired healthy?"""
        return self.current_healthy() - 1 < self.desired_healthy()

    def below(self) -> bool:
        """Current healthy below desired healthy (asked at every Ready change)."""
        current, desired, _ = self.status()
        return current < desired


def link_budgets(workloads: dict[str, SimWorkload], pdbs: tuple[PDB, ...]) -> list[SimBudget]:
    """Build the budgets: each workload's own ``pdb`` (unless it is one that selects), then every selecting one."""
    out = []
    for w in workloads.values():
        if w.spec.pdb is not None and w.spec.pdb.selector is None:
            out.append(SimBudget(w.spec.pdb, w.key, [w], w.spec.name))
    for pdb in pdbs:
        members = [w for w in workloads.values() if pdb.selects(w.spec)]
        out.append(SimBudget(pdb, f"{pdb.namespace}/{pdb.name}", members))
    for b in out:
        for w in b.members:
            w.budgets.append(b)
    for w in workloads.values():
        w.sharing = tuple(m for b in w.budgets for m in b.members if m is not w)
    return out


def budget_of(w: SimWorkload) -> SimBudget | None:
    """The one budget over ``w``'s pods (None without one, or with several: see ``models.drain.MULTIPLE_BUDGETS``)."""
    return w.budgets[0] if len(w.budgets) == 1 else None


def losing_one_breaches(w: SimWorkload) -> bool:
    """Would a Ready pod of ``w`` going away take one of its budgets below its desired healthy?"""
    return any(b.breached_by_losing_one() for b in w.budgets)


def degraded(w: SimWorkload) -> bool:
    """Ready below its budget's desired healthy (below its replicas when it has no budget)."""
    budgets = w.budgets
    if len(budgets) == 1:  # (most workloads: asked at every Ready change)
        return budgets[0].below()
    if budgets:
        return any(b.below() for b in budgets)
    return w.ready < w.desired
