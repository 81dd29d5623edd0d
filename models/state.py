"""Frozen records of a cluster: what a strategy, a policy or a pre-check looks at.

A ``ClusterState`` is one consistent snapshot. The scenario loader builds the first one
from a file; the simulated and live adapters build one on every ``observe()``. Records
carry both what was asked for (a workload's replicas, a pool's size) and what was seen
(a node's readiness, a workload's ready replicas), like a Kubernetes object's spec and
status. Nothing here changes after construction; use ``dataclasses.replace``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from models.node_index import DELETING, DRAIN_FAILED, DRAINING, IDLE, PROVISION_FAILED, NodeIndexes

from models.cloud import (  # noqa: F401  (the cloud records are part of a cluster's records)
    PLENTY_OF_IPS,
    CloudResources,
    Listener,
    LoadBalancer,
    Subnet,
    node_ip,
)
from models.admission import Webhook
from models.constraints import (  # noqa: F401  (taints are part of a node's records)
    NO_EXECUTE,
    NO_SCHEDULE,
    NO_SCHEDULING,
    PREFER_NO_SCHEDULE,
    TAINT_EFFECTS,
    PriorityClass,
    Scheduling,
    Taint,
)
from models.quantity import IntOrPercent
from models.selectors import LabelSelector
from models.storage import StorageClaim, Volume
from models.traffic import Service
from models.version import KubeVersion

APISERVER = "kube-apiserver"
CONTROLLER_MANAGER = "kube-controller-manager"
SCHEDULER = "kube-scheduler"
CLOUD_CONTROLLER_MANAGER = "cloud-controller-manager"
ETCD = "etcd"
KUBELET = "kubelet"
KUBE_PROXY = "kube-proxy"
KUBECTL = "kubectl"
CONTROL_PLANE_COMPONENTS = (APISERVER, CONTROLLER_MANAGER, SCHEDULER, CLOUD_CONTROLLER_MANAGER)

DEPLOYMENT = "Deployment"
STATEFULSET = "StatefulSet"
DAEMONSET = "DaemonSet"
BARE_POD = "Pod"
WORKLOAD_KINDS = (DEPLOYMENT, STATEFULSET, DAEMONSET, BARE_POD)

# What a node or a control-plane instance is doing. IDLE means nothing is in flight (IDLE, DRAINING,
# DRAIN_FAILED, DELETING and PROVISION_FAILED are defined with the node indexes, which count by them).
UPGRADING = "upgrading"
UPGRADE_FAILED = "upgrade-failed"
PROVISIONING = "provisioning"
NODE_PHASES = (IDLE, DRAINING, DRAIN_FAILED, UPGRADING, UPGRADE_FAILED, PROVISIONING, PROVISION_FAILED, DELETING)


@dataclass(frozen=True)
class Resources:
    """Allocatable capacity or requests: CPU in millicores, memory in bytes, pod slots."""

    cpu_m: int = 0
    memory: int = 0
    pods: int = 0

    def fits(self, request: Resources) -> bool:
        return self.cpu_m >= request.cpu_m and self.memory >= request.memory and self.pods >= request.pods

    def __add__(self, other: Resources) -> Resources:
        return Resources(self.cpu_m + other.cpu_m, self.memory + other.memory, self.pods + other.pods)

    def __sub__(self, other: Resources) -> Resources:
        return Resources(self.cpu_m - other.cpu_m, self.memory - other.memory, self.pods - other.pods)


@dataclass(frozen=True)
class Instance:
    """One control-plane process (an apiserver, controller-manager, scheduler or etcd member)."""

    name: str
    component: str
    version: KubeVersion
    healthy: bool = True
    phase: str = IDLE
    message: str = ""


@dataclass(frozen=True)
class NodeLifecycle:
    """kube-controller-manager's node lifecycle flags, at their upstream defaults
    (``--node-eviction-rate``, ``--secondary-node-eviction-rate``, ``--unhealthy-zone-threshold``,
    ``--large-cluster-size-threshold``; kubernetes pkg/controller/nodelifecycle/config)."""

    node_eviction_rate: float = 0.1
    secondary_node_eviction_rate: float = 0.01
    unhealthy_zone_threshold: float = 0.55
    large_cluster_size_threshold: int = 50


@dataclass(frozen=True)
class ControlPlane:
    instances: tuple[Instance, ...]
    node_lifecycle: NodeLifecycle = NodeLifecycle()

    def of(self, component: str) -> tuple[Instance, ...]:
        return tuple(i for i in self.instances if i.component == component)

    @property
    def apiservers(self) -> tuple[Instance, ...]:
        return self.of(APISERVER)

    def instance(self, name: str) -> Instance:
        for i in self.instances:
            if i.name == name:
                return i
        raise KeyError(name)


@dataclass(frozen=True)
class NodeConfig:
    """The host's configuration as the node-configuration pre-checks see it."""

    systemd_healthy: bool = True
    ntp_synced: bool = True
    package_manager_healthy: bool = True
    kernel_params: tuple[tuple[str, str], ...] = (
        ("net.ipv4.ip_forward", "1"),
        ("net.bridge.bridge-nf-call-iptables", "1"),
    )
    cgroup_version: int = 2
    kubelet_running: bool = True
    kubelet_config_valid: bool = True
    kubelet_cert_expiry_days: float = 365.0
    runtime_running: bool = True


