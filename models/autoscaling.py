"""cluster-autoscaler's settings and the pure rules of its scale-down, as its FAQ and flags give them
(kubernetes/autoscaler cluster-autoscaler/FAQ.md: "How does scale-down work?", "What types of
pods can prevent CA from removing a node?", "What are the parameters to CA?";
core/scaledown/eligibility/eligibility.go).

A node of an autoscaled pool is *unneeded* when the larger of its CPU and memory requests
(DaemonSet pods included) is below ``scale-down-utilization-threshold`` (0.5) of what it can
allocate, every pod on it can move elsewhere, and it carries no
``cluster-autoscaler.kubernetes.io/scale-down-disabled: "true"``. A node unneeded for
``scale-down-unneeded-time`` (10 min; 20 min for a NotReady node, ``scale-down-unready-time``)
is removed, but not within ``scale-down-delay-after-add`` (10 min) of a scale-up, nor below
the pool's minimum size. Empty nodes go in bulk (``max-empty-bulk-delete``, 10); non-empty
ones one at a time.

A pod keeps its node when it has no controller, keeps data on the node's disk (emptyDir, a
local volume), runs in kube-system without a budget, has a budget that allows no disruption
now, or is annotated ``cluster-autoscaler.kubernetes.io/safe-to-evict: "false"``.
"""

from __future__ import annotations

from dataclasses import dataclass

SCALE_DOWN_DISABLED = "cluster-autoscaler.kubernetes.io/scale-down-disabled"
SAFE_TO_EVICT = "cluster-autoscaler.kubernetes.io/safe-to-evict"
TO_BE_DELETED_TAINT = "ToBeDeletedByClusterAutoscaler"  # the NoSchedule taint CA puts on a node it removes


@dataclass(frozen=True)
class AutoscaledPool:
    name: str
    min_nodes: int
    max_nodes: int


@dataclass(frozen=True)
class Autoscaler:
    """The flags of a cluster-autoscaler, at their upstream defaults, and the pools it scales."""

    pools: tuple[AutoscaledPool, ...]
    scan_interval_s: float = 10.0
    scale_down_enabled: bool = True
    scale_down_unneeded_s: float = 600.0
    scale_down_unready_s: float = 1200.0
    scale_down_delay_after_add_s: float = 600.0
    scale_down_delay_after_delete_s: float | None = None  # None: the scan interval, as upstream
    scale_down_delay_after_failure_s: float = 180.0
    scale_down_utilization_threshold: float = 0.5
    max_empty_bulk_delete: int = 10
    max_pod_eviction_s: float = 120.0  # --max-pod-eviction-time: how long a scale-down drain may take
    new_pod_scale_up_delay_s: float = 0.0

    def pool(self, name: str) -> AutoscaledPool | None:
        return next((p for p in self.pools if p.name == name), None)

    @property
    def delay_after_delete_s(self) -> float:
        d = self.scale_down_delay_after_delete_s
        return self.scan_interval_s if d is None else d


def utilization(cpu_m: int, memory: int, alloc_cpu_m: int, alloc_memory: int) -> float:
    """The larger of the CPU and memory requests as a share of what the node can allocate."""
    shares = [used / alloc for used, alloc in ((cpu_m, alloc_cpu_m), (memory, alloc_memory)) if alloc > 0]
    return max(shares, default=1.0)


@dataclass(frozen=True)
class PodFacts:
    """What the autoscaler looks at in a pod on a node it might remove."""

    name: str
    namespace: str = "default"
    controlled: bool = True
    daemonset: bool = False
    local_storage: bool = False
    has_budget: bool = False
    budget_allows: bool = True  # its budget allows one more disruption now
    safe_to_evict: str | None = None  # the annotation's value, if any


def pod_blocks_scale_down(pod: PodFacts) -> str | None:
    """Why this pod keeps its node from being removed (None: it can move). DaemonSet pods never do."""
    if pod.daemonset:
        return None
    if pod.safe_to_evict == "false":
        return f"pod {pod.namespace}/{pod.name} is annotated {SAFE_TO_EVICT}: \"false\""
    forced = pod.safe_to_evict == "true"
    if not pod.controlled and not forced:
        return f"pod {pod.namespace}/{pod.name} is not backed by a controller"
    if pod.local_storage and not forced:
        return f"pod {pod.namespace}/{pod.name} has local storage"
    if pod.namespace == "kube-system" and not pod.has_budget and not forced:
        return f"pod {pod.namespace}/{pod.name} runs in kube-system without a PodDisruptionBudget"
    if pod.has_budget and not pod.budget_allows:
        return f"pod {pod.namespace}/{pod.name}'s PodDisruptionBudget allows no disruption"
    return None


def unneeded_for(ready: bool, settings: Autoscaler) -> float:
    """How long a node must stay unneeded before it is removed."""
    return settings.scale_down_unneeded_s if ready else settings.scale_down_unready_s
