"""``inplace``: replace the kubelet and friends on each node; its pods are not rebuilt.

The seed's in-place method: nodes are cordoned in batches of maxUnavailable, upgraded
in place (stop the kubelet, replace binaries and configuration, start it, rejoin) and
uncordoned once Ready. Containers keep running through the kubelet restart, so no pod
is evicted, rescheduled or loses local data, and node IPs stay. The upgrade is not
atomic: a node can stop half-way. A failed node is retried ``inplaceRetries`` times;
then ``onInplaceFailure`` halts the upgrade or replaces the node (drain, delete, add a
new one at the target). ``drainFirst`` drains each node first, as upstream advises.
"""

from __future__ import annotations

from models.actions import Action, Cordon, DeleteNode, ProvisionNode, Uncordon, UpgradeNodeInPlace
from models.plan import Phase, Plan
from models.prechecks.base import Traits
from models.progress import at_least
from models.state import (
    DELETING,
    DRAIN_FAILED,
    DRAINING,
    IDLE,
    PROVISION_FAILED,
    PROVISIONING,
    UPGRADE_FAILED,
    UPGRADING,
    ClusterState,
    Node,
)
from models.strategies.base import Decision, Strategy, halt
from models.strategies.params import INPLACE_PARAMS
from models.strategies.workers import (
    SKIP,
    BatchGate,
    drain,
    on_drain_failed,
    ordered,
    provision_failures,
    skipped_halt,
)

RETRY_BACKOFF_S = 60.0  # wait 60 s before the first retry, 120 s before the second, ...


