"""How the disruption controller counts the pods a PodDisruptionBudget expects, and what it does
when it cannot (kubernetes pkg/controller/disruption/disruption.go: getExpectedPodCount,
getExpectedScale, failSafe, updatePdbStatus).

An integer ``minAvailable`` expects the pods the budget selects. ``maxUnavailable`` and a percent
``minAvailable`` expect the sum of the scales (``spec.replicas``) of the controllers of those pods,
each controller found through a pod of its own: a pod no controller owns (a bare pod, one of the
``unmanagedPods``) adds nothing, and a controller without a scale subresource (a DaemonSet) fails
the sync; the controller then sets ``disruptionsAllowed`` to 0 (``failSafe``) and leaves the rest of
the status as it was, which for a budget never synced is all zeros and an ``observedGeneration``
behind, so the Eviction API refuses every pod the budget selects. The Kubernetes docs say as much:
only an integer ``minAvailable`` works for pods without a controller that implements scale
(kubernetes/website content/en/docs/tasks/run-application/configure-pdb.md, "Arbitrary workloads
and selectors"; kubernetes/kubernetes #106309).
"""

from __future__ import annotations

from collections.abc import Iterable

from models.state import BARE_POD, DAEMONSET, PDB

SCALED = "scaled"  # a Deployment's, a StatefulSet's: its scale counts
UNMANAGED = "unmanaged"  # a bare pod: no controller, adds 0
NO_SCALE = "no-scale"  # a DaemonSet: no scale subresource, the sync fails

_RESOURCES = {DAEMONSET: "daemonsets.apps"}  # the kinds midair models that have no scale subresource


def counts_pods(pdb: PDB) -> bool:
    """Does ``pdb`` expect the pods it selects (an integer minAvailable) rather than its controllers' scale?"""
    return pdb.min_available is not None and not pdb.min_available.percent


def controller_of(kind: str) -> str:
    """What the disruption controller finds behind a pod of a workload of ``kind``."""
    if kind == BARE_POD:
        return UNMANAGED
    return NO_SCALE if kind in _RESOURCES else SCALED


def scale_error(kind: str) -> str:
    """The sync's error for a controller without a scale subresource (getScaleController)."""
    return f"{_RESOURCES[kind]} does not implement the scale subresource"


def expected_pods(pdb: PDB, members: Iterable[tuple[str, int, int]]) -> tuple[int, str | None]:
    """(the expected count, why the sync fails or None) over ``(kind, scale, pods it selects)`` for each
    workload whose pods ``pdb`` selects."""
    members = list(members)
    if counts_pods(pdb):
        return sum(pods for _, _, pods in members), None
    expected = 0
    for kind, scale, pods in members:
        if pods <= 0:
            continue  # a controller is found through its pods
        found = controller_of(kind)
        if found == NO_SCALE:
            return 0, scale_error(kind)
        if found == SCALED:
            expected += scale
    return expected, None


def disruptions_allowed(current: int, desired: int, expected: int) -> int:
    """updatePdbStatus: ``if expectedCount <= 0 || disruptionsAllowed <= 0 { disruptionsAllowed = 0 }``."""
    allowed = current - desired
    return 0 if expected <= 0 or allowed <= 0 else allowed
