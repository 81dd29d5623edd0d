"""Pre-upgrade checks: pure functions over a cluster and a target that return findings.

Families: core components, node configuration and cloud resources (the seed's three),
and beyond them version skew, removed APIs, disruption risks, scheduling constraints,
admission webhooks and capacity. Each check
has a stable id (listed in docs/prechecks.md); each finding says what, where, how bad
(BLOCK, WARN, INFO) and how to fix it. May import ``models`` only.
"""

from __future__ import annotations

from collections.abc import Iterable

from models.plan import path_for_state
from models.prechecks import beyond, cloud, core, nodes, placement, traffic
from models.prechecks.base import (
    BLOCK,
    FAMILIES,
    FAMILY_TITLES,
    INFO,
    SEVERITY_ORDER,
    WARN,
    Check,
    Context,
    Finding,
    ManifestRef,
    Traits,
)
from models.sorting import natural_key
from models.state import ClusterState
from models.version import KubeVersion

CHECKS: tuple[Check, ...] = (*core.CHECKS, *nodes.CHECKS, *cloud.CHECKS, *beyond.CHECKS, *placement.CHECKS,
                            *traffic.CHECKS)
CHECK_IDS = tuple(c.id for c in CHECKS)

__all__ = ["run_prechecks", "CHECKS", "CHECK_IDS", "Finding", "Traits", "ManifestRef", "BLOCK", "WARN", "INFO",
           "FAMILIES", "FAMILY_TITLES", "blocking"]


def run_prechecks(state: ClusterState, target: KubeVersion, traits: Traits = Traits(),
                  manifests: Iterable[ManifestRef] = (), manifest_problems: Iterable[tuple[str, int, str]] = ()) -> list[Finding]:
    """Every finding, grouped by family and most severe first."""
    path_error = None
    hops: tuple[KubeVersion, ...] = (target,)
    try:
        hops = path_for_state(state, target).control_plane_hops or (target,)
    except ValueError as exc:
        path_error = str(exc)
    ctx = Context(state, target, hops, traits, tuple(manifests), tuple(manifest_problems), path_error)
    found = [f for c in CHECKS for f in c.findings(ctx)]
    return sorted(found, key=lambda f: (FAMILIES.index(f.family), SEVERITY_ORDER[f.severity], f.id,
                                        natural_key(f.subject)))


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == BLOCK]
