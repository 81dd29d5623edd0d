"""Assemble a ``ClusterState`` from a cluster's objects (live lists or a ``kubectl get -o json`` dump)."""

from __future__ import annotations

from dataclasses import replace

from models.state import (
    PDB,
    BudgetStatus,
    DAEMONSET,
    DEPLOYMENT,
    IDLE,
    STATEFULSET,
    ClusterState,
    ControlPlane,
    Node,
    NodePool,
    Resources,
)
from models.version import KubeVersion
from sim.adapters import kube_translate as kt
from sim.adapters.kube_admission import priority_classes, webhooks
from sim.adapters.kube_context import with_context
from sim.adapters.kube_volumes import Storage

# The Kubernetes API shows neither the hosts' configuration nor the cloud's resources.
UNOBSERVED = ("host", "cloud")
KINDS = ("Node", "Pod", "ReplicaSet", "Deployment", "StatefulSet", "DaemonSet", "PodDisruptionBudget", "APIService",
         "PersistentVolumeClaim", "PersistentVolume", "StorageClass", "VolumeAttachment", "PriorityClass", "Service",
         "EndpointSlice", "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration")
DUMP_COMMAND = ("kubectl get nodes,pods,pdb,deploy,rs,sts,ds,apiservices,pvc,pv,storageclasses,volumeattachments,"
                "priorityclasses,svc,endpointslices,validatingwebhookconfigurations,mutatingwebhookconfigurations -A -o json")
# taints that say what is happening to a node now, not what its pool is: the node lifecycle controller's,
# a cordon's, midair's own old-node mark, the cloud's and the autoscalers'
PASSING_TAINTS = ("node.kubernetes.io/", "node.cloudprovider.kubernetes.io/", "midair.io/", "ToBeDeletedByClusterAutoscaler",
                  "DeletionCandidateOfClusterAutoscaler", "karpenter.sh/")


class DumpError(ValueError):
    pass


def group_dump(data) -> dict[str, list[dict]]:
    """Objects by kind from ``kubectl get ... -o json`` output (a List, or a single object)."""
    if not isinstance(data, dict):
        raise DumpError("expected a JSON object (the output of kubectl get ... -o json)")
    items = data.get("items") if data.get("kind", "").endswith("List") or "items" in data else [data]
    if not isinstance(items, list):
        raise DumpError("'items' is not a list")
    out: dict[str, list[dict]] = {k: [] for k in KINDS}
    for item in items:
        if isinstance(item, dict) and item.get("kind") in out:
            out[item["kind"]].append(item)
    if not out["Node"]:
        raise DumpError(f"the dump holds no Node objects; dump with: {DUMP_COMMAND}")
    return out


def build_state(objects: dict[str, list[dict]], *, pool_label: str | None = None,
                pool_sizes: dict[str, int] | None = None, api_version: KubeVersion | None = None,
                phases: dict[str, tuple[str, str]] | None = None, extra_nodes: tuple[Node, ...] = (),
                now: float = 0.0, api_available: bool = True, namespace: str | None = None) -> ClusterState:
    """The cluster as midair sees it. ``phases`` maps node names to (phase, message) of operations
    this process runs; ``extra_nodes`` are placeholders for nodes being provisioned. ``namespace``
    keeps only that namespace's workloads and pods in the view; nodes (and how many pods each
    holds, whatever their namespace: a drain empties a node), the control plane and the add-ons
    are always the whole cluster's."""
    get = lambda kind: objects.get(kind, []) or []  # noqa: E731
    owners = kt.replica_set_owners(get("ReplicaSet"))
    local_claims = kt.local_claims(get("PersistentVolumeClaim"), get("PersistentVolume"))
    pods = [kt.translate_pod(p, owners, local_claims) for p in get("Pod")]
    addons = kt.addons(get("DaemonSet"), get("Deployment"))
    ds_proxy = next((a.version for a in addons if a.name == "kube-proxy"), None)
    proxy_on: dict[str, KubeVersion] = {}
    for obj, info in zip(get("Pod"), pods):
        if info.owner_kind == "DaemonSet" and info.owner_name == "kube-proxy" and info.node:
            v = kt.container_version((obj.get("spec") or {}).get("containers") or [], "kube-proxy")
            if v:
                proxy_on[info.node] = v
    drainable: dict[str, int] = {}
    for p in pods:
        if p.node and p.evictable:
            drainable[p.node] = drainable.get(p.node, 0) + 1
    phases = phases or {}
    nodes = []
    for obj in get("Node"):
        name = (obj.get("metadata") or {}).get("name", "")
        node = kt.translate_node(obj, pool_label, proxy_on.get(name, ds_proxy), drainable.get(name, 0))
        if name in phases:
            node = replace(node, phase=phases[name][0], message=phases[name][1])
        nodes.append(node)
    nodes = sorted(nodes, key=lambda n: n.name) + list(extra_nodes)
    pools = _pools(nodes, pool_sizes or {})
    pdbs = [kt.translate_pdb(p) for p in get("PodDisruptionBudget")]
    priorities, own_classes = priority_classes(get("PriorityClass"))
    storage = Storage(get("StorageClass"), get("PersistentVolumeClaim"), get("PersistentVolume"), get("VolumeAttachment"))
    workloads = [kt.translate_workload(o, kind, pdbs, pool_label, priorities, storage.claim_of)
                 for kind, source in ((DEPLOYMENT, "Deployment"), (STATEFULSET, "StatefulSet"), (DAEMONSET, "DaemonSet"))
                 for o in get(source) if not _is_addon(o, kind)]
    # A StatefulSet pod whose claim is bound to a node-local volume ties the StatefulSet to its nodes.
    # A Deployment's pod on such a claim is tied too, but midair models pinned volumes for StatefulSets
    # only: it takes the Deployment's local storage as data that goes with the pod (docs/live.md).
    tied = {(p.namespace, p.owner_kind, p.owner_name) for p in pods
            if p.owner_kind and (p.pinned if p.owner_kind == STATEFULSET else p.pinned or p.local_storage)}
    workloads = [replace(w, local_storage=True) if (w.namespace, w.kind, w.name) in tied else w for w in workloads]
    # a pod no controller owns is a workload of its own, scheduled or Pending, until it has finished
    workloads += [kt.bare_pod_workload(obj, p, pdbs, pool_label, priorities, storage.claim_of)
                  for obj, p in zip(get("Pod"), pods)
                  if p.owner_kind is None and not p.mirror and p.phase not in ("Succeeded", "Failed")]
    workloads, shared, budgets = _shared_budgets(workloads, pdbs)
    claim_templates = {f"{(o.get('metadata') or {}).get('namespace', 'default')}/{(o.get('metadata') or {}).get('name')}":
                       ((((o.get("spec") or {}).get("volumeClaimTemplates") or [{}])[0].get("metadata") or {}).get("name")
                        or "data") for o in get("StatefulSet")}
    templates = {f"{(o.get('metadata') or {}).get('namespace', 'default')}/{(o.get('metadata') or {}).get('name')}":
                 ((o.get("spec") or {}).get("template") or {}).get("spec") or {} for o in get("Deployment")}
    instances = kt.control_plane_instances(get("Pod"), api_version)
    records = kt.pod_records(pods)
    if namespace is not None:
        workloads = [w for w in workloads if w.namespace == namespace]
        records = [r for r, p in zip(records, pods) if p.namespace == namespace]
    state = ClusterState(
        control_plane=ControlPlane(tuple(instances)),
        pools=tuple(pools),
        nodes=tuple(nodes),
        workloads=tuple(sorted(workloads, key=lambda w: (not w.system, w.namespace, w.name))),
        addons=tuple(addons),
        api_services=tuple(kt.api_services(get("APIService"))),
        pods=tuple(records),
        api_available=api_available,
        observed_at=now,
        unobserved=UNOBSERVED,
        budgets=budgets,
        pdbs=shared,
        webhooks=webhooks(get("ValidatingWebhookConfiguration"), get("MutatingWebhookConfiguration"), get("Service"),
                          workloads),
        priority_classes=own_classes,
        volumes=storage.records(workloads, claim_templates, templates),
    )
    return with_context(state, objects, pods)  # services, annotations, requests per node (sim.adapters.kube_context)


