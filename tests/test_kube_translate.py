"""The translators from Kubernetes API JSON, on real-shaped objects: a kubectl dump of an EKS
cluster with fields missing, an older API version, unknown extra fields and a kind midair ignores."""

import json

import pytest

from models.quantity import IntOrPercent
from models.state import PDB, Resources
from sim.adapters.kube_state import DumpError, build_state, group_dump
from sim.adapters.kube_translate import image_version, translate_node, translate_pod

DUMP = json.loads(open("tests/data/kubectl-dump.json").read())


@pytest.fixture(scope="module")
def state():
    return build_state(group_dump(DUMP))


@pytest.mark.parametrize("image, version", [
    ("registry.k8s.io/kube-proxy:v1.29.3", "1.29.3"),
    ("602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/kube-proxy:v1.28.4-minimal-eksbuild.2", "1.28.4-minimal-eksbuild.2"),
    ("docker.io/calico/node:v3.26.4@sha256:0123abcd", "3.26.4"),
    ("registry.k8s.io/coredns/coredns:v1.10.1", "1.10.1"),
    ("localhost:5000/kube-apiserver:v1.30.0", "1.30.0"),
    ("busybox", None),
    ("redis:latest", None),
    (None, None),
], ids=["upstream", "eks-build", "digest", "coredns", "registry-port", "no-tag", "latest", "missing"])
def test_image_version(image, version):
    v = image_version(image)
    assert (str(v) if v else None) == version


def test_nodes_from_an_eks_dump(state):
    a, b = state.nodes
    assert (a.name, a.pool, a.zone, str(a.kubelet), a.runtime, a.ip, a.ready, a.schedulable) == (
        "ip-10-0-1-17.eu-west-1.compute.internal", "general", "eu-west-1a", "1.28.5-eks-5e0fdde",
        "containerd://1.7.11", "10.0.1.17", True, True)
    assert a.allocatable == Resources(7910, 31377508 * 1024, 58)
    assert str(a.kube_proxy) == "1.28.4-minimal-eksbuild.2"  # what the kube-proxy DaemonSet runs
    assert (b.ready, b.schedulable, str(b.kubelet)) == (False, False, "1.27.9-eks-5e0fdde")  # Ready: Unknown
    assert (a.pods, b.pods) == (1, 1)
    assert [(p.name, p.count, str(p.version), p.zones) for p in state.pools] == [
        ("general", 2, "1.27.9-eks-5e0fdde", ("eu-west-1a", "eu-west-1b"))]


def test_workloads_pdbs_and_owners(state):
    by_key = {w.key: w for w in state.workloads}
    checkout = by_key["shop/checkout"]
    assert (checkout.kind, checkout.replicas, checkout.requests, checkout.pool, checkout.grace_period_s) == (
        "Deployment", 3, Resources(300, 320 * 2**20, 1), "general", 45.0)
    assert checkout.pdb == PDB(min_available=IntOrPercent(60, percent=True))
    assert (checkout.status.ready, checkout.status.disruptions_allowed) == (3, 1)
    redis = by_key["shop/redis"]
    assert (redis.kind, redis.local_storage, redis.pdb, redis.status.ready) == (
        "StatefulSet", True, PDB(max_unavailable=IntOrPercent(0)), 0)
    scratch = by_key["shop/scratch"]
    assert (scratch.kind, scratch.local_storage) == ("Pod", True)
    assert "kube-system/kube-proxy" not in by_key and "kube-system/calico-node" not in by_key
    assert by_key["kube-system/coredns"].system is True
    assert {p.name: p.workload for p in state.pods} == {"checkout-7d9f8b6c5d-abcde": "Deployment/checkout",
                                                        "scratch": "Pod/scratch"}


def test_addons_and_a_managed_control_plane(state):
    assert [(a.name, str(a.version), a.flavor, a.phase) for a in state.addons] == [
        ("coredns", "1.10.1-eksbuild.6", None, "idle"), ("kube-proxy", "1.28.4-minimal-eksbuild.2", None, "idle"),
        ("cni", "3.26.4", "calico", "upgrading")]
    assert state.control_plane.instances == ()  # a dump holds no /version; import fills it in


def test_a_node_with_almost_nothing(state):
    node = translate_node({"metadata": {"name": "bare"}}, None, None)
    assert (node.name, node.pool, node.zone, str(node.kubelet), node.ready, node.schedulable, node.allocatable) == (
        "bare", "default", "unknown", "0.0", False, True, Resources(0, 0, 110))


def test_a_pod_with_almost_nothing():
    pod = translate_pod({"metadata": {"name": "p"}}, {})
    assert (pod.namespace, pod.node, pod.owner_kind, pod.ready, pod.phase, pod.evictable) == (
        "default", None, None, False, "Pending", True)


def test_kubeadm_static_pods_give_the_control_plane():
    dump = {"kind": "List", "items": [
        {"kind": "Node", "metadata": {"name": "cp-1"}, "status": {"nodeInfo": {"kubeletVersion": "v1.30.2"}}},
        *[{"kind": "Pod", "metadata": {"name": f"{c}-cp-1", "namespace": "kube-system", "labels": {"component": c},
                                       "annotations": {"kubernetes.io/config.mirror": "abc"}},
           "spec": {"nodeName": "cp-1", "containers": [{"image": f"registry.k8s.io/{c}:v1.30.2"}]},
           "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
          for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")]]}
    state = build_state(group_dump(dump))
    assert [(i.name, i.component, str(i.version), i.healthy) for i in state.control_plane.instances] == [
        ("kube-apiserver-cp-1", "kube-apiserver", "1.30.2", True),
        ("kube-controller-manager-cp-1", "kube-controller-manager", "1.30.2", True),
        ("kube-scheduler-cp-1", "kube-scheduler", "1.30.2", True)]
    assert state.node("cp-1").pods == 0  # mirror pods are not drained


@pytest.mark.parametrize("data, message", [
    ([], "expected a JSON object (the output of kubectl get ... -o json)"),
    ({"kind": "List", "items": "nope"}, "'items' is not a list"),
    ({"kind": "List", "items": [{"kind": "Pod"}]}, "the dump holds no Node objects"),
], ids=["not-an-object", "items-not-a-list", "no-nodes"])
def test_bad_dumps(data, message):
    with pytest.raises(DumpError) as err:
        group_dump(data)
    assert str(err.value).startswith(message)
