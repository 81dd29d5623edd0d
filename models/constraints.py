"""Where a pod may run, as a pod spec says it: taints and tolerations, node selectors and node
affinity, pod affinity and anti-affinity, topology spread constraints, and priority classes.

Plain frozen records with Kubernetes' own meaning (k8s.io/api/core/v1 types.go and
scheduling/v1); the decisions over them (does a toleration tolerate a taint, does a node
match a term, is a skew within bounds, which pods a preemption takes) are the pure
predicates of ``models.scheduling``. The requirement of a node selector term knows the two
operators a label selector lacks, ``Gt`` and ``Lt``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from models.selectors import LabelSelector

NO_SCHEDULE = "NoSchedule"
PREFER_NO_SCHEDULE = "PreferNoSchedule"
NO_EXECUTE = "NoExecute"
TAINT_EFFECTS = (NO_SCHEDULE, PREFER_NO_SCHEDULE, NO_EXECUTE)
TOLERATION_OPERATORS = ("Equal", "Exists")
NODE_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
DO_NOT_SCHEDULE = "DoNotSchedule"
SCHEDULE_ANYWAY = "ScheduleAnyway"
WHEN_UNSATISFIABLE = (DO_NOT_SCHEDULE, SCHEDULE_ANYWAY)
HONOR, IGNORE = "Honor", "Ignore"
PREEMPT_LOWER = "PreemptLowerPriority"
PREEMPT_NEVER = "Never"
PREEMPTION_POLICIES = (PREEMPT_LOWER, PREEMPT_NEVER)

# Labels every node carries (k8s.io/api/core/v1 well_known_labels.go): its name and its zone.
HOSTNAME = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"
# What the node lifecycle controller taints a NotReady (not-ready) or silent (unreachable) node with.
NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"


@dataclass(frozen=True)
class Taint:
    key: str
    effect: str
    value: str = ""

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"


@dataclass(frozen=True)
class Toleration:
    """``operator: Exists`` with no key tolerates every taint; no effect tolerates every effect;
    ``toleration_seconds`` (NoExecute only) bounds how long a pod stays once the taint is there."""

    key: str = ""
    operator: str = "Equal"
    value: str = ""
    effect: str = ""
    toleration_seconds: float | None = None

    def tolerates(self, taint: Taint) -> bool:
        # core/v1 Toleration.ToleratesTaint
        if self.effect and self.effect != taint.effect:
            return False
        if self.key and self.key != taint.key:
            return False
        return self.operator == "Exists" or self.value == taint.value


@dataclass(frozen=True)
class NodeRequirement:
    """One requirement of a node selector term: a label selector's four operators and ``Gt`` / ``Lt``
    (the label's value read as an integer; a label that is not one does not match)."""

    key: str
    operator: str
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.operator not in NODE_OPERATORS:
            raise ValueError(f"unknown operator {self.operator!r}; valid: {', '.join(NODE_OPERATORS)}")
        if self.operator in ("In", "NotIn") and not self.values:
            raise ValueError(f"operator {self.operator} needs at least one value")
        if self.operator in ("Exists", "DoesNotExist") and self.values:
            raise ValueError(f"operator {self.operator} takes no values")
        if self.operator in ("Gt", "Lt") and (len(self.values) != 1 or not _is_int(self.values[0])):
            raise ValueError(f"operator {self.operator} needs exactly one value, a whole number")

    def matches(self, labels: Mapping[str, str]) -> bool:
        op, have = self.operator, labels.get(self.key)
        if op == "In":
            return have in self.values
        if op == "NotIn":
            return have not in self.values  # a missing label is not in the set
        if op == "Exists":
            return have is not None
        if op == "DoesNotExist":
            return have is None
        if have is None or not _is_int(have):
            return False
        return int(have) > int(self.values[0]) if op == "Gt" else int(have) < int(self.values[0])


def _is_int(text: str) -> bool:
    try:
        int(text)
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class NodeSelectorTerm:
    """Requirements on a node's labels (``matchExpressions``) and fields (``matchFields``: only
    ``metadata.name``), all ANDed; a term with neither matches no node."""

    match_expressions: tuple[NodeRequirement, ...] = ()
    match_fields: tuple[NodeRequirement, ...] = ()

    def matches(self, labels: Mapping[str, str], name: str) -> bool:
        if not self.match_expressions and not self.match_fields:
            return False
        return (all(r.matches(labels) for r in self.match_expressions)
                and all(r.matches({"metadata.name": name}) for r in self.match_fields))

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(r.key for r in self.match_expressions)


@dataclass(frozen=True)
class PreferredTerm:
    weight: int
    term: NodeSelectorTerm


@dataclass(frozen=True)
class NodeAffinity:
    """``required`` terms are ORed (None: no requirement); ``preferred`` terms add their weight."""

    required: tuple[NodeSelectorTerm, ...] | None = None
    preferred: tuple[PreferredTerm, ...] = ()


@dataclass(frozen=True)
class PodAffinityTerm:
    """Pods that ``selector`` picks (None: none), in ``namespaces`` and the namespaces
    ``namespace_selector`` picks (both empty: the pod's own), counted per value of ``topology_key``."""

    topology_key: str
    selector: LabelSelector | None = None
    namespaces: tuple[str, ...] = ()
    namespace_selector: LabelSelector | None = None


@dataclass(frozen=True)
class WeightedTerm:
    weight: int
    term: PodAffinityTerm


@dataclass(frozen=True)
class PodAffinity:
    """A pod's ``podAffinity`` or ``podAntiAffinity``: required and preferred terms."""

    required: tuple[PodAffinityTerm, ...] = ()
    preferred: tuple[WeightedTerm, ...] = ()


@dataclass(frozen=True)
class SpreadConstraint:
    """A topology spread constraint. ``min_domains`` None is 1; node inclusion: node affinity
    honoured, taints ignored, unless said otherwise (scheduler plugins/podtopologyspread)."""

    max_skew: int
    topology_key: str
    when_unsatisfiable: str = DO_NOT_SCHEDULE
    selector: LabelSelector | None = None
    min_domains: int | None = None
    node_affinity_policy: str = HONOR
    node_taints_policy: str = IGNORE


@dataclass(frozen=True)
class PriorityClass:
    name: str
    value: int
    preemption_policy: str = PREEMPT_LOWER
    global_default: bool = False


# The two classes every cluster has (plugin/pkg/admission/priority; scheduling/v1 SystemPriorityClasses);
# user classes may go up to 1,000,000,000 (HighestUserDefinablePriority).
SYSTEM_PRIORITY_CLASSES = (PriorityClass("system-node-critical", 2_000_001_000),
                           PriorityClass("system-cluster-critical", 2_000_000_000))
HIGHEST_USER_PRIORITY = 1_000_000_000


@dataclass(frozen=True)
class Scheduling:
    """Everything in a pod spec that decides where it may run and what it may displace."""

    node_selector: tuple[tuple[str, str], ...] = ()
    node_affinity: NodeAffinity | None = None
    pod_affinity: PodAffinity | None = None
    pod_anti_affinity: PodAffinity | None = None
    tolerations: tuple[Toleration, ...] = ()
    spread: tuple[SpreadConstraint, ...] = ()
    priority_class: str = ""
    priority: int = 0
    preemption_policy: str = PREEMPT_LOWER

    @property
    def constrained(self) -> bool:
        """Does it say anything beyond a priority (a selector, an affinity, a spread)?"""
        return bool(self.node_selector or self.node_affinity or self.pod_affinity or self.pod_anti_affinity
                    or self.spread)


NO_SCHEDULING = Scheduling()


def node_labels(pool_labels: tuple[tuple[str, str], ...], zone: str, name: str) -> tuple[tuple[str, str], ...]:
    """A node's labels: its pool's, then its zone and hostname (which nothing overrides)."""
    labels = dict(pool_labels)
    labels[ZONE] = zone
    labels[HOSTNAME] = name
    return tuple(sorted(labels.items()))
