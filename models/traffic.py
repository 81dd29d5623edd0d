"""Services and the rules by which traffic reaches their pods while pods and nodes come and go.

A ``Service`` sends ``requests_per_second`` to the pods of one workload, through kube-proxy
(``load_balancer`` false: clients in the cluster), or through a cloud load balancer. With
``externalTrafficPolicy: Cluster`` the load balancer sends to the pods themselves (as the
AWS Load Balancer Controller's IP targets and GKE's container-native NEGs do); with
``Local`` it sends to nodes, health-checks each node's ``healthCheckNodePort``, and the
node's kube-proxy forwards only to pods on that node (kubernetes.io, Service
``externalTrafficPolicy``; Kubernetes allows the field only on NodePort and LoadBalancer
Services).

The rules below are kube-proxy's, from KEP-1669 (Proxy Terminating Endpoints, on by default
from 1.26, GA in 1.28): within the scope of the traffic policy, traffic goes to the ready
endpoints that are not terminating; when there is none, to the terminating endpoints that
are still serving; and the node's health check fails as soon as only terminating endpoints
are left, so the load balancer can take the node out while they finish.
"""

from __future__ import annotations

from dataclasses import dataclass

CLUSTER = "Cluster"
LOCAL = "Local"
TRAFFIC_POLICIES = (CLUSTER, LOCAL)
# what "a failing share" means for traffic_error_s: more than 1% of requests failing
ERROR_SHARE = 0.01


@dataclass(frozen=True)
class Service:
    name: str
    workload: str  # the key (namespace/name) of the workload whose pods back it
    requests_per_second: float
    namespace: str = "default"
    external_traffic_policy: str = CLUSTER
    load_balancer: bool = False

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Endpoint:
    """An endpoint as an EndpointSlice carries it (KEP-1672's conditions) and whether its pod
    really answers (``answers``: its containers run and have not been told to stop)."""

    node: str
    ready: bool
    serving: bool
    terminating: bool
    answers: bool = True


def proxy_targets(endpoints: list[Endpoint]) -> list[Endpoint]:
    """Where kube-proxy sends traffic: the ready, non-terminating endpoints, or if there are none,
    the terminating ones still serving (KEP-1669); none left means the traffic is dropped."""
    ready = [e for e in endpoints if e.ready and not e.terminating]
    return ready or [e for e in endpoints if e.terminating and e.serving]


def health_check_passes(local: list[Endpoint]) -> bool:
    """kube-proxy's healthCheckNodePort answers 200 only while the node has a local ready endpoint
    that is not terminating (KEP-1669: it fails when only terminating endpoints are left)."""
    return any(e.ready and not e.terminating for e in local)


def failing_share(targets: list[Endpoint]) -> float:
    """The share of requests spread evenly over ``targets`` that reach a pod that no longer answers
    (all of them when there is no target at all)."""
    if not targets:
        return 1.0
    return sum(1 for e in targets if not e.answers) / len(targets)
