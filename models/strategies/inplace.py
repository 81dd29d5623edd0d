"""``inplace``: replace the kubelet and friends on each node; its pods are not rebuilt.

The seed's in-place method: nodes are cordoned in batches of maxUnavailable, upgraded
in place (stop the kubelet, replace binaries and configuration, start it, rejoin) and
uncordoned once Ready. Containers keep running through the kubelet restart, so no pod
is evicted, rescheduled or loses local data, and node IPs stay. The upgrade is not
atomic: a node can stop half-way; a failed node is retried ``inplaceRetries`` times,
then the upgrade halts. ``drainFirst`` drains each node first, as upstream advises.
"""

from __future__ import annotations

from models.actions import Action, Cordon, Uncordon, UpgradeNodeInPlace
from models.plan import Phase, Plan
from models.progress import at_least
from models.state import DRAIN_FAILED, DRAINING, IDLE, UPGRADE_FAILED, UPGRADING, ClusterState, Node
from models.strategies.base import Decision, Strategy, halt
from models.strategies.params import INPLACE_PARAMS
from models.strategies.workers import by_name, drain, on_drain_failed


class InPlace(Strategy):
    NAME = "inplace"
    PARAMS = INPLACE_PARAMS

    def decide_workers(self, view: ClusterState, plan: Plan, phase: Phase, memo: dict) -> Decision:
        if not view.api_available:
            return Decision(memo=memo, notes=("workers wait for the API",))
        version = phase.version
        cordoned = set(memo.get("cordoned", ()))
        retries = dict(memo.get("retries", {}))
        for pool in view.pools:
            nodes = by_name(view.nodes_in(pool.name))
            todo = [n for n in nodes if not at_least(n.kubelet, version) or n.name in cordoned or n.phase != IDLE]
            if not todo:
                continue
            batch = plan.batch(pool.name).unavailable
            if batch == 0:
                return halt(memo, f"in-place upgrades take nodes out of service; pool {pool.name} allows "
                                  "maxUnavailable 0 (set maxUnavailable to 1 or more)")
            actions: list[Action] = []
            for node in todo:
                if node.name in cordoned or node.phase != IDLE:
                    step = self._next_step(node, version, cordoned, retries, memo)
                    if isinstance(step, Decision):
                        return step
                    if step is not None:
                        actions.append(step)
            slots = batch - sum(1 for n in nodes if not n.available)
            for node in todo:
                if slots <= 0:
                    break
                if node.name not in cordoned and node.phase == IDLE and node.available:
                    actions.append(Cordon(f"in-place batch of {batch} in pool {pool.name}: cordon before upgrading "
                                          f"the kubelet to {version}", node.name))
                    cordoned.add(node.name)
                    slots -= 1
            memo = {**memo, "cordoned": sorted(cordoned), "retries": retries}
            return Decision(tuple(actions), memo)
        return Decision(memo=memo, notes=("waiting for upgraded nodes to become Ready",))

    def _next_step(self, node: Node, version, cordoned: set, retries: dict, memo: dict) -> Action | Decision | None:
        if node.phase in (UPGRADING, DRAINING):
            return None
        if node.phase == DRAIN_FAILED:
            return on_drain_failed(node, self.params, memo)
        if node.phase == UPGRADE_FAILED:
            tries = retries.get(node.name, 0)
            if tries >= self.params["inplaceRetries"]:
                return halt(memo, f"in-place upgrade of {node.name} failed {tries + 1} times: {node.message}")
            retries[node.name] = tries + 1
            return UpgradeNodeInPlace(f"retry {tries + 1} of {self.params['inplaceRetries']} after: {node.message}",
                                      node.name, version)
        if at_least(node.kubelet, version):
            if not node.ready:
                return None
            cordoned.discard(node.name)
            if node.schedulable:
                return None
            return Uncordon(f"{node.name} runs kubelet {node.kubelet} and is Ready", node.name)
        if node.schedulable:
            return Cordon(f"{node.name} is in this in-place batch but schedulable again: cordon it", node.name)
        if self.params["drainFirst"] and node.pods:
            return drain(node, self.params, f"drainFirst: evict {node.pods} pod(s) before the kubelet moves to {version}")
        return UpgradeNodeInPlace(f"{node.name} is cordoned: replace kubelet {node.kubelet} with {version} in place; "
                                  "its pods keep running", node.name, version)
