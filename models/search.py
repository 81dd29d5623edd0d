"""What ``midair recommend`` searches, and how it spends its runs: pure.

The space is every built-in node strategy with the knobs that move the comparison
(maxSurge, maxUnavailable, drainTimeout, soakSeconds; blue-green's drainBatch), each over
a range derived from the cluster: surge no larger than the smallest pool, and no larger
than the spare IPs of the tightest subnet or the instance quota's headroom allow;
unavailability up to a third of the smallest pool; drain timeouts of 15 minutes (kOps' and
EKS's default) and an hour (time for an operator to step in: the default response to a
stranded local volume is a lognormal of median 15 minutes and p95 1 hour).

The design is adaptive, in three steps, each a pure function of what has been measured:

1. ``coarse``: the grid above, a few runs each;
2. ``refine``: the neighbours of the candidates on the Pareto front (one knob one step
   away, and a soak), a few runs each;
3. ``contenders``: the candidates on the front and those the ranking cannot yet tell from
   the first, which get more runs, round after round, until the budget is spent.

May import the standard library and ``models``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from models.state import ClusterState

STRATEGIES = ("inplace", "replace", "surge", "bluegreen")
DRAIN_TIMEOUTS = ("15m", "1h")
SOAKS = ("0s", "2m")
FRONT_AXES = ("outage_s", "duration_s", "extra_node_hours")  # the trade-off the front shows


@dataclass(frozen=True)
class Candidate:
    """One strategy entry to try, with its knobs as the scenario format writes them."""

    strategy: str
    knobs: tuple[tuple[str, object], ...]

    @property
    def label(self) -> str:
        return " ".join([self.strategy, *(f"{k}={v}" for k, v in self.knobs)])

    def entry(self) -> dict:
        """The scenario's ``strategies:`` entry (without its label)."""
        return {"name": self.strategy, **dict(self.knobs)}

    def with_knob(self, name: str, value) -> Candidate:
        knobs = dict(self.knobs)
        knobs[name] = value
        return Candidate(self.strategy, tuple(knobs.items()))


@dataclass(frozen=True)
class Ranges:
    """The knob values the cluster allows, and why they stop where they do."""

    surge: tuple[int, ...]
    unavailable: tuple[int, ...]
    drain_timeouts: tuple[str, ...] = DRAIN_TIMEOUTS
    soaks: tuple[str, ...] = SOAKS
    why: tuple[str, ...] = ()


def surge_room(cluster: ClusterState) -> tuple[int, str]:
    """How many nodes above its size the cluster can add at once, and what limits it."""
    smallest = min(p.count for p in cluster.pools)
    limits = [(smallest, f"the smallest pool has {smallest} node(s)")]
    subnets = [s for s in cluster.cloud.subnets if s.healthy]
    if subnets:
        tightest = min(subnets, key=lambda s: s.free_ips)
        limits.append((tightest.free_ips, f"subnet {tightest.name} has {tightest.free_ips} free IP(s)"))
    if cluster.cloud.instance_quota is not None:
        room = cluster.cloud.instance_quota - len(cluster.nodes) - len(cluster.control_plane.apiservers)
        limits.append((room, f"the instance quota leaves room for {room} more"))
    return min(limits)


def ranges(cluster: ClusterState) -> Ranges:
    smallest = min(p.count for p in cluster.pools)
    room, limit = surge_room(cluster)
    third = max(1, math.ceil(smallest / 3))
    surge = tuple(sorted({v for v in (1, 2, third) if 1 <= v <= room}))
    unavailable = tuple(sorted({v for v in (1, 2, third) if v <= max(1, smallest - 1)}))
    why = (f"maxSurge up to {max(surge) if surge else 0}: {limit}",
           f"maxUnavailable up to {max(unavailable)}: 1, 2 and a third of the smallest pool rounded up, as long as "
           f"one of its {smallest} node(s) stays up")
    return Ranges(surge, unavailable, why=why)


def coarse(r: Ranges, strategies: Sequence[str] = STRATEGIES) -> list[Candidate]:
    """The first grid: in-place by how many nodes go at once; the replacing strategies by surge and
    unavailability (never both 0) and drain timeout; blue-green by drain timeout and batch."""
    out: list[Candidate] = []
    for s in strategies:
        if s == "inplace":
            out += [Candidate(s, (("maxUnavailable", u),)) for u in r.unavailable]
        elif s in ("replace", "surge"):
            out += [Candidate(s, (("maxSurge", m), ("maxUnavailable", u), ("drainTimeout", d)))
                    for m in (0, *r.surge) for u in (0, 1) for d in r.drain_timeouts
                    if (m, u) != (0, 0) and (m == 0 or u == 0 or m == 1)]
        elif s == "bluegreen":
            out += [Candidate(s, (("drainBatch", b), ("drainTimeout", d))) for b in sorted({1, r.unavailable[-1]})
                    for d in r.drain_timeouts]
    return out


def _steps(values: Sequence, current) -> list:
    if current not in values:
        return []
    i = list(values).index(current)
    return [values[j] for j in (i - 1, i + 1) if 0 <= j < len(values)]


def neighbours(c: Candidate, r: Ranges) -> list[Candidate]:
    """One knob one step away in its range, and the same with a soak between batches."""
    knobs = dict(c.knobs)
    out = []
    axes = {"maxSurge": (0, *r.surge), "maxUnavailable": (0, *r.unavailable) if c.strategy != "inplace" else r.unavailable,
            "drainTimeout": r.drain_timeouts}
    for name, values in axes.items():
        if name in knobs:
            out += [c.with_knob(name, v) for v in _steps(values, knobs[name])]
    if "soakSeconds" not in knobs:
        out.append(c.with_knob("soakSeconds", r.soaks[-1]))
    return [n for n in out if dict(n.knobs).get("maxSurge", 1) or dict(n.knobs).get("maxUnavailable", 1)]


def refine(front: Sequence[Candidate], tried: Sequence[Candidate], r: Ranges) -> list[Candidate]:
    """The neighbours of the front not tried yet, in the front's order."""
    seen = set(tried)
    out = []
    for c in front:
        for n in neighbours(c, r):
            if n not in seen:
                seen.add(n)
                out.append(n)
    return out


def runs_each(budget: int, candidates: int, share: float = 0.4, least: int = 2, most: int = 5) -> int:
    """Runs per candidate of a step that may spend ``share`` of the budget."""
    return max(least, min(most, int(budget * share) // max(1, candidates)))
