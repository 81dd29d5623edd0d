"""The translators from Kubernetes API JSON, on real-shaped objects: a kubectl dump of an EKS
cluster with fields missing, an older API version, unknown extra fields and a kind midair ignores."""

import json

import pytest

from models.quantity import IntOrPercent
from models.state import PDB, Resources
from sim.adapters.kube_state import DumpError, build_state, group_dump
from sim.adapters.kube_translate import container_version, image_version, translate_node, translate_pod, translate_workload

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
    assert (redis.kind, redis.local_storage, redis.pdb, redis.status.ready, redis.pod_management) == (
        "StatefulSet", True, PDB(max_unavailable=IntOrPercent(0)), 0, "OrderedReady")
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


def _pod(name, owner, volumes, kind="StatefulSet"):
    owners = [{"kind": kind, "name": owner, "controller": True}] if owner else []
    return {"kind": "Pod", "metadata": {"name": name, "namespace": "data", "ownerReferences": owners},
            "spec": {"nodeName": "n1", "volumes": volumes}, "status": {"phase": "Running"}}


def _claim(name, volume=None, storage_class="gp3"):
    return {"kind": "PersistentVolumeClaim", "metadata": {"name": name, "namespace": "data"},
            "spec": {"storageClassName": storage_class, **({"volumeName": volume} if volume else {})}}


def _pinned(key):
    return {"required": {"nodeSelectorTerms": [{"matchExpressions": [{"key": key, "operator": "In", "values": ["n1"]}]}]}}


def _claimed(name):
    return [{"name": "d", "persistentVolumeClaim": {"claimName": name}}]


def test_node_local_volumes_found_through_claims_and_volumes():
    items = [
        {"kind": "Node", "metadata": {"name": "n1"}, "status": {"nodeInfo": {"kubeletVersion": "v1.30.2"}}},
        *[{"kind": "StatefulSet", "metadata": {"name": n, "namespace": "data"},
           "spec": {"replicas": 1, "template": {"spec": {}}}}
          for n in ("local-pv", "pinned-pv", "topolvm", "local-class", "ebs", "scratch")],
        {"kind": "Deployment", "metadata": {"name": "postgres", "namespace": "data"},
         "spec": {"replicas": 1, "template": {"spec": {}}}},
        {"kind": "PersistentVolume", "metadata": {"name": "pv-local"}, "spec": {"local": {"path": "/mnt/disks/1"}}},
        {"kind": "PersistentVolume", "metadata": {"name": "pv-pinned"},
         "spec": {"csi": {}, "nodeAffinity": _pinned("kubernetes.io/hostname")}},
        {"kind": "PersistentVolume", "metadata": {"name": "pv-lvm"},
         "spec": {"csi": {}, "nodeAffinity": _pinned("topology.topolvm.io/node")}},
        {"kind": "PersistentVolume", "metadata": {"name": "pv-ebs"},
         "spec": {"csi": {}, "nodeAffinity": _pinned("topology.kubernetes.io/zone")}},
        _claim("c-local", "pv-local"), _claim("c-pinned", "pv-pinned"), _claim("c-lvm", "pv-lvm"),
        _claim("c-ebs", "pv-ebs"), _claim("c-pending", storage_class="local-path"), _claim("c-pg", "pv-pinned"),
        _pod("local-pv-0", "local-pv", _claimed("c-local")),
        _pod("pinned-pv-0", "pinned-pv", _claimed("c-pinned")),
        _pod("topolvm-0", "topolvm", _claimed("c-lvm")),
        _pod("local-class-0", "local-class", _claimed("c-pending")),
        _pod("ebs-0", "ebs", _claimed("c-ebs")),
        # scratch space beside a network volume: not a volume that ties the StatefulSet to its node
        _pod("scratch-0", "scratch", [*_claimed("c-ebs"), {"name": "tmp", "emptyDir": {}}]),
        _pod("postgres-1", "postgres", _claimed("c-pg"), kind="Deployment"),
        _pod("tmp-job", None, [{"name": "t", "ephemeral": {"volumeClaimTemplate": {"spec": {"storageClassName": "local-path"}}}}]),
    ]
    state = build_state(group_dump({"kind": "List", "items": items}))
    assert {w.name: (w.kind, w.local_storage) for w in state.workloads} == {
        "local-pv": ("StatefulSet", True), "pinned-pv": ("StatefulSet", True), "topolvm": ("StatefulSet", True),
        "local-class": ("StatefulSet", True), "ebs": ("StatefulSet", False), "scratch": ("StatefulSet", False),
        # a Deployment on a pinned volume: midair's model for it is data that goes with the pod (docs/live.md)
        "postgres": ("Deployment", True),
        "tmp-job": ("Pod", True)}  # a generic ephemeral volume on a local class goes with the pod


