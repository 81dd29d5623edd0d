"""Helpers for the worker movement that every node method shares: node order, drains and
their failures, what old nodes are told when a roll starts, and the gate between batches
(soak time, kOps-style validation)."""

from __future__ import annotations

from collections.abc import Sequence

from models.actions import Action, DeleteNode, Drain, Taint
from models.drain import DrainOptions
from models.sorting import natural_key
from models.state import DELETING, IDLE, NO_SCHEDULE, PREFER_NO_SCHEDULE, PROVISION_FAILED, ClusterState, Node
from models.strategies.base import Decision, halt
from models.strategies.windows import window_closed

SKIP = "skip"  # on_drain_failed's answer for undrainable: cordon-and-continue
VALIDATE_RECHECK_S = 10.0
PROVISION_ATTEMPTS = 3
# A new node NotReady this long after joining is taken as broken (a MachineHealthCheck's
# nodeStartupTimeout and unhealthy-condition timeout play this part in Cluster API).
NEW_NODE_READY_GRACE_S = 300.0


def by_name(nodes) -> list[Node]:
    return sorted(nodes, key=lambda n: natural_key(n.name))


def ordered(nodes, order: str) -> list[Node]:
    """Nodes in the order a strategy takes them (the ``order`` knob)."""
    if order == "zone":
        return sorted(nodes, key=lambda n: (n.zone, natural_key(n.name)))
    if order == "least-loaded":
        return sorted(nodes, key=lambda n: (n.pods, natural_key(n.name)))
    return by_name(nodes)


def in_name_order(order: str) -> bool:
    """Does the ``order`` knob take a pool's nodes by name (so the view's by-name lists serve)?"""
    return order not in ("zone", "least-loaded")


def pool_in_order(view: ClusterState, pool: str, order: str):
    """A pool's nodes in the order a strategy takes them (the ``order`` knob): ``ordered`` of ``view.nodes_in``."""
    return view.nodes_in_name_order(pool) if in_name_order(order) else ordered(view.nodes_in(pool), order)


class Listed(Sequence):
    """A list made the first time it is looked at (a pool's nodes, which a decision often needs not)."""

    def __init__(self, make):
        self._make = make
        self._items: list | None = None

    def _list(self) -> list:
        if self._items is None:
            self._items = self._make()
        return self._items

    def __getitem__(self, i):
        return self._list()[i]

    def __len__(self) -> int:
        return len(self._list())

    def __iter__(self):
        return iter(self._list())


def live_count(view: ClusterState, pool: str, gone: set, new: list | None = None, version=None) -> int:
    """How many of a pool's nodes not being deleted are neither provision-failed nor deleted by this decision
    (``gone``); with ``new`` (the pool's nodes at ``version`` or later, none being deleted), how many of those.
    From the view's counts, without a look at every node."""
    if new is None:
        count = view.live_in(pool) - view.in_phase(pool, PROVISION_FAILED)
    else:
        count = len(new) - (sum(1 for n in new if n.phase == PROVISION_FAILED) if view.in_phase(pool, PROVISION_FAILED)
                            else 0)
    for name in gone:
        n = view.node(name) if view.has_node(name) else None
        if (n is not None and n.pool == pool and n.phase not in (DELETING, PROVISION_FAILED)
                and (new is None or n.kubelet._k >= version._k)):
            count -= 1
    return count


def drain(node: Node, params: dict, why: str, force: bool = False) -> Drain:
    return Drain(why, node.name, float(params["drainTimeout"]), force, params.get("drain") or DrainOptions())


# the taint midair puts on a pool's old nodes (oldNodes); kOps' is kops.k8s.io/scheduled-for-update
OLD_NODE_TAINT = "midair.io/old-node"
OLD_NODE_EFFECT = {"preferNoSchedule": PREFER_NO_SCHEDULE, "cordon": NO_SCHEDULE}
OLD_NODE_WHY = {
    "preferNoSchedule": "oldNodes: preferNoSchedule (kOps taints every node to be updated): pods evicted in this roll "
                        "go to an old node only when no new one fits",
    "cordon": "oldNodes: cordon (EKS managed node groups mark old nodes unschedulable once the surge nodes are "
              "Ready): no pod evicted in this roll lands on an old node",
}


