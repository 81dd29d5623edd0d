"""``karpenter-drift``: nodes replaced the way Karpenter's disruption controller replaces drifted ones.

When the control plane moves, Karpenter's node class points at the new image and every node
below the target drifts (kubernetes-sigs/karpenter pkg/controllers/disruption). Each pass it
disrupts what the NodePool's budgets allow (``models.karpenter``): it marks the node
(``karpenter.sh/disrupted:NoSchedule``), launches its replacement, waits until the
replacement is initialized (Ready), then drains the node through its pods' budgets and deletes
it. Empty drifted nodes go first. A node that carries, or runs a pod that carries,
``karpenter.sh/do-not-disrupt: "true"`` is not disrupted, unless the nodes have a
``terminationGracePeriod``: then it is, and its drain gives up on budgets (and on such pods)
once the grace period has run.

``consolidation: off`` is a static NodePool (the pool's size is kept: one replacement per
drifted node, as StaticDrift). Otherwise the pool is dynamic: a drifted node gets a
replacement only when its pods do not fit on the pool's other nodes; empty nodes are deleted
(Empty) and, with ``whenEmptyOrUnderutilized``, a node whose pods fit elsewhere is drained and
deleted (Underutilized), one per pass, each after ``consolidateAfter``; the pool may end
smaller than it began (the plan calls it elastic).

Volume topology: a pod whose bound PersistentVolume is zonal can only run in the volume's zone,
and Karpenter's scheduling simulation knows it (kubernetes-sigs/karpenter
pkg/controllers/provisioning/scheduling/volumetopology.go: the PV's required node affinity
becomes a requirement of the node the pod may go to, an existing one in ``ExistingNode.CanAdd``
or a new NodeClaim's, whose zone it picks, in ``NodeClaim.CanAdd``). So a drifted node's
replacement is launched in the zone of the zonal volumes attached to it (any zone, as the cloud
balances them, when it holds none), only a node in that zone is taken as its replacement, and
its pods fit elsewhere only if its volumes' pods fit on the other nodes of their zone.

Simplifications (docs/fidelity.md): midair does not ask a candidate's budgets before it
disrupts it (Karpenter passes over a node whose pods' budgets allow no eviction now; midair's
drain waits on them instead); a node holding a do-not-disrupt pod is drained only when its
grace period has run, all at once; "fit elsewhere" compares total requests with total room, and
the requests of its zonal volumes' pods (one pod per attached volume) with the total room in
their zone.

Its books are in the memo (``karpenter``): each disruption in flight (the node, its reason,
since when, the nodes at the target it knew of, the zone its replacement must be in and why, its
replacement), and when nodes were first seen empty or underutilized.
"""

from __future__ import annotations

from models.actions import Action, DeleteNode, Drain, ProvisionNode, Taint
from models.drain import DrainOptions
from models.karpenter import DISRUPTED_TAINT, DO_NOT_DISRUPT, DRIFTED, EMPTY, UNDERUTILIZED, budget_left
from models.plan import Phase, Plan
from models.prechecks.base import Traits
from models.progress import at_least
from models.sorting import natural_key
from models.state import DELETING, DRAIN_FAILED, DRAINING, IDLE, NO_SCHEDULE, PROVISION_FAILED, PROVISIONING
from models.state import ClusterState, Node, NodePool, Resources
from models.strategies.base import Decision, Strategy, halt
from models.strategies.params import KARPENTER_PARAMS
from models.strategies.workers import provision_failures
from models.strategies.zones import attached_zonal, volume_zone


def initialized(n: Node) -> bool:
    return n.phase not in (PROVISIONING, PROVISION_FAILED, DELETING)


def marked(n: Node) -> bool:
    return n.has_taint(DISRUPTED_TAINT)


def disrupting(n: Node) -> bool:
    """Uses up the budget: NotReady, or marked for disruption (BuildDisruptionBudgetMapping)."""
    return not n.ready or marked(n) or n.phase in (DRAINING, DRAIN_FAILED)


def blocked(n: Node, grace: float) -> str | None:
    """Why Karpenter leaves this node alone (None: it may disrupt it)."""
    if n.annotation(DO_NOT_DISRUPT) == "true":
        return f"node {n.name} is annotated {DO_NOT_DISRUPT}: \"true\""
    if n.do_not_disrupt and not grace:
        return (f"pod {n.do_not_disrupt[0]} on {n.name} is annotated {DO_NOT_DISRUPT}: \"true\" (with a "
                "terminationGracePeriod Karpenter would disrupt it anyway)")
    return None


