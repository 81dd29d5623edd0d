"""Pure translators from Kubernetes API JSON to midair's frozen records: nodes, workloads and their
budgets, the control plane, add-ons and APIServices.

Input is the cluster's objects grouped by kind (``{"Node": [...], "Pod": [...], ...}``),
as the live adapter lists them or as ``kubectl get ... -o json`` dumps them. Missing
fields, older API versions and unknown extra fields are tolerated: every lookup has a
default. Nothing here does I/O. Pods and their volumes are ``sim.adapters.kube_pods``'s and
``kube_volumes``'; webhooks and PriorityClasses ``kube_admission``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from models.constraints import HOSTNAME, PREEMPT_LOWER
from models.podspec import scheduling_from_json
from models.quantity import IntOrPercent, parse_cpu, parse_memory
from models.selectors import LabelSelector, selector_from_json
from models.state import (
    APISERVER,
    BARE_POD,
    CONTROLLER_MANAGER,
    DAEMONSET,
    DEPLOYMENT,
    ETCD,
    PDB,
    SCHEDULER,
    STATEFULSET,
    Addon,
    APIService,
    Instance,
    Node,
    Resources,
    Taint,
    Workload,
    WorkloadStatus,
)
from models.version import KubeVersion
from sim.adapters.kube_pods import (  # noqa: F401  (translate_pod and PodInfo were read from here)
    _condition,
    _get,
    LOCAL_STORAGE_CLASSES,
    PodInfo,
    _has_scratch_storage,
    local_claims,
    pod_records,
    translate_pod,
)
from sim.adapters.kube_images import container_named, container_version, image_version

ZONE_LABELS = ("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone")
POOL_LABELS = ("cloud.google.com/gke-nodepool", "eks.amazonaws.com/nodegroup", "kubernetes.azure.com/agentpool",
               "alpha.eksctl.io/nodegroup-name", "cluster.x-k8s.io/deployment-name", "node.kubernetes.io/pool",
               "kops.k8s.io/instancegroup", "pool")
CONTROL_PLANE_LABEL = "component"
# labels each node has for itself, which no pool shares (the kubelet's and the cloud's well-known ones)
NODE_LABELS = (HOSTNAME, *ZONE_LABELS, "topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region",
               "node.kubernetes.io/instance-id", "topology.ebs.csi.aws.com/zone", "topology.gke.io/zone",
               "topology.disk.csi.azure.com/zone")
CNI_DAEMONSETS = {"calico-node": "calico", "cilium": "cilium", "kube-flannel-ds": "flannel", "weave-net": "weave"}
# the container (by name or image) that carries each CNI's version in its manifests: calico-node's
# calico-node (image calico/node), cilium's cilium-agent (image cilium/cilium), kube-flannel's
# kube-flannel (image flannel/flannel), weave-net's weave (image weaveworks/weave-kube)
CNI_IMAGE_NAMES = {"calico": "calico-node", "cilium": "cilium-agent", "flannel": "kube-flannel", "weave": "weave"}


def version_of(text: str | None) -> KubeVersion | None:
    try:
        return KubeVersion.parse(text) if text else None
    except ValueError:
        return None


def pool_of(labels: dict, pool_label: str | None) -> str:
    if pool_label:
        return labels.get(pool_label, "default")
    for key in POOL_LABELS:
        if key in labels:
            return labels[key]
    return "default"


def zone_of(labels: dict) -> str:
    for key in ZONE_LABELS:
        if key in labels:
            return labels[key]
    return "unknown"


def _quantity(parse, text, default: int) -> int:
    try:
        return parse(text) if text is not None else default
    except ValueError:
        return default


def translate_node(obj: dict, pool_label: str | None, kube_proxy: KubeVersion | None, pods: int = 0) -> Node:
    labels = _get(obj, "metadata", "labels", default={}) or {}
    info = _get(obj, "status", "nodeInfo", default={}) or {}
    kubelet = version_of(info.get("kubeletVersion")) or KubeVersion(0, 0)
    proxy = kube_proxy or version_of(info.get("kubeProxyVersion")) or kubelet
    alloc = _get(obj, "status", "allocatable", default={}) or {}
    ips = [a.get("address", "") for a in _get(obj, "status", "addresses", default=[]) or [] if a.get("type") == "InternalIP"]
    return Node(
        name=_get(obj, "metadata", "name", default=""),
        pool=pool_of(labels, pool_label),
        zone=zone_of(labels),
        kubelet=kubelet,
        kube_proxy=proxy,
        allocatable=Resources(_quantity(parse_cpu, alloc.get("cpu"), 0), _quantity(parse_memory, alloc.get("memory"), 0),
                              int(_quantity(int, alloc.get("pods"), 110))),
        runtime=info.get("containerRuntimeVersion", ""),
        ip=ips[0] if ips else "",
        ready=_condition(obj, "Ready"),
        schedulable=not _get(obj, "spec", "unschedulable", default=False),
        pods=pods,
        taints=tuple(Taint(str(t.get("key", "")), str(t.get("effect", "")), str(t.get("value", "") or ""))
                     for t in _get(obj, "spec", "taints", default=[]) or [] if t.get("key")),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
        volumes=len(_get(obj, "status", "volumesAttached", default=[]) or []),
    )


def replica_set_owners(replica_sets: list[dict]) -> dict[tuple[str, str], str]:
    out = {}
    for rs in replica_sets:
        meta = rs.get("metadata", {}) or {}
        owner = next((o for o in meta.get("ownerReferences", []) or [] if o.get("kind") == "Deployment"), None)
        if owner:
            out[(meta.get("namespace", "default"), meta.get("name", ""))] = owner.get("name", "")
    return out


def _container_requests(c: dict) -> tuple[int, int]:
    req = _get(c, "resources", "requests", default={}) or {}
    return _quantity(parse_cpu, req.get("cpu"), 0), _quantity(parse_memory, req.get("memory"), 0)


def _requests(template_spec: dict) -> Resources:
    """What the scheduler reserves for the pod: the app containers and sidecars (init containers
    with ``restartPolicy: Always``) together, or the largest other init container if that is more."""
    running = [_container_requests(c) for c in template_spec.get("containers", []) or []]
    init = template_spec.get("initContainers", []) or []
    running += [_container_requests(c) for c in init if c.get("restartPolicy") == "Always"]
    one_off = [_container_requests(c) for c in init if c.get("restartPolicy") != "Always"]
    cpu, mem = sum(r[0] for r in running), sum(r[1] for r in running)
    return Resources(max([cpu, *(r[0] for r in one_off)]), max([mem, *(r[1] for r in one_off)]), 1)


def _int_or_percent(value) -> IntOrPercent | None:
    if value is None:
        return None
    try:
        return IntOrPercent.parse(value)
    except ValueError:
        return None


@dataclass(frozen=True)
class PDBInfo:
    namespace: str
    name: str
    selector: LabelSelector | None = field(hash=False, compare=False)
    pdb: PDB = PDB()
    disruptions_allowed: int = 0
    status: tuple[int, int, int] = (0, 0, 0)  # expectedPods, desiredHealthy, currentHealthy

    def selects(self, namespace: str, labels: dict) -> bool:
        """policy/v1: an empty selector selects every pod of the namespace; a missing one, none."""
        return self.selector is not None and namespace == self.namespace and self.selector.matches(labels)


def translate_pdb(obj: dict) -> PDBInfo:
    spec = obj.get("spec", {}) or {}
    pdb = PDB(_int_or_percent(spec.get("minAvailable")), _int_or_percent(spec.get("maxUnavailable")),
              spec.get("unhealthyPodEvictionPolicy") or "IfHealthyBudget")
    try:
        selector = selector_from_json(spec.get("selector")) if isinstance(spec.get("selector"), dict) else None
    except ValueError:  # an operator this version of midair does not know: treat it as selecting nothing
        selector = None
    status = obj.get("status", {}) or {}
    numbers = tuple(int(status.get(k, 0) or 0) for k in ("expectedPods", "desiredHealthy", "currentHealthy"))
    return PDBInfo(_get(obj, "metadata", "namespace", default="default"), _get(obj, "metadata", "name", default=""),
                   selector, pdb, int(_get(obj, "status", "disruptionsAllowed", default=0) or 0), numbers)


@dataclass(frozen=True)
class Priorities:
    """PriorityClasses by name (value, preemption policy), and the global default's name."""

    classes: dict = field(default_factory=dict)
    default: str = ""

    def of(self, name: str) -> tuple[str, int, str]:
        name = name or self.default
        value, policy = self.classes.get(name, (0, PREEMPT_LOWER))
        return name, value, policy



