"""``fault_schedules()``: lists of faults in the scenario-file format (docs/faults.md).

Faults are plain dicts (``{"type": "node-crash", "at": "20m", "target": "node/general-3"}``),
since the fault records live in ``sim``; what each type takes comes from ``models.faults``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from models import faults
from models.faults import RULES
from models.prechecks.base import Traits
from models.quantity import format_duration
from models.state import ClusterState
from models.testing.bounds import check_int, check_names, check_number, check_order

FAULT_RULES = RULES  # what each type takes: its triggers, targets and knobs
FAULT_TYPES = tuple(RULES)
FUTURE_NODES = 2  # node targets may name this many nodes past a pool's size (nodes an upgrade adds)


# Fault types that can only matter to a strategy that does this to nodes.
NEEDS = {"inplace-step-failure": "in_place", "provision-failure": "creates_nodes", "quota-exhausted": "creates_nodes",
         "subnet-exhausted": "creates_nodes", "stuck-pdb": "drains"}


def fault_types_for(traits: Traits) -> tuple[str, ...]:
    """The fault types that can touch an upgrade by a strategy with ``traits``: not an in-place
    step failure for a strategy that never upgrades in place, no failed provisioning for one
    that never adds a node, no stuck budget for one that never drains. A strategy midair knows
    nothing about (``Traits()``) may do anything, so every type can."""
    return tuple(t for t in FAULT_TYPES if t not in NEEDS or getattr(traits, NEEDS[t]))


def target_names(cluster: ClusterState, kind: str) -> list[str]:
    """What a ``kind/NAME`` target may name in ``cluster``, nodes an upgrade adds included."""
    names = faults.target_names(cluster, kind)
    if kind == "node":
        names += [f"{p.name}-{p.count + k}" for p in cluster.pools for k in range(1, FUTURE_NODES + 1)]
    return names


def seconds(low: int, high: int) -> st.SearchStrategy[str]:
    """A duration as a scenario writes it: ``90s``, ``15m``, ``2h``."""
    return st.integers(low, high).map(format_duration)


def distributions(*, max_seconds: int = 3600) -> st.SearchStrategy:
    """Distributions of durations in every form the format takes (a duration, or constant,
    uniform, triangular, lognormal, exponential)."""
    check_int("max_seconds", max_seconds, 1)
    d = seconds(1, max_seconds)
    pair = st.lists(st.integers(1, max_seconds), min_size=2, max_size=2).map(sorted)
    triple = st.lists(st.integers(1, max_seconds), min_size=3, max_size=3).map(sorted)
    return st.one_of(
        d,
        d.map(lambda v: {"constant": v}),
        pair.map(lambda p: {"uniform": [format_duration(x) for x in p]}),
        triple.map(lambda t: {"triangular": [format_duration(x) for x in t]}),
        pair.map(lambda p: {"lognormal": {"median": format_duration(p[0]), "p95": format_duration(p[1])}}),
        d.map(lambda v: {"exponential": {"mean": v}}),
    )


@dataclass(frozen=True)
class _Bounds:
    horizon: int
    probability: tuple[float, float]
    rate: tuple[float, float]
    at_times: tuple[int, ...] = ()
    windows_close: bool = False


def is_window(kind: str) -> bool:
    """Is ``kind`` a window (a quota, subnets, a listener, a budget, slow pulls: on from ``at``, for ``duration``)?"""
    rule = FAULT_RULES[kind]
    return rule.default_trigger == "at" and "duration" in rule.knobs


@st.composite
def _fault(draw, kind: str, cluster: ClusterState | None, b: _Bounds) -> dict:
    rule = FAULT_RULES[kind]
    fault: dict = {"type": kind}
    trigger = draw(st.sampled_from(rule.triggers) if rule.trigger_required
                   else st.none() | st.sampled_from(rule.triggers))
    if trigger == "at":
        when = seconds(0, b.horizon)
        fault["at"] = draw(st.sampled_from(b.at_times).map(format_duration) | when if b.at_times else when)
    elif trigger == "rate":
        fault["rate"] = draw(st.floats(*b.rate, allow_nan=False))
    elif trigger == "probability":
        fault["probability"] = draw(st.floats(*b.probability, allow_nan=False))
    kinds = [k for k in rule.targets if cluster is not None and target_names(cluster, k)]
    if kinds and draw(st.booleans()):
        k = draw(st.sampled_from(kinds))
        fault["target"] = f"{k}/{draw(st.sampled_from(target_names(cluster, k)))}"
    for knob in rule.knobs:
        if knob == "factor":  # required: the multiplier of image pull times
            fault["factor"] = draw(st.sampled_from((1.5, 2, 5, 10)))
        elif knob == "duration" and b.windows_close and is_window(kind):
            fault["duration"] = draw(distributions(max_seconds=max(1, b.horizon)))
        elif not draw(st.booleans()):
            continue
        elif knob == "duration":
            fault["duration"] = draw(distributions(max_seconds=max(1, b.horizon)))
        elif knob == "delay":
            fault["delay"] = draw(seconds(0, 900))
        elif knob == "step":
            fault["step"] = draw(st.integers(1, 4))
        elif knob == "limit":
            fault["limit"] = draw(st.integers(1, 5))
    return fault


def fault_schedules(cluster: ClusterState | None = None, *, min_faults: int = 0, max_faults: int = 3,
                    types: Iterable[str] | None = None, horizon_s: int = 7200, min_probability: float = 0.0,
                    max_probability: float = 1.0, min_rate: float = 0.0, max_rate: float = 2.0,
                    at_times: Iterable[float] = (), windows_close: bool = False) -> st.SearchStrategy[tuple[dict, ...]]:
    """Tuples of ``min_faults`` to ``max_faults`` faults of ``types`` (default: every type).

    With a ``cluster``, some faults target one of its nodes (or a node an upgrade will add),
    pools, zones, workloads or apiservers; without one, none has a target. ``at`` times fall
    within ``horizon_s`` seconds, and about half of them on one of ``at_times`` (whole seconds
    worth hitting, such as when an upgrade acts) when some are given; ``probability`` is from
    ``min_probability`` to ``max_probability``, ``rate`` (per hour) from ``min_rate`` to ``max_rate``
    (raise the minimums for faults that are likely to fire within the horizon). With
    ``windows_close``, every window (a quota or subnets exhausted, a listener misconfigured, a
    stuck budget, slow pulls) gets a ``duration``: bad luck that passes, not a broken cloud.
    """
    kinds = FAULT_TYPES if types is None else check_names("types", types, FAULT_TYPES, "fault types")
    check_int("min_faults", min_faults, 0)
    check_int("max_faults", max_faults, 0)
    check_order("min_faults", min_faults, "max_faults", max_faults)
    bounds = _bounds(horizon_s, min_probability, max_probability, min_rate, max_rate, at_times, windows_close)
    one = st.sampled_from(kinds).flatmap(lambda k: _fault(k, cluster, bounds))
    return st.lists(one, min_size=min_faults, max_size=max_faults).map(tuple)


def _bounds(horizon_s, min_probability, max_probability, min_rate, max_rate, at_times, windows_close) -> _Bounds:
    check_int("horizon_s", horizon_s, 0)
    check_number("min_probability", min_probability, 0, 1)
    check_number("max_probability", max_probability, 0, 1)
    check_number("min_rate", min_rate, 0)
    check_number("max_rate", max_rate, 0)
    if min_probability > max_probability or min_rate > max_rate:
        low, high = (("min_probability", "max_probability") if min_probability > max_probability
                     else ("min_rate", "max_rate"))
        raise InvalidArgument(f"{low} is more than {high}")
    times = tuple(sorted({int(t) for t in at_times if 0 <= t <= horizon_s}))
    return _Bounds(horizon_s, (min_probability, max_probability), (min_rate, max_rate), times, bool(windows_close))
