"""The scenario format (``apiVersion: midair/v1alpha1``, ``kind: Scenario``) as a schema.

This is the user contract documented field by field in docs/scenario-format.md; a test
keeps the two in step. Cross-field rules (a PDB with both or neither of its fields, a target
older than the cluster, a workload pinned to a pool that does not exist) live in
``sim.scenario.build``.
"""

from __future__ import annotations

from models.ranking import DEFAULT_OBJECTIVES
from sim.scenario.context_fields import CONTEXT_FIELDS
from sim.scenario.kube_fields import LABEL_SELECTOR_SHAPE, PRIORITY_CLASS, SCHEDULING_FIELDS, TAINT, WEBHOOK
from sim.scenario.schema import (
    REQUIRED,
    Anything,
    Bool,
    Duration,
    Enum,
    Field,
    Int,
    IntOrPct,
    ListOf,
    MapOf,
    Name,
    Num,
    Obj,
    OneOf,
    Quantity,
    Str,
    Version,
)

API_VERSION = "midair/v1alpha1"
KIND = "Scenario"
# Kubernetes' scalability limits (the team's reference): 5,000 nodes, 150,000 pods.
MAX_NODES = 5000
MAX_PODS = 150_000
LIMITS = "Kubernetes supports clusters of up to 5,000 nodes and 150,000 pods"
MAX_RUNS = 100_000
RUNS_LIMIT = "midair's limit per strategy and variant: hours of work on a laptop, and far more runs than a p95 needs"

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Pod")
INPLACE_RESTARTS = ("auto", "never", "always")
FAULT_TYPES = (
    "node-crash",
    "inplace-step-failure",
    "provision-failure",
    "quota-exhausted",
    "subnet-exhausted",
    "slow-image-pull",
    "pod-startup-failure",
    "apiserver-crash",
    "lb-listener-misconfigured",
    "stuck-pdb",
    "operator-crash",
)


def _is_number_or_text(v) -> bool:
    return isinstance(v, (int, float, str)) and not isinstance(v, bool)


_DURATION = Duration()
DISTRIBUTION = OneOf(options=(
    (_is_number_or_text, _DURATION),
    (lambda v: isinstance(v, dict), Obj(name="distribution", fields={
        "constant": Field(_DURATION, doc="always this duration"),
        "uniform": Field(ListOf(item=_DURATION, min_items=2), doc="[min, max]"),
        "triangular": Field(ListOf(item=_DURATION, min_items=3), doc="[min, mode, max]"),
        "lognormal": Field(Obj(name="lognormal", fields={
            "median": Field(_DURATION, REQUIRED), "p95": Field(_DURATION, REQUIRED)}), doc="{median, p95}"),
        "exponential": Field(Obj(name="exponential", fields={"mean": Field(_DURATION, REQUIRED)}), doc="{mean}"),
        "empirical": Field(ListOf(item=_DURATION, min_items=1), doc="[d1, d2, ...]: one of these, each equally likely"),
        # where a distribution came from (midair calibrate, a profile); the simulation ignores them
        "samples": Field(Int(min=1), doc="how many observations it was fitted to"),
        "source": Field(Str(example="journal prod.journal"), doc="what it was fitted to, or the published figure"),
    })),
))
TIMING_PROFILES = ("eks", "gke", "aks", "ack", "kubeadm")

PDB_FIELDS = {
    "minAvailable": Field(IntOrPct(of="the workload's pods"), doc="pods that must stay available (count or percent)"),
    "maxUnavailable": Field(IntOrPct(of="the workload's pods"), doc="pods that may be unavailable (count or percent)"),
    "unhealthyPodEvictionPolicy": Field(Enum(choices=("IfHealthyBudget", "AlwaysAllow")), "IfHealthyBudget"),
}
PDB = Obj(name="PodDisruptionBudget", fields=PDB_FIELDS)
LABEL_SELECTOR = LABEL_SELECTOR_SHAPE
POD_DISRUPTION_BUDGET = Obj(name="PodDisruptionBudget", fields={
    "name": Field(Str(example="web"), REQUIRED),
    "namespace": Field(Str(example="default"), "default"),
    "selector": Field(LABEL_SELECTOR, REQUIRED, "the pods it covers; {} is every pod of the namespace (policy/v1)"),
    **PDB_FIELDS,
})

