"""Helpers for the worker movement that every node method shares."""

from __future__ import annotations

from models.actions import Action, Drain
from models.sorting import natural_key
from models.state import Node
from models.strategies.base import Decision, halt


def by_name(nodes) -> list[Node]:
    return sorted(nodes, key=lambda n: natural_key(n.name))


def drain(node: Node, params: dict, why: str, force: bool = False) -> Drain:
    return Drain(why, node.name, float(params["drainTimeout"]), force)


def on_drain_failed(node: Node, params: dict, memo: dict) -> Action | Decision:
    """What the ``undrainable`` knob says to do about a drain that timed out."""
    policy = params["undrainable"]
    timeout = params["drainTimeout"]
    if policy == "fail":
        return halt(memo, f"drain of {node.name} did not finish within {timeout:g}s: {node.message} "
                          "(undrainable: fail)")
    if policy == "force":
        return drain(node, params, f"drain of {node.name} timed out ({node.message}); undrainable: force deletes "
                                   "the remaining pods despite their budgets", force=True)
    return drain(node, params, f"drain of {node.name} timed out ({node.message}); undrainable: wait, so drain again")
