"""What every upgrade run must keep, whatever the faults: pure checks over what a run did.

Four invariants, each a ``Breach`` with the invariant's id when broken:

- ``budget``: no voluntary disruption takes a workload below its budget (``pdb_violations``
  is 0), unless the strategy was told to force its way (``forces_past_budgets``: ``undrainable:
  force``, ``drain.disableEviction``, Karpenter's ``terminationGracePeriod``);
- ``skew``: the cluster never breaks the version-skew policy, and the strategy never asks
  for an action the skew policy has to refuse;
- ``repeat``: no action is applied twice, that is, submitted when the cluster the decision
  looked at already shows its effect (``repeated``): an in-place upgrade of a node that
  already runs the version or is being upgraded, a delete of a node already gone or being
  deleted, an upgrade of a control-plane instance or an add-on already at the version or
  under way, or the same one of these twice in one decision. Retrying what failed is not a
  repeat (the failure shows in the view); idempotent actions (cordon, uncordon, drain) and
  new nodes (two in one decision are two nodes) are not judged;
- ``ending``: the run ends completed, with every node it took out of service back in
  service, or halted with a reason; a strategy that declares itself done with work left
  has done neither.

The simulator gathers the facts (``sim.testing.watch``); the judgement is here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from models.actions import Action, DeleteNode, UpgradeAddon, UpgradeControlPlaneInstance, UpgradeNodeInPlace, action_key
from models.state import DELETING, IDLE, UPGRADING, ClusterState

INVARIANTS = ("budget", "skew", "repeat", "ending")


@dataclass(frozen=True)
class Breach:
    """An invariant (or an expectation, or an error) broken in a run, with why and when; ``times``
    and ``last`` when the same breach recurred."""

    invariant: str
    reason: str
    at: float | None = None
    times: int = 1
    last: float | None = None

    def describe(self) -> str:
        when = f" at {self.at:.1f}s" if self.at is not None else ""
        if self.times > 1:
            when += f" ({self.times} times" + (f", the last at {self.last:.1f}s)" if self.last is not None else ")")
        return f"{self.invariant}{when}: {self.reason}"

    def to_json(self) -> dict:
        return {"invariant": self.invariant, "reason": self.reason, "at": self.at, "times": self.times,
                "last": self.last}


def merged(breaches: Sequence[Breach]) -> list[Breach]:
    """``breaches`` with each recurrence of the same invariant and reason folded into its first."""
    out: dict[tuple[str, str], Breach] = {}
    for b in breaches:
        first = out.get((b.invariant, b.reason))
        out[(b.invariant, b.reason)] = b if first is None else replace(first, times=first.times + b.times,
                                                                        last=b.last if b.last is not None else b.at)
    return list(out.values())


JUDGED = (UpgradeNodeInPlace, DeleteNode, UpgradeControlPlaneInstance, UpgradeAddon)  # what ``repeated`` looks at


def repeated(action: Action, view: ClusterState, earlier: Sequence[Action] = ()) -> str | None:
    """Why submitting ``action`` on ``view`` repeats work already done (``earlier``: the actions
    already submitted in the same decision), or None."""
    if not isinstance(action, JUDGED):
        return None
    key = action_key(action)
    if any(action_key(a) == key for a in earlier):
        return "the same action twice in one decision"
    if isinstance(action, UpgradeNodeInPlace) and action.version is not None:
        if not view.has_node(action.node):
            return None
        node = view.node(action.node)
        if node.phase == UPGRADING:
            return f"{node.name} is already being upgraded"
        if node.phase == IDLE and node.kubelet >= action.version:
            return f"{node.name} already runs kubelet {node.kubelet}"
    if isinstance(action, DeleteNode):
        if not view.has_node(action.node):
            return f"{action.node} is already gone"
        if view.node(action.node).phase == DELETING:
            return f"{action.node} is already being deleted"
    if isinstance(action, UpgradeControlPlaneInstance) and action.version is not None:
        inst = next((i for i in view.control_plane.instances if i.name == action.instance), None)
        if inst is not None and inst.phase == UPGRADING:
            return f"{inst.name} is already being upgraded"
        if inst is not None and inst.phase == IDLE and inst.version >= action.version:
            return f"{inst.name} already runs {inst.version}"
    if isinstance(action, UpgradeAddon) and action.version is not None:
        addon = view.addon(action.addon)
        if addon is not None and addon.phase == UPGRADING:
            return f"{addon.name} is already rolling out"
        if addon is not None and addon.phase == IDLE and addon.version >= action.version:
            return f"{addon.name} already runs {addon.version}"
    return None


def forces_past_budgets(params: Mapping[str, Any]) -> bool:
    """Was the strategy (its parsed knobs) told to delete pods past their budgets? ``undrainable: force``;
    ``drain.disableEviction`` (kubectl drain --disable-eviction deletes instead of evicting); a
    ``terminationGracePeriod`` (Karpenter drains past the budgets once it has run, by design)."""
    return (params.get("undrainable") == "force" or bool(getattr(params.get("drain"), "disable_eviction", False))
            or bool(params.get("terminationGracePeriod")))


def budget_breaches(pdb_violations: int, forced: bool) -> list[Breach]:
    if pdb_violations and not forced:
        return [Breach("budget", f"{pdb_violations} voluntary disruption(s) took a workload below its "
                                 "PodDisruptionBudget, and the strategy was not told to force (undrainable: force, "
                                 "drain.disableEviction or terminationGracePeriod)")]
    return []


def skew_breaches(violations: Sequence[tuple[float, str, str]],
                  refused: Sequence[tuple[float, str, str]]) -> list[Breach]:
    """``violations``: (time, rule, reason) the cluster went through; ``refused``: (time, action,
    the skew policy's reason) for each action it refused."""
    out = [Breach("skew", f"the cluster broke the version-skew policy ({rule}): {reason}", t)
           for t, rule, reason in violations]
    out += [Breach("skew", f"the strategy asked for {action}, which the version-skew policy refused: {reason}", t)
            for t, action, reason in refused]
    return out


def ending_breaches(completed: bool, halted: str | None, done_with_work_left: bool,
                    left_cordoned: Sequence[str], finished_at: float | None = None) -> list[Breach]:
    """``left_cordoned``: nodes unschedulable at the end that were not cordoned before the upgrade."""
    if completed:
        if left_cordoned:
            return [Breach("ending", f"the run completed but left {', '.join(left_cordoned)} cordoned; every node "
                                     "the upgrade took out of service must be back in service", finished_at)]
        return []
    if done_with_work_left:
        return [Breach("ending", f"the strategy declared itself done with work left ({halted})", finished_at)]
    if not halted or not halted.strip():
        return [Breach("ending", "the run neither completed nor halted with a reason", finished_at)]
    return []
