"""Services, EndpointSlices, the autoscalers' annotations and what each node's pods request, read
from a cluster's objects (sim/adapters/kube_context.py) and written into a snapshot's scenario."""

import pytest
import yaml

from models.state import Resources
from models.traffic import Service
from sim.adapters.kube_state import build_state
from models.version import KubeVersion
from sim.scenario import load_scenario_text
from sim.scenario.export import scenario_from_state


def node(name, annotations=None):
    meta = {"name": name, "labels": {"node.kubernetes.io/pool": "general", "topology.kubernetes.io/zone": "a"},
            **({"annotations": annotations} if annotations else {})}
    return {"kind": "Node", "metadata": meta,
            "status": {"nodeInfo": {"kubeletVersion": "v1.30.4"}, "conditions": [{"type": "Ready", "status": "True"}],
                       "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"}}}


def deployment(name, annotations=None):
    template = {"metadata": {"labels": {"app": name}, **({"annotations": annotations} if annotations else {})},
                "spec": {"containers": [{"name": name, "image": f"x/{name}:1"}]}}
    return {"kind": "Deployment", "metadata": {"name": name, "namespace": "shop"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}}, "template": template},
            "status": {"readyReplicas": 2}}


def pod(name, owner, on, cpu="250m", annotations=None, daemonset=False):
    kind, owner_name = ("DaemonSet", owner) if daemonset else ("ReplicaSet", f"{owner}-abc")
    meta = {"name": name, "namespace": "shop", "labels": {"app": owner, "pod-template-hash": "abc"},
            "ownerReferences": [{"kind": kind, "name": owner_name, "controller": True}],
            **({"annotations": annotations} if annotations else {})}
    return {"kind": "Pod", "metadata": meta,
            "spec": {"nodeName": on, "containers": [{"name": "c", "resources": {"requests": {"cpu": cpu,
                                                                                          "memory": "256Mi"}}}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}}


def service(name, selector, kind="ClusterIP", policy=None, rps=None):
    meta = {"name": name, "namespace": "shop", **({"annotations": {"midair.io/requests-per-second": rps}} if rps else {})}
    return {"kind": "Service", "metadata": meta,
            "spec": {"type": kind, **({"selector": selector} if selector is not None else {}),
                     **({"externalTrafficPolicy": policy} if policy else {})}}


def endpoint_slice(service_name, pods):
    return {"kind": "EndpointSlice", "metadata": {"name": f"{service_name}-x", "namespace": "shop",
                                                  "labels": {"kubernetes.io/service-name": service_name}},
            "endpoints": [{"targetRef": {"kind": "Pod", "name": p}} for p in pods]}


def objects(**extra):
    base = {"Node": [node("n1", {"cluster-autoscaler.kubernetes.io/scale-down-disabled": "true", "other": "x"}),
                     node("n2")],
            "Deployment": [deployment("web"), deployment("api", {"karpenter.sh/do-not-disrupt": "true"})],
            "Pod": [pod("web-1", "web", "n1"), pod("web-2", "web", "n2"),
                    pod("api-1", "api", "n1", "500m", {"karpenter.sh/do-not-disrupt": "true"}),
                    pod("api-2", "api", "n2", "500m", {"karpenter.sh/do-not-disrupt": "true"}),
                    pod("log-1", "log", "n1", "100m", daemonset=True)]}
    return {**base, **extra}


@pytest.mark.parametrize("services, slices, expected", [
    ([service("web", {"app": "web"})], [endpoint_slice("web", ["web-1", "web-2"])],
     [Service("web", "shop/web", 100.0, "shop")]),
    ([service("front", {"tier": "front"}, "LoadBalancer", "Local", "250")], [endpoint_slice("front", ["api-1", "api-2"])],
     [Service("front", "shop/api", 250.0, "shop", "Local", True)]),
    ([service("web", {"app": "web"}, "LoadBalancer")], [], [Service("web", "shop/web", 100.0, "shop", "Cluster", True)]),
    ([service("web", {"app": "web"}, "NodePort", "Local")], [], [Service("web", "shop/web", 100.0, "shop")]),
    ([service("external", None)], [], []),
    ([service("nothing", {"app": "gone"})], [], []),
], ids=["endpoints-name-the-workload", "load-balancer-local-with-a-rate", "selector-without-slices",
        "node-port-is-not-a-cloud-balancer", "no-selector-left-out", "no-workload-left-out"])
def test_services_are_read_from_their_endpoint_slices(services, slices, expected):
    state = build_state(objects(Service=services, EndpointSlice=slices))
    assert list(state.services) == expected


def test_nodes_carry_their_annotations_pods_requests_and_do_not_disrupt_pods():
    state = build_state(objects())
    n1, n2 = state.node("n1"), state.node("n2")
    assert (n1.annotations, n2.annotations) == ((("cluster-autoscaler.kubernetes.io/scale-down-disabled", "true"),), ())
    assert (n1.requested, n1.reschedulable) == (Resources(850, 768 * 2**20, 3), Resources(750, 512 * 2**20, 2))
    assert (n1.do_not_disrupt, n2.do_not_disrupt) == (("shop/api-1",), ("shop/api-2",))
    assert state.workload("shop/api").annotations == (("karpenter.sh/do-not-disrupt", "true"),)


def test_a_snapshot_writes_the_services_and_annotations_as_scenario_blocks():
    state = build_state(objects(Service=[service("front", {"app": "api"}, "LoadBalancer", "Local")], EndpointSlice=[]),
                        api_version=KubeVersion(1, 30, 4))
    doc = scenario_from_state(state, "snap", description="a snapshot")
    assert doc["services"] == [{"name": "front", "workload": "api", "requestsPerSecond": 100.0, "namespace": "shop",
                                "loadBalancer": True, "externalTrafficPolicy": "Local"}]
    assert doc["annotations"] == {"workloads": {"shop/api": {"karpenter.sh/do-not-disrupt": "true"}},
                                  "nodes": {"general-1": {"cluster-autoscaler.kubernetes.io/scale-down-disabled": "true"}}}
    loaded = load_scenario_text(yaml.safe_dump(doc), "snap.yaml")  # a scenario midair accepts as it is
    assert (loaded.cluster.services, loaded.cluster.node("general-1").annotations) == (
        state.services, (("cluster-autoscaler.kubernetes.io/scale-down-disabled", "true"),))
