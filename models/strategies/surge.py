"""``surge``: batches of surge nodes, as GKE's and AKS's surge upgrades run them.

Each batch adds up to maxSurge new nodes at the target; once they are Ready, up to
maxSurge + maxUnavailable old nodes are cordoned and drained together (never more
unavailable than maxUnavailable), then deleted; then the next batch. The pool never
runs more than maxSurge nodes above its size: its cost is the surge nodes' hours.
"""

from __future__ import annotations

from models.actions import Action, DeleteNode
from models.plan import Phase, Plan
from models.state import IDLE, PROVISIONING, ClusterState
from models.strategies.base import Decision, halt
from models.strategies.params import SURGE_PARAMS
from models.strategies.replace import Books, Replace, deleting
from models.strategies.waves import Waves, pools_in_order
from models.strategies.windows import window_closed
from models.strategies.workers import BatchGate, drain, live_count, mark_old_nodes, old_nodes_held
from models.strategies.zones import new_node


class Surge(Replace):
    NAME = "surge"
    PARAMS = SURGE_PARAMS

    def decide_workers(self, view: ClusterState, plan: Plan, phase: Phase, memo: dict) -> Decision:
        if not view.api_available:
            return Decision(memo=memo, notes=("workers wait for the API",))
        version = phase.version
        books = Books.load(view, memo)
        gate = BatchGate(view, memo, self.params, version)
        waves = Waves(view, memo, self.params, str(version))
        for pool in pools_in_order(view, self.params):
            nodes, old, new, wanted = self.pool_nodes(view, pool, version, books.skipped)
            if not old and len(new) >= wanted and all(n.phase == IDLE and n.ready for n in new) \
                    and not deleting(view, pool.name):
                waves.finished(pool.name)
                continue
            go = waves.hold(pool.name)
            if go is not True:
                return halt(memo, go) if go else Decision(memo=books.save(memo, gate), wake_at=waves.wake_at,
                                                          notes=(waves.note,))
            actions: list[Action] = []
            in_batch = self.in_removal(view, pool.name, old, books, version)
            stop = (self._provision_failures(pool.name, new, books, memo, actions, view, version)
                    or self._unready_new(pool.name, new, books, memo, actions, gate, view, version)
                    or self._removals(view, pool.name, old, books, version, memo, actions, gate))
            if stop:
                return stop
            batch = plan.batch(pool.name)
            actions += mark_old_nodes(old, self.params, self.surge_ready(view, pool.name, version, old, batch.surge))
            gone = {a.node for a in actions if isinstance(a, DeleteNode)}
            live = live_count(view, pool.name, gone)
            extra = live - pool.count
            surge_nodes = min(batch.surge, len(old))
            if not in_batch and not gone and not deleting(view, pool.name):  # a batch ends when its old machines are gone
                # between batches: refill the pool, then bring the surge nodes up
                short = max(0, pool.count - live)
                want = short + max(0, surge_nodes - max(extra, 0))
                planned: list[str] = []
                if window_closed(view, self.params) is not None:
                    want = short  # outside the maintenance windows no new batch (its surge nodes) starts
                for _ in range(want if not view.in_phase(pool.name, PROVISIONING) else 0):
                    actions.append(new_node(view, pool, version, nodes, f"surge batch in pool {pool.name}: "
                                            f"{surge_nodes} surge node(s) at {version} before draining old ones",
                                            planned))
                ready = all(n.phase == IDLE and n.ready for n in new) and not want and not old_nodes_held(old, self.params)
                allowed = gate.open(pool.name, not ready)
                if isinstance(allowed, str):
                    return halt(memo, allowed)
                if ready and allowed and old:
                    # out-of-service old nodes first (they take nothing from the budget), then as many
                    # available ones as keep the pool at its size minus maxUnavailable
                    size = gate.limit(pool.name, min(batch.surge + batch.unavailable, len(old)))
                    can_remove = view.available_in(pool.name) - (pool.count - batch.unavailable)  # available: none deleting
                    chosen = []
                    for n in sorted((n for n in old if n.phase == IDLE), key=lambda n: n.available):
                        if len(chosen) == size:
                            break
                        if n.available:
                            if can_remove <= 0:
                                continue
                            can_remove -= 1
                        chosen.append(n)
                    for n in chosen:
                        actions.append(drain(n, self.params, f"surge batch in pool {pool.name}: {len(chosen)} old "
                                                             f"node(s) drained together behind {surge_nodes} surge node(s)"))
                        books.removing.add(n.name)
                    if chosen:
                        gate.started(pool.name)
            return self.decision(actions, books, memo, gate, nodes)
        return self.finished(books, memo)
