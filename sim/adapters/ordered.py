"""Records kept in the order of a key, for the simulated adapter's by-name node lists.

A view lists each pool's nodes by name as a person reads it, then in the order they were
made (``models.sorting.natural_key``, then the node's sequence number: what a stable sort of
the made order by name gives). Comparing two such keys walks down nested tuples, and every
changed node record is put back into a few of these lists at every view (at 5,000 surge
nodes, 234,055 records). So each key is given a rank, a float in the keys' order (``Ranks``),
and the lists compare ranks: one float comparison per bisection step. A view gets a long list as a
``models.snapshot.Snapshot``, frozen before the list next changes if the view may still read it (a short
one as a tuple).

Imports only the standard library and ``models.snapshot``.
"""

from __future__ import annotations

import weakref
from bisect import bisect_left

from models.snapshot import Snapshot

SPACING = 1024.0  # between the ranks of keys that come one after the other when first given


class Ranks:
    """A float for each key in use, in the keys' order. A new key takes the middle of its neighbours'
    ranks (after the last: the last's plus ``SPACING``); when no float is left between them, every rank is
    spread out again and ``add`` says how the old ranks map to the new ones."""

    __slots__ = ("_keys", "_ranks")

    def __init__(self):
        self._keys: list = []
        self._ranks: list[float] = []

    def add(self, key) -> tuple[float, dict[float, float] | None]:
        """The rank of a new ``key``, and None, or (ranks ran out) the old ranks mapped to the new ones."""
        keys, ranks = self._keys, self._ranks
        at = bisect_left(keys, key)
        remap = None
        rank = _between(ranks[at - 1] if at else None, ranks[at] if at < len(ranks) else None)
        if rank is None:
            remap = {old: SPACING * (i + 1) for i, old in enumerate(ranks)}
            ranks[:] = remap.values()
            rank = _between(ranks[at - 1] if at else None, ranks[at] if at < len(ranks) else None)
        keys.insert(at, key)
        ranks.insert(at, rank)
        return rank, remap

    def drop(self, rank: float) -> None:
        """The key of ``rank`` is no longer in use (ranks are in the keys' order: found by its rank)."""
        at = bisect_left(self._ranks, rank)
        del self._keys[at], self._ranks[at]


def _between(lo: float | None, hi: float | None) -> float | None:
    if hi is None:
        return SPACING if lo is None else lo + SPACING
    if lo is None:
        return hi - SPACING
    mid = (lo + hi) / 2
    return mid if lo < mid < hi else None


SMALL = 64  # a list this short is copied for a view at once (cheaper than a snapshot and its weak reference)


class Ordered:
    """Records kept sorted by a unique rank (``Ranks``)."""

    __slots__ = ("keys", "items", "_tuple", "_handed")

    def __init__(self):
        self.keys: list = []
        self.items: list = []
        self._tuple: tuple | None = ()  # a short list's copy, until it changes
        self._handed = None  # a weak reference to the snapshot of a long ``items`` last handed out

    def put(self, key, record) -> None:
        """Add ``record`` under ``key``, or replace the one there."""
        self._tuple = None
        if self._handed is not None:
            self._changing()
        at = bisect_left(self.keys, key)
        if at < len(self.keys) and self.keys[at] == key:
            self.items[at] = record
        else:
            self.keys.insert(at, key)
            self.items.insert(at, record)

    def take(self, key) -> None:
        self._tuple = None
        if self._handed is not None:
            self._changing()
        at = bisect_left(self.keys, key)
        del self.keys[at], self.items[at]

    def renumber(self, remap: dict) -> None:
        """Every rank mapped to its new one (the order stays)."""
        self.keys = [remap[k] for k in self.keys]

    def snapshot(self) -> tuple | Snapshot:
        """The records now, for a view: a short list as a tuple, a long one as a snapshot, the same one until
        they change (a view reads it when it needs it)."""
        if len(self.items) <= SMALL:
            if self._tuple is None:
                self._tuple = tuple(self.items)
            return self._tuple
        snap = self._handed() if self._handed is not None else None
        if snap is None:
            snap = Snapshot(self.items)
            self._handed = weakref.ref(snap)
        return snap

    def _changing(self) -> None:
        """The list is about to change: the snapshot last handed out, if something still holds it, copies
        the list as it is now (nothing does, most times: the adapter and its views have let it go)."""
        snap = self._handed()
        if snap is not None:
            snap.freeze()
        self._handed = None

    def __len__(self) -> int:
        return len(self.items)
