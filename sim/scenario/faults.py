"""Checking a scenario's faults against what each type accepts (``models.faults``)."""

from __future__ import annotations

from models.faults import FIELDS, RULES, future_node, target_names
from models.state import ClusterState
from sim.scenario.model import FaultSpec
from sim.scenario.schema import INVALID, Checker, suggest


def check_fault(f: FaultSpec, raw: dict, i: int, state: ClusterState | None, ck: Checker) -> None:
    """Record a problem for each field the fault type does not take, and for a target that does not exist."""
    if f.type is INVALID:
        return  # what it takes depends on its type
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
    if f.target in (None, INVALID) or state is None:
        return
    kind, _, name = f.target.partition("/")
    if kind not in rule.targets:
        valid = ", ".join(f"{k}/NAME" for k in rule.targets) or "none (it hits the whole cluster)"
        ck.fail(path + ("target",), f"{f.type} cannot target {kind!r}; valid targets: {valid}")
        return
    names = target_names(state, kind)
    if kind == "node" and future_node(state, name):
        return  # a node the upgrade will create (POOL-N past the pool's size)
    if name not in names:
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        ck.fail(path + ("target",), f"no {kind} named {name!r}; {suggest(name, names)}valid: {shown}")
