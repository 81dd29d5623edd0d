"""``inplace``: replace the kubelet and friends on each node; its pods are not rebuilt.

The seed's in-place method: nodes are cordoned in batches of maxUnavailable, upgraded
in place (stop the kubelet, replace binaries and configuration, start it, rejoin) and
uncordoned once Ready. Pods stay where they are: none is evicted or rescheduled, no local
data is lost and node IPs stay. Their containers keep running through the kubelet
restart, except where the new kubelet restarts them (a minor upgrade that changed the
container hash, as 1.30 → 1.31 did; a new container runtime): the world decides that.
The upgrade is not atomic: a node can stop half-way. A failed node is retried
``inplaceRetries`` times; then ``onInplaceFailure`` halts the upgrade or replaces the node
(drain, delete, add a new one at the target). ``drainFirst`` drains each node first, as
upstream advises.

Each decision reads its books from the memo (``Books``), works out every node's next step
with small functions that return an action or a halt, and writes the books back: nothing
is kept on the strategy object.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.actions import Action, Cordon, DeleteNode, Uncordon, UpgradeNodeInPlace, Untaint
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
from models.strategies.inplace_nodes import Todo
from models.strategies.inplace_nodes import todo as pool_todo
from models.strategies.zones import new_node
from models.strategies.waves import Waves, pools_in_order
from models.strategies.workers import (
    OLD_NODE_TAINT,
    SKIP,
    BatchGate,
    Listed,
    drain,
    in_name_order,
    mark_old_nodes,
    on_drain_failed,
    pool_in_order,
    provision_failures,
    skipped_halt,
)

RETRY_BACKOFF_S = 60.0  # wait 60 s before the first retry, 120 s before the second, ...


@dataclass
class Books:
    """What the in-place strategy remembers between decisions (kept in the memo), and the time now."""

    now: float
    cordoned: set
    retries: dict
    retry_at: dict  # node -> when its next retry is due
    skipped: set
    replacing: set
    failures: dict
    joined: dict
    held: set  # nodes someone else cordoned before the upgrade: upgraded, never uncordoned by us

    @classmethod
    def load(cls, view: ClusterState, memo: dict) -> Books:
        held = set(memo["held"]) if "held" in memo else {n.name for n in view.nodes if not n.schedulable}
        return cls(view.observed_at, set(memo.get("cordoned", ())), dict(memo.get("retries", {})),
                   dict(memo.get("retry_at", {})), set(memo.get("skipped", ())),
                   {n for n in memo.get("replacing", ()) if view.has_node(n)},
                   dict(memo.get("provision_failures", {})), dict(memo.get("joined", {})), held)

    def save(self, memo: dict) -> dict:
        return {**memo, "cordoned": sorted(self.cordoned), "retries": self.retries,
                "replacing": sorted(self.replacing), "retry_at": self.retry_at, "skipped": sorted(self.skipped),
                "held": sorted(self.held), "provision_failures": self.failures, "joined": self.joined}


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
        books = Books.load(view, memo)
        gate = BatchGate(view, memo, self.params, phase.version)
        waves = Waves(view, memo, self.params, str(phase.version))
        want = phase.version._k  # (at_least, asked of every node of the pool at every decision)
        for pool in pools_in_order(view, self.params):
            nodes = pool_in_order(view, pool.name, self.params["order"])
            if view.in_phase(pool.name, DELETING):  # (rarely: the view counts them)
                nodes = [n for n in nodes if n.phase != DELETING]
            live = [n for n in nodes if n.phase != PROVISION_FAILED] if view.in_phase(pool.name, PROVISION_FAILED) \
                else nodes
            todo = pool_todo(view, pool.name, live, want, books, in_name_order(self.params["order"]))
            if todo.empty() and len(live) >= pool.count:
                waves.finished(pool.name)
                continue
            go = waves.hold(pool.name)
            if go is not True:
                return halt(memo, go) if go else Decision(memo=books.save(memo), wake_at=waves.wake_at,
                                                          notes=(waves.note,))
            return self.roll_pool(view, plan, phase, memo, books, gate, pool, nodes, live, todo)
        if books.skipped:
            return skipped_halt(memo)
        return Decision(memo=books.save(memo), notes=("waiting for upgraded nodes to become Ready",))

    def roll_pool(self, view, plan, phase, memo, books: Books, gate: BatchGate, pool, nodes, live,
                  todo: Todo) -> Decision:
        """One pool's next actions: follow up on the nodes in flight, then start as many as maxUnavailable allows."""
        version = phase.version
        batch = plan.batch(pool.name).unavailable
        if batch == 0:
            return halt(memo, f"in-place upgrades take nodes out of service; pool {pool.name} allows "
                              "maxUnavailable 0 (set maxUnavailable to 1 or more)")
        actions: list[Action] = []
        want = version._k
        # the pool's nodes at the version (not those we cordoned) Ready and idle: the view counts them
        ours = [view.node(name) for name in books.cordoned if view.has_node(name)]
        settled = view.settled_in(pool.name, version) - sum(1 for n in ours if n.pool == pool.name and n.ready
                                                             and n.phase == IDLE and n.kubelet._k >= want)
        new = Listed(lambda: [n for n in nodes if n.kubelet._k >= want and n.name not in books.cordoned])
        stop = provision_failures(pool.name, new, books.failures, books.joined, memo, actions, view, version, settled)
        if stop:
            return stop
        if len(live) < pool.count and not (view.in_phase(pool.name, PROVISIONING)
                                           or view.in_phase(pool.name, PROVISION_FAILED)):
            actions.append(new_node(view, pool, version, nodes, f"pool {pool.name} has {len(live)} of {pool.count} "
                                    f"nodes: add one at {version}", []))
        actions += mark_old_nodes(Listed(lambda: [n for n in live if n.kubelet._k < want]), self.params, True)
        for node in todo.all if todo.flight is None else todo.flight:  # (the others have no step to follow up)
            step = self.follow_up(node, version, books, memo)
            if isinstance(step, Decision):
                return step
            actions += step
        busy = self.busy(view, pool.name, books)
        allowed = gate.open(pool.name, busy)
        if isinstance(allowed, str):
            return halt(memo, allowed)
        missing = max(0, pool.count - len(live))  # a node being replaced is out of service too
        out = len(live) - view.available_in(pool.name)  # live nodes not available (available ones are all live)
        slots = gate.limit(pool.name, batch - out - missing)
        started = self.start_nodes(view, todo, version, books, memo, batch, pool.name, slots) if allowed else ([], slots)
        if isinstance(started, Decision):
            return started
        more, slots = started
        actions += more
        if more:
            gate.started(pool.name)
        memo = gate.save(books.save(memo))
        idle = not actions and not busy and not books.retry_at and gate.wake_at is None
        stuck = [n.name for n in live if n.name in books.held and n.ready and n.phase == IDLE and not n.schedulable] \
            if idle and slots <= 0 else []
        if idle and slots <= 0 and stuck and any(n.available for n in todo.all if n.name not in books.cordoned):
            return halt(memo, held_halt_reason(pool.name, stuck, batch))
        if books.skipped and idle:
            return skipped_halt(memo)  # the nodes left cordoned use up what maxUnavailable allows
        wake = min([*books.retry_at.values(), *([gate.wake_at] if gate.wake_at else [])], default=None)
        return Decision(tuple(actions), memo, wake_at=wake, notes=(gate.note,) if gate.note else ())

    @staticmethod
    def busy(view: ClusterState, pool: str, books: Books) -> bool:
        """Is a node of the pool (not skipped, not being deleted) cordoned by us or in an operation? From the
        view's counts of the pool's nodes per phase, and the few skipped and cordoned ones."""
        ours = [view.node(name) for name in books.cordoned | books.skipped if view.has_node(name)]
        ours = [n for n in ours if n.pool == pool and n.phase != DELETING]
        if any(n.name in books.cordoned and n.name not in books.skipped for n in ours):
            return True
        operating = view.live_in(pool) - view.in_phase(pool, IDLE)  # not idle, not being deleted
        return operating > sum(1 for n in ours if n.name in books.skipped and n.phase != IDLE)

    def follow_up(self, node: Node, version, books: Books, memo: dict) -> list[Action] | Decision:
        """The next step of a node already in this roll (cordoned by us, or in the middle of an operation)."""
        if node.name in books.replacing:
            step = self.replace_step(node, memo)
        elif node.name in books.cordoned or node.phase != IDLE:
            step = self.next_step(node, version, books, memo)
        else:
            return []
        if step == SKIP:
            books.skipped.add(node.name)
            books.cordoned.discard(node.name)
            return []
        if isinstance(step, Decision):
            return step
        return step if isinstance(step, list) else [step] if step is not None else []

    def start_nodes(self, view: ClusterState, todo: Todo, version, books: Books, memo: dict, batch: int, pool: str,
                    slots: int) -> tuple[list[Action], int] | Decision:
        """Bring nodes into the batch while slots are free (a node already out of service takes none). From
        the fresh nodes when the view's lists give them (once no slot is left and every fresh one out of
        service is in, the rest would only be passed over), else from every node to do."""
        actions: list[Action] = []
        out = todo.fresh_out(view, pool, books) if todo.fresh is not None else 0
        for node in todo.all if todo.fresh is None else todo.fresh:
            if todo.fresh is not None and slots <= 0 and out <= 0:
                break
            if (node.name in books.cordoned or node.phase != IDLE or node.name in books.replacing
                    or at_least(node.kubelet, version)):
                continue
            if node.available and slots <= 0:
                continue
            why = (f"in-place batch of {batch} in pool {pool}: cordon before upgrading the kubelet to {version}"
                   if node.available else
                   f"{node.name} is already out of service (NotReady): upgrading it in place takes no batch slot")
            books.cordoned.add(node.name)
            if not node.available:
                out -= 1
            if node.schedulable:
                actions.append(Cordon(why, node.name))
            else:  # already cordoned (by someone else, or NotReady): go straight to its next step
                step = self.next_step(node, version, books, memo)
                if isinstance(step, Decision):
                    return step
                if isinstance(step, Action):
                    actions.append(step)
            slots -= 1 if node.available else 0
        return actions, slots

    def next_step(self, node: Node, version, books: Books, memo: dict) -> Action | list | Decision | str | None:
        if node.phase in (UPGRADING, DRAINING, PROVISIONING):
            return None
        if node.phase == DRAIN_FAILED:
            return on_drain_failed(node, self.params, memo)
        if node.phase == UPGRADE_FAILED:
            return self.after_failure(node, version, books, memo)
        if at_least(node.kubelet, version):
            return self.finish(node, books)
        if node.schedulable:
            return Cordon(f"{node.name} is in this in-place batch but schedulable again: cordon it", node.name)
        if self.params["drainFirst"] and node.pods:
            return drain(node, self.params, f"drainFirst: evict {node.pods} pod(s) before the kubelet moves to {version}")
        return UpgradeNodeInPlace(f"{node.name} is cordoned: replace kubelet {node.kubelet} with {version} in place; "
                                  "its pods stay on the node", node.name, version)

    def after_failure(self, node: Node, version, books: Books, memo: dict) -> Action | Decision | None:
        """A failed in-place upgrade: retry with back-off, then ``onInplaceFailure``."""
        tries = books.retries.get(node.name, 0)
        if tries < self.params["inplaceRetries"]:
            due = books.retry_at.setdefault(node.name, books.now + RETRY_BACKOFF_S * (tries + 1))
            if books.now < due:
                return None  # back off before trying again (the decision wakes up at ``due``)
            del books.retry_at[node.name]
            books.retries[node.name] = tries + 1
            return UpgradeNodeInPlace(f"retry {tries + 1} of {self.params['inplaceRetries']} after: {node.message}",
                                      node.name, version)
        if self.params["onInplaceFailure"] == "halt":
            times = f"{tries + 1} times" if tries else "once"
            return halt(memo, f"in-place upgrade of {node.name} failed {times}: {node.message}")
        books.replacing.add(node.name)
        books.cordoned.discard(node.name)
        return self.replace_step(node, memo)

    def finish(self, node: Node, books: Books) -> list[Action]:
        """An upgraded node that is Ready goes back into service (unless someone else had cordoned it)."""
        if not node.ready:
            return []
        books.cordoned.discard(node.name)
        out: list[Action] = []
        if node.has_taint(OLD_NODE_TAINT):
            out.append(Untaint(f"{node.name} runs kubelet {node.kubelet}: it is no longer an old node", node.name,
                               OLD_NODE_TAINT))
        if not node.schedulable and node.name not in books.held:  # a node cordoned before the upgrade stays cordoned
            out.append(Uncordon(f"{node.name} runs kubelet {node.kubelet} and is Ready", node.name))
        return out

    def replace_step(self, node: Node, memo: dict) -> Action | Decision | None:
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


def held_halt_reason(pool: str, stuck: list[str], batch: int) -> str:
    one = len(stuck) == 1
    return (f"pool {pool}: {', '.join(stuck)} {'was' if one else 'were'} cordoned before the upgrade and "
            f"{'stays' if one else 'stay'} cordoned, which uses up maxUnavailable {batch}; uncordon "
            f"{'it' if one else 'them'} or raise maxUnavailable to go on")