def room(nodes: list[Node]) -> tuple[int, int, int]:
    """The free CPU, memory and pod slots of ``nodes``."""
    return (sum(n.allocatable.cpu_m - n.requested.cpu_m for n in nodes),
            sum(n.allocatable.memory - n.requested.memory for n in nodes),
            sum(n.allocatable.pods - n.requested.pods for n in nodes))


class VolumeTopology:
    """Where the pods of a node may go, from the zonal volumes attached to it: a pod whose bound volume is
    zonal only in the volume's zone (karpenter volumetopology.go: the PV's required node affinity, its first
    term, is a requirement of the node it goes to)."""

    def __init__(self, view: ClusterState):
        self.view = view
        self.attached = attached_zonal(view) if view.volumes else {}
        self._requests: dict[str, Resources] | None = None

    def zone(self, pool: NodePool, n: Node) -> tuple[str, str]:
        """(zone, why) a replacement for ``n`` must be launched in; ("", "") lets the cloud balance the zones."""
        return volume_zone(self.attached, pool, n.name) if self.attached else ("", "")

    def needs(self, n: Node) -> dict[str, Resources]:
        """The requests, by zone, of the pods on ``n`` that only a node in that zone takes: one pod of the
        volume's workload per zonal volume attached to ``n``."""
        if n.name not in self.attached:
            return {}
        if self._requests is None:
            self._requests = {w.key: w.requests for w in self.view.workloads}
        out: dict[str, Resources] = {}
        for v in self.attached[n.name]:
            if v.zone and v.workload in self._requests:
                out[v.zone] = out.get(v.zone, Resources()) + self._requests[v.workload]
        return out


def fits(n: Node, others: list[Node], volumes: VolumeTopology | None = None) -> bool:
    """Would the pods a drain of ``n`` moves fit in the room of ``others`` (total against total), and those of its
    zonal volumes in the room of ``others`` in their volume's zone (Karpenter's scheduling simulation honours
    volume topology: existingnode.go ``ExistingNode.CanAdd``)?"""
    if not Resources(*room(others)).fits(n.reschedulable):
        return False
    needs = volumes.needs(n) if volumes is not None else {}
    return all(Resources(*room([o for o in others if o.zone == zone])).fits(need) for zone, need in needs.items())