def grace_period(pod_spec: dict) -> float:
    """``terminationGracePeriodSeconds``: 30 when unset (the API's default); 0 is kept (the pod is killed at once)."""
    seconds = pod_spec.get("terminationGracePeriodSeconds")
    return 30.0 if seconds is None else float(seconds)


def translate_workload(obj: dict, kind: str, pdbs: list[PDBInfo], pool_label: str | None,
                       priorities: Priorities = Priorities(), storage_of=None) -> Workload:
    """``storage_of(namespace, template_spec, claim_templates)``: the workload's network storage claim."""
    meta = obj.get("metadata", {}) or {}
    ns = meta.get("namespace", "default")
    spec = obj.get("spec", {}) or {}
    status = obj.get("status", {}) or {}
    template = _get(spec, "template", "spec", default={}) or {}
    labels = _get(spec, "template", "metadata", "labels", default={}) or {}
    if kind == DAEMONSET:
        replicas, desired, ready = 0, int(status.get("desiredNumberScheduled", 0) or 0), int(status.get("numberReady", 0) or 0)
    else:
        replicas = int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)
        desired, ready = replicas, int(status.get("readyReplicas", 0) or 0)
    matching = [p for p in pdbs if p.selects(ns, labels)]
    match = matching[0] if matching else None
    # midair's local storage: for a StatefulSet, volumes pinned to a node (its pods wait for that node);
    # for the others, data that goes with the pod (see models.state.Workload.local_storage)
    if kind == STATEFULSET:
        local = any(_get(t, "spec", "storageClassName", default="") in LOCAL_STORAGE_CLASSES
                    for t in spec.get("volumeClaimTemplates", []) or [])
    else:
        local = _has_scratch_storage(template)
    selector = template.get("nodeSelector", {}) or {}
    pool_key = pool_label if pool_label else next((k for k in POOL_LABELS if k in selector), None)
    pool = selector.get(pool_key) if pool_key else None
    name, value, policy = priorities.of(str(template.get("priorityClassName") or ""))
    scheduling = scheduling_from_json({**template, "priorityClassName": name}, value, policy,
                                      drop_selector=(pool_key,) if pool else ())
    claim = storage_of(ns, template, spec.get("volumeClaimTemplates") or []) if storage_of else None
    return Workload(
        name=meta.get("name", ""), kind=kind, namespace=ns, replicas=replicas, requests=_requests(template),
        pdb=match.pdb if match else None, local_storage=local, pool=pool,
        grace_period_s=grace_period(template),
        system=ns == "kube-system",
        status=WorkloadStatus(desired, ready, match.disruptions_allowed if match else None),
        labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())), pre_stop_s=pre_stop_seconds(template),
        budgets=len(matching), scheduling=scheduling, storage=claim,
        pod_management=str(spec.get("podManagementPolicy") or "OrderedReady") if kind == STATEFULSET else "OrderedReady",
    )


