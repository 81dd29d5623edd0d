"""A list as it was when a view was made, made a tuple only when the view first reads it.

The simulated adapter keeps each pool's nodes by name and by kubelet version in lists it changes in
place as nodes change, and a view is made at every decision; most decisions read one or two of those
lists, or none (at 1,000 in-place nodes, 33 of 1,175 views read their nodes). So a view is handed
``Snapshot``s of the lists rather than copies, and the list's owner, before it changes a list, freezes the
snapshot it last handed out if that is still alive (it keeps a weak reference to it): a view read late,
or kept, reads what it was made with. Imports only the standard library.
"""

from __future__ import annotations


class Snapshot:
    """The contents of ``items`` now, as a tuple when first read (``get``), or before the owner changes
    ``items`` (``freeze``): whichever comes first copies it, once."""

    __slots__ = ("_items", "_tuple", "__weakref__")

    def __init__(self, items: list):
        self._items = items
        self._tuple: tuple | None = None

    def get(self) -> tuple:
        if self._tuple is None:
            self._tuple = tuple(self._items)
            self._items = None
        return self._tuple

    freeze = get  # (the owner's word for it: it is about to change the list)


class Snapshots(dict):
    """A pool's lists by kubelet version, some of them ``Snapshot``s (the others tuples): read, it becomes a
    dict of tuples (``read``)."""

    __slots__ = ()


def read(table: dict, key, empty):
    """``table[key]`` (``empty`` if absent), a snapshot in it made a tuple (or a dict of tuples) and kept
    in ``table`` in its place."""
    value = table.get(key, empty)
    cls = value.__class__
    if cls is Snapshot:
        value = table[key] = value.get()
    elif cls is Snapshots:
        value = table[key] = {k: s.get() if s.__class__ is Snapshot else s for k, s in value.items()}
    return value
