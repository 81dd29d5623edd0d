"""The live translator on API-shaped objects, as an EKS cluster serves them (listed through the client from a
Kubernetes API on loopback): pod specs' affinity, spread, tolerations and priority class; storage classes,
claims, volumes with their zones and attachments; webhook configurations and the Services behind them."""

import asyncio

from models.admission import Webhook, WebhookRule
from models.constraints import (
    NodeAffinity,
    NodeRequirement,
    NodeSelectorTerm,
    PodAffinity,
    PodAffinityTerm,
    PriorityClass,
    Scheduling,
    SpreadConstraint,
    Taint,
    Toleration,
    WeightedTerm,
)
from models.selectors import LabelSelector, Requirement
from models.storage import SHARED, ZONAL, StorageClaim, Volume
from sim.adapters.kube_client import Kube
from sim.adapters.kube_state import build_state
from sim.adapters.kubeconfig import load_config
from tests.kube_harness import KubeHarness

NODEGROUP = "eks.amazonaws.com/nodegroup"


def meta(name, namespace=None, **extra):
    return {"name": name, "uid": f"uid-{name}", **({"namespace": namespace} if namespace else {}), **extra}


def node(name, zone, taints=()):
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": meta(name, labels={NODEGROUP: "gpu", "topology.kubernetes.io/zone": zone,
                                           "kubernetes.io/hostname": name, "node.kubernetes.io/instance-type": "g5.xlarge",
                                           "topology.ebs.csi.aws.com/zone": zone}),
            "spec": {"taints": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}, *taints]},
            "status": {"nodeInfo": {"kubeletVersion": "v1.29.4-eks-036c24b", "containerRuntimeVersion": "containerd://1.7.11"},
                       "conditions": [{"type": "Ready", "status": "True"}],
                       "allocatable": {"cpu": "3920m", "memory": "15Gi", "pods": "58"},
                       "volumesAttached": [{"name": "kubernetes.io/csi/ebs.csi.aws.com^vol-0abc", "devicePath": ""}]
                       if name.endswith("a") else []}}


TEMPLATE = {
    "metadata": {"labels": {"app": "trainer"}},
    "spec": {
        "priorityClassName": "batch-high",
        "nodeSelector": {NODEGROUP: "gpu", "node.kubernetes.io/instance-type": "g5.xlarge"},
        "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
                        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                         "tolerationSeconds": 60}],
        "affinity": {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchExpressions": [{"key": "topology.kubernetes.io/zone", "operator": "In",
                                       "values": ["eu-west-1a", "eu-west-1b"]}]}]}},
            "podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 100, "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname",
                                                    "labelSelector": {"matchLabels": {"app": "trainer"}}}}]}},
        "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                                       "whenUnsatisfiable": "DoNotSchedule", "minDomains": 2,
                                       "labelSelector": {"matchLabels": {"app": "trainer"}},
                                       "matchLabelKeys": ["pod-template-hash"]}],
        "containers": [{"name": "t", "image": "example/trainer:1", "resources": {"requests": {"cpu": "1"}}}],
    },
}

OBJECTS = [
    node("gpu-a", "eu-west-1a"), node("gpu-b", "eu-west-1b"),
    {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta("trainer", "ml"),
     "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "trainer"}}, "template": TEMPLATE,
              "volumeClaimTemplates": [{"metadata": {"name": "scratch"},
                                        "spec": {"storageClassName": "gp3", "accessModes": ["ReadWriteOnce"],
                                                 "resources": {"requests": {"storage": "50Gi"}}}}]},
     "status": {"replicas": 2, "readyReplicas": 2}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("notebook", "ml"),
     "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "notebook"}},
              "template": {"metadata": {"labels": {"app": "notebook"}}, "spec": {
                  "containers": [{"name": "n", "image": "example/nb:1"}],
                  "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "home"}}]}}},
     "status": {"replicas": 1, "readyReplicas": 1}},
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta("kyverno", "kyverno"),
     "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "kyverno"}},
              "template": {"metadata": {"labels": {"app.kubernetes.io/name": "kyverno"}},
                           "spec": {"containers": [{"name": "k", "image": "ghcr.io/kyverno/kyverno:v1.11.0"}]}}},
     "status": {"replicas": 1, "readyReplicas": 1}},
    {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta("gp3"), "provisioner": "ebs.csi.aws.com",
     "volumeBindingMode": "WaitForFirstConsumer"},
    {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": meta("efs"), "provisioner": "efs.csi.aws.com"},
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("scratch-trainer-0", "ml"),
     "spec": {"storageClassName": "gp3", "accessModes": ["ReadWriteOnce"], "volumeName": "pvc-0abc",
              "resources": {"requests": {"storage": "50Gi"}}}},
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("scratch-trainer-1", "ml"),
     "spec": {"storageClassName": "gp3", "accessModes": ["ReadWriteOnce"]}},  # not bound yet
    {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta("home", "ml"),
     "spec": {"storageClassName": "efs", "accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "5Gi"}}}},
    {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": meta("pvc-0abc"),
     "spec": {"csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0abc"},
              "claimRef": {"namespace": "ml", "name": "scratch-trainer-0"},
              "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
                  {"key": "topology.ebs.csi.aws.com/zone", "operator": "In", "values": ["eu-west-1a"]}]}]}}}},
    {"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttachment", "metadata": meta("csi-0abc"),
     "spec": {"attacher": "ebs.csi.aws.com", "nodeName": "gpu-a", "source": {"persistentVolumeName": "pvc-0abc"}},
     "status": {"attached": True}},
    {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": meta("batch-high"), "value": 5000,
     "preemptionPolicy": "Never"},
    {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": meta("system-cluster-critical"),
     "value": 2000000000},
    {"apiVersion": "v1", "kind": "Service", "metadata": meta("kyverno-svc", "kyverno"),
     "spec": {"selector": {"app.kubernetes.io/name": "kyverno"}, "ports": [{"port": 443}]}},
    {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
     "metadata": meta("kyverno-resource-validating-webhook-cfg"),
     "webhooks": [{"name": "validate.kyverno.svc-fail", "failurePolicy": "Fail", "timeoutSeconds": 10,
                   "sideEffects": "NoneOnDryRun", "admissionReviewVersions": ["v1"],
                   "clientConfig": {"service": {"namespace": "kyverno", "name": "kyverno-svc", "path": "/validate/fail"}},
                   "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"],
                              "resources": ["pods", "pods/ephemeralcontainers"], "scope": "Namespaced"}],
                   "namespaceSelector": {"matchExpressions": [{"key": "kubernetes.io/metadata.name",
                                                               "operator": "NotIn", "values": ["kyverno"]}]},
                   "objectSelector": {}}]},
    {"apiVersion": "admissionregistration.k8s.io/v1", "kind": "MutatingWebhookConfiguration",
     "metadata": meta("istio-sidecar-injector"),
     "webhooks": [{"name": "sidecar-injector.istio.io", "failurePolicy": "Ignore",
                   "clientConfig": {"url": "https://istiod.example.com:443/inject"},
                   "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"]}]}]},
]