@dataclass(frozen=True)
class NodePool:
    name: str
    count: int
    version: KubeVersion
    allocatable: Resources
    zones: tuple[str, ...] = ("a",)
    runtime: str = "containerd://1.7.2"
    target_runtime: str | None = None
    config: NodeConfig = NodeConfig()
    labels: tuple[tuple[str, str], ...] = ()  # its nodes' labels, besides their zone and hostname
    taints: tuple[Taint, ...] = ()  # its nodes register with these


@dataclass(frozen=True)
class Node:
    name: str
    pool: str
    zone: str
    kubelet: KubeVersion
    kube_proxy: KubeVersion
    allocatable: Resources
    runtime: str = "containerd://1.7.2"
    ip: str = ""
    ready: bool = True
    schedulable: bool = True
    phase: str = IDLE
    # Pods a drain would have to evict (not DaemonSet, mirror or finished pods).
    pods: int = 0
    created_at: float = 0.0
    message: str = ""
    config: NodeConfig = NodeConfig()
    taints: tuple[Taint, ...] = ()
    # -- what autoscalers look at (issue 16) --
    annotations: tuple[tuple[str, str], ...] = ()  # the node's own
    requested: Resources = Resources()  # requests of every pod on it, DaemonSet pods included
    reschedulable: Resources = Resources()  # requests of the pods a drain would move
    do_not_disrupt: tuple[str, ...] = ()  # its running pods annotated karpenter.sh/do-not-disrupt: "true"
    # -- what the scheduler and the attach/detach controller look at (issue 15) --
    labels: tuple[tuple[str, str], ...] = ()  # all of them: its pool's, its zone, its hostname
    volumes: int = 0  # volumes attached to it (status.volumesAttached)

    def has_taint(self, key: str) -> bool:
        return any(t.key == key for t in self.taints)

    def annotation(self, key: str) -> str | None:
        return dict(self.annotations).get(key)

    @property
    def available(self) -> bool:
        """Ready, schedulable and not in the middle of an operation."""
        return self.ready and self.schedulable and self.phase == IDLE


@dataclass(frozen=True)
class PDB:
    """A PodDisruptionBudget: over one workload's pods (a workload's ``pdb:``), or over the pods
    its ``selector`` picks in its namespace (a scenario's ``podDisruptionBudgets:``, a live cluster's)."""

    min_available: IntOrPercent | None = None
    max_unavailable: IntOrPercent | None = None
    unhealthy_pod_eviction_policy: str = "IfHealthyBudget"
    name: str = ""
    namespace: str = "default"
    selector: LabelSelector | None = None

    def selects(self, w: Workload) -> bool:
        """Does this budget (one with a selector) pick ``w``'s pods? An empty selector picks every pod of
        its namespace (policy/v1); without a selector it picks none."""
        return self.selector is not None and w.namespace == self.namespace and self.selector.matches(w.pod_labels)

    def expected_count(self, replicas: int, matched_pods: int) -> int:
        # pkg/controller/disruption: an integer minAvailable counts matched pods; the
        # other forms use the controllers' scale (here one controller that has one; bare
        # pods and DaemonSets: models.disruption.expected_pods).
        if self.min_available is not None and not self.min_available.percent:
            return matched_pods
        return replicas

    def desired_healthy(self, expected: int) -> int:
        if self.min_available is not None:
            if self.min_available.percent:
                return math.ceil(self.min_available.value * expected / 100)
            return self.min_available.value
        if self.max_unavailable is not None:
            return max(0, expected - self.max_unavailable.scaled(expected, round_up=True))
        return 0

    def disruptions_allowed(self, current_healthy: int, expected: int) -> int:
        if expected <= 0:
            return 0
        return max(0, current_healthy - self.desired_healthy(expected))


@dataclass(frozen=True)
class WorkloadStatus:
    desired: int
    ready: int
    disruptions_allowed: int | None = None