def _shared_budgets(workloads: list, pdbs: list) -> tuple[list, tuple[PDB, ...], tuple[BudgetStatus, ...]]:
    """A budget that selects the pods of one workload is that workload's own ``pdb``; one that selects
    several workloads' pods is a cluster budget (``pdbs``, with its selector) and its status."""
    shared, statuses = [], []
    for info in pdbs:
        members = [w for w in workloads if info.selects(w.namespace, w.pod_labels)]
        if len(members) < 2:
            continue
        pdb = replace(info.pdb, name=info.name, namespace=info.namespace, selector=info.selector)
        shared.append(pdb)
        expected, desired, current = info.status
        statuses.append(BudgetStatus(info.name, info.namespace, tuple(w.key for w in members), expected, desired,
                                     current, info.disruptions_allowed))
        keys = {w.key for w in members}
        workloads = [replace(w, pdb=pdb) if w.key in keys and w.budgets == 1 else w for w in workloads]
    return workloads, tuple(shared), tuple(statuses)


def _is_addon(obj: dict, kind: str) -> bool:
    """kube-proxy and the CNI run as DaemonSets but are add-ons to midair, not workloads; so is
    CoreDNS scaled to 0 (``corednsReplicas: 0`` in a scenario)."""
    meta = obj.get("metadata") or {}
    if meta.get("namespace") != "kube-system":
        return False
    if kind == DEPLOYMENT and meta.get("name") == "coredns":
        return (obj.get("spec") or {}).get("replicas") == 0
    return kind == DAEMONSET and (meta.get("name") == "kube-proxy" or meta.get("name") in kt.CNI_DAEMONSETS)


def _pools(nodes: list[Node], sizes: dict[str, int]) -> list[NodePool]:
    by_pool: dict[str, list[Node]] = {}
    for n in nodes:
        by_pool.setdefault(n.pool, []).append(n)
    for name in sizes:
        by_pool.setdefault(name, [])
    out = []
    for name, members in sorted(by_pool.items()):
        live = [n for n in members if n.phase == IDLE] or members
        first = live[0] if live else None
        labeled = [n for n in members if n.labels]
        common = set.intersection(*(set(n.labels) for n in labeled)) if labeled else set()
        tainted = set.intersection(*(set(n.taints) for n in members)) if members else set()
        out.append(NodePool(
            name=name,
            count=sizes.get(name, len(members)),
            version=min((n.kubelet for n in members), default=KubeVersion(0, 0)),
            allocatable=first.allocatable if first else Resources(),
            zones=tuple(sorted({n.zone for n in members})) or ("unknown",),
            runtime=first.runtime if first else "",
            # what all its nodes share, less what each node has for itself, is the pool's
            labels=tuple(sorted((k, v) for k, v in common if k not in kt.NODE_LABELS)),
            taints=tuple(sorted((t for t in tainted if not t.key.startswith(PASSING_TAINTS)), key=lambda t: (t.key, t.effect))),
        ))
    return out
