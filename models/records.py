"""Frozen dataclass records made from a dict of their fields, without the dataclass's ``__init__``.

A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``; the simulated
adapter makes a node record for every node that changed at every view, and the world what kubectl's
filters see of every pod it drains (at 5,000 nodes, a few hundred thousand of each). ``made`` gives
the same record from a dict that names every field (the tests check the field sets): no defaults are
filled in and no ``__post_init__`` runs, so it is only for records that have neither need.
"""

from __future__ import annotations


def made(cls, fields: dict):
    """A frozen dataclass record of ``cls`` whose ``__dict__`` is ``fields`` (every field of it)."""
    record = object.__new__(cls)
    object.__setattr__(record, "__dict__", fields)
    return record
