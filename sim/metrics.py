"""The run's timeline and the metrics computed from it (one definition, used everywhere).

``Recorder`` is fed by the world as things happen (API up/down, ready replicas per
workload, node counts, counters) and integrates durations as it goes, so nothing is
scanned twice. ``Recorder.metrics`` returns the names defined in docs/metrics.md, the
keys of ``metrics`` in the results JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from models.traffic import ERROR_SHARE

METRIC_NAMES = (
    "api_downtime_s", "outage_s", "degraded_s", "pods_evicted", "pods_evicted_again", "pods_restarted",
    "pods_rescheduled", "pods_lost_local_data", "pdb_violations", "budget_breaches_involuntary",
    "manual_interventions", "skew_violations", "duration_s", "completed", "halted", "peak_extra_nodes",
    "node_hours", "max_pending_pods", "node_ip_changes", "evictions_refused",
    "requests_failed", "traffic_error_s", "nodes_scaled_up", "nodes_scaled_down", "fresh_nodes_scaled_down",
    "unschedulable_pod_s", "pods_preempted", "volume_wait_s", "multi_attach_errors", "blocked_creations",
)
COUNTERS = ("pods_evicted", "pods_evicted_again", "pods_restarted", "pods_rescheduled", "pods_lost_local_data",
            "pdb_violations", "budget_breaches_involuntary", "manual_interventions", "node_ip_changes",
            "evictions_refused", "nodes_scaled_up", "nodes_scaled_down", "fresh_nodes_scaled_down", "pods_preempted",
            "multi_attach_errors", "blocked_creations")
# counters that belong to one workload; the results break them down per workload
WORKLOAD_COUNTERS = ("pods_evicted", "pods_evicted_again", "pods_restarted", "pods_rescheduled",
                     "pods_lost_local_data", "pdb_violations", "budget_breaches_involuntary",
                     "manual_interventions", "evictions_refused", "pods_preempted", "multi_attach_errors",
                     "blocked_creations")
# pod-seconds spent waiting, integrated per workload: for a fitting node, for a volume
POD_WAITS = ("unschedulable_pod_s", "volume_wait_s")


@dataclass
class WorkloadTrack:
    key: str
    degraded: bool  # Ready below its budget's desired healthy (below its replicas without one)
    desired: int
    ready: int
    since: float = 0.0
    outage_s: float = 0.0
    degraded_s: float = 0.0
    series: list = field(default_factory=list)  # (time, ready, desired)
    counters: dict = field(default_factory=lambda: dict.fromkeys(WORKLOAD_COUNTERS, 0))
    waiting: dict = field(default_factory=lambda: dict.fromkeys(POD_WAITS, 0))  # pods waiting now
    waits_since: dict = field(default_factory=lambda: dict.fromkeys(POD_WAITS, 0.0))
    waited_s: dict = field(default_factory=lambda: dict.fromkeys(POD_WAITS, 0.0))

    def wait(self, name: str, t: float, delta: int) -> None:
        self.waited_s[name] += self.waiting[name] * (t - self.waits_since[name])
        self.waiting[name] += delta
        self.waits_since[name] = t


@dataclass
class ServiceTrack:
    """A service's requests: the share failing since ``since``, and what failed so far."""

    rps: float
    share: float = 0.0
    since: float = 0.0
    failed: float = 0.0
    error_s: float = 0.0

    def close(self, t: float) -> None:
        span = t - self.since
        self.failed += self.rps * self.share * span
        if self.share > ERROR_SHARE:
            self.error_s += span
        self.since = t

    def to_json(self) -> dict:
        return {"requests_failed": round(self.failed), "traffic_error_s": round(self.error_s, 3)}


@dataclass
class PoolTrack:
    """A pool's roll: the first and last action a strategy took on it, and its node churn."""

    first: float | None = None
    last: float | None = None
    nodes_added: int = 0
    nodes_removed: int = 0

    def to_json(self) -> dict:
        span = 0.0 if self.first is None else self.last - self.first
        return {"duration_s": round(span, 3), "nodes_added": self.nodes_added, "nodes_removed": self.nodes_removed}


