"""PodDisruptionBudgets in the world: each budget over the workloads whose pods it selects.

The arithmetic is the disruption controller's (kubernetes pkg/controller/disruption, in
``models.disruption`` and ``models.state.PDB``): the expected count is the matched pods for
an integer minAvailable, else the sum of the scales of the controllers of the matched pods
(bare pods add nothing; a DaemonSet's pods fail the sync, and the budget then allows no
disruption); current healthy is the matched pods that are Ready and not being deleted;
disruptions allowed is current healthy minus desired healthy, 0 when that or the expected
count is not positive. A pod that more than one budget selects can never be evicted (the
Eviction API answers HTTP 500).
"""

from __future__ import annotations

from models.disruption import NO_SCALE, SCALED, controller_of, counts_pods, scale_error
from models.state import PDB
from sim.world.entities import SimWorkload


class SimBudget:
    __slots__ = ("pdb", "key", "name", "members", "_counts_pods", "_scaled", "_scaleless", "_desired")

    def __init__(self, pdb: PDB, key: str, members: list[SimWorkload], name: str = ""):
        self.pdb = pdb
        self.key = key
        self.name = name or pdb.name  # its bare name, as the Eviction API's 429 names it (a workload's own: the workload's)
        self.members = members
        self._counts_pods = counts_pods(pdb)
        # the members whose scale counts, and those without a scale subresource that fail the sync while they
        # have pods (bare pods count for nothing: models.disruption)
        self._scaled = [m for m in members if controller_of(m.kind) == SCALED]
        self._scaleless = [] if self._counts_pods else [m for m in members if controller_of(m.kind) == NO_SCALE]
        self._desired: dict[int, int] = {}  # desired healthy by expected count (asked at every eviction)

    def sync_error(self) -> str | None:
        """Why the disruption controller cannot sync this budget now (a DaemonSet's pods under a scale form)."""
        for m in self._scaleless:
            if m.pods:
                return scale_error(m.kind)
        return None

    def failing(self) -> bool:
        """Does its sync fail now? (cheap for the budgets that cannot fail: asked at every eviction)"""
        return bool(self._scaleless) and self.sync_error() is not None

    def _expected(self) -> int:
        if self._counts_pods:
            if len(self.members) == 1:
                return len(self.members[0].pods)
            return sum(len(m.pods) for m in self.members)  # the pods not gone yet
        return sum(m.desired for m in self._scaled if m.pods)  # each controller found through a pod of its own

    def expected(self) -> int:
        return 0 if self.failing() else self._expected()

    def _desired_for(self, expected: int) -> int:
        d = self._desired.get(expected)
        if d is None:
            d = self._desired[expected] = self.pdb.desired_healthy(expected)
        return d

    def desired_healthy(self) -> int:
        return self.status()[1]

    def current_healthy(self) -> int:
        return self.status()[0]

    def allowed(self) -> int:
        return self.status()[2]

    def status(self) -> tuple[int, int, int]:
        """(current healthy, desired healthy, disruptions allowed), each worked out once (asked at every
        eviction). A budget whose sync fails has a never-synced budget's status: all 0 (failSafe)."""
        members = self.members
        if self.failing():
            return 0, 0, 0
        if len(members) == 1:
            m = members[0]
            if self._counts_pods:
                expected = len(m.pods)
            else:
                expected = m.desired if m.pods and self._scaled else 0
            current = m.ready
        else:
            expected = self._expected()
            current = sum(m.ready for m in members)
        desired = self._desired.get(expected)
        if desired is None:
            desired = self._desired_for(expected)
        return current, desired, 0 if expected <= 0 or current <= desired else current - desired

    def breached_by_losing_one(self) -> bool:
        """Would one more Ready pod going away take the budget below its desired healthy? (Never for a budget
        whose sync fails: it has no desired healthy to go below.)"""
        if self.failing():
            return False
        current, desired, _ = self.status()
        return current - 1 < desired

    def below(self) -> bool:
        """Current healthy below desired healthy (asked at every Ready change); for a budget whose sync fails,
        a member below its replicas, as if it had no budget."""
        if self.failing():
            return any(m.ready < m.desired for m in self.members)
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
