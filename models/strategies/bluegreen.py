"""``bluegreen``: a green pool beside the blue one, then the blue one drained and removed.

Per pool: green nodes at the target are created (all at once, or ``greenBatch`` at a
time); once the green pool is whole and Ready, every blue node is cordoned, then drained
``drainBatch`` at a time with ``soakSeconds`` after each batch; the drained blue pool is
kept for ``finalSoakSeconds`` and then deleted. A health check at the end of every soak
(every node Ready, every workload at its budget), or a blue node that cannot be drained
(``undrainable: fail`` or ``cordon-and-continue``), rolls back as long as the blue pool
exists: blue is uncordoned, green drained and deleted, and the upgrade halts.
Its cost is a whole second pool for the length of the upgrade.
"""

from __future__ import annotations

from models.actions import Action, Cordon, DeleteNode, ProvisionNode, Uncordon
from models.plan import Phase, Plan
from models.quantity import IntOrPercent
from models.state import DRAIN_FAILED, DRAINING, IDLE, PROVISION_FAILED, PROVISIONING, ClusterState
from models.strategies.base import Decision, halt
from models.strategies.params import BLUEGREEN_PARAMS
from models.strategies.zones import new_node
from models.strategies.replace import Books, Replace, deleting
from models.strategies.waves import Waves, pools_in_order
from models.strategies.windows import window_closed
from models.strategies.workers import (NEW_NODE_READY_GRACE_S, drain, healthy, in_name_order, on_drain_failed,
                                      unready_new_nodes)


def _count(value: IntOrPercent, total: int) -> int:
    return max(1, value.scaled(total, round_up=True))