def pre_stop_seconds(template_spec: dict) -> float:
    """The longest preStop ``sleep`` of the pod's containers (the lifecycle hook's sleep action, or an
    exec of ``sleep N``); 0 when it has none midair can read."""
    out = 0.0
    for c in template_spec.get("containers", []) or []:
        hook = _get(c, "lifecycle", "preStop", default={}) or {}
        seconds = _get(hook, "sleep", "seconds")
        command = _get(hook, "exec", "command", default=[]) or []
        if seconds is None and command:
            words = " ".join(str(w) for w in command).split()
            if "sleep" in words and words.index("sleep") + 1 < len(words):
                seconds = words[words.index("sleep") + 1]
        try:
            out = max(out, float(seconds)) if seconds is not None else out
        except ValueError:
            continue
    return out


def bare_pod_workload(obj: dict, p: PodInfo, pdbs: list[PDBInfo], pool_label: str | None,
                      priorities: Priorities = Priorities(), storage_of=None) -> Workload:
    """A pod no controller owns, as a workload of one: its own requests, node selector, grace
    period and the budget that selects it (the Eviction API honours budgets for bare pods too)."""
    as_workload = {"metadata": obj.get("metadata", {}) or {},
                   "spec": {"replicas": 1, "template": {"metadata": {"labels": p.labels}, "spec": obj.get("spec", {}) or {}}},
                   "status": {"readyReplicas": 1 if p.ready else 0}}
    w = translate_workload(as_workload, BARE_POD, pdbs, pool_label, priorities, storage_of)
    return replace(w, local_storage=w.local_storage or p.local_storage or p.pinned)


