"""What surrounds the upgrade, read from a cluster's objects: Services with their EndpointSlices,
the annotations cluster-autoscaler and Karpenter honour, and what each node's pods request.

A Service becomes a ``models.traffic.Service`` over the workload its endpoints belong to: the
owner of most of the pods its EndpointSlices (``kubernetes.io/service-name``) point at, or,
without slices, the first workload of its namespace whose pod labels its selector matches. A
Service without a selector (``kubernetes``, external names) is left out. ``type: LoadBalancer``
is a cloud load balancer; ``externalTrafficPolicy`` applies to it only (the API allows the
field on NodePort and LoadBalancer Services; midair models the load balancer's side). The API
shows no request rate: ``midair.io/requests-per-second`` on the Service gives one, else 100.

Pure: objects in, records out (``sim.adapters.kube_state`` calls it last).
"""

from __future__ import annotations

from dataclasses import replace

from models.autoscaling import SAFE_TO_EVICT, SCALE_DOWN_DISABLED
from models.karpenter import DO_NOT_DISRUPT
from models.state import ClusterState, Resources
from models.traffic import CLUSTER, LOCAL, Service
from sim.adapters import kube_translate as kt

RPS_ANNOTATION = "midair.io/requests-per-second"
DEFAULT_RPS = 100.0
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
NODE_KEYS = (SCALE_DOWN_DISABLED, DO_NOT_DISRUPT)
POD_KEYS = (SAFE_TO_EVICT, DO_NOT_DISRUPT)
KINDS = {"Deployment": "Deployment", "StatefulSet": "StatefulSet", "DaemonSet": "DaemonSet"}


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _known(annotations: dict | None, keys) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, str(v)) for k, v in (annotations or {}).items() if k in keys))


def _rps(meta: dict) -> float:
    try:
        value = float((meta.get("annotations") or {}).get(RPS_ANNOTATION, DEFAULT_RPS))
    except (TypeError, ValueError):
        return DEFAULT_RPS
    return value if value > 0 else DEFAULT_RPS


def translate_services(services: list[dict], slices: list[dict], pods: list[kt.PodInfo], workloads) -> list[Service]:
    keys = {w.key for w in workloads}
    owner = {(p.namespace, p.name): f"{p.namespace}/{p.owner_name}" if p.owner_kind else f"{p.namespace}/{p.name}"
             for p in pods}
    out = []
    for obj in services:
        meta, spec = _meta(obj), obj.get("spec") or {}
        ns, name = meta.get("namespace", "default"), meta.get("name", "")
        selector = spec.get("selector") or {}
        if not selector:
            continue
        counts: dict[str, int] = {}
        for s in slices:
            smeta = _meta(s)
            if smeta.get("namespace", "default") != ns or (smeta.get("labels") or {}).get(SERVICE_NAME_LABEL) != name:
                continue
            for e in s.get("endpoints") or []:
                ref = e.get("targetRef") or {}
                key = owner.get((ns, ref.get("name", ""))) if ref.get("kind") == "Pod" else None
                if key in keys:
                    counts[key] = counts.get(key, 0) + 1
        target = min(counts, key=lambda k: (-counts[k], k)) if counts else next(
            (w.key for w in sorted(workloads, key=lambda w: w.key) if w.namespace == ns
             and all(w.pod_labels.get(k) == v for k, v in selector.items())), None)
        if target is None:
            continue
        lb = spec.get("type") == "LoadBalancer"
        policy = LOCAL if lb and spec.get("externalTrafficPolicy") in (LOCAL, "OnlyLocal") else CLUSTER
        out.append(Service(name, target, _rps(meta), ns, policy, lb))
    return sorted(out, key=lambda s: s.key)


def _workload_annotations(objects: dict[str, list[dict]]) -> dict[str, tuple]:
    out = {}
    for kind in KINDS:
        for obj in objects.get(kind, []) or []:
            meta = _meta(obj)
            found = _known(kt._get(obj, "spec", "template", "metadata", "annotations", default={}), POD_KEYS)
            if found:
                out[f"{meta.get('namespace', 'default')}/{meta.get('name', '')}"] = found
    return out


def with_context(state: ClusterState, objects: dict[str, list[dict]], pods: list[kt.PodInfo]) -> ClusterState:
    """``state`` with its services, annotations and what each node's pods request."""
    get = lambda kind: objects.get(kind, []) or []  # noqa: E731
    requested: dict[str, list[Resources]] = {}
    moving: dict[str, list[Resources]] = {}
    keep: dict[str, list[str]] = {}
    for obj, info in zip(get("Pod"), pods):
        if not info.node or info.phase in ("Succeeded", "Failed"):
            continue
        r = kt._requests(obj.get("spec") or {})
        requested.setdefault(info.node, []).append(r)
        if info.evictable:
            moving.setdefault(info.node, []).append(r)
        if info.phase == "Running" and (_meta(obj).get("annotations") or {}).get(DO_NOT_DISRUPT) == "true":
            keep.setdefault(info.node, []).append(f"{info.namespace}/{info.name}")
    node_notes = {_meta(o).get("name", ""): _known(_meta(o).get("annotations"), NODE_KEYS) for o in get("Node")}

    def total(rs: list[Resources]) -> Resources:
        return Resources(sum(r.cpu_m for r in rs), sum(r.memory for r in rs), len(rs))

    nodes = tuple(replace(n, annotations=node_notes.get(n.name, ()), requested=total(requested.get(n.name, [])),
                          reschedulable=total(moving.get(n.name, [])), do_not_disrupt=tuple(sorted(keep.get(n.name, []))))
                  for n in state.nodes)
    notes = _workload_annotations(objects)
    workloads = tuple(replace(w, annotations=notes[w.key]) if w.key in notes else w for w in state.workloads)
    services = tuple(translate_services(get("Service"), get("EndpointSlice"), pods, workloads))
    return replace(state, nodes=nodes, workloads=workloads, services=services)
