"""Karpenter's disruption rules as data and pure functions (kubernetes-sigs/karpenter
pkg/apis/v1/nodepool.go, pkg/controllers/disruption/helpers.go, pkg/controllers/state/statenode.go;
karpenter.sh/docs/concepts/disruption).

A NodePool's disruption budgets cap how many of its nodes may be disrupting at once. Each
budget gives ``nodes`` (a count, or a percent of the pool's nodes rounded up, as Kubernetes
rounds a PDB's maxUnavailable), may apply only to some ``reasons`` (Drifted, Empty,
Underutilized), and may be active only for ``duration`` after each hit of a cron
``schedule`` in UTC. The most restrictive active budget that applies to a reason wins; a
pool without budgets has one of 10%. The pool's nodes are those initialized; a node that is
NotReady or already marked for disruption uses up the budget.

A node is not disrupted voluntarily while it, or a running pod on it, carries
``karpenter.sh/do-not-disrupt: "true"``; with a ``terminationGracePeriod`` on the node, drift
disrupts it anyway, and the drain gives up waiting for budgets and for such pods when the
grace period ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.quantity import IntOrPercent
from models.schedule import Window

DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
DISRUPTED_TAINT = "karpenter.sh/disrupted"  # NoSchedule, on a node Karpenter is about to disrupt
DRIFTED, EMPTY, UNDERUTILIZED = "Drifted", "Empty", "Underutilized"
REASONS = (DRIFTED, EMPTY, UNDERUTILIZED)
UNBOUNDED = 2**31 - 1  # Karpenter's MaxInt32: no active budget limits this reason


@dataclass(frozen=True)
class Budget:
    nodes: IntOrPercent
    window: Window | None = None  # active only while the window is open
    reasons: tuple[str, ...] = ()  # empty: every reason

    def allowed(self, pool_nodes: int, now: float) -> int:
        """How many nodes this budget lets be disrupting at once now (``UNBOUNDED`` while inactive)."""
        if self.window is not None and not self.window.is_open(now):
            return UNBOUNDED
        return self.nodes.scaled(pool_nodes, round_up=True)

    def applies_to(self, reason: str) -> bool:
        return not self.reasons or reason in self.reasons

    def __str__(self) -> str:
        out = f"nodes {self.nodes}"
        if self.window is not None:
            out += f" during {self.window}"
        if self.reasons:
            out += f" for {', '.join(self.reasons)}"
        return out

    def to_json(self) -> dict:
        out: dict = {"nodes": self.nodes.to_json()}
        if self.window is not None:
            out["schedule"] = str(self.window.schedule)
            out["duration"] = self.window.duration_s
        if self.reasons:
            out["reasons"] = list(self.reasons)
        return out


DEFAULT_BUDGETS: tuple[Budget, ...] = (Budget(IntOrPercent(10, percent=True)),)


def allowed_disruptions(budgets: tuple[Budget, ...], pool_nodes: int, now: float, reason: str) -> int:
    """The most restrictive active budget for ``reason`` (GetAllowedDisruptionsByReason)."""
    return min((b.allowed(pool_nodes, now) for b in budgets or DEFAULT_BUDGETS if b.applies_to(reason)),
               default=UNBOUNDED)


def budget_left(budgets: tuple[Budget, ...], pool_nodes: int, disrupting: int, now: float, reason: str) -> int:
    """How many more nodes may start disrupting now: the allowed number less those already disrupting
    (NotReady or marked), never below 0 (BuildDisruptionBudgetMapping)."""
    return max(0, allowed_disruptions(budgets, pool_nodes, now, reason) - disrupting)


def always_allowed(budgets: tuple[Budget, ...], pool_nodes: int, reason: str) -> int:
    """The bound that holds at every time: the most restrictive budget without a schedule (the plan's
    batch, which the safety policies check)."""
    return min((b.nodes.scaled(pool_nodes, round_up=True) for b in budgets or DEFAULT_BUDGETS
                if b.window is None and b.applies_to(reason)), default=pool_nodes)
