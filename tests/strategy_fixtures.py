"""Strategies that exist only to be caught: loaded by scenarios as ``tests.strategy_fixtures:NAME``."""

from models.actions import Cordon, UpgradeNodeInPlace
from models.progress import at_least
from models.strategies.base import Decision, Strategy
from models.strategies.params import INPLACE_PARAMS


class WorkersFirst(Strategy):
    """Deliberately wrong: upgrades every kubelet to the target before touching the control plane."""

    NAME = "workers-first"
    PARAMS = INPLACE_PARAMS

    def decide(self, view, plan, memo):
        memo = dict(memo)
        tried = set(memo.get("tried", ()))
        actions = []
        for node in view.nodes:
            if node.name in tried or at_least(node.kubelet, plan.target):
                continue
            if node.schedulable:
                actions.append(Cordon("workers first (wrong on purpose)", node.name))
            actions.append(UpgradeNodeInPlace("workers first (wrong on purpose)", node.name, plan.target))
            tried.add(node.name)
        memo["tried"] = sorted(tried)
        finished = all(at_least(n.kubelet, plan.target) and n.phase == "idle" for n in view.nodes)
        return Decision(tuple(actions), memo, done=not actions and finished)
