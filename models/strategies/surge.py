"""``surge``: batches of surge nodes, as GKE's and AKS's surge upgrades run them.

Each batch adds up to maxSurge new nodes at the target; once they are Ready, up to
maxSurge + maxUnavailable old nodes are cordoned and drained together (never more
unavailable than maxUnavailable), then deleted; then the next batch. The pool never
runs more than maxSurge nodes above its size: its cost is the surge nodes' hours.
"""

from __future__ import annotations

from models.actions import Action, ProvisionNode
from models.plan import Phase, Plan
from models.progress import at_least
from models.state import DELETING, IDLE, PROVISION_FAILED, PROVISIONING, ClusterState
from models.strategies.base import Decision, halt
from models.strategies.params import SURGE_PARAMS
from models.strategies.replace import Replace
from models.strategies.workers import SKIP, BatchGate, drain, ordered, skipped_halt


class Surge(Replace):
    NAME = "surge"
    PARAMS = SURGE_PARAMS

    def decide_workers(self, view: ClusterState, plan: Plan, phase: Phase, memo: dict) -> Decision:
        if not view.api_available:
            return Decision(memo=memo, notes=("workers wait for the API",))
        version = phase.version
        removing = {n for n in memo.get("removing", ()) if view.has_node(n)}
        skipped = set(memo.get("skipped", ()))
        failures = dict(memo.get("provision_failures", {}))
        joined_before = dict(memo.get("joined", {}))
        gate = BatchGate(view, memo, self.params)
        for pool in view.pools:
            nodes = [n for n in ordered(view.nodes_in(pool.name), self.params["order"]) if n.phase != DELETING]
            old = [n for n in nodes if not at_least(n.kubelet, version) and n.name not in skipped]
            new = [n for n in nodes if at_least(n.kubelet, version)]
            wanted = pool.count - sum(1 for n in nodes if n.name in skipped)
            if not old and len(new) >= wanted and all(n.phase == IDLE and n.ready for n in new):
                continue
            actions: list[Action] = []
            halted = self._provision_failures(pool.name, new, failures, joined_before, memo, actions)
            if halted:
                return halted
            batch = plan.batch(pool.name)
            in_batch = [n for n in old if n.name in removing]
            for n in in_batch:
                step = self._removal_step(n, version, memo)
                if step == SKIP:
                    skipped.add(n.name)
                    removing.discard(n.name)
                    continue
                if isinstance(step, Decision):
                    return step
                if step is not None:
                    actions.append(step)
            live = [n for n in nodes if n.phase != PROVISION_FAILED]
            extra = len(live) - pool.count
            surge_nodes = min(batch.surge, len(old))
            deleting = any(n.phase == DELETING for n in view.nodes_in(pool.name))
            if not in_batch and not deleting:  # a batch ends when its old machines are gone
                # between batches: refill the pool, then bring the surge nodes up
                short = max(0, pool.count - len(live))
                want = short + max(0, surge_nodes - max(extra, 0))
                for _ in range(want if not any(n.phase == PROVISIONING for n in nodes) else 0):
                    actions.append(ProvisionNode(f"surge batch in pool {pool.name}: {surge_nodes} surge node(s) at "
                                                 f"{version} before draining old ones", pool.name, version))
                ready = all(n.phase == IDLE and n.ready for n in new) and not want
                allowed = gate.open(pool.name, not ready)
                if isinstance(allowed, str):
                    return halt(memo, allowed)
                if ready and allowed and old:
                    size = min(batch.surge + batch.unavailable, len(old))
                    for n in old[:size]:
                        actions.append(drain(n, self.params, f"surge batch in pool {pool.name}: {size} old node(s) "
                                                             f"drained together behind {surge_nodes} surge node(s)"))
                        removing.add(n.name)
                    gate.started(pool.name)
            memo = gate.save({**memo, "removing": sorted(removing), "provision_failures": failures,
                              "joined": joined_before, "skipped": sorted(skipped)})
            if skipped and not actions and not removing and gate.wake_at is None and not any(
                    n.phase != IDLE for n in nodes if n.name not in skipped):
                return skipped_halt(memo)  # what is left cannot move past the nodes left cordoned
            return Decision(tuple(actions), memo, wake_at=gate.wake_at, notes=(gate.note,) if gate.note else ())
        if skipped:
            return skipped_halt(memo)
        return Decision(memo=memo, notes=("waiting for new nodes to become Ready",))