@dataclass(frozen=True)
class BudgetStatus:
    """A PodDisruptionBudget's status as the disruption controller computes it, over all the pods it selects."""

    name: str
    namespace: str
    workloads: tuple[str, ...]  # keys of the workloads whose pods it selects
    expected: int
    desired_healthy: int
    current_healthy: int
    disruptions_allowed: int


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str = DEPLOYMENT
    namespace: str = "default"
    replicas: int = 1
    requests: Resources = Resources(100, 128 * 2**20, 1)
    pdb: PDB | None = None
    startup_seconds: float | None = None
    image_pull_s: float | None = None
    local_storage: bool = False
    pool: str | None = None
    grace_period_s: float = 30.0
    system: bool = False
    status: WorkloadStatus | None = None
    labels: tuple[tuple[str, str], ...] = ()
    pre_stop_s: float = 0.0
    # PodDisruptionBudgets that select its pods (a policy/v1 eviction refuses a pod that more than one selects)
    budgets: int | None = None
    phase: str = "Running"  # a bare pod that has finished: Succeeded or Failed
    annotations: tuple[tuple[str, str], ...] = ()  # its pods' (issue 16: safe-to-evict, do-not-disrupt)
    scheduling: Scheduling = NO_SCHEDULING
    storage: StorageClaim | None = None  # network volumes (zonal, shared); local ones also as local_storage
    pod_management: str = "OrderedReady"  # a StatefulSet's podManagementPolicy: OrderedReady or Parallel

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def annotation(self, key: str) -> str | None:
        return dict(self.annotations).get(key)

    @property
    def pod_labels(self) -> dict[str, str]:
        """The labels of its pods (``app: NAME`` when none are given)."""
        return dict(self.labels) if self.labels else {"app": self.name}


# kubeadm's CoreDNS Deployment requests 100m CPU and 70Mi memory
# (kubernetes cmd/kubeadm/app/phases/addons/dns/manifests.go).
COREDNS_REQUESTS = Resources(100, 70 * 2**20, 1)


def coredns_workload(replicas: int) -> Workload:
    """kubeadm's CoreDNS Deployment, ``kube-system/coredns``, with ``replicas`` pods (labelled ``k8s-app: kube-dns``)."""
    return Workload("coredns", namespace="kube-system", replicas=replicas, requests=COREDNS_REQUESTS, system=True,
                    labels=(("k8s-app", "kube-dns"),), budgets=0)



@dataclass(frozen=True)
class Pod:
    name: str
    workload: str
    node: str | None
    ready: bool = True
    phase: str = "Running"
    local_storage: bool = False
    daemonset: bool = False
    mirror: bool = False


@dataclass(frozen=True)
class Addon:
    """A cluster add-on: ``coredns``, ``kube-proxy`` or ``cni`` (with its flavor)."""

    name: str
    version: KubeVersion
    flavor: str | None = None
    healthy: bool = True
    phase: str = IDLE


@dataclass(frozen=True)
class APIService:
    name: str
    available: bool = True
    service: str | None = None


@dataclass(frozen=True)
class ClusterState(NodeIndexes):
    control_plane: ControlPlane
    pools: tuple[NodePool, ...]
    nodes: tuple[Node, ...]
    workloads: tuple[Workload, ...] = ()
    addons: tuple[Addon, ...] = ()
    cloud: CloudResources = CloudResources()
    api_services: tuple[APIService, ...] = ()
    pods: tuple[Pod, ...] = ()
    api_available: bool = True
    observed_at: float = 0.0
    # what this view could not see: "host" (OS services, kernel, kubelet and runtime health),
    # "cloud" (load balancer, subnets, quota); a live cluster's API shows neither
    unobserved: tuple[str, ...] = ()
    # the budgets that select more than one workload's pods, or that a scenario or cluster declares on
    # their own; a workload's own ``pdb`` is judged from its status
    budgets: tuple[BudgetStatus, ...] = ()
    pdbs: tuple[PDB, ...] = ()  # ``podDisruptionBudgets:`` as declared (with selectors), for the world
    # -- traffic and wall time (issue 16) --
    services: tuple[Service, ...] = ()
    # seconds since the epoch at observed_at 0: a live view's observed_at is the epoch (origin 0), a
    # simulated one counts from the scenario's startTime; wall time is always clock_origin + observed_at
    clock_origin: float = 0.0
    # -- what pods must fit and pass (issue 15) --
    webhooks: tuple[Webhook, ...] = ()
    priority_classes: tuple[PriorityClass, ...] = ()  # the cluster's own (the two system ones are implied)
    volumes: tuple[Volume, ...] = ()  # the PersistentVolumes of zonal and shared claims

    def pool(self, name: str) -> NodePool:
        for p in self.pools:
            if p.name == name:
                return p
        raise KeyError(name)

    def addon(self, name: str) -> Addon | None:
        for a in self.addons:
            if a.name == name:
                return a
        return None

    def workload(self, name: str) -> Workload:
        for w in self.workloads:
            if w.name == name or w.key == name:
                return w
        raise KeyError(name)

    @property
    def oldest_apiserver(self) -> KubeVersion:
        return min(i.version for i in self.control_plane.apiservers)

    @property
    def newest_apiserver(self) -> KubeVersion:
        return max(i.version for i in self.control_plane.apiservers)

    @property
    def version(self) -> KubeVersion:
        """The cluster's version as kubectl reports it: the oldest apiserver."""
        return self.oldest_apiserver

    @property
    def wall_time(self) -> float:
        """When this view was observed, in seconds since the epoch (UTC)."""
        return self.clock_origin + self.observed_at