def mark_old_nodes(old: Sequence[Node], params: dict, surge_ready: bool) -> list[Action]:
    """Taint the pool's old nodes as the ``oldNodes`` knob says (``cordon``: only once ``surge_ready``)."""
    mode = params.get("oldNodes", "schedulable")
    if mode not in OLD_NODE_EFFECT or (mode == "cordon" and not surge_ready):
        return []
    return [Taint(OLD_NODE_WHY[mode], n.name, OLD_NODE_TAINT, OLD_NODE_EFFECT[mode])
            for n in old if not n.has_taint(OLD_NODE_TAINT)]


def old_nodes_held(old: list[Node], params: dict) -> bool:
    """With ``oldNodes: cordon``, drains wait until every old node is marked (EKS drains after its scale-up)."""
    return params.get("oldNodes") == "cordon" and any(not n.has_taint(OLD_NODE_TAINT) for n in old)


def on_drain_failed(node: Node, params: dict, memo: dict) -> Action | Decision | str:
    """What the ``undrainable`` knob says to do about a drain that timed out (``SKIP``: leave it cordoned)."""
    policy = params["undrainable"]
    timeout = params["drainTimeout"]
    if policy == "fail":
        return halt(memo, f"drain of {node.name} did not finish within {timeout:g}s: {node.message} "
                          "(undrainable: fail)")
    if policy == "force":
        return drain(node, params, f"drain of {node.name} timed out ({node.message}); undrainable: force deletes "
                                   "the remaining pods despite their budgets", force=True)
    if policy == "cordon-and-continue":
        return SKIP
    return drain(node, params, f"drain of {node.name} timed out ({node.message}); undrainable: wait, so drain again")


def skipped_halt(memo: dict) -> Decision:
    names = ", ".join(memo.get("skipped", ()))
    return halt(memo, f"left {len(memo.get('skipped', ()))} node(s) cordoned on their old version because they "
                      f"could not be drained (undrainable: cordon-and-continue): {names}")


def provision_failures(pool: str, new: list[Node], failures: dict, joined: dict, memo: dict,
                       actions: list, view: ClusterState | None = None, version=None,
                       settled: int | None = None) -> Decision | None:
    """Clean up machines that never joined (``failures`` and ``joined`` are the memo's counts,
    updated in place); three failures in a row halt. With ``view`` and ``version`` (``new`` then being
    the pool's nodes at ``version`` or later, but those being deleted) the counts come from the view;
    ``settled`` (with ``view``) says how many of ``new`` are Ready and idle when ``new`` is fewer."""
    if settled is not None:
        count = settled
    elif view is not None:
        count = view.settled_in(pool, version)  # Ready and idle are never being deleted
    else:
        count = sum(1 for n in new if n.ready and n.phase == IDLE)
    if count > joined.get(pool, 0):
        failures[pool] = 0  # a node joined: failures only count while none succeeds
    joined[pool] = count
    for n in new if view is None or view.failed_in(pool) else ():
        if n.phase == PROVISION_FAILED:
            failures[pool] = failures.get(pool, 0) + 1
            if failures[pool] >= PROVISION_ATTEMPTS:
                return halt(memo, f"could not add a node to pool {pool} in {failures[pool]} attempts in a row: "
                                  f"{n.message}")
            actions.append(DeleteNode(f"clean up {n.name}, which never became a node: {n.message}", n.name))
    return None


def unready_new_nodes(new: list[Node], since: dict, now: float) -> tuple[list[str], float | None]:
    """New nodes that have been NotReady for ``NEW_NODE_READY_GRACE_S`` since they joined, and
    when the next one's grace runs out. ``since`` (node name to when it was first seen
    NotReady, kept in the memo) is updated in place; a node that turns Ready is forgiven."""
    joined = {n.name for n in new if n.phase == IDLE}
    for n in new:
        if n.phase == IDLE and not n.ready:
            since.setdefault(n.name, now)
        else:
            since.pop(n.name, None)
    for name in [k for k in since if k not in joined]:
        del since[name]
    sick = [name for name, t in sorted(since.items()) if now - t >= NEW_NODE_READY_GRACE_S]
    waiting = [t + NEW_NODE_READY_GRACE_S for name, t in since.items() if name not in sick]
    return sick, min(waiting, default=None)


def healthy(view: ClusterState, ignore: frozenset[str] = frozenset()) -> str | None:
    """Why the cluster is not healthy right now (None: it is): a node NotReady (other than those in
    ``ignore``), a workload below its budget."""
    for n in view.nodes:
        if not n.ready and n.phase == IDLE and n.name not in ignore:
            return f"node {n.name} is NotReady"
    for w in view.workloads:
        if w.status is None:
            continue
        want = w.pdb.desired_healthy(w.status.desired) if w.pdb is not None else w.status.desired
        if w.status.ready < want:
            return f"workload {w.key} has {w.status.ready} Ready of the {want} it needs"
    return None