def control_plane_instances(pods: list[dict], api_version: KubeVersion | None) -> list[Instance]:
    """Static control-plane pods (kubeadm labels them component=...), else one apiserver at /version."""
    components = {"kube-apiserver": APISERVER, "kube-controller-manager": CONTROLLER_MANAGER,
                  "kube-scheduler": SCHEDULER, "etcd": ETCD}
    out = []
    for obj in pods:
        if _get(obj, "metadata", "namespace") != "kube-system":
            continue
        label = (_get(obj, "metadata", "labels", default={}) or {}).get(CONTROL_PLANE_LABEL)
        component = components.get(label)
        version = container_version(_get(obj, "spec", "containers", default=[]) or [], label) if component else None
        if component == ETCD and version is not None:
            # kubeadm tags etcd images with an image revision (etcd:3.5.12-0): the release is 3.5.12
            version = version.release
        if component and version:
            out.append(Instance(_get(obj, "metadata", "name", default=component), component, version,
                                healthy=_condition(obj, "Ready")))
    if not any(i.component == APISERVER for i in out) and api_version is not None:
        # a managed control plane: only its version is visible
        out += [Instance(c, c, api_version) for c in (APISERVER, CONTROLLER_MANAGER, SCHEDULER)]
    return sorted(out, key=lambda i: (i.component, i.name))


def _rolled_out(obj: dict, kind: str) -> bool:
    """As kubectl rollout status: the controller saw the latest spec, and every replica is updated and available."""
    s = obj.get("status", {}) or {}
    generation = _get(obj, "metadata", "generation")
    if generation is not None and (s.get("observedGeneration") or 0) < generation:
        return False
    if kind == DAEMONSET:
        want = s.get("desiredNumberScheduled", 0) or 0
        return (s.get("updatedNumberScheduled", 0) or 0) >= want and (s.get("numberAvailable", 0) or 0) >= want
    want = _get(obj, "spec", "replicas", default=1)
    old_left = (s.get("replicas", 0) or 0) - (s.get("updatedReplicas", 0) or 0)
    return (s.get("updatedReplicas", 0) or 0) >= want and (s.get("availableReplicas", 0) or 0) >= want and old_left <= 0


def addons(daemonsets: list[dict], deployments: list[dict]) -> list[Addon]:
    out = []

    def image(obj, container: str):
        return container_version(_get(obj, "spec", "template", "spec", "containers", default=[]) or [], container)

    for obj in deployments:
        if (_get(obj, "metadata", "namespace"), _get(obj, "metadata", "name")) == ("kube-system", "coredns") \
                and image(obj, "coredns"):
            out.append(Addon("coredns", image(obj, "coredns"), phase="idle" if _rolled_out(obj, DEPLOYMENT) else "upgrading"))
    for obj in daemonsets:
        name = _get(obj, "metadata", "name")
        if _get(obj, "metadata", "namespace") != "kube-system":
            continue
        phase = "idle" if _rolled_out(obj, DAEMONSET) else "upgrading"
        if name == "kube-proxy" and image(obj, "kube-proxy"):
            out.append(Addon("kube-proxy", image(obj, "kube-proxy"), phase=phase))
        elif name in CNI_DAEMONSETS and image(obj, CNI_IMAGE_NAMES[CNI_DAEMONSETS[name]]):
            version = image(obj, CNI_IMAGE_NAMES[CNI_DAEMONSETS[name]])
            out.append(Addon("cni", version, CNI_DAEMONSETS[name], phase=phase))
    order = {"coredns": 0, "kube-proxy": 1, "cni": 2}
    return sorted(out, key=lambda a: order[a.name])


def api_services(objs: list[dict]) -> list[APIService]:
    out = []
    for obj in objs:
        svc = _get(obj, "spec", "service")
        out.append(APIService(_get(obj, "metadata", "name", default=""), _condition(obj, "Available"),
                              f"{svc.get('namespace')}/{svc.get('name')}" if svc else None))
    return out


__all__ = ["translate_node", "translate_pod", "translate_pdb", "translate_workload", "control_plane_instances",
           "addons", "api_services", "local_claims", "container_named", "container_version", "replica_set_owners", "bare_pod_workload", "pod_records", "image_version",
           "PodInfo", "PDBInfo", "Priorities", "POOL_LABELS", "NODE_LABELS", "DEPLOYMENT", "STATEFULSET", "DAEMONSET"]
