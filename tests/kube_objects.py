"""Render a simulated world as the Kubernetes API objects a real cluster would hold for it,
so that the live adapter can be checked against the simulated one on the same cluster."""

from __future__ import annotations

from models.admission import MUTATING
from models.constraints import SYSTEM_PRIORITY_CLASSES
from models.podspec import scheduling_json, selector_json, taint_json
from models.storage import SHARED, ZONAL
from models.state import BARE_POD, DAEMONSET, DEPLOYMENT, ETCD, STATEFULSET
from sim.adapters.kube_translate import CNI_DAEMONSETS
from sim.world.budgets import budget_of

POOL_LABEL = "node.kubernetes.io/pool"


# each CNI's image, as its manifests install it (its DaemonSet's name: kube_translate.CNI_DAEMONSETS)
CNI_IMAGES = {"calico": "docker.io/calico/node", "cilium": "quay.io/cilium/cilium", "flannel": "docker.io/flannel/flannel",
              "weave": "docker.io/weaveworks/weave-kube"}
CNI_DAEMONSET_OF = {flavor: name for name, flavor in CNI_DAEMONSETS.items()}
# storage classes as EKS clusters have them: gp3 block storage (zonal), efs file storage (shared)
STORAGE_CLASSES = {ZONAL: ("gp3", "ebs.csi.aws.com", "ReadWriteOnce"), SHARED: ("efs", "efs.csi.aws.com", "ReadWriteMany")}


def _claim_spec(storage) -> dict:
    name, _, mode = STORAGE_CLASSES[storage.kind]
    spec = {"storageClassName": name, "accessModes": [mode]}
    if storage.size is not None:
        spec["resources"] = {"requests": {"storage": str(storage.size)}}
    return spec


def _meta(name, namespace=None, labels=None, owner=None, annotations=None) -> dict:
    meta = {"name": name, "uid": f"uid-{namespace}-{name}"}
    if namespace:
        meta["namespace"] = namespace
    if labels:
        meta["labels"] = labels
    if annotations:
        meta["annotations"] = annotations
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1],
                                    "uid": f"uid-{owner[1]}", "controller": True}]
    return meta


def _containers(name, image, requests) -> list[dict]:
    res = {}
    if requests.cpu_m:
        res["cpu"] = f"{requests.cpu_m}m"
    if requests.memory:
        res["memory"] = str(requests.memory)
    return [{"name": name, "image": image, "resources": {"requests": res}}]


def _ready(value: bool) -> list[dict]:
    return [{"type": "Ready", "status": "True" if value else "False"}]


