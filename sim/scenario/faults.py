"""What each fault type accepts: its trigger (when it fires), its target kinds and its knobs.

Triggers: ``at`` (a scheduled time after the upgrade starts), ``rate`` (a Poisson
process, occurrences per hour) or ``probability`` (a chance per opportunity, e.g. per
in-place upgrade or per provisioning). Window faults (``quota-exhausted``, ...) are
active from ``at`` (default: the start) for ``duration`` (default: for good).
"""

from __future__ import annotations

from dataclasses import dataclass

from models.state import ClusterState
from sim.scenario.model import FaultSpec
from sim.scenario.schema import Checker, suggest


@dataclass(frozen=True)
class FaultRule:
    triggers: tuple[str, ...]  # at most one of these may be given
    default_trigger: str | None  # used when none is given (None: one is required)
    targets: tuple[str, ...]  # target kinds it accepts
    knobs: tuple[str, ...] = ()  # other fields it accepts
    opportunity: str = ""


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


def _future_node(state: ClusterState, name: str) -> bool:
    pool, _, number = name.rpartition("-")
    return number.isdigit() and any(p.name == pool and int(number) > p.count for p in state.pools)


def check_fault(f: FaultSpec, raw: dict, i: int, state: ClusterState | None, ck: Checker) -> None:
    """Record a problem for each field the fault type does not take, and for a target that does not exist."""
    rule = RULES[f.type]
    path = ("faults", i)
    allowed = set(rule.triggers) | set(rule.knobs) | ({"target"} if rule.targets else set())
    for name in FIELDS:
        if raw.get(name) is not None and name not in allowed:
            ck.fail(path + (name,), f"{f.type} does not take {name!r}; it takes: {', '.join(sorted(allowed)) or 'nothing'}")
    given = [t for t in rule.triggers if raw.get(t) is not None]
    if len(given) > 1:
        ck.fail(path, f"give one of {', '.join(given)}, not several")
    elif not given and rule.default_trigger is None:
        opts = " or ".join(rule.triggers)
        ck.fail(path, f"{f.type} needs a trigger: {opts}" + (f" (probability: per {rule.opportunity})" if rule.opportunity else ""))
    if f.type == "slow-image-pull" and f.factor is None:
        ck.fail(path, "slow-image-pull needs factor, the multiplier of image pull times (e.g. 5)")
    if f.target is None or state is None:
        return
    kind, _, name = f.target.partition("/")
    if kind not in rule.targets:
        valid = ", ".join(f"{k}/NAME" for k in rule.targets) or "none (it hits the whole cluster)"
        ck.fail(path + ("target",), f"{f.type} cannot target {kind!r}; valid targets: {valid}")
        return
    names = target_names(state, kind)
    if kind == "node" and _future_node(state, name):
        return  # a node the upgrade will create (POOL-N past the pool's size)
    if name not in names:
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        ck.fail(path + ("target",), f"no {kind} named {name!r}; {suggest(name, names)}valid: {shown}")
