"""``replace``: rolling replacement of nodes, as Cluster API's MachineDeployment rolls machines.

New nodes at the target are added while a pool has fewer than its size plus maxSurge;
old nodes are drained and deleted while the pool keeps at least its size minus
maxUnavailable available. Replacement is atomic per node, but every pod on an old node
is rebuilt elsewhere, local disk data is lost and node IPs change.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.actions import Action, DeleteNode
from models.plan import Phase, Plan
from models.prechecks.base import Traits
from models.sorting import natural_key
from models.state import DELETING, DRAIN_FAILED, IDLE, ClusterState, Node
from models.strategies.base import Decision, Strategy, halt
from models.strategies.params import REPLACE_PARAMS
from models.strategies.zones import new_node
from models.strategies.waves import Waves, pools_in_order
from models.strategies.windows import window_closed
from models.strategies.workers import (
    NEW_NODE_READY_GRACE_S,
    PROVISION_ATTEMPTS,
    SKIP,
    BatchGate,
    Listed,
    drain,
    live_count,
    on_drain_failed,
    mark_old_nodes,
    old_nodes_held,
    in_name_order,
    pool_in_order,
    provision_failures,
    skipped_halt,
    unready_new_nodes,
)


def machines_allowed(size: int, surge: int, machines: int) -> int:
    """How many machines a pool of ``size`` may still add with ``surge`` above it, holding ``machines`` now.

    Cluster API counts every machine of a MachineDeployment's MachineSets, those being deleted too, against
    its replicas plus maxSurge (mdutil.TotalMachineSetsReplicaSum: max(spec, status) replicas, status counting
    deleting machines since kubernetes-sigs/cluster-api#3434, which fixed rollouts that ran more machines
    than that): a replacement starts once the machine it replaces is gone."""
    return size + surge - machines


def scale_down_room(view: ClusterState, pool, batch, old: list[Node], removing: set) -> tuple[int, int]:
    """How many available old nodes a roll may take out now, and how many unavailable ones (NotReady, cordoned).

    As Cluster API's reconcileOldMachineSets: available machines may go while the pool keeps ``size -
    maxUnavailable`` available (scaleDownOldMachineSetsForRollingUpdate); unhealthy old machines are cleaned
    up first, but no more than ``maxScaledDown``, the machines the pool keeps (none on its way out) less
    that minimum less its new machines not yet available (cleanupUnhealthyReplicas; kubernetes
    pkg/controller/deployment/rolling.go does the same). Both come to the same thing but for the
    unavailable old nodes, which count towards the second."""
    room = view.available_in(pool.name) - (pool.count - batch.unavailable)  # available: none deleting
    unavailable_old = sum(1 for n in old if not n.available and n.name not in removing)
    return room, room + unavailable_old


def deleting(view: ClusterState, pool: str) -> int:
    """How many of the pool's machines are being deleted (from the view's counts, without its node list)."""
    return view.in_phase(pool, DELETING)


@dataclass
class Books:
    """What a replacing strategy remembers between decisions (kept in the memo)."""

    removing: set
    skipped: set
    failures: dict
    joined: dict
    unready: dict  # new node -> when it was first seen NotReady
    drained: dict  # old node -> when it was first seen drained (postDrainWait)

    @classmethod
    def load(cls, view: ClusterState, memo: dict) -> Books:
        return cls({n for n in memo.get("removing", ()) if view.has_node(n)}, set(memo.get("skipped", ())),
                   dict(memo.get("provision_failures", {})), dict(memo.get("joined", {})),
                   dict(memo.get("unready", {})), {k: v for k, v in memo.get("drained", {}).items() if view.has_node(k)})

    def save(self, memo: dict, gate: BatchGate) -> dict:
        out = {**memo, "removing": sorted(self.removing), "provision_failures": self.failures,
               "joined": self.joined, "skipped": sorted(self.skipped), "unready": self.unready}
        if self.drained:
            out["drained"] = self.drained
        else:
            out.pop("drained", None)
        return gate.save(out)


class Replace(Strategy):
    NAME = "replace"
    PARAMS = REPLACE_PARAMS

    @classmethod
    def traits(cls, params: dict) -> Traits:
        return Traits(cls.NAME, creates_nodes=True, drains=True, in_place=False)

    def pool_nodes(self, view: ClusterState, pool, version, skipped: set):
        """A pool's nodes in order (not those being deleted), its old and new ones, and how many new it wants."""
        nodes = Listed(lambda: [n for n in pool_in_order(view, pool.name, self.params["order"]) if n.phase != DELETING])
        old, new = self.old_and_new(view, pool, version, skipped, nodes)
        return nodes, old, new, pool.count - (sum(1 for n in nodes if n.name in skipped) if skipped else 0)

    def old_and_new(self, view: ClusterState, pool, version, skipped: set, nodes: list | None = None):
        """A pool's nodes below ``version`` (but ``skipped``) and at it or later, in order, none being deleted."""
        want = version._k  # at_least(n.kubelet, version), asked of every node of the pool at every decision
        by_kubelet = view.nodes_by_kubelet(pool.name) if in_name_order(self.params["order"]) else {}
        older = [g for v, g in by_kubelet.items() if v._k < want]
        newer = [g for v, g in by_kubelet.items() if v._k >= want]
        if len(older) <= 1 and len(newer) <= 1 and by_kubelet:  # each side one version: the view has them by name
            old = [n for n in older[0] if n.name not in skipped] if older and skipped else list(older[0] if older else ())
            return old, list(newer[0]) if newer else []
        if nodes is None:
            nodes = [n for n in pool_in_order(view, pool.name, self.params["order"]) if n.phase != DELETING]
        return ([n for n in nodes if n.kubelet._k < want and n.name not in skipped],
                [n for n in nodes if n.kubelet._k >= want])

    def decide_workers(self, view: ClusterState, plan: Plan, phase: Phase, memo: dict) -> Decision:
        if not view.api_available:
            return Decision(memo=memo, notes=("workers wait for the API",))
        version = phase.version
        books = Books.load(view, memo)
        gate = BatchGate(view, memo, self.params, version)
        waves = Waves(view, memo, self.params, str(version))
        for pool in pools_in_order(view, self.params):
            nodes, old, new, wanted = self.pool_nodes(view, pool, version, books.skipped)
            settled = all(n.phase == IDLE and n.ready for n in new) and len(new) >= wanted
            if not old and settled:
                waves.finished(pool.name)
                continue
            go = waves.hold(pool.name)
            if go is not True:
                return halt(memo, go) if go else Decision(memo=books.save(memo, gate), wake_at=waves.wake_at,
                                                          notes=(waves.note,))
            actions: list[Action] = []
            stop = (self._provision_failures(pool.name, new, books, memo, actions, view, version)
                    or self._unready_new(pool.name, new, books, memo, actions, gate, view, version)
                    or self._removals(view, pool.name, old, books, version, memo, actions, gate))
            if stop:
                return stop
            batch = plan.batch(pool.name)
            actions += mark_old_nodes(old, self.params, self.surge_ready(view, pool.name, version, old, batch.surge))
            gone = {a.node for a in actions if isinstance(a, DeleteNode)}
            live_new = live_count(view, pool.name, gone, new, version)
            machines = view.live_in(pool.name) + deleting(view, pool.name)  # see machines_allowed
            to_add = min(wanted - live_new, machines_allowed(pool.count, batch.surge, machines))
            planned: list[str] = []
            if window_closed(view, self.params) is not None:  # outside the windows: refill, but start no surge
                to_add = min(to_add, machines_allowed(pool.count, 0, machines))
            for _ in range(max(0, to_add)):
                actions.append(new_node(view, pool, version, nodes, f"pool {pool.name}: {live_new} of {wanted} "
                                        f"nodes at {version}; maxSurge {batch.surge} allows "
                                        f"{pool.count + batch.surge} nodes", planned))
            busy = bool(books.removing & {n.name for n in old}) or any(n.phase != IDLE for n in new)
            allowed = gate.open(pool.name, busy)
            if isinstance(allowed, str):
                return halt(memo, allowed)
            can_remove, cleanup = scale_down_room(view, pool, batch, old, books.removing)
            slots = len(old)  # drains this decision may start in all
            if self.params.get("inFlight") == "maxUnavailable":  # EKS: maxUnavailable old nodes at a time
                slots = batch.unavailable - sum(1 for n in old if n.name in books.removing)
            slots = gate.limit(pool.name, slots)  # a canary goes alone
            if old_nodes_held(old, self.params):
                allowed = False  # oldNodes: cordon drains once the surge is up and every old node is marked
            for n in old if allowed else ():
                if slots <= 0:
                    break
                if n.name in books.removing or n.phase != IDLE:
                    continue
                if n.available:
                    if can_remove <= 0:
                        continue
                    can_remove -= 1
                    why = f"pool {pool.name} keeps at least {pool.count - batch.unavailable} available nodes"
                else:
                    if cleanup <= 0:
                        continue
                    cleanup -= 1
                    why = (f"{n.name} is unavailable: it goes first, as the pool keeps at least "
                           f"{pool.count - batch.unavailable} available nodes with its new ones")
                slots -= 1
                actions.append(drain(n, self.params, f"replace {n.name} (kubelet {n.kubelet}): {why}"))
                books.removing.add(n.name)
                gate.started(pool.name)
            return self.decision(actions, books, memo, gate, nodes)
        return self.finished(books, memo)

    @staticmethod
    def surge_ready(view: ClusterState, pool: str, version, old: list[Node], surge: int) -> bool:
        """Are the pool's surge nodes up (Ready), as many as the roll adds before it takes old ones away?
        (Its new nodes Ready and idle: the view counts them.)"""
        return view.settled_in(pool, version) >= min(surge, len(old))

    def decision(self, actions: list, books: Books, memo: dict, gate: BatchGate, nodes) -> Decision:
        memo = books.save(memo, gate)
        if books.skipped and not actions and not books.removing and gate.wake_at is None and not any(
                n.phase != IDLE for n in nodes if n.name not in books.skipped):
            return skipped_halt(memo)  # what is left cannot move past the nodes left cordoned
        return Decision(tuple(actions), memo, wake_at=gate.wake_at, notes=(gate.note,) if gate.note else ())

    def finished(self, books: Books, memo: dict) -> Decision:
        if books.skipped:
            return skipped_halt(memo)
        return Decision(memo=memo, notes=("waiting for new nodes to become Ready",))

    def _provision_failures(self, pool: str, new: list[Node], books: Books, memo: dict, actions: list,
                            view: ClusterState, version) -> Decision | None:
        """``provision_failures`` of ``new``: the pool's nodes at ``version`` or later, none being deleted."""
        return provision_failures(pool, new, books.failures, books.joined, memo, actions, view, version)

    def _unready_new(self, pool: str, new: list[Node], books: Books, memo: dict, actions: list,
                     gate: BatchGate, view: ClusterState, version) -> Decision | None:
        """Delete new nodes that stayed NotReady after joining (a crashed machine, a broken network);
        the pool then gets another. They count as failed additions: three in a row halt."""
        if not books.unready and not view.unready_in(pool, version):
            return None  # none is NotReady, none was: nothing to look at (the view counts them)
        sick, wake = unready_new_nodes(new, books.unready, gate.now)
        if wake is not None:
            gate.wake(wake)
        for name in sick:
            books.failures[pool] = books.failures.get(pool, 0) + 1
            why = f"new node {name} stayed NotReady for {NEW_NODE_READY_GRACE_S:g}s after joining"
            if books.failures[pool] >= PROVISION_ATTEMPTS:
                return halt(memo, f"could not add a node to pool {pool} in {books.failures[pool]} attempts in a row: "
                                  f"{why}")
            actions.append(DeleteNode(f"{why}: delete it and add another", name, force=True))
            del books.unready[name]
        return None

    def in_removal(self, view: ClusterState, pool: str, old: list[Node], books: Books, version) -> list[Node]:
        """The old nodes on their way out (``books.removing``), in the order of ``old`` (the pool's nodes not
        being deleted below ``version``, but those skipped): when ``old`` is by name, found by name (few
        are on their way out; the pool may be thousands)."""
        if not books.removing:
            return []
        if in_name_order(self.params["order"]) and 4 * len(books.removing) < len(old):  # (else a pass is cheaper)
            want = version._k
            found = [view.node(name) for name in books.removing if view.has_node(name)]
            found = [n for n in found if n.pool == pool and n.phase != DELETING and n.kubelet._k < want
                     and n.name not in books.skipped]
            keys = {natural_key(n.name) for n in found}
            if len(keys) == len(found):  # (two names equal as numbers, w-01 and w-1, keep the pool's order)
                return sorted(found, key=lambda n: natural_key(n.name))
        return [n for n in old if n.name in books.removing]

    def _removals(self, view: ClusterState, pool: str, old: list[Node], books: Books, version, memo: dict,
                  actions: list, gate: BatchGate) -> Decision | None:
        """The next step of every old node on its way out (drained: delete; drain failed: the undrainable knob)."""
        for n in self.in_removal(view, pool, old, books, version):
            step = self._removal_step(n, version, memo)
            if isinstance(step, DeleteNode) and not step.force and self.params.get("postDrainWait"):
                since = books.drained.setdefault(n.name, gate.now)
                until = since + self.params["postDrainWait"]
                if gate.now < until:  # EKS waits after the drain so load balancers stop sending to the node
                    gate.wake(until)
                    continue
                step = DeleteNode(f"{step.reason}, {self.params['postDrainWait']:g}s after its drain (postDrainWait)",
                                  n.name)
            detach = self.params.get("nodeVolumeDetachTimeout")
            if isinstance(step, DeleteNode) and not step.force and detach is not None and n.volumes:
                since = books.drained.setdefault(n.name, gate.now)
                if not detach or gate.now < since + detach:  # Cluster API waits for its volumes to detach
                    if detach:
                        gate.wake(since + detach)
                    continue
                step = DeleteNode(f"{step.reason}, though {n.volumes} volume(s) are still attached after "
                                  f"nodeVolumeDetachTimeout {detach:g}s", n.name)
            if step == SKIP:
                books.skipped.add(n.name)
                books.removing.discard(n.name)
            elif isinstance(step, Decision):
                return step
            elif step is not None:
                actions.append(step)
        return None

    def _removal_step(self, n: Node, version, memo: dict):
        if n.phase == DRAIN_FAILED:
            return on_drain_failed(n, self.params, memo)
        if n.phase == IDLE and not n.schedulable and n.pods == 0:
            return DeleteNode(f"{n.name} is drained: delete it (its replacement runs {version})", n.name)
        if n.phase == IDLE and n.schedulable:
            return drain(n, self.params, f"{n.name} is being replaced but schedulable again: drain it")
        return None
