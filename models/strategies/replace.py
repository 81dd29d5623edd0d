"""``replace``: rolling replacement of nodes, as Cluster API's MachineDeployment rolls machines.

New nodes at the target are added while a pool has fewer than its size plus maxSurge;
old nodes are drained and deleted while the pool keeps at least its size minus
maxUnavailable available. Replacement is atomic per node, but every pod on an old node
is rebuilt elsewhere, local disk data is lost and node IPs change.
"""

from __future__ import annotations

from models.actions import Action, DeleteNode, ProvisionNode
from models.plan import Phase, Plan
from models.progress import at_least
from models.state import DELETING, DRAIN_FAILED, DRAINING, IDLE, PROVISION_FAILED, ClusterState
from models.prechecks.base import Traits
from models.strategies.base import Decision, Strategy, halt
from models.strategies.params import REPLACE_PARAMS
from models.strategies.workers import by_name, drain, on_drain_failed

PROVISION_ATTEMPTS = 3


class Replace(Strategy):
    NAME = "replace"
    PARAMS = REPLACE_PARAMS

    @classmethod
    def traits(cls, params: dict) -> Traits:
        return Traits(cls.NAME, creates_nodes=True, drains=True, in_place=False)

    def decide_workers(self, view: ClusterState, plan: Plan, phase: Phase, memo: dict) -> Decision:
        if not view.api_available:
            return Decision(memo=memo, notes=("workers wait for the API",))
        version = phase.version
        removing = set(memo.get("removing", ()))
        failures = dict(memo.get("provision_failures", {}))
        joined_before = dict(memo.get("joined", {}))
        for pool in view.pools:
            nodes = [n for n in by_name(view.nodes_in(pool.name)) if n.phase != DELETING]
            old = [n for n in nodes if not at_least(n.kubelet, version)]
            new = [n for n in nodes if at_least(n.kubelet, version)]
            settled = all(n.phase == IDLE and n.ready for n in new) and len(new) >= pool.count
            if not old and settled:
                continue
            batch = plan.batch(pool.name)
            actions: list[Action] = []
            joined = sum(1 for n in new if n.ready and n.phase == IDLE)
            if joined > joined_before.get(pool.name, 0):
                failures[pool.name] = 0  # a node joined: failures only count while none succeeds
            joined_before[pool.name] = joined
            for n in new:
                if n.phase == PROVISION_FAILED:
                    failures[pool.name] = failures.get(pool.name, 0) + 1
                    if failures[pool.name] >= PROVISION_ATTEMPTS:
                        return halt(memo, f"could not add a node to pool {pool.name} in {failures[pool.name]} "
                                          f"attempts in a row: {n.message}")
                    actions.append(DeleteNode(f"clean up {n.name}, which never became a node: {n.message}", n.name))
            for n in old:
                if n.name not in removing:
                    continue
                if n.phase == DRAIN_FAILED:
                    step = on_drain_failed(n, self.params, memo)
                    if isinstance(step, Decision):
                        return step
                    actions.append(step)
                elif n.phase == IDLE and not n.schedulable and n.pods == 0:
                    actions.append(DeleteNode(f"{n.name} is drained: delete it (its replacement runs {version})", n.name))
                elif n.phase == IDLE and n.schedulable:
                    actions.append(drain(n, self.params, f"{n.name} is being replaced but schedulable again: drain it"))
            live = [n for n in nodes if n.phase != PROVISION_FAILED]
            live_new = [n for n in new if n.phase != PROVISION_FAILED]
            to_add = min(pool.count - len(live_new), pool.count + batch.surge - len(live))
            for _ in range(max(0, to_add)):
                actions.append(ProvisionNode(f"pool {pool.name}: {len(live_new)} of {pool.count} nodes at {version}; "
                                             f"maxSurge {batch.surge} allows {pool.count + batch.surge} nodes", pool.name, version))
            can_remove = sum(1 for n in nodes if n.available) - (pool.count - batch.unavailable)
            for n in old:
                if n.name in removing or n.phase != IDLE:
                    continue
                if n.available:
                    if can_remove <= 0:
                        continue
                    can_remove -= 1
                actions.append(drain(n, self.params, f"replace {n.name} (kubelet {n.kubelet}): pool {pool.name} keeps at "
                                                     f"least {pool.count - batch.unavailable} available nodes"))
                removing.add(n.name)
            memo = {**memo, "removing": sorted(removing), "provision_failures": failures, "joined": joined_before}
            return Decision(tuple(actions), memo)
        return Decision(memo=memo, notes=("waiting for new nodes to become Ready",))
