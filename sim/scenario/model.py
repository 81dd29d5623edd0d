"""What a loaded scenario is: the first cluster state plus how to run the rehearsal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.autoscaling import Autoscaler
from models.expectations import Expectation
from models.ranking import DEFAULT_OBJECTIVES
from models.schedule import parse_time
from models.state import ClusterState
from models.faults import FaultSpec
from models.timing import Dist, Timing
from models.version import KubeVersion

__all__ = ["Dist", "Timing", "StrategySpec", "FaultSpec", "LiveSettings", "Scenario"]


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
    # do in-place kubelet upgrades restart the node's containers? auto: as upstream's kubelets did
    # (models.compat.KUBELET_RESTARTS), never, always
    inplace_restarts: str = "auto"
    autoscaler: Autoscaler | None = None  # a cluster-autoscaler acting during the upgrade (``autoscaler:``)
    start_time: float = parse_time("2026-01-05T10:00:00Z")  # ``startTime``: wall time at simulated time 0
    expectations: tuple[Expectation, ...] = ()  # the scenario's expect: entries
    objectives: tuple[str, ...] = DEFAULT_OBJECTIVES  # what ranks strategies, most important first

    def strategy(self, label_or_name: str) -> StrategySpec:
        for s in self.strategies:
            if s.label == label_or_name:
                return s
        for s in self.strategies:
            if s.name == label_or_name:
                return s
        raise KeyError(label_or_name)