class InPlace(Strategy):
    NAME = "inplace"
    PARAMS = INPLACE_PARAMS

    @classmethod
    def traits(cls, params: dict) -> Traits:
        return Traits(cls.NAME, creates_nodes=params.get("onInplaceFailure") == "replace",
                      drains=bool(params.get("drainFirst")), in_place=True)

    def decide_workers(self, view: ClusterState, plan: Plan, phase: Phase, memo: dict) -> Decision:
        if not view.api_available:
            return Decision(memo=memo, notes=("workers wait for the API",))
        version = phase.version
        cordoned = set(memo.get("cordoned", ()))
        retries = dict(memo.get("retries", {}))
        skipped = set(memo.get("skipped", ()))
        self._now = view.observed_at
        self._retry_at = dict(memo.get("retry_at", {}))
        replacing = {n for n in memo.get("replacing", ()) if view.has_node(n)}
        failures = dict(memo.get("provision_failures", {}))
        joined = dict(memo.get("joined", {}))
        # nodes someone else cordoned before the upgrade: upgraded, never uncordoned by us
        held = set(memo["held"]) if "held" in memo else {n.name for n in view.nodes if not n.schedulable}
        self._held = held
        gate = BatchGate(view, memo, self.params)
        for pool in view.pools:
            nodes = [n for n in ordered(view.nodes_in(pool.name), self.params["order"]) if n.phase != DELETING]
            live = [n for n in nodes if n.phase != PROVISION_FAILED]
            todo = [n for n in live if n.name not in skipped and
                    (not at_least(n.kubelet, version) or n.name in cordoned or n.phase != IDLE)]
            if not todo and len(live) >= pool.count:
                continue
            batch = plan.batch(pool.name).unavailable
            if batch == 0:
                return halt(memo, f"in-place upgrades take nodes out of service; pool {pool.name} allows "
                                  "maxUnavailable 0 (set maxUnavailable to 1 or more)")
            actions: list[Action] = []
            new = [n for n in nodes if at_least(n.kubelet, version) and n.name not in cordoned]
            stop = provision_failures(pool.name, new, failures, joined, memo, actions)
            if stop:
                return stop
            if len(live) < pool.count and not any(n.phase in (PROVISIONING, PROVISION_FAILED) for n in nodes):
                actions.append(ProvisionNode(f"pool {pool.name} has {len(live)} of {pool.count} nodes: "
                                             f"add one at {version}", pool.name, version))
            for node in todo:
                if node.name in replacing:
                    step = self._replace_step(node, memo)
                elif node.name in cordoned or node.phase != IDLE:
                    step = self._next_step(node, version, cordoned, retries, replacing, memo)
                else:
                    continue
                if step == SKIP:
                    skipped.add(node.name)
                    cordoned.discard(node.name)
                    continue
                if isinstance(step, Decision):
                    return step
                if step is not None:
                    actions.append(step)
            busy = any(n.name in cordoned or n.phase != IDLE for n in nodes if n.name not in skipped)
            allowed = gate.open(pool.name, busy)
            if isinstance(allowed, str):
                return halt(memo, allowed)
            missing = max(0, pool.count - len(live))  # a node being replaced is out of service too
            slots = batch - sum(1 for n in live if not n.available) - missing
            for node in todo if allowed else ():
                if node.name in cordoned or node.phase != IDLE or node.name in replacing or at_least(node.kubelet, version):
                    continue
                if node.available and slots <= 0:
                    continue
                why = (f"in-place batch of {batch} in pool {pool.name}: cordon before upgrading the kubelet to {version}"
                       if node.available else
                       f"{node.name} is already out of service (NotReady): upgrading it in place takes no batch slot")
                cordoned.add(node.name)
                if node.schedulable:
                    actions.append(Cordon(why, node.name))
                else:  # already cordoned (by someone else, or NotReady): go straight to its next step
                    step = self._next_step(node, version, cordoned, retries, replacing, memo)
                    if isinstance(step, Decision):
                        return step
                    if isinstance(step, Action):
                        actions.append(step)
                gate.started(pool.name)
                slots -= 1 if node.available else 0
            memo = gate.save({**memo, "cordoned": sorted(cordoned), "retries": retries, "replacing": sorted(replacing),
                              "retry_at": self._retry_at, "skipped": sorted(skipped), "held": sorted(held),
                              "provision_failures": failures, "joined": joined})
            idle = not actions and not busy and not self._retry_at and gate.wake_at is None
            stuck = [n.name for n in live if n.name in held and n.ready and n.phase == IDLE and not n.schedulable]
            if idle and slots <= 0 and stuck and any(n.available for n in todo if n.name not in cordoned):
                return halt(memo, f"pool {pool.name}: {', '.join(stuck)} "
                                  f"{'was' if len(stuck) == 1 else 'were'} cordoned before the upgrade and "
                                  f"{'stays' if len(stuck) == 1 else 'stay'} cordoned, which uses up maxUnavailable "
                                  f"{batch}; uncordon {'it' if len(stuck) == 1 else 'them'} or raise maxUnavailable "
                                  "to go on")
            if skipped and idle:
                return skipped_halt(memo)  # the nodes left cordoned use up what maxUnavailable allows
            wake = min([*self._retry_at.values(), *([gate.wake_at] if gate.wake_at else [])], default=None)
            return Decision(tuple(actions), memo, wake_at=wake, notes=(gate.note,) if gate.note else ())
        if skipped:
            return skipped_halt(memo)
        return Decision(memo=memo, notes=("waiting for upgraded nodes to become Ready",))

    def _next_step(self, node: Node, version, cordoned: set, retries: dict, replacing: set,
                   memo: dict) -> Action | Decision | None:
        if node.phase in (UPGRADING, DRAINING, PROVISIONING):
            return None
        if node.phase == DRAIN_FAILED:
            return on_drain_failed(node, self.params, memo)
        if node.phase == UPGRADE_FAILED:
            tries = retries.get(node.name, 0)
            if tries < self.params["inplaceRetries"]:
                due = self._retry_at.setdefault(node.name, self._now + RETRY_BACKOFF_S * (tries + 1))
                if self._now < due:
                    return None  # back off before trying again (the decision wakes up at ``due``)
                del self._retry_at[node.name]
                retries[node.name] = tries + 1
                return UpgradeNodeInPlace(f"retry {tries + 1} of {self.params['inplaceRetries']} after: {node.message}",
                                          node.name, version)
            if self.params["onInplaceFailure"] == "halt":
                times = f"{tries + 1} times" if tries else "once"
                return halt(memo, f"in-place upgrade of {node.name} failed {times}: {node.message}")
            replacing.add(node.name)
            cordoned.discard(node.name)
            return self._replace_step(node, memo)
        if at_least(node.kubelet, version):
            if not node.ready:
                return None
            cordoned.discard(node.name)
            if node.schedulable or node.name in self._held:
                return None  # a node cordoned before the upgrade stays cordoned
            return Uncordon(f"{node.name} runs kubelet {node.kubelet} and is Ready", node.name)
        if node.schedulable:
            return Cordon(f"{node.name} is in this in-place batch but schedulable again: cordon it", node.name)
        if self.params["drainFirst"] and node.pods:
            return drain(node, self.params, f"drainFirst: evict {node.pods} pod(s) before the kubelet moves to {version}")
        return UpgradeNodeInPlace(f"{node.name} is cordoned: replace kubelet {node.kubelet} with {version} in place; "
                                  "its pods keep running", node.name, version)

    def _replace_step(self, node: Node, memo: dict) -> Action | Decision | None:
        """onInplaceFailure: replace. Drain what can be drained, then delete; the pool is refilled above."""
        why = f"in-place upgrade of {node.name} kept failing ({node.message}); onInplaceFailure: replace"
        if node.phase == DRAINING:
            return None
        if node.phase == DRAIN_FAILED:
            return on_drain_failed(node, self.params, memo)
        if node.pods and node.ready:
            return drain(node, self.params, f"{why}: drain it first")
        return DeleteNode(f"{why}: delete it" + ("" if node.ready else " (NotReady: its pods cannot be evicted)"),
                          node.name, force=not node.ready)
