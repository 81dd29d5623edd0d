"""PodDisruptionBudgets of a scenario: a workload's own ``pdb:`` and the ``podDisruptionBudgets:``
that select pods by label, checked and matched to the workloads they cover.

A budget selects the pods of its namespace whose labels match its selector; an empty
selector (``selector: {}``) selects every pod of the namespace, as in policy/v1
(staging/src/k8s.io/api/policy/v1/types.go). A pod that more than one budget selects
cannot be evicted at all: the Eviction API answers HTTP 500 (pkg/registry/core/pod/storage/eviction.go).
"""

from __future__ import annotations

from dataclasses import replace

from models.selectors import LabelSelector, Requirement
from models.state import PDB, Workload
from sim.scenario.schema import INVALID, Checker, broken
from sim.scenario.source import Path


def _bounds(raw: dict, path: Path, ck: Checker) -> bool:
    """Exactly one of minAvailable and maxUnavailable, as ValidatePodDisruptionBudgetSpec asks (each a count of 0
    or more or a percent up to 100%: the fields' own checks). A count larger than the pods is valid, as the API
    takes it: a budget that never allows an eviction, which the pre-check disruption.pdb-never-allows reports."""
    lo, hi = raw["minAvailable"], raw["maxUnavailable"]
    if lo is not None and hi is not None:
        ck.fail(path, "set one of minAvailable or maxUnavailable, not both (policy/v1 allows only one)")
        return False
    if lo is None and hi is None:
        ck.fail(path, "a PodDisruptionBudget needs minAvailable or maxUnavailable")
        return False
    return True


def workload_pdb(w: dict, path: Path, ck: Checker) -> PDB | None:
    """A workload's own ``pdb:``: a budget over its pods only."""
    raw = w["pdb"]
    if raw is None or not _bounds(raw, path + ("pdb",), ck):
        return None
    return PDB(raw["minAvailable"], raw["maxUnavailable"], raw["unhealthyPodEvictionPolicy"])


def _selector(raw: dict, path: Path, ck: Checker) -> LabelSelector | None:
    requirements = []
    ok = True
    for j, e in enumerate(raw["matchExpressions"] or ()):
        values = tuple(e["values"] or ())
        try:
            requirements.append(Requirement(e["key"], e["operator"], values))
        except ValueError as exc:
            ck.fail(path + ("matchExpressions", j, "values"), f"{exc} (In and NotIn take values; Exists and "
                                                              "DoesNotExist take none)")
            ok = False
    labels = tuple(sorted((raw["matchLabels"] or {}).items()))
    return LabelSelector(labels, tuple(requirements)) if ok else None


def top_level_budgets(raw: list, ck: Checker) -> tuple[PDB, ...]:
    out = []
    seen = set()
    for i, b in enumerate(raw):
        if b is INVALID or broken(b):
            continue
        path: Path = ("podDisruptionBudgets", i)
        if (b["namespace"], b["name"]) in seen:
            ck.fail(path + ("name",), f"PodDisruptionBudget {b['namespace']}/{b['name']} is declared twice")
            continue
        seen.add((b["namespace"], b["name"]))
        selector = _selector(b["selector"], path + ("selector",), ck)
        if selector is None or not _bounds(b, path, ck):
            continue
        out.append(PDB(b["minAvailable"], b["maxUnavailable"], b["unhealthyPodEvictionPolicy"], b["name"],
                       b["namespace"], selector))
    return tuple(out)


def select_budgets(workloads: tuple[Workload, ...], pdbs: tuple[PDB, ...]) -> tuple[Workload, ...]:
    """Each workload with the budget that covers its pods (``pdb``) and how many select them (``budgets``)."""
    out = []
    for w in workloads:
        matching = ([w.pdb] if w.pdb is not None else []) + [p for p in pdbs if p.selects(w)]
        out.append(replace(w, pdb=matching[0] if matching else None, budgets=len(matching)))
    return tuple(out)