def objects_from_world(world, extra_unknown_fields: bool = False) -> dict:
    objs: dict = {}
    for n in world.nodes.values():
        spec = {"unschedulable": True} if not n.schedulable else {}
        if n.taints:
            spec["taints"] = [taint_json(t) for t in n.taints]
        node = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": _meta(n.name, labels={**n.labels, POOL_LABEL: n.pool}),
            "spec": spec,
            "status": {"nodeInfo": {"kubeletVersion": f"v{n.kubelet}", "kubeProxyVersion": f"v{n.kube_proxy}",
                                    "containerRuntimeVersion": n.runtime},
                       "conditions": _ready(n.ready),
                       "allocatable": {"cpu": f"{n.cpu}m", "memory": str(n.memory), "pods": str(n.max_pods)},
                       "addresses": [{"type": "InternalIP", "address": n.ip}, {"type": "Hostname", "address": n.name}],
                       **({"volumesAttached": [{"name": f"kubernetes.io/csi/ebs.csi.aws.com^{v.name}", "devicePath": ""}
                                               for v in sorted(n.volumes, key=lambda v: v.name)]} if n.volumes else {})},
        }
        objs[("v1/nodes", None, n.name)] = node
    for w in world.workloads.values():
        spec, ns, name = w.spec, w.spec.namespace, w.spec.name
        labels = dict(spec.pod_labels)
        pod_labels = {**labels, "pod-template-hash": "rs"} if spec.kind == DEPLOYMENT else labels
        image = "registry.k8s.io/coredns/coredns:v%s" % world.addon_ops.addons["coredns"]["version"] \
            if w.key == "kube-system/coredns" else f"example/{name}:1"
        template = {"metadata": {"labels": labels}, "spec": {"containers": _containers(name, image, spec.requests),
                                                             "terminationGracePeriodSeconds": int(spec.grace_period_s)}}
        template["spec"].update(scheduling_json(spec.scheduling))
        if spec.pool:
            template["spec"]["nodeSelector"] = {**template["spec"].get("nodeSelector", {}), POOL_LABEL: spec.pool}
        if spec.local_storage and spec.kind != STATEFULSET:
            template["spec"]["volumes"] = [{"name": "scratch", "emptyDir": {}}]
        network = spec.storage is not None and spec.storage.kind in (ZONAL, SHARED)
        if network and spec.kind != STATEFULSET:  # its pods share one claim
            claim = f"{name}-data"
            template["spec"]["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
            objs[("v1/persistentvolumeclaims", ns, claim)] = {  # a zonal one's volume, if bound, below
                "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(claim, ns),
                "spec": _claim_spec(spec.storage)}
        owner = None
        if spec.kind == DEPLOYMENT:
            objs[("apps/v1/deployments", ns, name)] = {
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(name, ns),
                "spec": {"replicas": spec.replicas, "selector": {"matchLabels": labels}, "template": template},
                "status": {"replicas": spec.replicas, "readyReplicas": w.ready, "updatedReplicas": spec.replicas,
                           "availableReplicas": w.ready}}
            objs[("apps/v1/replicasets", ns, f"{name}-rs")] = {
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": _meta(f"{name}-rs", ns, owner=("Deployment", name)),
                "spec": {"replicas": spec.replicas, "template": template}}
            owner = ("ReplicaSet", f"{name}-rs")
        elif spec.kind == STATEFULSET:
            sts = {"replicas": spec.replicas, "selector": {"matchLabels": labels}, "template": template}
            if spec.pod_management != "OrderedReady":
                sts["podManagementPolicy"] = spec.pod_management
            if spec.local_storage:
                sts["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": {"storageClassName": "local-storage"}}]
            elif network:
                sts["volumeClaimTemplates"] = [{"metadata": {"name": "data"}, "spec": _claim_spec(spec.storage)}]
            objs[("apps/v1/statefulsets", ns, name)] = {
                "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": _meta(name, ns), "spec": sts,
                "status": {"replicas": spec.replicas, "readyReplicas": w.ready}}
            owner = ("StatefulSet", name)
        elif spec.kind == DAEMONSET:
            objs[("apps/v1/daemonsets", ns, name)] = {
                "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": _meta(name, ns),
                "spec": {"selector": {"matchLabels": labels}, "template": template},
                "status": {"desiredNumberScheduled": w.desired, "numberReady": w.ready,
                           "updatedNumberScheduled": w.desired, "numberAvailable": w.ready}}
            owner = ("DaemonSet", name)
        if spec.pdb is not None:
            pdb_spec = {"selector": {"matchLabels": labels}}
            if spec.pdb.min_available is not None:
                pdb_spec["minAvailable"] = spec.pdb.min_available.to_json()
            if spec.pdb.max_unavailable is not None:
                pdb_spec["maxUnavailable"] = spec.pdb.max_unavailable.to_json()
            if spec.pdb.unhealthy_pod_eviction_policy != "IfHealthyBudget":
                pdb_spec["unhealthyPodEvictionPolicy"] = spec.pdb.unhealthy_pod_eviction_policy
            objs[("policy/v1/poddisruptionbudgets", ns, f"{name}-pdb")] = {
                "apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": _meta(f"{name}-pdb", ns),
                "spec": pdb_spec, "status": _budget_status(budget_of(w))}
        for pod in sorted(w.pods):
            pod_spec = dict(template["spec"])
            if pod.node is not None:
                pod_spec["nodeName"] = pod.node.name
            objs[("v1/pods", ns, pod.name)] = {
                "apiVersion": "v1", "kind": "Pod",
                "metadata": _meta(pod.name, ns, pod_labels, owner if spec.kind != BARE_POD else None),
                "spec": pod_spec, "status": {"phase": "Running" if pod.node is not None else "Pending",
                                             "conditions": _ready(pod.ready)}}
    for inst in [*world.cp.instances.values(), *world.etcd]:
        # kubeadm tags etcd images with an image revision: etcd:3.5.12-0
        tag = f"{inst.version}-0" if inst.component == ETCD else f"v{inst.version}"
        ready = inst.healthy if inst.component == ETCD else inst.running and inst.healthy
        objs[("v1/pods", "kube-system", inst.name)] = {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": _meta(inst.name, "kube-system", {"component": inst.component, "tier": "control-plane"},
                              annotations={"kubernetes.io/config.mirror": "x"}),
            "spec": {"containers": [{"name": inst.component, "image": f"registry.k8s.io/{inst.component}:{tag}"}]},
            "status": {"phase": "Running", "conditions": _ready(ready)}}
    coredns = world.addon_ops.addons.get("coredns")
    if coredns and "kube-system/coredns" not in world.workloads:  # corednsReplicas: 0, scaled down
        objs[("apps/v1/deployments", "kube-system", "coredns")] = {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta("coredns", "kube-system"),
            "spec": {"replicas": 0, "selector": {"matchLabels": {"k8s-app": "kube-dns"}}, "template": {"spec": {
                "containers": [{"name": "coredns", "image": f"registry.k8s.io/coredns/coredns:v{coredns['version']}"}]}}},
            "status": {}}
    proxy = world.addon_ops.addons.get("kube-proxy")
    if proxy:
        objs[("apps/v1/daemonsets", "kube-system", "kube-proxy")] = {
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": _meta("kube-proxy", "kube-system"),
            "spec": {"template": {"spec": {"containers": [{"name": "kube-proxy",
                                                            "image": f"registry.k8s.io/kube-proxy:v{proxy['version']}"}]}}}}
    cni = world.addon_ops.addons.get("cni")
    if cni and cni["flavor"] in CNI_IMAGES:
        ds, image = CNI_DAEMONSET_OF[cni["flavor"]], CNI_IMAGES[cni["flavor"]]
        objs[("apps/v1/daemonsets", "kube-system", ds)] = {
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": _meta(ds, "kube-system"),
            "spec": {"template": {"spec": {"containers": [{"name": ds, "image": f"{image}:v{cni['version']}"}]}}}}
    for svc in world.api_services:
        namespace, _, service = (svc.service or "/").partition("/")
        objs[("apiregistration.k8s.io/v1/apiservices", None, svc.name)] = {
            "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": _meta(svc.name),
            "spec": {"service": {"namespace": namespace, "name": service}} if svc.service else {},
            "status": {"conditions": [{"type": "Available", "status": "True" if svc.available else "False"}]}}
    _storage_objects(world, objs)
    _admission_objects(world, objs)
    if extra_unknown_fields:  # fields a newer API server may add: the translators must ignore them
        for obj in objs.values():
            obj.setdefault("status", {})["someFutureField"] = {"x": 1}
            obj["metadata"]["someFutureMetadata"] = "y"
    return objs


