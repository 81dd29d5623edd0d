"""The parameters (knobs) that strategies accept, declared as data.

A scenario's ``strategies:`` entry is checked against the parameters of the strategy it
names, so a typo in a knob is an error with a "did you mean", not a silent default.
Defaults cite the platform they come from (see docs/strategies.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from models.quantity import IntOrPercent

INT_OR_PERCENT = "int-or-percent"
DURATION = "duration"
INT = "int"
BOOL = "bool"
CHOICE = "choice"

UNDRAINABLE_CHOICES = ("fail", "wait", "force")


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    default: Any
    doc: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None


MAX_SURGE = Param("maxSurge", INT_OR_PERCENT, IntOrPercent(0),
                  "nodes a pool may have above its size during the upgrade (a count or a percent of the pool, rounded up)")
MAX_UNAVAILABLE = Param("maxUnavailable", INT_OR_PERCENT, IntOrPercent(1),
                        "nodes of a pool that may be unavailable at once (a count or a percent of the pool, rounded down)")
DRAIN_TIMEOUT = Param("drainTimeout", DURATION, 900.0,
                      "how long a drain may take before the undrainable policy applies; 0 waits forever "
                      "(default 15 min, as kOps and EKS managed node groups)")
UNDRAINABLE = Param("undrainable", CHOICE, "fail",
                    "what to do when a drain times out: fail (halt the upgrade), wait (keep retrying), "
                    "force (delete the pods despite their budget; counted as PDB violations)",
                    choices=UNDRAINABLE_CHOICES)
INPLACE_RETRIES = Param("inplaceRetries", INT, 2, "how many times a failed in-place node upgrade is retried", minimum=0)
ON_INPLACE_FAILURE = Param("onInplaceFailure", CHOICE, "halt",
                           "when a node's in-place upgrade still fails after its retries: halt the upgrade, or "
                           "replace the node (drain it, delete it, add a new one at the target)",
                           choices=("halt", "replace"))
DRAIN_FIRST = Param("drainFirst", BOOL, False,
                    "drain a node before upgrading it in place (upstream's advice for minor kubelet upgrades); "
                    "off by default, as in the seed's in-place method, so pods are not rebuilt")

COMMON_PARAMS: tuple[Param, ...] = (MAX_SURGE, MAX_UNAVAILABLE, DRAIN_TIMEOUT, UNDRAINABLE)
INPLACE_PARAMS: tuple[Param, ...] = (*COMMON_PARAMS, INPLACE_RETRIES, ON_INPLACE_FAILURE, DRAIN_FIRST)
# Rolling replacement defaults to Cluster API's MachineDeployment: maxSurge 1, maxUnavailable 0.
REPLACE_PARAMS: tuple[Param, ...] = (
    replace(MAX_SURGE, default=IntOrPercent(1)),
    replace(MAX_UNAVAILABLE, default=IntOrPercent(0)),
    DRAIN_TIMEOUT,
    UNDRAINABLE,
)


def defaults(params: tuple[Param, ...]) -> dict[str, Any]:
    return {p.name: p.default for p in params}
