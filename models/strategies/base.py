"""What every strategy shares: the ``Decision`` record, the base class, and the two
movements that do not depend on the node method (control plane, add-ons).

The memo is a JSON-compatible mapping the strategy returns and gets back next time;
the runner journals it, so a crashed run resumes with it. Strategies treat it as
immutable and return a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from models.actions import Action, Annotate, Halt, UpgradeAddon, UpgradeControlPlaneInstance
from models.autoscaling import SCALE_DOWN_DISABLED
from models.plan import ADDONS, CONTROL_PLANE, KUBE_PROXY_ONLY, WORKERS, Phase, Plan
from models.prechecks.base import Traits
from models.skew import adds_violation, bare, check_versions, moved, versions_of
from models.progress import at_least, coredns_goal, current_phase
from models.state import (
    APISERVER,
    CLOUD_CONTROLLER_MANAGER,
    CONTROLLER_MANAGER,
    DELETING,
    IDLE,
    KUBE_PROXY,
    KUBELET,
    PROVISION_FAILED,
    PROVISIONING,
    SCHEDULER,
    UPGRADE_FAILED,
    ClusterState,
)
from models.strategies.params import Param, defaults
from models.strategies.windows import window_closed

Memo = Mapping[str, Any]
CONTROL_PLANE_ORDER = (APISERVER, CONTROLLER_MANAGER, SCHEDULER, CLOUD_CONTROLLER_MANAGER)


@dataclass(frozen=True)
class Decision:
    """What to do now (each action with its reason), what to remember, when to look again."""

    actions: tuple[Action, ...] = ()
    memo: Memo = field(default_factory=dict)
    wake_at: float | None = None
    notes: tuple[str, ...] = ()
    done: bool = False


class Strategy:
    """Base of the built-in strategies. Subclasses set ``NAME``, ``PARAMS`` and ``decide_workers``."""

    NAME = "strategy"
    PARAMS: tuple[Param, ...] = ()

    def __init__(self, **params: Any):
        known = {p.name for p in self.PARAMS}
        unknown = set(params) - known
        if unknown:
            raise TypeError(f"{self.NAME} has no parameter(s) {', '.join(sorted(unknown))}; valid: {', '.join(sorted(known))}")
        self.params = {**defaults(self.PARAMS), **params}

    @classmethod
    def traits(cls, params: dict) -> Traits:
        """What this strategy does to nodes, for the pre-checks (unknown: assume everything)."""
        return Traits(cls.NAME)

    def decide(self, view: ClusterState, plan: Plan, memo: Memo) -> Decision:
        memo = dict(memo)
        if memo.get("halted"):
            return Decision(memo=memo, notes=(f"halted earlier: {memo['halted']}",))
        cordoned = frozenset(memo.get("cordoned", ()))
        # The memo names the phase reached, not its index: a plan recomputed on resume
        # (with the hops already done left out) still finds where the upgrade stands.
        labels = plan.labels
        start = labels.index(memo["phase"]) if memo.get("phase") in labels else 0
        index, phase = current_phase(view, plan, cordoned, start)
        if memo.get("workers_pending"):  # the final worker roll's own last step, which the nodes do not show
            last = max((i for i, p in enumerate(plan.phases) if p.kind == WORKERS), default=None)
            if last is not None and (phase is None or index > last):
                index, phase = last, plan.phases[last]
        memo["phase"] = str(phase) if phase is not None else "done"
        if phase is None:
            decision = Decision(memo=memo, done=True, notes=("every component is at the target",))
        elif phase.kind == CONTROL_PLANE:
            decision = control_plane_step(view, phase, memo, bool(self.params.get("controlPlaneSurge")), self.params)
        elif phase.kind in (ADDONS, KUBE_PROXY_ONLY):
            decision = addons_step(view, phase, memo)
        else:
            decision = self.decide_workers(view, plan, phase, memo)
        return pause_autoscaler(view, decision) if self.params.get("pauseAutoscaler") else decision

    def decide_workers(self, view: ClusterState, plan: Plan, phase: Phase, memo: dict) -> Decision:
        raise NotImplementedError  # pragma: no cover - every strategy defines it


def pause_autoscaler(view: ClusterState, decision: Decision) -> Decision:
    """pauseAutoscaler: every node that has joined carries ``cluster-autoscaler.kubernetes.io/scale-down-disabled:
    "true"`` (cluster-autoscaler FAQ: how to prevent it from removing a node) until the upgrade is done; then the
    annotations midair added come off. A halted upgrade leaves them, as it leaves its cordons: whoever picks
    it up decides. Nodes annotated before the upgrade are left alone."""
    memo = dict(decision.memo)
    ours = set(memo.get("paused", ()))
    present = {n.name: n for n in view.nodes}
    ending = decision.done
    actions: list[Action] = []
    if ending:
        why = "the upgrade is over: cluster-autoscaler may remove this node again (pauseAutoscaler)"
        actions = [Annotate(why, name, SCALE_DOWN_DISABLED, None) for name in sorted(ours) if name in present]
        ours = set()
    else:
        why = "pauseAutoscaler: cluster-autoscaler must not remove nodes while the upgrade runs"
        for n in view.nodes:
            if n.phase in (PROVISIONING, PROVISION_FAILED, DELETING) or n.annotation(SCALE_DOWN_DISABLED) == "true":
                continue
            actions.append(Annotate(why, n.name, SCALE_DOWN_DISABLED, "true"))
            ours.add(n.name)
        ours &= set(present)
    memo["paused"] = sorted(ours)
    if any(isinstance(a, Halt) for a in decision.actions):
        return replace(decision, memo=memo)  # the halt comes first: nothing after it is submitted
    return replace(decision, actions=(*decision.actions, *actions), memo=memo)


def halt(memo: dict, reason: str) -> Decision:
    return Decision((Halt(reason),), {**memo, "halted": reason})


def control_plane_step(view: ClusterState, phase: Phase, memo: dict, surge: bool = False,
                       params: dict | None = None) -> Decision:
    """Upgrade one control-plane instance at a time: apiservers, then controller-managers, schedulers.

    With ``surge`` each new instance starts before its old one stops (controlPlaneSurge); outside the
    ``maintenanceWindows`` of ``params`` no instance starts.
    """
    failed = [i for i in view.control_plane.instances if i.phase == UPGRADE_FAILED]
    if failed:
        return halt(memo, f"the upgrade of {failed[0].name} to {phase.version} failed"
                          + (f": {failed[0].message}" if failed[0].message else ""))
    busy = [i for i in view.control_plane.instances if i.phase != IDLE]
    if busy:
        return Decision(memo=memo, notes=(f"waiting for {busy[0].name} ({busy[0].phase})",))
    closed = window_closed(view, params or {})
    if closed is not None:
        return Decision(memo=memo, wake_at=closed[1], notes=(closed[0],))
    behind = left_behind_by(view, phase.version)
    if behind:
        return halt(memo, f"the control plane cannot move to {phase.version}: {behind}; bring the node back (its "
                          "kubelet and kube-proxy are upgraded when it is) or remove it, then resume")
    for component in CONTROL_PLANE_ORDER:
        instances = sorted(view.control_plane.of(component), key=lambda i: i.name)
        for k, inst in enumerate(instances, 1):
            if not at_least(inst.version, phase.version):
                why = f"control plane to {phase.version}: {component} {k} of {len(instances)}, one at a time"
                if surge:
                    why += "; controlPlaneSurge: the new instance starts before the old one stops"
                elif component == APISERVER:
                    why += (", the others keep serving the API" if len(instances) > 1
                            else "; the only apiserver, so the API is down while it restarts")
                else:
                    why += f"; every apiserver is at {phase.version} (it must never be newer than an apiserver)"
                return Decision((UpgradeControlPlaneInstance(why, inst.name, phase.version, surge),), memo)
    return Decision(memo=memo, notes=("control plane settling",))


def left_behind_by(view: ClusterState, version) -> str | None:
    """Would apiservers at ``version`` leave a node's kubelet or kube-proxy outside the skew policy (a node
    that was NotReady while the others caught up)? The reason, or None. The safety policy would refuse the
    hop; halting says why instead of asking again until the horizon."""
    before = versions_of(view)

    def to(i):
        return version if i.component == APISERVER and i.version < version else i.version

    if not adds_violation(bare(before), bare(before, to), (KUBELET, KUBE_PROXY)):
        return None  # (asked of the versions alone first; the names only to say which node)
    after = moved(before, to)
    present = {(v.rule, v.subject) for v in check_versions(before)}
    added = [v for v in check_versions(after) if v.component in (KUBELET, KUBE_PROXY)
             and (v.rule, v.subject) not in present]
    return added[0].reason + f" ({added[0].rule})" if added else None


def addons_step(view: ClusterState, phase: Phase, memo: dict) -> Decision:
    """Bring kube-proxy to the hop's version and CoreDNS to what kubeadm installs with it."""
    if not view.api_available:
        return Decision(memo=memo, notes=("add-ons wait for the API",))
    actions: list[Action] = []
    proxy = view.addon("kube-proxy")
    if proxy is not None and proxy.phase == IDLE and not at_least(proxy.version, phase.version):
        why = phase.why or (f"kube-proxy follows the control plane to {phase.version} "
                            "(never newer than the apiserver; within three minors of every kubelet)")
        actions.append(UpgradeAddon(why, "kube-proxy", phase.version))
    if phase.kind == KUBE_PROXY_ONLY:
        return Decision(tuple(actions), memo, notes=() if actions else ("kube-proxy rolling out",))
    dns = view.addon("coredns")
    goal = coredns_goal(view, phase.version)
    if dns is not None and dns.phase == IDLE and goal is not None:
        actions.append(UpgradeAddon(f"CoreDNS {goal} is what kubeadm installs with Kubernetes {phase.version.minor_release}",
                                    "coredns", goal))
    return Decision(tuple(actions), memo, notes=() if actions else ("add-ons rolling out",))
