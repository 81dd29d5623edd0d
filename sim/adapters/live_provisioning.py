"""Provisionings in flight on a live cluster, and which listed Node each one has brought.

A ``provisionNode`` hook makes a machine whose Node registers while the hook still runs; the
hook names that Node (its last line) only when it exits. So that a strategy counts each new
node once, a provisioning shows in the view either as its Node or, while it has none, as a
placeholder (``POOL-provisioning-N``), never as both. A listed Node is a provisioning's

- once its hook has printed the Node's name (the hook's word is final), or else,
- while its hook runs, as soon as the Node is listed, if it is of the provisioning's pool, was
  not among the pool's nodes when the provisioning was submitted (``existing``), and no other
  provisioning has it, by printed name or by an earlier pairing, nor did one that is over
  (``brought``). Of the pool's provisionings with no Node yet the oldest takes it, one that
  asked for the Node's zone first (when the Node has a zone label).

A pairing stays while its Node is listed, unless a printed name takes the Node for another
provisioning; the one that loses it pairs again, with another new Node or none. The paired Node
shows ``provisioning`` until its hook ends (as a provisioning node shows in simulation), then
its own phase; if the hook fails, ``provision-failed`` with the hook's message, so the strategy
cleans it up as any failed provisioning (through the ``deleteNode`` hook: the machine exists).

Everything here is pure: ``Operations`` (``live_operations``) keeps the records and acts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from models.state import PROVISION_FAILED, PROVISIONING, Node, Resources
from models.version import KubeVersion
from sim.adapters import kube_translate as kt
from sim.adapters.hook_ledger import HookRecord
from sim.adapters.hooks import HookResult

UNKNOWN_ZONE = "unknown"  # kube_translate.zone_of's answer for a Node without a zone label


@dataclass(frozen=True)
class Provisioning:
    """One ``provisionNode`` hook run. ``existing``: the pool's nodes when it was submitted (None
    when not known, a ledger from an older midair: then only a printed name pairs); ``node``: the
    listed Node paired with it; ``named``: the Node that is its for sure, the one its hook printed
    (or, when a failed hook printed none, the one paired when it failed); ``result``: its hook's,
    once it has ended."""

    rec: HookRecord
    allocatable: Resources = Resources()
    existing: frozenset[str] | None = None
    node: str = ""
    named: str = ""
    result: HookResult | None = None

    @property
    def name(self) -> str:
        return placeholder_name(self.rec)

    @property
    def running(self) -> bool:
        return self.result is None

    @property
    def joined(self) -> bool:
        """Its hook succeeded and its Node is listed: from now on that Node is just a node."""
        return self.result is not None and self.result.ok and bool(self.node)

    def status(self) -> tuple[str, str]:
        """(phase, message) of its Node, or of its placeholder while it has none."""
        if self.result is None:
            return PROVISIONING, "registered; its provisionNode hook is still running" if self.node else ""
        if not self.result.ok:
            return PROVISION_FAILED, self.result.message("provisionNode")
        return PROVISIONING, f"joining as {self.named}"

    def placeholder(self) -> Node:
        phase, message = self.status()
        version = KubeVersion.parse(self.rec.version)
        return Node(self.name, self.rec.subject, self.rec.zone, version, version, self.allocatable, ready=False,
                    phase=phase, message=message)


def placeholder_name(rec: HookRecord) -> str:
    return f"{rec.subject}-provisioning-{rec.id}"


def start(rec: HookRecord, allocatable: Resources) -> Provisioning:
    return Provisioning(rec, allocatable, None if rec.existing is None else frozenset(rec.existing))


def ended(p: Provisioning, result: HookResult) -> Provisioning:
    """``p`` once its hook has ended: a printed name is final; a failed hook's paired Node stays its
    Node; a hook that succeeded without a name is done with the Node it has (if any)."""
    named = result.last_line if result.ok and result.last_line else p.node
    return replace(p, result=result, named=named, node=p.node if p.node == named else "")


def listed_nodes(objects: Iterable[dict], pool_label: str | None) -> dict[str, tuple[str, str]]:
    """The listed Nodes' names, each with its pool and zone."""
    out = {}
    for obj in objects:
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        out[meta.get("name", "")] = (kt.pool_of(labels, pool_label), kt.zone_of(labels))
    return out


def pair(provisionings: Iterable[Provisioning], listed: Mapping[str, tuple[str, str]],
         brought: frozenset[str] | set[str]) -> list[Provisioning]:
    """The provisionings (oldest first) with ``node`` set to the listed Node each has now: its printed
    name; else, while its hook runs, the Node it had, or a new Node of its pool nobody has."""
    provs = sorted(provisionings, key=lambda p: p.rec.id)
    claimed = set(brought) | {p.named for p in provs if p.named}
    nodes = {p.rec.id: p.named for p in provs if p.named in listed}  # a printed name is final
    for p in provs:  # a pairing stays while its Node is listed in its pool and no printed name takes it
        if p.running and p.node in listed and p.node not in claimed and listed[p.node][0] == p.rec.subject:
            nodes[p.rec.id] = p.node
            claimed.add(p.node)
    free = [p for p in provs if p.running and p.rec.id not in nodes and p.existing is not None]
    for name in sorted(set(listed) - claimed) if free else ():
        taker = _taker(free, name, *listed[name])
        if taker is not None:
            nodes[taker.rec.id] = name
            free.remove(taker)
    return [replace(p, node=nodes.get(p.rec.id, "")) for p in provs]


def _taker(free: list[Provisioning], name: str, pool: str, zone: str) -> Provisioning | None:
    """Which of the provisionings with no Node (oldest first) a new Node ``name`` is: the oldest of its
    pool that did not have it among the pool's nodes when submitted, one that asked for its zone first."""
    fits = [p for p in free if p.rec.subject == pool and name not in p.existing]
    return next((p for p in fits if zone != UNKNOWN_ZONE and p.rec.zone == zone), fits[0] if fits else None)


def shown(provisionings: Iterable[Provisioning]) -> tuple[dict[str, tuple[str, str]], tuple[Node, ...]]:
    """What the view shows of the provisionings not yet joined: the phase of each paired Node, and a
    placeholder for each of the others (oldest first)."""
    phases, placeholders = {}, []
    for p in sorted(provisionings, key=lambda p: p.rec.id):
        if p.joined:
            continue
        if p.node:
            phases[p.node] = p.status()
        else:
            placeholders.append(p.placeholder())
    return phases, tuple(placeholders)