class BlueGreen(Replace):
    NAME = "bluegreen"
    PARAMS = BLUEGREEN_PARAMS

    def decide_workers(self, view: ClusterState, plan: Plan, phase: Phase, memo: dict) -> Decision:
        if not view.api_available:
            return Decision(memo=memo, notes=("workers wait for the API",))
        version = phase.version
        now = view.observed_at
        stages = {k: dict(v) for k, v in memo.get("bluegreen", {}).items()}
        books = Books.load(view, memo)
        waves = Waves(view, memo, self.params, str(version))
        for pool in pools_in_order(view, self.params):
            blue, green = self.old_and_new(view, pool, version, set())
            st = stages.setdefault(f"{pool.name}@{version}", {"stage": "green"})  # each worker roll is its own
            if st["stage"] == "rollback":
                return self._rollback(view, plan, pool, blue, green, st, stages, memo)
            if not blue and all(n.phase == IDLE and n.ready and n.schedulable for n in green) \
                    and len(green) >= pool.count and not deleting(view, pool.name):
                waves.finished(pool.name)
                continue  # blue's machines are gone: the next pool's green may start
            go = waves.hold(pool.name)
            if go is not True:
                return halt(memo, go) if go else Decision(memo={**memo, "bluegreen": stages}, wake_at=waves.wake_at,
                                                          notes=(waves.note,))
            actions: list[Action] = []
            halted = self._provision_failures(pool.name, green, books, memo, actions, view, version)
            if halted:
                return halted
            save = lambda: {**memo, "bluegreen": stages, "provision_failures": books.failures,  # noqa: E731
                            "joined": books.joined}
            stage = st["stage"]
            if stage == "green":
                live = [n for n in green if n.phase != PROVISION_FAILED]
                joined = [n for n in live if n.phase == IDLE]
                # a node that just joined may be NotReady until its network is up: give it a while
                since = st.setdefault("not_ready_since", {})
                sick, wake = unready_new_nodes(joined, since, now)
                if sick:
                    return self._start_rollback(st, stages, memo, f"green node {sick[0]} stayed NotReady for "
                                                                  f"{NEW_NODE_READY_GRACE_S:g}s")
                # a batch of green nodes at a time: the next once the last one has joined and is Ready
                batch_done = not any(n.phase == PROVISIONING for n in live) and not since
                closed = window_closed(view, self.params) if batch_done and len(live) < pool.count else None
                if closed is not None:  # no new batch of green nodes outside the maintenance windows
                    return Decision(tuple(actions), save(), wake_at=closed[1], notes=(closed[0],))
                batch = _count(self.params["greenBatch"], pool.count)
                planned: list[str] = []
                for _ in range(min(batch, pool.count - len(live)) if batch_done else 0):
                    actions.append(new_node(view, pool, version, [*blue, *green], f"green pool for {pool.name}: "
                                            f"{len(live)} of {pool.count} green node(s) at {version}, {batch} at a "
                                            "time", planned))
                if len(joined) >= pool.count and not actions and not since:
                    st["stage"] = "cordon"
                    stage = "cordon"
                elif wake is not None:
                    return Decision(tuple(actions), save(), wake_at=wake)
            if stage == "cordon":
                actions += [Cordon(f"blue-green in pool {pool.name}: the green pool is Ready; cordon blue so new "
                                   "pods go to green", n.name) for n in blue if n.schedulable]
                st.update(stage="drain", soak_until=None)
                return Decision(tuple(actions), save())
            if stage == "drain":
                return self._drain_stage(view, pool.name, blue, st, stages, memo, save, now, version)
            if stage == "final-soak":
                if now < st["until"]:
                    return Decision(memo=save(), wake_at=st["until"], notes=(f"final soak of pool {pool.name}",))
                problem = healthy(view, frozenset(n.name for n in blue))  # blue is on its way out
                if problem:
                    return self._start_rollback(st, stages, memo, problem)
                st["stage"] = "delete"
                stage = "delete"
            if stage == "delete":
                actions += [DeleteNode(f"blue-green in pool {pool.name}: the final soak passed; delete blue {n.name}",
                                       n.name, force=not n.ready) for n in blue]
                live = [n for n in green if n.phase != PROVISION_FAILED]
                if not any(n.phase == PROVISIONING for n in live):  # a green node someone removed is made good
                    actions += [ProvisionNode(f"blue-green in pool {pool.name}: the green pool has {len(live)} of "
                                              f"{pool.count} nodes (one was removed): add one at {version}",
                                              pool.name, version) for _ in range(pool.count - len(live))]
                return Decision(tuple(actions), save())
            return Decision(tuple(actions), save())
        return Decision(memo={**memo, "bluegreen": stages}, notes=("waiting for the green pools",))

    def _drain_stage(self, view, pool, blue, st, stages, memo, save, now, version) -> Decision:
        draining = self._blue(view, pool, blue, version, view.nodes_draining,
                              lambda n: n.phase in (DRAINING, DRAIN_FAILED))
        actions: list[Action] = []
        for n in draining:
            if n.phase == DRAIN_FAILED:
                if self.params["undrainable"] in ("fail", "cordon-and-continue"):
                    # blue cannot be deleted while it holds pods; it still exists, so go back to it
                    return self._start_rollback(st, stages, memo, f"blue {n.name} could not be drained within "
                                                f"{self.params['drainTimeout']:g}s: {n.message}")
                actions.append(on_drain_failed(n, self.params, memo))
        if draining:
            return Decision(tuple(actions), save())
        left = self._blue(view, pool, blue, version, view.nodes_holding, lambda n: n.pods > 0 or n.schedulable)
        if st.get("draining"):  # the last batch has just finished draining
            st.update(draining=False, batch_done_at=now)
        canary = self.params["canary"] and not st.get("canary_done")
        if st.get("batch_done_at") is not None:
            soak = self.params["canarySoakSeconds"] if canary else self.params["soakSeconds"]
            until = st["batch_done_at"] + soak
            if now < until:
                what = "the canary drain" if canary else "a drain batch"
                return Decision(memo=save(), wake_at=until, notes=(f"soaking after {what} in pool {pool}",))
            # the health check ends each batch's soak (with no soak there is nothing to judge by)
            problem = healthy(view, frozenset(n.name for n in blue if not n.schedulable)) if soak else None
            if problem:
                return self._start_rollback(st, stages, memo, problem)
            st["batch_done_at"] = None
            if canary:
                st["canary_done"] = True
                canary = False
        if not left:
            st.update(stage="final-soak", until=now + self.params["finalSoakSeconds"])
            return Decision(memo=save(), wake_at=st["until"])
        closed = window_closed(view, self.params)
        if closed is not None:  # no new drain batch outside the maintenance windows
            return Decision(memo=save(), wake_at=closed[1], notes=(closed[0],))
        size = 1 if canary else _count(self.params["drainBatch"], len(blue))
        for n in left[:size]:
            actions.append(drain(n, self.params, f"blue-green in pool {pool}: drain blue {n.name} "
                                                 f"({size} at a time) onto the green pool"))
        st["draining"] = True
        return Decision(tuple(actions), save())

    def _blue(self, view, pool: str, blue: list, version, index, keep) -> list:
        """The blue nodes that ``keep`` keeps, in order: with blue in name order and of one version, the
        view's by-name list ``index`` gives of that version (``nodes_draining``, ``nodes_holding``)."""
        below = [v for v in view.nodes_by_kubelet(pool) if v._k < version._k]
        if in_name_order(self.params["order"]) and len(below) <= 1:
            return list(index(pool).get(below[0], ())) if below else []
        return [n for n in blue if keep(n)]

    def _start_rollback(self, st, stages, memo, problem: str) -> Decision:
        st.update(stage="rollback", reason=problem)
        return Decision(memo={**memo, "bluegreen": stages}, notes=(f"rolling back: {problem}",))

    def _rollback(self, view, plan, pool, blue, green, st, stages, memo) -> Decision:
        """Uncordon blue, drain green onto it (keeping the pool's availability), delete green, halt."""
        why = f"blue-green rollback in pool {pool.name} ({st['reason']})"
        memo = {**memo, "bluegreen": stages}
        if any(n.phase == DRAINING for n in blue):
            return Decision(memo=memo, notes=(f"{why}: waiting for the blue drains in flight to end",))
        actions: list[Action] = [Uncordon(f"{why}: blue takes the pods back", n.name) for n in blue if not n.schedulable]
        if actions:
            return Decision(tuple(actions), memo)  # blue first, so green can drain onto it
        nodes = blue + green
        can_remove = sum(1 for n in nodes if n.available) - (pool.count - plan.batch(pool.name).unavailable)
        in_flight = False
        for n in green:
            if n.phase == DRAINING:
                in_flight = True
            elif n.phase == IDLE and n.schedulable and n.ready:
                if can_remove > 0:
                    can_remove -= 1
                    actions.append(drain(n, self.params, f"{why}: drain green {n.name}"))
            elif n.phase in (IDLE, PROVISION_FAILED) and (n.pods == 0 or not n.ready):
                actions.append(DeleteNode(f"{why}: delete green {n.name}", n.name, force=not n.ready and n.pods > 0))
            elif n.phase == DRAIN_FAILED:
                actions.append(drain(n, self.params, f"{why}: drain green {n.name} again"))
        if not green and not actions:
            return halt(memo, f"rolled back: {st['reason']}; the blue pool {pool.name} is serving again on its "
                              "old version")
        if not actions and not in_flight:
            kept = ", ".join(n.name for n in green)
            return halt(memo, f"rolled back as far as the pool's availability allows: {st['reason']}; green "
                              f"{kept} kept, since blue has too few Ready nodes to take its pods")
        return Decision(tuple(actions), memo)
