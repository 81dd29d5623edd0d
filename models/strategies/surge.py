"""``surge``: batches of surge nodes, as GKE's and AKS's surge upgrades run them.

Each batch adds up to maxSurge new nodes at the target; once they are Ready, up to
maxSurge + maxUnavailable old nodes are cordoned and drained together (never more
unavailable than maxUnavailable), then deleted; then the next batch. The pool never
runs more than maxSurge nodes above its size: its cost is the surge nodes' hours.

With ``surgeNodes: remove`` (AKS) the surge nodes are buffers: each batch's drained old
nodes come back at the target (AKS reimages them; midair deletes and re-adds them) and
carry the next batch, and once every old node is gone the buffers are drained and deleted.
"""

from __future__ import annotations

from models.actions import Action, DeleteNode
from models.plan import Phase, Plan
from models.state import DELETING, DRAIN_FAILED, IDLE, PROVISIONING, ClusterState
from models.strategies.base import Decision, halt
from models.strategies.params import SURGE_PARAMS
from models.strategies.replace import Books, Replace, deleting
from models.strategies.waves import Waves, pools_in_order
from models.strategies.windows import window_closed
from models.strategies.workers import (SKIP, BatchGate, by_name, drain, live_count, mark_old_nodes, old_nodes_held,
                                      on_drain_failed)
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
        # surgeNodes: remove (AKS), in the roll to the target: per pool, "rolling", then its buffer nodes, then "done";
        # the memo's workers_pending keeps the roll open until its buffers are gone
        remove = self.params.get("surgeNodes") == "remove" and version == plan.target
        out = dict(memo.get("surge_out", {}))
        for pool in pools_in_order(view, self.params):
            nodes, old, new, wanted = self.pool_nodes(view, pool, version, books.skipped)
            roll = f"{pool.name}@{version}"
            if remove and old and roll not in out and min(plan.batch(pool.name).surge, pool.count):
                out[roll] = "rolling"
                memo = _pending(memo, out)
            buffers_left = remove and out.get(roll) not in (None, "done")  # AKS removes its buffers at the end
            if not buffers_left and not old and len(new) >= wanted and all(n.phase == IDLE and n.ready for n in new) \
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
            if buffers_left and not old and not in_batch:
                stop = self._remove_buffers(view, pool, version, nodes, new, min(batch.surge, pool.count), out, roll,
                                            memo, actions, books)
                if stop:
                    return stop
                memo = _pending(memo, out)
                if out[roll] == "done":
                    waves.finished(pool.name)
                    continue  # the pool is done: the next may start
                return self.decision(actions, books, memo, gate, nodes)
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

    def _remove_buffers(self, view: ClusterState, pool, version, nodes, new: list, count: int, out: dict, roll: str,
                        memo: dict, actions: list, books) -> Decision | None:
        """AKS: once the last drained nodes are back at the target (AKS reimages them; here they are added again),
        the buffer nodes are drained and deleted; then the roll is done."""
        if out[roll] == "rolling":  # every old node is gone: the roll's first new nodes (by name) are its buffers
            if view.in_phase(pool.name, PROVISIONING) or deleting(view, pool.name):
                return None
            out[roll] = {"buffers": [n.name for n in by_name(new)[:count]], "stage": "reimage"}
        st = out[roll] = dict(out[roll])
        left = [view.node(b) for b in st["buffers"] if view.has_node(b)]
        if not left:  # the buffers' machines are gone
            out[roll] = "done"
            return None
        if st["stage"] == "reimage":
            if view.in_phase(pool.name, PROVISIONING) or deleting(view, pool.name):
                return None
            live = live_count(view, pool.name, set())
            if live < pool.count + len(left):
                planned: list[str] = []
                for _ in range(pool.count + len(left) - live):
                    actions.append(new_node(view, pool, version, nodes, f"surge in pool {pool.name} (surgeNodes: "
                                            f"remove): the last drained node(s) come back at {version} before the "
                                            f"{len(left)} buffer node(s) go", planned))
                return None
            if not all(n.phase == IDLE and n.ready for n in new):
                return None
            st["stage"] = "drain"
            for n in left:
                actions.append(drain(n, self.params, f"surge in pool {pool.name} (surgeNodes: remove): every node is "
                                                     f"upgraded; drain buffer node {n.name} and delete it"))
            return None
        for n in (n for n in left if n.phase != DELETING):
            if n.phase == DRAIN_FAILED:
                step = on_drain_failed(n, self.params, memo)
                if isinstance(step, Decision):
                    return step
                if step == SKIP:
                    books.skipped.add(n.name)
                    st["buffers"] = [b for b in st["buffers"] if b != n.name]
                else:
                    actions.append(step)
            elif n.phase == IDLE and n.schedulable:
                actions.append(drain(n, self.params, f"buffer node {n.name} is schedulable again: drain it"))
            elif n.phase == IDLE and n.pods == 0:
                actions.append(DeleteNode(f"surge in pool {pool.name} (surgeNodes: remove): buffer node {n.name} is "
                                          "drained: delete it", n.name))
        return None


def _pending(memo: dict, out: dict) -> dict:
    """The memo with the AKS buffer removals (``out``) and the rolls they keep open (``workers_pending``)."""
    pending = sorted(k for k, v in out.items() if v != "done")
    memo = {**memo, "surge_out": out}
    if pending:
        memo["workers_pending"] = pending
    else:
        memo.pop("workers_pending", None)
    return memo