def test_api_services_and_their_availability():
    from sim.adapters.kube_translate import api_services

    objs = [{"metadata": {"name": "v1beta1.metrics.k8s.io"},
             "spec": {"service": {"namespace": "kube-system", "name": "metrics-server"}},
             "status": {"conditions": [{"type": "Available", "status": "False", "reason": "FailedDiscoveryCheck"}]}},
            {"metadata": {"name": "v1.apps"}, "spec": {},
             "status": {"conditions": [{"type": "Available", "status": "True"}]}},
            {"metadata": {"name": "v1.broken"}}]
    assert [(s.name, s.available, s.service) for s in api_services(objs)] == [
        ("v1beta1.metrics.k8s.io", False, "kube-system/metrics-server"), ("v1.apps", True, None),
        ("v1.broken", False, None)]


def test_an_etcd_image_revision_is_not_a_pre_release():
    pods = [{"metadata": {"name": "etcd-cp-1", "namespace": "kube-system", "labels": {"component": "etcd"}},
             "spec": {"containers": [{"image": "registry.k8s.io/etcd:3.5.12-0"}]},
             "status": {"conditions": [{"type": "Ready", "status": "True"}]}}]
    from sim.adapters.kube_translate import control_plane_instances

    [etcd] = [i for i in control_plane_instances(pods, None) if i.component == "etcd"]
    assert (etcd.name, str(etcd.version), etcd.version.pre) == ("etcd-cp-1", "3.5.12", None)