WORKLOAD = Obj(name="workload", fields={
    "name": Field(Name(example="web", kind="subdomain"), REQUIRED),
    "kind": Field(Enum(choices=WORKLOAD_KINDS), "Deployment"),
    "namespace": Field(Name(example="default"), "default"),
    "replicas": Field(Int(min=0, max=MAX_PODS, why_max=LIMITS), None, "pods wanted (not for a DaemonSet)"),
    "cpu": Field(Quantity(kind="cpu"), 100, "CPU request per pod"),
    "memory": Field(Quantity(kind="memory"), 128 * 2**20, "memory request per pod"),
    "pdb": Field(PDB),
    "startupSeconds": Field(Num(min=0), None, "readiness delay after the image is pulled"),
    "imagePullSeconds": Field(Num(min=0), None, "image pull time on a node that lacks the image"),
    "localStorage": Field(Bool(), False, "pods keep data on their node's disk (emptyDir, local PV)"),
    "phase": Field(Enum(choices=("Running", "Succeeded", "Failed")), "Running",
                   "a bare pod that has finished (Succeeded, Failed) only waits to be deleted"),
    "pool": Field(Name(example="general"), None, "node pool the pods are pinned to"),
    "gracePeriodSeconds": Field(Num(min=0), 30.0, "terminationGracePeriodSeconds"),
    "preStopSeconds": Field(Num(min=0), 0.0, "a preStop hook's sleep before SIGTERM (counts against the grace period)"),
    "podManagementPolicy": Field(Enum(choices=("OrderedReady", "Parallel")), "OrderedReady",
                                 "a StatefulSet's: OrderedReady recreates a pod only once every lower ordinal is "
                                 "Running and Ready"),
    "labels": Field(MapOf(value=Str(example="web")), None, "its pods' labels (default: app: NAME)"),
    **SCHEDULING_FIELDS,
})

OS = Obj(name="os", fields={
    "systemd": Field(Bool(), True, "systemd is running and healthy"),
    "ntpSynced": Field(Bool(), True, "the clock is synchronised (NTP)"),
    "packageManager": Field(Bool(), True, "the package manager works (in-place upgrades install packages)"),
    "kernel": Field(MapOf(value=Str(example="1")), None, "kernel parameters (sysctl), e.g. net.ipv4.ip_forward"),
    "cgroup": Field(Enum(choices=("v1", "v2")), "v2", "cgroup version"),
})
KUBELET = Obj(name="kubelet", fields={
    "running": Field(Bool(), True),
    "configValid": Field(Bool(), True),
    "certExpiryDays": Field(Num(), 365.0, "days until the kubelet's client certificate expires"),
})

NODE_OVERRIDE = Obj(name="node", fields={
    "name": Field(Str(example="general-1"), REQUIRED),
    "version": Field(Version()),
    "ready": Field(Bool()),
    "zone": Field(Str(example="a")),
    "runtime": Field(Str(example="containerd://1.7.2")),
    "os": Field(OS),
    "kubelet": Field(KUBELET),
    "runtimeRunning": Field(Bool()),
})

NODE_POOL = Obj(name="node pool", fields={
    "name": Field(Name(example="general"), REQUIRED),
    "count": Field(Int(min=0, max=MAX_NODES, why_max=LIMITS), REQUIRED),
    "version": Field(Version(), None, "kubelet version (default: cluster.version)"),
    "cpu": Field(Quantity(kind="cpu"), 4000),
    "memory": Field(Quantity(kind="memory"), 16 * 2**30),
    "maxPods": Field(Int(min=1), 110),
    "zones": Field(ListOf(item=Str(example="a"), min_items=1), ["a"]),
    "runtime": Field(Str(example="containerd://1.7.2"), "containerd://1.7.2"),
    "targetRuntime": Field(Str(example="containerd://1.7.20"), None, "runtime the upgrade moves nodes to"),
    "nodes": Field(ListOf(item=NODE_OVERRIDE), [], "per-node overrides by name"),
    "os": Field(OS, {}),
    "kubelet": Field(KUBELET, {}),
    "runtimeRunning": Field(Bool(), True),
    "labels": Field(MapOf(value=Str(example="ssd")), None, "its nodes' labels (besides zone and hostname)"),
    "taints": Field(ListOf(item=TAINT), None, "its nodes register with these taints"),
})

INSTANCE_OVERRIDE = Obj(name="control-plane instance", fields={
    "name": Field(Str(example="kube-apiserver-0"), REQUIRED),
    "version": Field(Version()),
    "healthy": Field(Bool()),
})