class KarpenterDrift(Strategy):
    NAME = "karpenter-drift"
    PARAMS = KARPENTER_PARAMS

    @classmethod
    def traits(cls, params: dict) -> Traits:
        return Traits(cls.NAME, creates_nodes=True, drains=True, in_place=False)

    def decide_workers(self, view: ClusterState, plan: Plan, phase: Phase, memo: dict) -> Decision:
        if not view.api_available:
            return Decision(memo=memo, notes=("workers wait for the API",))
        books = {k: dict(v) for k, v in memo.get("karpenter", {}).items()}
        books.setdefault("commands", {})
        books.setdefault("seen", {})
        failures, joined = dict(memo.get("provision_failures", {})), dict(memo.get("joined", {}))
        actions: list[Action] = []
        notes: list[str] = []
        wake: list[float] = []
        volumes = VolumeTopology(view)
        for pool in view.pools:
            stop = self.pool_step(view, phase, pool, books, failures, joined, memo, actions, notes, wake, volumes)
            if stop is not None:
                return stop
        memo = {**memo, "karpenter": books, "provision_failures": failures, "joined": joined}
        return Decision(tuple(actions), memo, wake_at=min(wake, default=None), notes=tuple(notes))

    # -- one pool's pass ------------------------------------------------------------------------
    def pool_step(self, view, phase, pool, books, failures, joined, memo, actions, notes, wake,
                  volumes: VolumeTopology) -> Decision | None:
        version = phase.version
        now = view.observed_at
        nodes = list(view.nodes_in_name_order(pool.name))
        commands = {k: dict(v) for k, v in books["commands"].items() if view.has_node(k) and
                    view.node(k).pool == pool.name}
        stop = provision_failures(pool.name, [n for n in nodes if at_least(n.kubelet, version)], failures, joined,
                                  memo, actions)
        if stop:
            return stop
        # a disruption whose replacement must be in a zone takes a Ready node there before one that may take any
        for name, cmd in sorted(commands.items(), key=lambda kv: not kv[1].get("zone")):
            actions.extend(self.follow(view, view.node(name), cmd, commands, nodes, version, now, wake))
        counted = [n for n in nodes if initialized(n)]
        busy = sum(1 for n in counted if disrupting(n))
        wall = view.wall_time
        started = self.drift(pool, nodes, counted, busy, commands, version, now, wall, actions, notes, volumes)
        static = self.params["consolidation"] == "off"
        if not static:
            busy = sum(1 for n in counted if disrupting(n)) + started
            self.consolidate(pool, nodes, counted, busy, commands, books["seen"], now, wall, actions, bool(started),
                             volumes)
        books["commands"].update(commands)
        for gone in [k for k in books["commands"] if not view.has_node(k)]:
            del books["commands"][gone]
        drifted = [n for n in nodes if not at_least(n.kubelet, version) and n.phase != DELETING]
        stuck = [blocked(n, self.params["terminationGracePeriod"]) for n in drifted if n.name not in commands]
        if drifted and all(stuck) and not commands and not any(isinstance(a, (ProvisionNode, Drain)) for a in actions):
            return halt(memo, f"pool {pool.name}: Karpenter will not disrupt the drifted nodes left: {stuck[0]}")
        return None

    def drift(self, pool, nodes, counted, busy, commands, version, now, wall, actions, notes,
              volumes: VolumeTopology) -> int:
        """Start the disruption of drifted nodes, as many as the budgets allow; how many started."""
        left = budget_left(self.params["budgets"], len(counted), busy, wall, DRIFTED)
        grace = self.params["terminationGracePeriod"]
        candidates = [n for n in counted if not at_least(n.kubelet, version) and n.phase == IDLE and not marked(n)
                      and n.name not in commands and blocked(n, grace) is None]
        candidates.sort(key=lambda n: (n.pods > 0, natural_key(n.name)))  # empty candidates first
        started = 0
        at_target = [n.name for n in nodes if at_least(n.kubelet, version)]
        for n in candidates:
            if started >= left:
                if not started:
                    notes.append(f"pool {pool.name}: the disruption budgets allow no more drifted node now")
                break
            others = [o for o in counted if o is not n and not disrupting(o) and o.name not in commands]
            needs = self.params["consolidation"] == "off" or (n.pods > 0 and not fits(n, others, volumes))
            zone, why = volumes.zone(pool, n) if needs else ("", "")
            commands[n.name] = {"reason": DRIFTED, "since": now, "known": at_target, "replacement": None,
                                "needs": needs, "zone": zone, "because": why}
            actions.append(Taint(f"drifted: kubelet {n.kubelet} is below {version}; Karpenter disrupts it "
                                 f"({'a replacement is launched first' if needs else 'its pods fit on the other nodes'})",
                                 n.name, DISRUPTED_TAINT, NO_SCHEDULE))
            if needs:
                actions.append(replacement(f"replacement for drifted {n.name} in pool {pool.name}", pool.name,
                                           version, zone, why))
            started += 1
        return started

    def consolidate(self, pool, nodes, counted, busy, commands, seen, now, wall, actions, drifting: bool,
                    volumes: VolumeTopology) -> None:
        """Empty nodes (and, whenEmptyOrUnderutilized, nodes whose pods fit elsewhere) go, within the budgets."""
        replacements = {c["replacement"] for c in commands.values() if c.get("replacement")}
        idle = [n for n in counted if n.phase == IDLE and not marked(n) and n.ready and n.name not in replacements
                and n.name not in commands and blocked(n, 0) is None]
        after = self.params["consolidateAfter"]
        empty = [n for n in idle if n.pods == 0]
        policy = self.params["consolidation"]
        under = [n for n in idle if n.pods > 0 and policy == "whenEmptyOrUnderutilized"
                 and fits(n, [o for o in counted if o is not n and not disrupting(o) and o.name not in commands],
                          volumes)]
        for n in idle:
            key = f"{pool.name}/{n.name}"
            if n in empty or n in under:
                seen.setdefault(key, now)
            else:
                seen.pop(key, None)
        left = budget_left(self.params["budgets"], len(counted), busy, wall, EMPTY)
        for n in [n for n in empty if now - seen[f"{pool.name}/{n.name}"] >= after][:left]:
            commands[n.name] = {"reason": EMPTY, "since": now, "known": [], "replacement": None, "needs": False}
            actions.append(Taint(f"empty: Karpenter consolidates {n.name} (its pods run elsewhere)", n.name,
                                 DISRUPTED_TAINT, NO_SCHEDULE))
            busy += 1
        if drifting or any(c["reason"] == UNDERUTILIZED for c in commands.values()):
            return  # one consolidation at a time, after the drifted nodes' turn
        if budget_left(self.params["budgets"], len(counted), busy, wall, UNDERUTILIZED) <= 0:
            return
        for n in sorted(under, key=lambda n: (n.pods, natural_key(n.name))):
            if now - seen[f"{pool.name}/{n.name}"] >= after:
                commands[n.name] = {"reason": UNDERUTILIZED, "since": now, "known": [], "replacement": None,
                                    "needs": False}
                actions.append(Taint(f"underutilized: the pods of {n.name} fit on the pool's other nodes; Karpenter "
                                     "consolidates it", n.name, DISRUPTED_TAINT, NO_SCHEDULE))
                return

    # -- a disruption in flight -------------------------------------------------------------------
    def follow(self, view, n: Node, cmd: dict, commands: dict, nodes, version, now, wake) -> list[Action]:
        """The next step of a node being disrupted: its replacement, then its drain, then its deletion."""
        grace = self.params["terminationGracePeriod"]
        if n.phase == DELETING or not marked(n):
            return []
        if cmd["needs"] and cmd["replacement"] is None:
            taken = {c["replacement"] for c in commands.values() if c.get("replacement")}
            known = set(cmd["known"])
            zone = cmd.get("zone", "")  # its pods' volumes need their new node there: only a node there replaces it
            ready = [o for o in nodes if at_least(o.kubelet, version) and o.name not in known and o.name not in taken
                     and o.name not in commands and o.phase == IDLE and o.ready and (not zone or o.zone == zone)]
            if not ready:
                waiting = [o for o in nodes if (o.phase == PROVISIONING or (o.phase == IDLE and not o.ready))
                           and (not zone or o.zone == zone)]
                owed = sum(1 for c in commands.values() if c["needs"] and c["replacement"] is None
                           and (not zone or c.get("zone") == zone))
                if len(waiting) < owed and not any(o.phase == PROVISION_FAILED for o in nodes):
                    return [replacement(f"replacement for drifted {n.name} in pool {n.pool} (again)", n.pool, version,
                                        zone, cmd.get("because", ""))]
                return []
            cmd["replacement"] = ready[0].name
            commands[n.name] = cmd
        cmd.setdefault("deleting_since", now)
        commands[n.name] = cmd
        if n.phase == DRAINING:
            return []
        if n.phase == DRAIN_FAILED:
            return [self._drain(n, f"terminationGracePeriod {grace:g}s has run: the rest of {n.name}'s pods are "
                                   "deleted past their budgets", 0.0, force=True)]
        if n.do_not_disrupt:
            until = cmd["deleting_since"] + grace
            if now < until:
                wake.append(until)
                return []
            return [self._drain(n, f"terminationGracePeriod {grace:g}s has run: {n.name} is drained although pod "
                                   f"{n.do_not_disrupt[0]} is annotated {DO_NOT_DISRUPT}", 0.0, force=True)]
        if n.pods == 0:
            state = "is drained" if not n.schedulable else "holds no pod to move"
            return [DeleteNode(f"{n.name} {state} ({cmd['reason']}): Karpenter deletes it", n.name)]
        return [self._drain(n, f"disrupt {n.name} ({cmd['reason']})" + (f": its replacement {cmd['replacement']} is "
                               "Ready" if cmd["replacement"] else "") + "; evict its pods through their budgets",
                            grace)]

    @staticmethod
    def _drain(n: Node, why: str, timeout: float, force: bool = False) -> Drain:
        return Drain(why, n.name, timeout, force, DrainOptions())


def replacement(what: str, pool: str, version, zone: str, why: str) -> ProvisionNode:
    """A replacement's ``ProvisionNode``: in ``zone`` (saying ``why``) when its pods' volumes need one, else where the
    cloud balances the pool's zones."""
    return ProvisionNode(f"{what}; {why}" if zone else what, pool, version, zone)
