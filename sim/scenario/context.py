"""The scenario's ``services:``, ``autoscaler:`` and ``annotations:`` as records, with the rules
that span them and the cluster: a service's workload must exist in its namespace, and
``externalTrafficPolicy: Local`` needs a load balancer (the API server accepts the field only on
NodePort and LoadBalancer Services); an autoscaled pool must exist, with its minimum at most its
maximum; an annotation must be one midair acts on, on a workload or node that exists."""

from __future__ import annotations

from dataclasses import replace

from models.autoscaling import SAFE_TO_EVICT, SCALE_DOWN_DISABLED, AutoscaledPool, Autoscaler
from models.karpenter import DO_NOT_DISRUPT
from models.state import BARE_POD, ClusterState
from models.traffic import LOCAL, Service
from sim.scenario.schema import INVALID, Checker, broken, suggest

# the annotations midair acts on, and the values that mean something
POD_ANNOTATIONS = {SAFE_TO_EVICT: ("true", "false"), DO_NOT_DISRUPT: ("true",)}
NODE_ANNOTATIONS = {SCALE_DOWN_DISABLED: ("true",), DO_NOT_DISRUPT: ("true",)}


def build_services(raw: list, ck: Checker, cluster: ClusterState) -> tuple[Service, ...]:
    out: list[Service] = []
    seen: set[str] = set()
    workloads = {w.key: w for w in cluster.workloads}
    for i, s in enumerate(raw):
        if s is INVALID or broken(s):
            continue
        path = ("services", i)
        key = f"{s['namespace']}/{s['name']}"
        if key in seen:
            ck.fail(path + ("name",), f"service {key} is declared twice; names must be unique per namespace")
            continue
        seen.add(key)
        target = workloads.get(f"{s['namespace']}/{s['workload']}")
        if target is None:
            here = sorted(w.name for w in cluster.workloads if w.namespace == s["namespace"])
            ck.fail(path + ("workload",), f"no workload named {s['workload']!r} in namespace {s['namespace']}; "
                                          f"{suggest(s['workload'], here)}valid: {', '.join(here) or 'none'}")
            continue
        if target.kind == BARE_POD and target.phase != "Running":
            ck.fail(path + ("workload",), f"{target.key} is a finished pod ({target.phase}): it serves nothing; "
                                          "valid: a workload whose pods run")
            continue
        if s["externalTrafficPolicy"] == LOCAL and not s["loadBalancer"]:
            ck.fail(path + ("externalTrafficPolicy",), "Local applies to traffic from outside the cluster, and "
                    "Kubernetes allows it only on a NodePort or LoadBalancer Service; valid: set loadBalancer: true, "
                    "or externalTrafficPolicy: Cluster")
            continue
        out.append(Service(s["name"], target.key, s["requestsPerSecond"], s["namespace"],
                           s["externalTrafficPolicy"], s["loadBalancer"]))
    return tuple(out)


def build_autoscaler(raw: dict | None, ck: Checker, cluster: ClusterState) -> Autoscaler | None:
    if raw is None or broken(raw) or not raw["enabled"]:
        return None
    if raw["scanInterval"] <= 0:
        ck.fail(("autoscaler", "scanInterval"), "0s would make the autoscaler spin without time passing; valid: a "
                                                "duration above 0, e.g. 10s")
        return None
    sizes = {p.name: p.count for p in cluster.pools}
    pools: list[AutoscaledPool] = []
    entries = raw["pools"] if raw["pools"] is not None else [{"name": n, "minNodes": None, "maxNodes": None}
                                                             for n in sizes]
    for i, p in enumerate(entries):
        path = ("autoscaler", "pools", i)
        if p["name"] not in sizes:
            ck.fail(path + ("name",), f"no node pool named {p['name']!r}; {suggest(p['name'], sizes)}"
                                      f"valid: {', '.join(sizes)}")
            continue
        if any(q.name == p["name"] for q in pools):
            ck.fail(path + ("name",), f"pool {p['name']} is listed twice")
            continue
        count = sizes[p["name"]]
        low = count if p["minNodes"] is None else p["minNodes"]
        high = max(2 * count, count + 1) if p["maxNodes"] is None else p["maxNodes"]
        if low > high:
            ck.fail(path, f"minNodes {low} is above maxNodes {high}; valid: minNodes at most maxNodes")
            continue
        pools.append(AutoscaledPool(p["name"], low, high))
    return Autoscaler(tuple(pools), raw["scanInterval"], raw["scaleDownEnabled"], raw["scaleDownUnneededTime"],
                      raw["scaleDownUnreadyTime"], raw["scaleDownDelayAfterAdd"], raw["scaleDownDelayAfterDelete"],
                      raw["scaleDownDelayAfterFailure"], raw["scaleDownUtilizationThreshold"],
                      raw["maxEmptyBulkDelete"], raw["maxPodEvictionTime"], raw["newPodScaleUpDelay"])


def _checked(annotations: dict, known: dict, path, ck: Checker) -> tuple[tuple[str, str], ...] | None:
    ok = True
    for key, value in annotations.items():
        if key not in known:
            ck.fail(path + (key,), f"midair does not act on annotation {key!r}; {suggest(key, known)}"
                                   f"valid: {', '.join(known)}")
            ok = False
        elif value is not INVALID and value not in known[key]:
            ck.fail(path + (key,), f"{key}: {value!r} means nothing to its controller; valid: "
                                   f"{', '.join(repr(v) for v in known[key])}")
            ok = False
    return tuple(sorted(annotations.items())) if ok and not broken(annotations) else None


def apply_annotations(raw: dict | None, ck: Checker, cluster: ClusterState) -> ClusterState:
    """The cluster with its workloads' pod annotations and its nodes' annotations set."""
    if raw is None or broken(raw):
        return cluster
    by_key = {w.key: w for w in cluster.workloads}
    pods: dict[str, tuple] = {}
    for ref, values in (raw["workloads"] or {}).items():
        path = ("annotations", "workloads", ref)
        key = ref if "/" in ref else f"default/{ref}"
        if key not in by_key:
            ck.fail(path, f"no workload {key}; {suggest(key, by_key)}valid: {', '.join(sorted(by_key))} "
                          "(NAME for the default namespace, or NAMESPACE/NAME)")
            continue
        checked = _checked(values, POD_ANNOTATIONS, path, ck)
        if checked is not None:
            pods[key] = checked
    names = {n.name for n in cluster.nodes}
    nodes: dict[str, tuple] = {}
    for name, values in (raw["nodes"] or {}).items():
        path = ("annotations", "nodes", name)
        if name not in names:
            ck.fail(path, f"no node {name!r}; {suggest(name, names)}valid: a node of a pool, such as "
                          f"{min(names, default='general-1')}")
            continue
        checked = _checked(values, NODE_ANNOTATIONS, path, ck)
        if checked is not None:
            nodes[name] = checked
    return replace(cluster,
                   workloads=tuple(replace(w, annotations=pods[w.key]) if w.key in pods else w for w in cluster.workloads),
                   nodes=tuple(replace(n, annotations=nodes[n.name]) if n.name in nodes else n for n in cluster.nodes))
