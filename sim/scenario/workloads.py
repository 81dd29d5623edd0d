"""The scenario's ``workloads:`` as ``Workload`` records, with the rules that span their fields."""

from __future__ import annotations

from models.constraints import PriorityClass
from models.state import BARE_POD, DAEMONSET, Resources, Workload
from sim.scenario.budgets import workload_pdb
from sim.scenario.placement import is_local, scheduling, storage
from sim.scenario.schema import INVALID, UNKNOWN, Checker, broken, suggest


def raw_pool_names(ck: Checker) -> list[str]:
    """Pool names as written, including pools that failed their own checks."""
    try:
        return [str(p["name"]) for p in ck.src.data["cluster"]["nodePools"] if isinstance(p, dict) and "name" in p]
    except (KeyError, TypeError):
        return []


def build_workloads(raw: list, ck: Checker, classes: dict[str, PriorityClass] | None = None) -> list[Workload]:
    """The workloads; a workload with a bad field is left out, but its good fields are still
    checked against each other, so that every error of the file is reported at once.
    ``classes``: the PriorityClasses a workload may name (None: they were refused)."""
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
        if not bad & {"kind", "phase"} and w["phase"] != "Running" and w["kind"] != BARE_POD:
            ck.fail(path + ("phase",), f"only a bare pod (kind: Pod) can be {w['phase']}; a controller's pods are "
                                       "replaced when they finish; valid: Running")
        pdb = workload_pdb(w, path, ck) if not bad & {"pdb", UNKNOWN} else None
        sched = scheduling(w, path, ck, classes) if not bad else None
        claim = storage(w, path, ck) if not bad & {"storage", "localStorage", "kind"} else None
        if bad or sched is None or claim is INVALID:
            continue
        labels = tuple(sorted(w["labels"].items())) if w["labels"] else (("app", w["name"]),)
        out.append(Workload(w["name"], w["kind"], w["namespace"], replicas,
                            Resources(w["cpu"], w["memory"], 1), pdb, w["startupSeconds"], w["imagePullSeconds"],
                            is_local(w["storage"], w["localStorage"]), w["pool"], w["gracePeriodSeconds"], labels=labels,
                            pre_stop_s=w["preStopSeconds"], phase=w["phase"], scheduling=sched, storage=claim,
                            pod_management=w["podManagementPolicy"]))
    return out