CONTROL_PLANE = Obj(name="control plane", fields={
    "apiservers": Field(Int(min=1), 1),
    "controllerManagers": Field(Int(min=1), None, "default: as many as apiservers"),
    "schedulers": Field(Int(min=1), None, "default: as many as apiservers"),
    "etcd": Field(Int(min=1), None, "members; default: as many as apiservers"),
    "etcdVersion": Field(Version(), None, "default: what kubeadm installs for the cluster's minor"),
    "instances": Field(ListOf(item=INSTANCE_OVERRIDE), [], "per-instance overrides by name"),
    "nodeLifecycle": Field(Obj(name="node lifecycle", fields={
        "nodeEvictionRate": Field(Num(min=0), 0.1, "nodes tainted per second in a healthy zone"),
        "secondaryNodeEvictionRate": Field(Num(min=0), 0.01, "in a partially disrupted large zone"),
        "unhealthyZoneThreshold": Field(Num(min=0, max=1), 0.55, "share of NotReady nodes that disrupts a zone"),
        "largeClusterSizeThreshold": Field(Int(min=0), 50, "a zone larger than this still evicts when disrupted"),
    }), {}, "kube-controller-manager's node lifecycle flags"),
})

CNI = Obj(name="CNI", fields={
    "name": Field(Str(example="calico"), REQUIRED),
    "version": Field(Version(), REQUIRED),
    "healthy": Field(Bool(), True),
})

ADDONS = Obj(name="add-ons", fields={
    "coredns": Field(Version(), None, "default: what kubeadm installs for the cluster's minor"),
    "corednsReplicas": Field(Int(min=0), 2),
    "kubeProxy": Field(Version(), None, "default: cluster.version"),
    "cni": Field(CNI),
    "corednsHealthy": Field(Bool(), True),
    "kubeProxyHealthy": Field(Bool(), True),
})

LISTENER = Obj(name="listener", fields={
    "port": Field(Int(min=1, max=65535), 6443),
    "backendPort": Field(Int(min=1, max=65535), 6443),
    "protocol": Field(Enum(choices=("TCP", "HTTPS")), "TCP"),
    "healthy": Field(Bool(), True),
})

SUBNET = Obj(name="subnet", fields={
    "zone": Field(Str(example="a"), REQUIRED),
    "freeIPs": Field(Int(min=0), REQUIRED),
    "healthy": Field(Bool(), True),
    "name": Field(Str(example="vsw-a"), None),
})

CLOUD = Obj(name="cloud resources", fields={
    "subnetFreeIPs": Field(Int(min=0), None, "free IPs in each zone's subnet (default: plenty)"),
    "instanceQuota": Field(Int(min=0), None, "most VMs the account may run at once (default: no limit)"),
    "loadBalancer": Field(Obj(name="load balancer", fields={
        "healthy": Field(Bool(), True),
        "listeners": Field(ListOf(item=LISTENER), None),
        "aclAllowsNodes": Field(Bool(), True, "the listener ACL lets the nodes reach the apiservers"),
    })),
    "vpc": Field(Obj(name="VPC", fields={"healthy": Field(Bool(), True)}), None),
    "subnets": Field(ListOf(item=SUBNET), None, "per-zone subnets (instead of subnetFreeIPs)"),
    "instances": Field(Obj(name="instances", fields={"healthy": Field(Bool(), True)}), None),
})

APISERVICE = Obj(name="APIService", fields={
    "name": Field(Str(example="v1beta1.metrics.k8s.io"), REQUIRED),
    "available": Field(Bool(), True),
    "service": Field(Str(example="kube-system/metrics-server"), None),
})

CLUSTER = Obj(name="cluster", fields={
    "version": Field(Version(), REQUIRED, "control-plane version"),
    "controlPlane": Field(CONTROL_PLANE, {}),
    "nodePools": Field(ListOf(item=NODE_POOL, min_items=1), REQUIRED),
    "addons": Field(ADDONS, {}),
    "cloud": Field(CLOUD, {}),
    "apiServices": Field(ListOf(item=APISERVICE), [], "aggregated APIs and whether they are Available"),
    "unobserved": Field(ListOf(item=Enum(choices=("host", "cloud"))), [],
                        "what the description does not know (a snapshot of a live cluster: host, cloud); the "
                        "pre-checks that need it do not run"),
})

# Checked against the named strategy's parameters in sim.scenario.build.
STRATEGY_ENTRY = MapOf(value=Anything())

