"""The fault vocabulary of a scenario: what each fault type accepts (its trigger, its target
kinds and its knobs), and what a ``kind/NAME`` target may name in a cluster.

Triggers: ``at`` (a scheduled time after the upgrade starts), ``rate`` (a Poisson
process, occurrences per hour) or ``probability`` (a chance per opportunity, e.g. per
in-place upgrade or per provisioning). Window faults (``quota-exhausted``, ...) are
active from ``at`` (default: the start) for ``duration`` (default: for good).

Data only: ``sim.scenario.faults`` checks scenarios against it, ``sim.faults`` injects the
faults, and ``models.testing.faults`` generates them.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.state import ClusterState
from models.timing import Dist


@dataclass(frozen=True)
class FaultRule:
    triggers: tuple[str, ...]  # at most one of these may be given
    default_trigger: str | None  # used when none is given (None: one is required)
    targets: tuple[str, ...]  # target kinds it accepts
    knobs: tuple[str, ...] = ()  # other fields it accepts
    opportunity: str = ""

    @property
    def trigger_required(self) -> bool:
        return self.default_trigger is None


RULES: dict[str, FaultRule] = {
    "node-crash": FaultRule(("at", "rate", "probability"), None, ("node", "pool", "zone"), ("duration", "limit"),
                            "each node operation (drain, in-place upgrade) as it starts"),
    "inplace-step-failure": FaultRule(("probability",), "probability", ("node", "pool"), ("step", "limit"),
                                      "each in-place node upgrade"),
    "provision-failure": FaultRule(("probability",), "probability", ("pool", "zone"), ("limit",), "each new node"),
    "quota-exhausted": FaultRule(("at",), "at", (), ("duration",)),
    "subnet-exhausted": FaultRule(("at",), "at", ("zone",), ("duration",)),
    "slow-image-pull": FaultRule(("at",), "at", ("node", "pool", "zone", "workload"), ("factor", "duration")),
    "pod-startup-failure": FaultRule(("probability",), None, ("workload", "pool"), ("limit",), "each pod start"),
    "apiserver-crash": FaultRule(("at", "rate"), None, ("apiserver",), ("duration", "limit")),
    "lb-listener-misconfigured": FaultRule(("at",), "at", (), ("duration",)),
    "stuck-pdb": FaultRule(("at",), "at", ("workload",), ("duration",)),
    "operator-crash": FaultRule(("at", "rate", "probability"), None, (), ("delay", "limit"), "each decision"),
}
FIELDS = ("at", "rate", "probability", "target", "duration", "step", "factor", "delay", "limit")


def target_names(state: ClusterState, kind: str) -> list[str]:
    if kind == "node":
        return [n.name for n in state.nodes]
    if kind == "pool":
        return [p.name for p in state.pools]
    if kind == "zone":
        return sorted({n.zone for n in state.nodes} | {z for p in state.pools for z in p.zones})
    if kind == "workload":
        return [w.name for w in state.workloads] + [w.key for w in state.workloads]
    if kind == "apiserver":
        return [i.name for i in state.control_plane.apiservers]
    return []


def future_node(state: ClusterState, name: str) -> bool:
    """Does ``name`` name a node an upgrade will create (POOL-N past the pool's size)?"""
    pool, _, number = name.rpartition("-")
    return number.isdigit() and any(p.name == pool and int(number) > p.count for p in state.pools)


@dataclass(frozen=True)
class FaultSpec:
    type: str
    at: float | None = None
    target: str | None = None
    probability: float | None = None
    rate: float | None = None
    duration: Dist | None = None
    step: int | None = None
    factor: float | None = None
    delay: float | None = None
    limit: int | None = None
    index: int = 0