def listed(tmp_path):
    with KubeHarness({(_resource(o), (o["metadata"]).get("namespace"), o["metadata"]["name"]): o for o in OBJECTS}) as server:
        config = load_config(server.kubeconfig(tmp_path / "kc"), None)

        async def go():
            kube = Kube(config)
            try:
                return await kube.list_all()
            finally:
                await kube.close()

        return asyncio.run(go())


def _resource(obj) -> str:
    group = obj["apiVersion"]
    plural = {"StorageClass": "storageclasses", "PriorityClass": "priorityclasses", "PersistentVolumeClaim":
              "persistentvolumeclaims", "PersistentVolume": "persistentvolumes", "VolumeAttachment": "volumeattachments"}
    return f"{group}/{plural.get(obj['kind'], obj['kind'].lower() + 's')}"


def test_the_translator_reads_constraints_volumes_priorities_and_webhooks_from_api_objects(tmp_path):
    state = build_state(listed(tmp_path))
    (pool,) = state.pools
    # the pool's labels and taints: what all its nodes share, less what each has for itself
    assert (pool.name, pool.labels, pool.taints) == (
        "gpu", ((NODEGROUP, "gpu"), ("node.kubernetes.io/instance-type", "g5.xlarge")),
        (Taint("nvidia.com/gpu", "NoSchedule", "true"),))
    assert [(n.name, n.volumes) for n in state.nodes] == [("gpu-a", 1), ("gpu-b", 0)]
    by_key = {w.key: w for w in state.workloads}
    trainer = by_key["ml/trainer"]
    mine = LabelSelector((("app", "trainer"),))
    assert trainer.scheduling == Scheduling(
        node_selector=(("node.kubernetes.io/instance-type", "g5.xlarge"),),  # the pool's own label reads as its pool
        node_affinity=NodeAffinity((NodeSelectorTerm((NodeRequirement(
            "topology.kubernetes.io/zone", "In", ("eu-west-1a", "eu-west-1b")),)),)),
        pod_anti_affinity=PodAffinity(preferred=(WeightedTerm(100, PodAffinityTerm("kubernetes.io/hostname", mine)),)),
        tolerations=(Toleration("nvidia.com/gpu", "Exists", effect="NoSchedule"),
                     Toleration("node.kubernetes.io/unreachable", "Exists", effect="NoExecute", toleration_seconds=60.0)),
        spread=(SpreadConstraint(1, "topology.kubernetes.io/zone", "DoNotSchedule", mine, 2),),
        priority_class="batch-high", priority=5000, preemption_policy="Never")
    assert (trainer.pool, trainer.storage) == ("gpu", StorageClaim(ZONAL, 50 * 2**30))
    assert by_key["ml/notebook"].storage == StorageClaim(SHARED, 5 * 2**30)
    assert state.volumes == (
        Volume("ml/scratch-trainer-0", "ml/trainer", ZONAL, "eu-west-1a", "gpu-a", 0),
        Volume("ml/scratch-trainer-1", "ml/trainer", ZONAL, None, None, 1))  # its pod not scheduled yet
    assert state.priority_classes == (PriorityClass("batch-high", 5000, "Never"),)
    assert state.webhooks == (
        Webhook("sidecar-injector.istio.io", "mutating", (WebhookRule(("CREATE",), ("",), ("pods",)),), "Ignore"),
        Webhook("validate.kyverno.svc-fail", "validating",
                (WebhookRule(("CREATE", "UPDATE"), ("",), ("pods", "pods/ephemeralcontainers"), "Namespaced"),),
                "Fail", 10.0, LabelSelector(match_expressions=(
                    Requirement("kubernetes.io/metadata.name", "NotIn", ("kyverno",)),)), None, "kyverno/kyverno"))