FAULT = Obj(name="fault", fields={
    "type": Field(Enum(choices=FAULT_TYPES), REQUIRED),
    "at": Field(Duration(), None, "scheduled time after the upgrade starts"),
    "target": Field(Str(example="node/general-3"), None, "what it hits: kind/name (node, pool, zone, workload, apiserver)"),
    "probability": Field(Num(min=0, max=1), None, "chance per opportunity"),
    "rate": Field(Num(min=0), None, "expected occurrences per hour"),
    "duration": Field(DISTRIBUTION, None, "how long it lasts (default: for good)"),
    "step": Field(Int(min=1, max=4), None, "in-place step after which the upgrade stops"),
    "factor": Field(Num(min=0, above_min=True), None, "multiplier (slow-image-pull)"),
    "delay": Field(Duration(), None, "how long until the operator is back (operator-crash)"),
    "limit": Field(Int(min=1), None, "fire at most this many times"),
})

INPLACE_TIMING = Obj(name="in-place steps", fields={
    "stopKubelet": Field(DISTRIBUTION, 2.0),
    "replaceBinaries": Field(DISTRIBUTION, {"uniform": [5.0, 15.0]}),
    "startKubelet": Field(DISTRIBUTION, 3.0),
    "rejoin": Field(DISTRIBUTION, {"uniform": [5.0, 10.0]}),
    "runtimeUpgrade": Field(DISTRIBUTION, 30.0),
})

TIMING = Obj(name="timing", retired={
    "localVolumeRebind": "no volume re-binds by itself when its node is gone (the pod stays Pending, volume node "
                         "affinity conflict); give timing.operatorResponse, the time until a person recovers it, or "
                         "never"}, fields={
    "include": Field(Str(example="timing.yaml"), None, "a timing file (midair calibrate writes one) whose fields apply "
                                                       "under the ones given here; relative to the scenario"),
    "profile": Field(Enum(choices=TIMING_PROFILES), None, "a platform's published timings, under include and the "
                                                          "fields given here"),
    "nodeProvision": Field(DISTRIBUTION, {"uniform": [40.0, 150.0]}),
    "nodeDelete": Field(DISTRIBUTION, 30.0),
    "inplace": Field(INPLACE_TIMING, {}),
    "controlPlaneInstance": Field(DISTRIBUTION, {"uniform": [120.0, 300.0]}, "stop, replace and start an apiserver"),
    "controllerInstance": Field(DISTRIBUTION, {"uniform": [20.0, 60.0]},
                                "stop, replace and start a controller-manager or scheduler"),
    "imagePull": Field(DISTRIBUTION, {"lognormal": {"median": 8.0, "p95": 30.0}}),
    "podStartup": Field(DISTRIBUTION, 5.0),
    "evictionRetry": Field(_DURATION, 5.0),
    "nodeMonitorGrace": Field(_DURATION, None, "default: 40s, or 50s from Kubernetes 1.32"),
    "notReadyToleration": Field(_DURATION, 300.0),
    "leaderLease": Field(_DURATION, 15.0),
    "podTermination": Field(DISTRIBUTION, {"lognormal": {"median": 2.0, "p95": 15.0}},
                            "SIGTERM to exit of a pod's containers (the grace period cuts it off)"),
    "operatorResponse": Field(OneOf(options=((lambda v: v == "never", Enum(choices=("never",))),
                                             (lambda v: v != "never", DISTRIBUTION))),
                              {"lognormal": {"median": 900.0, "p95": 3600.0}},
                              "until a person recovers a pod whose local volume's node is gone (never: nobody)"),
    "reconcileInterval": Field(_DURATION, 2.0),
    # traffic (issue 16; midair's assumptions, docs/fidelity.md)
    "endpointPropagation": Field(DISTRIBUTION, {"lognormal": {"median": 2.0, "p95": 8.0}},
                                 "a pod's endpoint change until every kube-proxy has it"),
    "lbDeregistration": Field(DISTRIBUTION, {"lognormal": {"median": 10.0, "p95": 30.0}},
                              "a pod's endpoint change until the cloud load balancer stops (or starts) sending to it"),
    "lbHealthCheck": Field(DISTRIBUTION, {"uniform": [20.0, 30.0]},
                           "a node's health check changing until the load balancer marks it down (or up)"),
    "volumeAttach": Field(DISTRIBUTION, {"uniform": [10.0, 30.0]}, "attach a zonal volume to a node"),
    "volumeDetach": Field(DISTRIBUTION, {"uniform": [5.0, 20.0]}, "detach a zonal volume from a node"),
})