def _storage_objects(world, objs: dict) -> None:
    """The storage classes, and each zonal volume as its claim, its volume (in its zone) and its attachment."""
    for name, provisioner, _ in STORAGE_CLASSES.values():
        objs[("storage.k8s.io/v1/storageclasses", None, name)] = {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": _meta(name),
            "provisioner": provisioner, "volumeBindingMode": "WaitForFirstConsumer"}
    for v in world.volumes.volumes.values():
        ns, claim = v.name.split("/", 1)
        pv = f"pvc-{ns}-{claim}"
        spec = {**_claim_spec(v.workload.spec.storage), **({"volumeName": pv} if v.zone else {})}
        objs[("v1/persistentvolumeclaims", ns, claim)] = {
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": _meta(claim, ns), "spec": spec}
        if v.zone is None:
            continue
        objs[("v1/persistentvolumes", None, pv)] = {
            "apiVersion": "v1", "kind": "PersistentVolume", "metadata": _meta(pv),
            "spec": {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": f"vol-{pv}"},
                     "claimRef": {"namespace": ns, "name": claim},
                     "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                         {"key": "topology.ebs.csi.aws.com/zone", "operator": "In", "values": [v.zone]}]}]}}}}
        if v.node is not None and v.state in ("attached", "detaching"):
            objs[("storage.k8s.io/v1/volumeattachments", None, f"csi-{pv}")] = {
                "apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment", "metadata": _meta(f"csi-{pv}"),
                "spec": {"attacher": "ebs.csi.aws.com", "nodeName": v.node.name, "source": {"persistentVolumeName": pv}},
                "status": {"attached": True}}


def _admission_objects(world, objs: dict) -> None:
    """PriorityClasses (the system's too) and the webhook configurations with the Services behind them."""
    for c in (*SYSTEM_PRIORITY_CLASSES, *world.priority_classes):
        objs[("scheduling.k8s.io/v1/priorityclasses", None, c.name)] = {
            "apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": _meta(c.name), "value": c.value,
            "preemptionPolicy": c.preemption_policy, **({"globalDefault": True} if c.global_default else {})}
    for h in world.admission.webhooks_declared:
        entry = {"name": h.name, "failurePolicy": h.failure_policy, "timeoutSeconds": int(h.timeout_s),
                 "sideEffects": "None", "admissionReviewVersions": ["v1"],
                 "rules": [{"operations": list(r.operations), "apiGroups": list(r.api_groups), "apiVersions": ["*"],
                            "resources": list(r.resources), "scope": r.scope} for r in h.rules],
                 "namespaceSelector": selector_json(h.namespace_selector) if h.namespace_selector else {},
                 "objectSelector": selector_json(h.object_selector) if h.object_selector else {}}
        if h.service is not None:
            ns, workload = h.service.split("/", 1)
            entry["clientConfig"] = {"service": {"namespace": ns, "name": f"{workload}-webhook", "port": 443}}
            objs[("v1/services", ns, f"{workload}-webhook")] = {
                "apiVersion": "v1", "kind": "Service", "metadata": _meta(f"{workload}-webhook", ns),
                "spec": {"selector": dict(world.workloads[h.service].spec.pod_labels),
                         "ports": [{"port": 443, "targetPort": 8443}]}}
        else:
            entry["clientConfig"] = {"url": f"https://{h.name}/validate"}
        kind = "MutatingWebhookConfiguration" if h.kind == MUTATING else "ValidatingWebhookConfiguration"
        objs[(f"admissionregistration.k8s.io/v1/{kind.lower()}s", None, h.name)] = {
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": kind, "metadata": _meta(h.name),
            "webhooks": [entry]}


def _budget_status(b) -> dict:
    """A budget's status as the disruption controller writes it."""
    current, desired, allowed = b.status()
    return {"disruptionsAllowed": allowed, "desiredHealthy": desired, "currentHealthy": current,
            "expectedPods": b.expected()}