class BatchGate:
    """Between batches: soak for ``soakSeconds``, then (with ``validate``) wait for a healthy cluster;
    with ``canary``, a pool's first batch is one node, followed by ``canarySoakSeconds`` and a health
    check; outside ``maintenanceWindows`` no batch starts (``models.strategies.windows``).

    With neither soak nor validation, nodes roll continuously as slots free up. With either, a pool
    works in batches: a new batch starts only once the last one is finished and the gate opens.
    The gate's state lives in the memo under ``batch``.
    """

    def __init__(self, view: ClusterState, memo: dict, params: dict, version=None):
        self.view = view
        self.now = view.observed_at
        self.params = params
        self.state = {k: dict(v) for k, v in memo.get("batch", {}).items()}
        self.batched = bool(params["soakSeconds"]) or bool(params["validate"])
        self.canary = bool(params.get("canary"))
        self.roll = str(version) if version is not None else ""
        self.wake_at: float | None = None
        self.note = ""

    def _canary_pending(self, pool: str) -> bool:
        return self.canary and self.state.get(pool, {}).get("canary") != f"done {self.roll}"

    def limit(self, pool: str, n: int) -> int:
        """How many nodes the next batch of ``pool`` may take: one while its canary has not passed."""
        return min(n, 1) if self._canary_pending(pool) else n

    def open(self, pool: str, busy: bool) -> bool | str:
        """May a new batch start in ``pool``? True, False, or a halt reason."""
        closed = window_closed(self.view, self.params)
        s = self.state.setdefault(pool, {})
        if self._canary_pending(pool) and s.get("canary") == f"running {self.roll}":
            return self._canary_gate(pool, s, busy, closed)
        if not self.batched:
            return self._window(closed)
        if busy:
            return False
        if s.get("running"):
            s["running"] = False
            s["done_at"] = self.now
        done_at = s.get("done_at")
        if done_at is None:
            return self._window(closed)
        soak_until = done_at + self.params["soakSeconds"]
        if self.now < soak_until:
            self.wake(soak_until)
            self.note = f"soaking pool {pool} until {soak_until:.0f}s"
            return False
        if self.params["validate"]:
            problem = healthy(self.view)
            if problem:
                if self.now >= soak_until + self.params["validateTimeout"]:
                    return (f"the cluster did not validate within {self.params['validateTimeout']:g}s after a batch "
                            f"in pool {pool}: {problem}")
                self.wake(self.now + VALIDATE_RECHECK_S)
                self.note = f"validating: {problem}"
                return False
        return self._window(closed)

    def _window(self, closed) -> bool:
        if closed is None:
            return True
        self.note, opens = closed
        self.wake(opens)
        return False

    def _canary_gate(self, pool: str, s: dict, busy: bool, closed) -> bool | str:
        """The canary node is out: wait for it, soak, check the cluster's health; then the pool goes on."""
        if busy:
            return False
        s.setdefault("canary_done_at", self.now)
        until = s["canary_done_at"] + self.params.get("canarySoakSeconds", 0.0)
        if self.now < until:
            self.wake(until)
            self.note = f"canary in pool {pool}: soaking until {until:.0f}s"
            return False
        problem = healthy(self.view)
        if problem:
            if self.now >= until + self.params["validateTimeout"]:
                return (f"the canary of pool {pool} did not pass within {self.params['validateTimeout']:g}s of its "
                        f"soak: {problem}")
            self.wake(self.now + VALIDATE_RECHECK_S)
            self.note = f"canary in pool {pool}: {problem}"
            return False
        s.update(canary=f"done {self.roll}", running=False)
        s.pop("canary_done_at", None)
        s.pop("done_at", None)
        return self._window(closed)

    def wake(self, at: float) -> None:
        self.wake_at = at if self.wake_at is None else min(self.wake_at, at)

    def started(self, pool: str) -> None:
        s = self.state.setdefault(pool, {})
        if self._canary_pending(pool) and s.get("canary") != f"running {self.roll}":
            s["canary"] = f"running {self.roll}"
        elif self.batched:
            s["running"] = True

    def save(self, memo: dict) -> dict:
        return {**memo, "batch": self.state} if (self.batched or self.canary) else memo