HOOK_TEMPLATE = Str(example="ssh {node} sudo /usr/local/bin/upgrade-kubelet {version}")
LIVE = Obj(name="live", fields={
    "poolLabel": Field(Str(example="cloud.google.com/gke-nodepool"), None,
                       "node label naming a node's pool (default: the usual cloud labels)"),
    "hooks": Field(Obj(name="hooks", fields={
        "upgradeNode": Field(HOOK_TEMPLATE, None, "upgrade a node's kubelet in place: {node} {pool} {version} {zone}"),
        "provisionNode": Field(HOOK_TEMPLATE, None, "add a node to a pool at a version: {pool} {version} {zone}"),
        "deleteNode": Field(HOOK_TEMPLATE, None, "remove a node's machine: {node} {pool} {zone}"),
        "upgradeControlPlane": Field(HOOK_TEMPLATE, None, "upgrade one control-plane instance: {instance} {version}"),
    }), {}),
    "hookTimeout": Field(Duration(), 1800.0, "a hook running longer fails"),
    "drainParallelism": Field(Int(min=1), 10, "evictions in flight at once per drain"),
    "pollInterval": Field(Duration(), 5.0, "how often the cluster is looked at again"),
    "apiOutageTimeout": Field(Duration(), 600.0, "how long a run waits for an API that does not answer before it "
                                                 "halts (resumable)"),
    "retryDelay": Field(Duration(), 1.0, "first wait before a failed request is sent again (doubling per attempt)"),
    "retryMaxDelay": Field(Duration(), 30.0, "longest wait between two attempts of a request"),
})

# Each entry is checked against the metric it names (its kind, its breakdowns) in sim.scenario.expect.
EXPECTATION = Obj(name="expectation", fields={
    "metric": Field(Str(example="outage_s"), REQUIRED, "a metric of docs/metrics.md"),
    "workload": Field(Str(example="checkout"), None, "a workload (name or namespace/name), for a per-workload metric"),
    **{bound: Field(Anything(), None, doc) for bound, doc in (
        ("max", "the largest value over the runs"), ("p95", "the 95th percentile over the runs"),
        ("p50", "the median over the runs"), ("mean", "the mean over the runs"),
        ("atLeast", "for a rate: the least share of runs"), ("atMost", "for a rate: the largest share of runs"))},
})

METADATA = Obj(name="metadata", fields={
    "name": Field(Str(example="quickstart"), REQUIRED),
    "description": Field(Str(example="what this scenario rehearses"), ""),
})

SCENARIO = Obj(name="Scenario", fields={
    "apiVersion": Field(Enum(choices=(API_VERSION,)), REQUIRED),
    "kind": Field(Enum(choices=(KIND,)), REQUIRED),
    "metadata": Field(METADATA, REQUIRED),
    "cluster": Field(CLUSTER, REQUIRED),
    "workloads": Field(ListOf(item=WORKLOAD), []),
    "podDisruptionBudgets": Field(ListOf(item=POD_DISRUPTION_BUDGET), [],
                                  "budgets that select pods by label, as policy/v1 PodDisruptionBudgets do"),
    "priorityClasses": Field(ListOf(item=PRIORITY_CLASS), [], "the cluster's PriorityClasses (besides the system ones)"),
    "webhooks": Field(ListOf(item=WEBHOOK), [], "admission webhooks: validating or mutating"),
    "target": Field(Version(), REQUIRED),
    "strategies": Field(ListOf(item=STRATEGY_ENTRY, min_items=1), [{"name": "inplace"}, {"name": "replace"}]),
    "faults": Field(ListOf(item=FAULT), []),
    "timing": Field(TIMING, {}),
    "runs": Field(Int(min=1, max=MAX_RUNS, why_max=RUNS_LIMIT), 20),
    "seed": Field(Int(min=0), 0),
    "horizon": Field(OneOf(options=((lambda v: v == "auto", Enum(choices=("auto",))), (_is_number_or_text, _DURATION))), "auto"),
    "safety": Field(Enum(choices=("on", "off")), "on"),
    "prechecks": Field(Enum(choices=("enforce", "ignore")), "enforce"),
    "inplaceRestarts": Field(Enum(choices=INPLACE_RESTARTS), "auto",
                             "do in-place kubelet upgrades restart the node's containers: auto (when the kubelets "
                             "of that minor did upstream), never, always"),
    "live": Field(LIVE, {}),
    "manifests": Field(ListOf(item=Str(example="deploy/")), [],
                       "files or directories of your manifests (YAML, multi-document) to scan for removed APIs"),
    **CONTEXT_FIELDS,  # services, autoscaler, annotations, startTime (sim.scenario.context_fields)
    "expect": Field(ListOf(item=EXPECTATION), [], "service-level expectations over each strategy's runs"),
    "objectives": Field(ListOf(item=Str(example="outage_s"), min_items=1), list(DEFAULT_OBJECTIVES),
                        "metrics to minimise, most important first: they rank the strategies in the report's "
                        "verdict and in midair recommend"),
})
