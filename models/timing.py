"""Timing records: distributions of durations and the timing of a cluster's activities.

Plain data, handed to the simulated world by the composition root (``sim.simulate``);
the scenario format (``sim.scenario``) builds them, ``sim.sampling`` draws from them.
"""

from __future__ import annotations

from dataclasses import dataclass


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
    reconcile_interval_s: float
    # SIGTERM to exit, before the grace period ends it (midair's assumption: docs/fidelity.md)
    pod_termination: Dist = Dist("lognormal", (2.0, 15.0))
    # until a person (or a node-cleanup controller) recovers a pod whose local volume's node is gone;
    # None: nobody does (midair's assumption for the default: docs/fidelity.md)
    operator_response: Dist | None = Dist("lognormal", (900.0, 3600.0))
    # a zonal volume's attach to and detach from a node (midair's assumption: docs/fidelity.md)
    volume_attach: Dist = Dist("uniform", (10.0, 30.0))
    volume_detach: Dist = Dist("uniform", (5.0, 20.0))
    # traffic (issue 16; midair's assumptions: docs/fidelity.md): an endpoint change until every kube-proxy has
    # it; until the cloud load balancer has it; a node's health check result until the load balancer acts on it
    endpoint_propagation: Dist = Dist("lognormal", (2.0, 8.0))
    lb_deregistration: Dist = Dist("lognormal", (10.0, 30.0))
    lb_health_check: Dist = Dist("uniform", (20.0, 30.0))