class Recorder:
    def __init__(self, baseline_nodes: int, keep_series: bool = True):
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.api_up = True
        self.api_since = 0.0
        self.api_down_s = 0.0
        self.api_series: list[tuple[float, bool]] = [(0.0, True)]
        self.workloads: dict[str, WorkloadTrack] = {}
        self.baseline_nodes = baseline_nodes
        self.nodes = baseline_nodes
        self.nodes_since = 0.0
        self.node_seconds = 0.0
        self.peak_nodes = baseline_nodes
        self.nodes_frozen = False
        self.max_pending = 0
        self.skew: list[tuple[float, str, str]] = []
        self.events: list[tuple[float, str]] = []
        self.keep_series = keep_series
        self.pools: dict[str, PoolTrack] = {}
        self.services: dict[str, ServiceTrack] = {}

    # -- feeding -------------------------------------------------------------------------
    def count(self, name: str, n: int = 1, workload: str | None = None) -> None:
        """Add ``n`` to counter ``name``; ``workload`` (its key) books it to that workload too."""
        self.counters[name] += n
        track = self.workloads.get(workload) if workload is not None else None
        if track is not None:
            track.counters[name] += n

    def api(self, t: float, up: bool) -> None:
        if not self.api_up:
            self.api_down_s += t - self.api_since
        self.api_up, self.api_since = up, t
        self.api_series.append((t, up))
        self.events.append((t, "API available" if up else "API unavailable"))

    def track(self, key: str, ready: int, desired: int, degraded: bool) -> None:
        """Start following a workload as it is now."""
        self.workloads[key] = WorkloadTrack(key, degraded, desired, ready, series=[(0.0, ready, desired)])

    def workload(self, t: float, key: str, ready: int, desired: int, degraded: bool) -> None:
        """A workload's Ready or desired count changed (or whether it is degraded)."""
        track = self.workloads.get(key)
        if track is None:
            return
        if (track.ready, track.desired, track.degraded) == (ready, desired, degraded):
            return
        self._close(track, t)
        track.ready, track.desired, track.degraded = ready, desired, degraded
        if self.keep_series:
            track.series.append((t, ready, desired))

    def rose(self, t: float, key: str, ready_from: int, ready_to: int, desired: int, degraded: bool) -> None:
        """A workload's Ready count rose one pod at a time from ``ready_from`` to ``ready_to``, all at ``t``
        (``desired`` all along; ``degraded`` at the end): what ``workload`` records of each step, at once.
        After the first step no time passes, so only the series shows the steps between."""
        track = self.workloads.get(key)
        if track is None or ready_to == ready_from:
            return
        self._close(track, t)
        track.ready, track.desired, track.degraded = ready_to, desired, degraded
        if self.keep_series:
            track.series.extend((t, ready, desired) for ready in range(ready_from + 1, ready_to + 1))

    def _close(self, track: WorkloadTrack, t: float) -> None:
        span = t - track.since
        if track.desired > 0 and track.ready == 0:
            track.outage_s += span
        if track.degraded:
            track.degraded_s += span
        track.since = t

    def upgrade_ended(self, t: float) -> None:
        """Node counts are a cost of the upgrade itself: stop integrating them here."""
        self.node_count(t, self.nodes)
        self.nodes_frozen = True

    def node_count(self, t: float, n: int) -> None:
        if self.nodes_frozen:
            return
        self.node_seconds += self.nodes * (t - self.nodes_since)
        self.nodes, self.nodes_since = n, t
        self.peak_nodes = max(self.peak_nodes, n)

    def pending(self, t: float, n: int) -> None:
        self.max_pending = max(self.max_pending, n)

    def unschedulable(self, t: float, key: str, delta: int) -> None:
        """``delta`` pods of workload ``key`` started (1) or stopped (-1) waiting for a fitting node."""
        track = self.workloads.get(key)
        if track is not None:
            track.wait("unschedulable_pod_s", t, delta)

    def volume_wait(self, t: float, key: str, delta: int) -> None:
        """``delta`` bound pods of workload ``key`` started or stopped waiting for their volume."""
        track = self.workloads.get(key)
        if track is not None:
            track.wait("volume_wait_s", t, delta)
    def pool_action(self, t: float, pool: str) -> None:
        """A strategy acted on a node of ``pool`` (or added one to it)."""
        track = self.pools.setdefault(pool, PoolTrack())
        track.first = t if track.first is None else track.first
        track.last = t

    def pool_nodes(self, pool: str, added: int = 0, removed: int = 0) -> None:
        track = self.pools.setdefault(pool, PoolTrack())
        track.nodes_added += added
        track.nodes_removed += removed

    def track_service(self, key: str, rps: float) -> None:
        self.services[key] = ServiceTrack(rps)

    def service(self, t: float, key: str, share: float) -> None:
        """The share of ``key``'s requests that fail changed (or may have)."""
        track = self.services[key]
        if share != track.share:
            track.close(t)
            track.share = share

    def refused_evictions(self, keys: list[str]) -> None:
        """Evictions refused, one workload key each (a drain's refusals of one retry: a million at scale)."""
        self.counters["evictions_refused"] += len(keys)
        workloads = self.workloads
        for key in keys:
            track = workloads.get(key)
            if track is not None:
                track.counters["evictions_refused"] += 1

    def skew_violation(self, t: float, rule: str, reason: str) -> None:
        self.skew.append((t, rule, reason))
        self.events.append((t, f"skew violation {rule}: {reason}"))

    def event(self, t: float, text: str) -> None:
        self.events.append((t, text))

    # -- results -------------------------------------------------------------------------
    def finish(self, t: float) -> None:
        if not self.api_up:
            self.api_down_s += t - self.api_since
            self.api_since = t
        for track in self.workloads.values():
            self._close(track, t)
            for name in POD_WAITS:
                track.wait(name, t, 0)
        for service in self.services.values():
            service.close(t)
        self.node_count(t, self.nodes)

    def metrics(self, duration_s: float, completed: bool, halted: str | None) -> dict:
        per = {k: (round(t.outage_s, 3), round(t.degraded_s, 3)) for k, t in sorted(self.workloads.items())}
        return {
            "api_downtime_s": round(self.api_down_s, 3),
            "outage_s": round(sum(o for o, _ in per.values()), 3),
            "degraded_s": round(sum(d for _, d in per.values()), 3),
            **{name: self.counters[name] for name in COUNTERS},
            "skew_violations": len(self.skew),
            "duration_s": round(duration_s, 3),
            "completed": completed,
            "halted": halted,
            "peak_extra_nodes": max(0, self.peak_nodes - self.baseline_nodes),
            "node_hours": round(self.node_seconds / 3600.0, 4),
            "max_pending_pods": self.max_pending,
            "requests_failed": sum(s["requests_failed"] for s in self.per_service().values()),
            "traffic_error_s": round(sum(s["traffic_error_s"] for s in self.per_service().values()), 3),
            **{name: round(sum(t.waited_s[name] for t in self.workloads.values()), 3) for name in POD_WAITS},
        }

    def per_pool(self, names) -> dict[str, dict]:
        return {name: self.pools.get(name, PoolTrack()).to_json() for name in names}

    def per_service(self) -> dict[str, dict]:
        return {k: t.to_json() for k, t in sorted(self.services.items())}

    def per_workload(self) -> dict[str, dict]:
        return {k: {"outage_s": round(t.outage_s, 3), "degraded_s": round(t.degraded_s, 3), **t.counters,
                    **{name: round(t.waited_s[name], 3) for name in POD_WAITS}}
                for k, t in sorted(self.workloads.items())}
