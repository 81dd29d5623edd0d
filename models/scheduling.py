"""The kube-scheduler's fit and score predicates, as pure functions over records.

Each follows a scheduler plugin (kubernetes pkg/scheduler/framework/plugins) and answers
for one candidate; ``sim.world.scheduler`` keeps the indexes (nodes by pool, zone, taints
and free capacity; pods per topology domain) and asks these only about the candidates the
indexes return. The live translator and the pre-checks use them too.

- TaintToleration: a node's NoSchedule and NoExecute taints must all be tolerated; untolerated
  PreferNoSchedule taints count against a node.
- NodeAffinity: every ``nodeSelector`` label, and one of the required node selector terms
  (ORed; a term's requirements ANDed); preferred terms add their weight.
- InterPodAffinity: a required affinity term needs a pod it selects in the candidate's
  topology domain (unless no pod anywhere matches and the pod matches its own terms: the first
  of a group); a required anti-affinity term forbids the domains where it selects a pod, and an
  existing pod's anti-affinity term that selects the incoming pod forbids that pod's domain.
  Terminating pods count.
- PodTopologySpread: matching pods in the domain, plus 1 if the pod matches itself, minus the
  smallest count over all domains (0 when fewer domains than ``minDomains``), must not pass
  ``maxSkew``. Terminating pods do not count.
- DefaultPreemption: see ``select_victims`` and ``preemption_rank``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from models.admission import NAMESPACE_NAME_LABEL
from models.constraints import (
    NO_EXECUTE,
    NO_SCHEDULE,
    PREFER_NO_SCHEDULE,
    PodAffinityTerm,
    Scheduling,
    Taint,
    Toleration,
)
from models.state import Resources

HARD_EFFECTS = (NO_SCHEDULE, NO_EXECUTE)


# -- TaintToleration ---------------------------------------------------------------------------
def untolerated(taints: Iterable[Taint], tolerations: Sequence[Toleration],
                effects: tuple[str, ...] = HARD_EFFECTS) -> Taint | None:
    """The first of ``taints`` with one of ``effects`` that no toleration tolerates (None: all are)."""
    for taint in taints:
        if taint.effect in effects and not any(t.tolerates(taint) for t in tolerations):
            return taint
    return None


def avoided(taints: Iterable[Taint], tolerations: Sequence[Toleration]) -> int:
    """How many PreferNoSchedule taints the pod does not tolerate (the TaintToleration score: fewer is better)."""
    return sum(1 for taint in taints if taint.effect == PREFER_NO_SCHEDULE
               and not any(t.tolerates(taint) for t in tolerations))


def seconds_tolerated(tolerations: Sequence[Toleration], taint: Taint, default: float | None) -> float | None:
    """How long a pod stays on a node after a NoExecute ``taint`` (None: for good, 0: it goes at once).

    The shortest ``tolerationSeconds`` of the tolerations that tolerate it, even when another of
    them has none; for good only when none of them has seconds; with none, ``default``: the
    DefaultTolerationSeconds admission plugin gives every pod that has no toleration of its own for
    not-ready and unreachable one of 300 s.

    kubernetes pkg/controller/tainteviction, ``getMinTolerationTime`` over the used tolerations::

        for i := range tolerations {
            if tolerations[i].TolerationSeconds != nil {
                tolerationSeconds := *(tolerations[i].TolerationSeconds)
                if tolerationSeconds <= 0 {
                    return 0
                } else if tolerationSeconds < minTolerationTime {
                    minTolerationTime = tolerationSeconds
        ...
        if minTolerationTime == int64(math.MaxInt64) {
            return -1
    """
    matching = [t for t in tolerations if t.tolerates(taint)]
    if not matching:
        return default
    bounded = [max(0.0, t.toleration_seconds) for t in matching if t.toleration_seconds is not None]
    return min(bounded) if bounded else None  # None: no toleration has seconds, it stays for good


# -- NodeAffinity -------------------------------------------------------------------------------
def node_matches(s: Scheduling, labels: Mapping[str, str], name: str) -> bool:
    """Does the node pass the pod's ``nodeSelector`` and required node affinity?"""
    if any(labels.get(k) != v for k, v in s.node_selector):
        return False
    required = s.node_affinity.required if s.node_affinity is not None else None
    return required is None or any(term.matches(labels, name) for term in required)


def node_preference(s: Scheduling, labels: Mapping[str, str], name: str) -> int:
    """The summed weights of the preferred node affinity terms the node matches."""
    if s.node_affinity is None:
        return 0
    return sum(p.weight for p in s.node_affinity.preferred if p.term.matches(labels, name))


# -- InterPodAffinity -----------------------------------------------------------------------
def term_namespaces(term: PodAffinityTerm, owner_namespace: str, namespace: str) -> bool:
    """Is ``namespace`` one the term looks in? Its ``namespaces`` and those its namespace selector
    picks (an empty selector picks all); neither given: the owner's own."""
    if not term.namespaces and term.namespace_selector is None:
        return namespace == owner_namespace
    if namespace in term.namespaces:
        return True
    return term.namespace_selector is not None and term.namespace_selector.matches({NAMESPACE_NAME_LABEL: namespace})


def term_selects(term: PodAffinityTerm, owner_namespace: str, namespace: str, labels: Mapping[str, str]) -> bool:
    """Does ``term`` (of a pod in ``owner_namespace``) select a pod in ``namespace`` with ``labels``?"""
    return term.selector is not None and term_namespaces(term, owner_namespace, namespace) \
        and term.selector.matches(labels)


def affinity_satisfied(in_domain: Sequence[int], anywhere: bool, matches_itself: bool) -> bool:
    """Required pod affinity on a candidate: ``in_domain`` holds, per term, the pods matching every
    term in the candidate's domain (None-free); ``anywhere``: does any pod in the cluster match them?
    With no such pod anywhere, a pod that matches its own terms may go (it starts the group)."""
    if all(n > 0 for n in in_domain):
        return True
    return not anywhere and matches_itself


# -- PodTopologySpread -----------------------------------------------------------------------
def global_minimum(counts: Iterable[int], domains: int, min_domains: int | None) -> int:
    """The smallest matching count over the eligible domains; 0 while there are fewer domains than
    ``minDomains`` (None: 1)."""
    if domains < (min_domains or 1):
        return 0
    return min(counts, default=0)


def within_skew(max_skew: int, in_domain: int, matches_itself: bool, minimum: int) -> bool:
    return in_domain + (1 if matches_itself else 0) - minimum <= max_skew


# -- DefaultPreemption ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Resident:
    """A pod on a candidate node that a preemption might take."""

    key: object  # whatever identifies it to the caller
    priority: int
    started_at: float
    requests: Resources
    budget_allows: bool  # can its budget lose it now (disruptions allowed above 0, or no budget)?


def select_victims(need: Resources, free: Resources, others: Sequence[Resident],
                   priority: int) -> tuple[list[Resident], int] | None:
    """The pods of a node a pod of ``priority`` needing ``need`` would preempt, and how many of them
    break their budget; None if even taking every lower-priority pod leaves too little room.

    As DefaultPreemption's selectVictimsOnNode: remove every pod of lower priority; then give back
    as many as still leave room, the most important first (higher priority, then earlier start),
    those whose budget would break before the others.
    """
    lower = [p for p in others if p.priority < priority]
    room = free
    for p in lower:
        room = room + p.requests
    if not room.fits(need):
        return None
    ordered = sorted(lower, key=lambda p: (-p.priority, p.started_at))
    victims, broken = [], 0
    for group in ([p for p in ordered if not p.budget_allows], [p for p in ordered if p.budget_allows]):
        for p in group:
            if (room - p.requests).fits(need):
                room = room - p.requests  # reprieved: it stays
            else:
                victims.append(p)
                broken += 0 if p.budget_allows else 1
    return victims, broken


def preemption_rank(victims: Sequence[Resident], broken: int) -> tuple:
    """Orders candidate nodes as pickOneNodeForPreemption does (smaller is better): fewest budgets
    broken, then the lowest highest victim priority, the smallest sum of priorities, the fewest
    victims, and the latest start of the highest-priority victims."""
    top = max(p.priority for p in victims) if victims else -(2**31)
    latest = max((p.started_at for p in victims if p.priority == top), default=0.0)
    return (broken, top, sum(p.priority + 2**31 for p in victims), len(victims), -latest)
