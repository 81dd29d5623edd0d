"""Variations of one scenario: small changes to its cluster, its timings pinned within their
ranges, and ``varied()``, which writes them (and extra faults) into the scenario's dict.

``midair fuzz`` searches these around a user's own scenario; each generator is valid by
construction for the cluster or ranges it is given, and shrinks towards "no change": an
empty list, a timing left as the scenario has it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping

from hypothesis import strategies as st

from models.quantity import IntOrPercent, format_duration
from models.state import DAEMONSET, PDB, ClusterState, Workload
from models.testing.bounds import check_int

BUDGET_STEP_PERCENT = 10  # a percentage budget tightens by this many points


def allows_an_eviction(pdb: PDB, replicas: int) -> bool:
    """Does ``pdb`` over ``replicas`` healthy pods allow at least one eviction (the pre-check
    ``disruption.pdb-never-allows`` blocks an upgrade whose budget does not)?"""
    if pdb.max_unavailable is not None and pdb.max_unavailable.scaled(replicas, True) == 0:
        return False
    return pdb.desired_healthy(replicas) < replicas


def _tighter(pdb: PDB) -> PDB | None:
    if pdb.min_available is not None:
        v = pdb.min_available
        return PDB(IntOrPercent(min(100, v.value + BUDGET_STEP_PERCENT) if v.percent else v.value + 1, v.percent),
                   None, pdb.unhealthy_pod_eviction_policy)
    if pdb.max_unavailable is not None and pdb.max_unavailable.value > 0:
        v = pdb.max_unavailable
        return PDB(None, IntOrPercent(max(0, v.value - BUDGET_STEP_PERCENT) if v.percent else v.value - 1, v.percent),
                   pdb.unhealthy_pod_eviction_policy)
    return None


def _budget(pdb: PDB) -> dict:
    field, value = ("minAvailable", pdb.min_available) if pdb.min_available is not None else (
        "maxUnavailable", pdb.max_unavailable)
    return {field: value.to_json()}


def _fits(pdb: PDB | None, replicas: int) -> bool:
    """Would the format accept ``pdb`` over ``replicas``, and would it still allow an eviction?"""
    if pdb is None:
        return True
    for bound in (pdb.min_available, pdb.max_unavailable):  # the format bounds a count by the replicas
        if bound is not None and not bound.percent and bound.value > replicas:
            return False
    return allows_an_eviction(pdb, replicas)


def change_candidates(cluster: ClusterState, *, not_ready: bool = True) -> list[dict]:
    """Every small change ``cluster_changes`` may draw, in a fixed order: a Ready node NotReady
    already (only with ``not_ready``), a workload one replica fewer, a budget one step tighter.
    None leaves a budget that allows no eviction, which would block the upgrade."""
    out: list[dict] = []
    if not_ready:
        out += [{"node": n.name, "ready": False} for n in cluster.nodes if n.ready]
    user: list[Workload] = [w for w in cluster.workloads if not w.system and w.kind != DAEMONSET]
    for w in user:
        if w.replicas >= 2 and _fits(w.pdb, w.replicas - 1):
            out.append({"workload": w.key, "replicas": w.replicas - 1})
    for w in user:
        tighter = _tighter(w.pdb) if w.pdb is not None else None
        if tighter is not None and w.replicas >= 1 and _fits(tighter, w.replicas):
            out.append({"workload": w.key, "pdb": _budget(tighter)})
    return out


def _subject(change: dict) -> str:
    return change.get("node") or change["workload"]


def cluster_changes(cluster: ClusterState, *, max_changes: int = 2,
                    not_ready: bool = True) -> st.SearchStrategy[tuple[dict, ...]]:
    """Up to ``max_changes`` small changes to ``cluster``, at most one per node or workload (see
    ``change_candidates``): ``{"node": "general-2", "ready": False}``, ``{"workload":
    "default/web", "replicas": 5}``, ``{"workload": "default/web", "pdb": {"minAvailable": 5}}``.

    A node NotReady before the upgrade trips the blocking pre-check ``core.node-not-ready``:
    ask for one (``not_ready``) only for a scenario run with ``prechecks: ignore``.
    """
    check_int("max_changes", max_changes, 0)
    candidates = change_candidates(cluster, not_ready=bool(not_ready))
    if not candidates or max_changes == 0:
        return st.just(())
    return st.lists(st.sampled_from(candidates), max_size=max_changes, unique_by=_subject).map(tuple)


def timings(ranges: Mapping[str, tuple[float, float]]) -> st.SearchStrategy[dict]:
    """Some of the ``timing:`` fields named in ``ranges`` (dotted paths, e.g. ``nodeProvision``,
    ``inplace.replaceBinaries``) pinned to a constant within their ``(low, high)`` range, in
    tenths of a second, as a nested ``timing:`` mapping (``{"inplace": {"rejoin": "7.5s"}}``).
    A field whose range is a single value is left alone."""
    fields = []
    for path, (low, high) in sorted(ranges.items()):
        lo, hi = math.ceil(low * 10), math.floor(high * 10)
        if lo < hi:
            fields.append((path, st.none() | st.integers(lo, hi).map(lambda tenths: format_duration(tenths / 10))))
    if not fields:
        return st.just({})
    return st.tuples(*(g for _, g in fields)).map(lambda values: _nest(
        {path: v for (path, _), v in zip(fields, values) if v is not None}))


def _nest(flat: Mapping[str, str]) -> dict:
    out: dict = {}
    for path, value in flat.items():
        *parents, last = path.split(".")
        node = out
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return out


def _merge(into: dict, overrides: Mapping) -> None:
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value)


def _workload_entry(doc: dict, key: str) -> dict:
    namespace, _, name = key.rpartition("/")
    for entry in doc.get("workloads") or []:
        if entry.get("name") == name and entry.get("namespace", "default") == namespace:
            return entry
    raise ValueError(f"the scenario has no workload {key}")


def _apply(doc: dict, change: Mapping) -> None:
    if "node" in change:
        pool = change["node"].rpartition("-")[0]
        entry = next((p for p in doc["cluster"]["nodePools"] if p.get("name") == pool), None)
        if entry is None:
            raise ValueError(f"the scenario has no pool {pool} for node {change['node']}")
        overrides = entry.setdefault("nodes", [])
        node = next((o for o in overrides if o.get("name") == change["node"]), None)
        if node is None:
            overrides.append(node := {"name": change["node"]})
        node["ready"] = change["ready"]
        return
    entry = _workload_entry(doc, change["workload"])
    if "replicas" in change:
        entry["replicas"] = change["replicas"]
    if "pdb" in change:
        policy = (entry.get("pdb") or {}).get("unhealthyPodEvictionPolicy")
        entry["pdb"] = {**change["pdb"], **({"unhealthyPodEvictionPolicy": policy} if policy else {})}


def varied(doc: Mapping, *, faults: Iterable[Mapping] = (), timing: Mapping | None = None,
           changes: Iterable[Mapping] = (), seed: int | None = None) -> dict:
    """A copy of the scenario dict ``doc`` with ``faults`` added to its own, ``timing``
    overrides merged into its ``timing:``, the cluster ``changes`` made and, if given, its
    ``seed`` replaced."""
    out = copy.deepcopy(dict(doc))
    if faults:
        out["faults"] = list(out.get("faults") or []) + [dict(f) for f in faults]
    if timing:
        out["timing"] = dict(out.get("timing") or {})
        _merge(out["timing"], timing)
    for change in changes:
        _apply(out, change)
    if seed is not None:
        out["seed"] = seed
    return out