def test_a_bare_pod_keeps_its_requests_selector_grace_and_budget_and_pending_ones_count():
    items = [
        {"kind": "Node", "metadata": {"name": "n1"}, "status": {"nodeInfo": {"kubeletVersion": "v1.30.2"}}},
        {"kind": "PodDisruptionBudget", "metadata": {"name": "tools", "namespace": "ops"},
         "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "tools"}}}, "status": {"disruptionsAllowed": 0}},
        {"kind": "Pod", "metadata": {"name": "toolbox", "namespace": "ops", "labels": {"app": "tools"}},
         "spec": {"nodeName": "n1", "nodeSelector": {"node.kubernetes.io/pool": "ops"}, "terminationGracePeriodSeconds": 5,
                  "initContainers": [{"name": "fetch", "resources": {"requests": {"cpu": "2", "memory": "64Mi"}}},
                                     {"name": "proxy", "restartPolicy": "Always",
                                      "resources": {"requests": {"cpu": "100m", "memory": "32Mi"}}}],
                  "containers": [{"name": "a", "resources": {"requests": {"cpu": "250m", "memory": "128Mi"}}},
                                 {"name": "b", "resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}}]},
         "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}},
        {"kind": "Pod", "metadata": {"name": "waiting", "namespace": "ops"}, "spec": {"containers": [{"name": "c"}]},
         "status": {"phase": "Pending"}},
        {"kind": "Pod", "metadata": {"name": "finished", "namespace": "ops"}, "spec": {"nodeName": "n1"},
         "status": {"phase": "Succeeded"}},
    ]
    state = build_state(group_dump({"kind": "List", "items": items}), pool_label="node.kubernetes.io/pool")
    toolbox, waiting = (state.workload(k) for k in ("ops/toolbox", "ops/waiting"))
    # cpu: the fetch init container (2) outweighs a + b + the proxy sidecar (600m); memory: 128+64+32 Mi beat 64 Mi
    assert (toolbox.kind, toolbox.requests, toolbox.pool, toolbox.grace_period_s, toolbox.pdb) == (
        "Pod", Resources(2000, 224 * 2**20, 1), "ops", 5.0, PDB(IntOrPercent(1)))
    assert (toolbox.status.ready, toolbox.status.disruptions_allowed) == (1, 0)
    assert (waiting.kind, waiting.status.desired, waiting.status.ready) == ("Pod", 1, 0)
    assert [w.key for w in state.workloads] == ["ops/toolbox", "ops/waiting"]  # the finished pod is no workload


def test_coredns_scaled_to_zero_is_an_add_on_only():
    items = [{"kind": "Node", "metadata": {"name": "n1"}, "status": {"nodeInfo": {"kubeletVersion": "v1.30.2"}}},
             {"kind": "Deployment", "metadata": {"name": "coredns", "namespace": "kube-system"},
              "spec": {"replicas": 0, "template": {"spec": {"containers": [
                  {"image": "registry.k8s.io/coredns/coredns:v1.11.1"}]}}}, "status": {}}]
    state = build_state(group_dump({"kind": "List", "items": items}))
    assert [(a.name, str(a.version)) for a in state.addons] == [("coredns", "1.11.1")]
    assert state.workloads == ()


SIDECAR = {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.22.1"}


@pytest.mark.parametrize("containers, name, version", [
    ([SIDECAR, {"name": "kube-proxy", "image": "registry.k8s.io/kube-proxy:v1.29.3"}], "kube-proxy", "1.29.3"),
    ([SIDECAR, {"name": "proxy", "image": "registry.k8s.io/kube-proxy:v1.29.3"}], "kube-proxy", "1.29.3"),
    ([{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.11.1"}], "coredns", "1.11.1"),
    ([{"name": "other", "image": "example/thing:v2.0.0"}], "kube-proxy", "2.0.0"),
    ([], "kube-proxy", None),
], ids=["by-name-after-a-sidecar", "by-image-after-a-sidecar", "coredns", "only-one-container", "none"])
def test_the_version_comes_from_the_container_that_carries_it(containers, name, version):
    found = container_version(containers, name)
    assert (str(found) if found else None) == version


def test_add_ons_static_pods_and_node_proxies_read_every_container():
    image = {"kube-proxy": "registry.k8s.io/kube-proxy:v1.29.3"}
    dump = {"kind": "List", "items": [
        {"kind": "Node", "metadata": {"name": "n-1"}, "status": {"nodeInfo": {"kubeletVersion": "v1.29.3-eks-036c24b"}}},
        {"kind": "DaemonSet", "metadata": {"name": "kube-proxy", "namespace": "kube-system"},
         "spec": {"template": {"spec": {"containers": [SIDECAR, {"name": "kube-proxy", "image": image["kube-proxy"]}]}}}},
        {"kind": "Pod", "metadata": {"name": "kube-proxy-x", "namespace": "kube-system",
                                     "ownerReferences": [{"kind": "DaemonSet", "name": "kube-proxy", "controller": True}]},
         "spec": {"nodeName": "n-1", "containers": [SIDECAR, {"name": "kube-proxy",
                                                              "image": "registry.k8s.io/kube-proxy:v1.28.9"}]}},
        {"kind": "Pod", "metadata": {"name": "kube-apiserver-cp", "namespace": "kube-system",
                                     "labels": {"component": "kube-apiserver"}},
         "spec": {"containers": [SIDECAR, {"name": "kube-apiserver", "image": "registry.k8s.io/kube-apiserver:v1.29.3"}]}},
    ]}
    state = build_state(group_dump(dump))
    assert [(a.name, str(a.version)) for a in state.addons] == [("kube-proxy", "1.29.3")]
    assert str(state.node("n-1").kube_proxy) == "1.28.9"  # its own pod's container, not the sidecar
    assert str(state.node("n-1").kubelet) == "1.29.3-eks-036c24b" and state.node("n-1").kubelet == image_version(
        "x:v1.29.3")  # a vendor build is the release it builds
    assert [(i.name, str(i.version)) for i in state.control_plane.instances] == [("kube-apiserver-cp", "1.29.3")]


@pytest.mark.parametrize("policy, expected", [(None, "OrderedReady"), ("OrderedReady", "OrderedReady"),
                                              ("Parallel", "Parallel")])
def test_a_stateful_sets_pod_management_policy_is_read(policy, expected):
    spec = {"replicas": 3, "template": {"spec": {"containers": []}}}
    if policy:
        spec["podManagementPolicy"] = policy
    w = translate_workload({"metadata": {"name": "db", "namespace": "data"}, "spec": spec, "status": {}},
                           "StatefulSet", [], None)
    assert w.pod_management == expected


@pytest.mark.parametrize("spec, seconds", [({}, 30.0), ({"terminationGracePeriodSeconds": 0}, 0.0),
                                           ({"terminationGracePeriodSeconds": 45}, 45.0)],
                         ids=["unset-is-the-default-30", "zero-kills-at-once", "as-given"])
def test_a_pods_grace_period_is_read_as_the_api_defaults_it(spec, seconds):
    from sim.adapters.kube_translate import grace_period

    assert grace_period(spec) == seconds
