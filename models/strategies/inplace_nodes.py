"""Which of a pool's nodes an in-place decision looks at, without a look at every node (issue 17).

A decision follows up on the nodes in its roll ("in flight": cordoned by it, being replaced, or in
an operation), then starts fresh ones (idle, below the version, not yet in the roll) while
maxUnavailable has room, and every fresh one that is out of service anyway (NotReady or cordoned:
it takes no slot). Both go in the pool's order, and the pool's nodes still to do (``Todo.all``) are
what the decision would otherwise walk, at every decision, for both.

``todo`` answers from the view's per-version lists and counts when they say exactly what that walk
would, and says so: nodes taken by name (the ``order`` knob's default), at most one kubelet version
below the target, no node provision-failed or skipped, every node in an operation one the books
know, no two names equal as numbers. Otherwise ``flight`` and ``fresh`` are None and the decision
walks ``all``, as before; ``tests/test_inplace_nodes.py`` checks both give the same decisions.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.sorting import natural_key
from models.state import DELETING, IDLE, PROVISION_FAILED
from models.strategies.workers import Listed


@dataclass
class Todo:
    all: Listed  # the pool's nodes still to do, in the pool's order (made when looked at)
    flight: list | None = None  # those in the roll or in an operation, in the pool's order
    fresh: tuple | None = None  # the nodes below the version, by name (some of them in flight)
    below: object = None  # the kubelet version of ``fresh``

    def fresh_out(self, view, pool: str, books) -> int:
        """Of ``fresh``, how many are idle and out of service (NotReady or cordoned) and not in the roll (the
        books now: a follow-up may have taken a node out of it): those the start takes without a slot."""
        if self.below is None:
            return 0
        return view.idle_out_at(pool, self.below) - sum(
            1 for n in in_roll(view, pool, books) if n.kubelet == self.below and n.phase == IDLE and not n.available)

    def empty(self) -> bool:
        if self.flight is None:
            return not self.all
        return not self.flight and not self.fresh


def in_roll(view, pool: str, books) -> list:
    """The pool's nodes the books hold in the roll (cordoned by it, or being replaced), not being deleted."""
    ours = [view.node(name) for name in books.cordoned | books.replacing if view.has_node(name)]
    return [n for n in ours if n.pool == pool and n.phase != DELETING]


def todo(view, pool: str, live, want, books, name_order: bool) -> Todo:
    """The pool's nodes still to do (``live``: not being deleted, and not provision-failed when some are),
    and, when the view's lists answer exactly, those in flight and the fresh ones (see the module)."""
    skipped, cordoned = books.skipped, books.cordoned
    every = Listed(lambda: [n for n in live if n.name not in skipped and
                            (n.kubelet._k < want or n.phase != IDLE or n.name in cordoned)])
    if not name_order or skipped or view.in_phase(pool, PROVISION_FAILED):
        return Todo(every)
    below = [(v, nodes) for v, nodes in view.nodes_by_kubelet(pool).items() if v._k < want]
    if len(below) > 1:
        return Todo(every)  # two versions below: their lists would have to be merged by name
    ours = in_roll(view, pool, books)
    operating = view.live_in(pool) - view.in_phase(pool, IDLE)
    if operating != sum(1 for n in ours if n.phase != IDLE):
        return Todo(every)  # a node in an operation the books do not know (someone else's, a new node)
    flight = [n for n in ours if n.name in cordoned or n.kubelet._k < want or n.phase != IDLE]
    keys = [natural_key(n.name) for n in flight]
    if len(set(keys)) < len(keys):
        return Todo(every)  # two names equal as numbers: the pool's order breaks the tie by when they came
    version, fresh = below[0] if below else (None, ())
    return Todo(every, [n for _, n in sorted(zip(keys, flight), key=lambda kn: kn[0])], fresh, version)
