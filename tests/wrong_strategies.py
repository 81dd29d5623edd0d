"""Three strategies that are wrong on purpose, each only when luck is bad, for ``midair fuzz``
to catch: loaded by scenarios as ``tests.wrong_strategies:NAME``.

- ``DrainsPastBudget``: rolling replacement that, once it has seen a node down, forces its
  drains (no budget asked) to hurry: under a node crash it evicts below a
  PodDisruptionBudget.
- ``ResumesAtWorkers``: in place, but a resumed operator (a fresh strategy object given a
  journal's memo) takes the control plane for done and upgrades kubelets first.
- ``NeverUncordons``: in place, but a node whose in-place upgrade failed once is never
  uncordoned after its retry succeeds.

And two that are wrong in fair weather, for the invariants' own tests: ``UpgradesTwice``
(upgrades each node in place a second time before uncordoning it) and ``QuitsEarly``
(declares itself done at once).
"""

from dataclasses import replace

from models.actions import Drain, Uncordon, UpgradeNodeInPlace
from models.state import IDLE, UPGRADE_FAILED
from models.strategies.base import Decision
from models.strategies.inplace import InPlace
from models.strategies.replace import Replace


class DrainsPastBudget(Replace):
    NAME = "drains-past-budget"

    def decide(self, view, plan, memo) -> Decision:
        if any(n.phase == IDLE and not n.ready for n in view.nodes):
            memo = {**memo, "hurry": True}  # a node went down: remember it
        return super().decide(view, plan, memo)

    def decide_workers(self, view, plan, phase, memo) -> Decision:
        decision = super().decide_workers(view, plan, phase, memo)
        if not memo.get("hurry"):
            return decision
        # wrong on purpose: once a node has gone down, stop waiting for budgets
        forced = tuple(replace(a, force=True, reason=f"{a.reason}; a node went down, so hurry (wrong on purpose)")
                       if isinstance(a, Drain) else a for a in decision.actions)
        return replace(decision, actions=forced)


class ResumesAtWorkers(InPlace):
    NAME = "resumes-at-workers"

    def __init__(self, **params):
        super().__init__(**params)
        self.decisions = 0

    def decide(self, view, plan, memo) -> Decision:
        self.decisions += 1
        resumed = bool(memo) and (self.decisions == 1 or memo.get("resumed"))
        if not resumed:
            return super().decide(view, plan, memo)
        # wrong on purpose: a resumed run assumes the control plane was finished before the crash
        memo = {**memo, "resumed": True}
        return self.decide_workers(view, plan, plan.phases[-1], memo)


class NeverUncordons(InPlace):
    NAME = "never-uncordons"

    def next_step(self, node, version, books, memo):
        failed = set(memo.get("failed_once", ()))
        if node.phase == UPGRADE_FAILED:
            memo["failed_once"] = sorted(failed | {node.name})
        step = super().next_step(node, version, books, memo)
        if node.name in failed and isinstance(step, list):
            return [a for a in step if not isinstance(a, Uncordon)]  # wrong on purpose: it stays cordoned
        return step


class UpgradesTwice(InPlace):
    NAME = "upgrades-twice"

    def next_step(self, node, version, books, memo):
        step = super().next_step(node, version, books, memo)
        again = set(memo.get("again", ()))
        if isinstance(step, list) and any(isinstance(a, Uncordon) for a in step) and node.name not in again:
            memo["again"] = sorted(again | {node.name})
            books.cordoned.add(node.name)
            return UpgradeNodeInPlace("once more, to be sure (wrong on purpose)", node.name, version)
        return step


class QuitsEarly(InPlace):
    NAME = "quits-early"

    def decide(self, view, plan, memo) -> Decision:
        return Decision(memo=dict(memo), done=True)
