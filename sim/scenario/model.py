"""What a loaded scenario is: the first cluster state plus how to run the rehearsal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.state import ClusterState
from models.version import KubeVersion


@dataclass(frozen=True)
class Dist:
    """A distribution of durations in seconds: constant, uniform, triangular, lognormal, exponential, or
    empirical (one of the recorded durations, each equally likely)."""

    kind: str
    params: tuple[float, ...]

    @classmethod
    def constant(cls, seconds: float) -> Dist:
        return cls("constant", (float(seconds),))

    def describe(self) -> str:
        if self.kind == "empirical":
            return f"empirical({len(self.params)} samples, {min(self.params):g}s to {max(self.params):g}s)"
        p = ", ".join(f"{x:g}s" for x in self.params)
        return f"{p}" if self.kind == "constant" else f"{self.kind}({p})"


@dataclass(frozen=True)
class Timing:
    node_provision: Dist
    node_delete: Dist
    inplace_steps: tuple[tuple[str, Dist], ...]
    runtime_upgrade: Dist
    control_plane_instance: Dist
    controller_instance: Dist
    image_pull: Dist
    pod_startup: Dist
    eviction_retry_s: float
    node_monitor_grace_s: float | None
    not_ready_toleration_s: float
    leader_lease_s: float
    local_volume_rebind: Dist
    reconcile_interval_s: float


@dataclass(frozen=True)
class StrategySpec:
    """A strategy as a scenario names it: its name, its parameters and the label it is reported under."""

    name: str
    params: tuple[tuple[str, Any], ...]
    label: str

    def kwargs(self) -> dict[str, Any]:
        return dict(self.params)

    def param(self, name: str) -> Any:
        return dict(self.params)[name]


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


@dataclass(frozen=True)
class LiveSettings:
    """How ``midair apply`` drives a real cluster (the scenario's ``live:`` section)."""

    pool_label: str | None = None
    hooks: tuple[tuple[str, str], ...] = ()
    hook_timeout_s: float = 1800.0
    drain_parallelism: int = 10
    poll_interval_s: float = 5.0
    api_outage_timeout_s: float = 600.0
    retry_delay_s: float = 1.0
    retry_max_delay_s: float = 30.0

    def hook(self, name: str) -> str | None:
        return dict(self.hooks).get(name)


@dataclass(frozen=True)
class Scenario:
    name: str
    file: str
    cluster: ClusterState
    target: KubeVersion
    strategies: tuple[StrategySpec, ...]
    faults: tuple[FaultSpec, ...]
    timing: Timing
    runs: int
    seed: int
    horizon_s: float | None
    safety: bool
    prechecks: str
    description: str = ""
    live: LiveSettings = LiveSettings()
    manifests: tuple[str, ...] = ()  # paths, relative to the working directory

    def strategy(self, label_or_name: str) -> StrategySpec:
        for s in self.strategies:
            if s.label == label_or_name:
                return s
        for s in self.strategies:
            if s.name == label_or_name:
                return s
        raise KeyError(label_or_name)
