"""The scenario's ``workloads:`` as ``Workload`` records, with the rules that span their fields."""

from __future__ import annotations

from models.state import BARE_POD, DAEMONSET, PDB, Resources, Workload
from sim.scenario.schema import INVALID, UNKNOWN, Checker, broken, suggest
from sim.scenario.source import Path


def raw_pool_names(ck: Checker) -> list[str]:
    """Pool names as written, including pools that failed their own checks."""
    try:
        return [str(p["name"]) for p in ck.src.data["cluster"]["nodePools"] if isinstance(p, dict) and "name" in p]
    except (KeyError, TypeError):
        return []


def build_workloads(raw: list, ck: Checker) -> list[Workload]:
    """The workloads; a workload with a bad field is left out, but its good fields are still
    checked against each other, so that every error of the file is reported at once."""
    out: list[Workload] = []
    seen: set[tuple] = set()
    pool_names = raw_pool_names(ck)
    for i, w in enumerate(raw):
        if w is INVALID:
            continue
        path = ("workloads", i)
        bad = {k for k, v in w.items() if broken(v)}
        if not bad & {"name", "namespace"}:
            if (w["namespace"], w["name"]) in seen:
                ck.fail(path + ("name",), f"workload {w['namespace']}/{w['name']} is declared twice; names must be "
                                          "unique per namespace")
                continue
            seen.add((w["namespace"], w["name"]))
        replicas = w["replicas"]
        if "kind" not in bad and w["kind"] == DAEMONSET:
            if replicas is not None and "replicas" not in bad:
                ck.fail(path + ("replicas",), "a DaemonSet runs one pod per eligible node; remove replicas")
            replicas = 0
        elif replicas is None:
            replicas = 1
        if "pool" not in bad and w["pool"] is not None and pool_names and w["pool"] not in pool_names:
            ck.fail(path + ("pool",), f"no node pool named {w['pool']!r}; {suggest(w['pool'], pool_names)}"
                                      f"valid: {', '.join(pool_names)}")
        # a misspelt field (replica: 6) leaves its default in place: nothing to compare against
        pdb = _pdb(w, replicas, path, ck) if not bad & {"pdb", "kind", "replicas", UNKNOWN} else None
        if bad:
            continue
        out.append(Workload(w["name"], w["kind"], w["namespace"], replicas,
                            Resources(w["cpu"], w["memory"], 1), pdb, w["startupSeconds"], w["imagePullSeconds"],
                            w["localStorage"], w["pool"], w["gracePeriodSeconds"]))
    return out


def _pdb(w: dict, replicas: int, path: Path, ck: Checker) -> PDB | None:
    raw = w["pdb"]
    if raw is None:
        return None
    pdb_path = path + ("pdb",)
    lo, hi = raw["minAvailable"], raw["maxUnavailable"]
    if lo is not None and hi is not None:
        ck.fail(pdb_path, "set one of minAvailable or maxUnavailable, not both (policy/v1 allows only one)")
        return None
    if lo is None and hi is None:
        ck.fail(pdb_path, "a PodDisruptionBudget needs minAvailable or maxUnavailable")
        return None
    for key, value in (("minAvailable", lo), ("maxUnavailable", hi)):
        if value is None:
            continue
        if w["kind"] == BARE_POD:
            continue
        if not value.percent and w["kind"] != DAEMONSET and value.value > replicas:
            ck.fail(pdb_path + (key,), f"{key} {value.value} is larger than the workload's {replicas} replicas; "
                                       f"valid: 0 to {replicas}, or a percentage")
            return None
    return PDB(lo, hi, raw["unhealthyPodEvictionPolicy"])
