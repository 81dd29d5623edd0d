"""Every severity branch of every pre-check, asserted exactly (id, family, severity, subject
and reason), and for every check a near-miss scenario on which it finds nothing.

Each case is one small change to the clean quickstart scenario (``--set`` overrides) and
the strategy whose traits the check reads (None: any strategy). ``{tmp}`` in an override
or a subject is replaced by a per-test directory holding the manifests of ``MANIFESTS``.
The branches a check has are read from its source, so a new branch without a case fails
``test_every_severity_branch_is_tripped``. (That every check id is documented with its
worst severity is tests/test_docs.py::test_every_precheck_id_is_documented.)
"""

from __future__ import annotations

import inspect
import re
from dataclasses import replace

import pytest

from models.prechecks import BLOCK, CHECKS, INFO, WARN, run_prechecks
from sim.prechecks import findings_for
from sim.scenario import load_scenario

CLEAN = "scenarios/quickstart.yaml"
BY_ID = {c.id: c for c in CHECKS}

MANIFESTS = {
    # a current API, and one removed in 1.32 (after the clean target 1.31.2)
    "current.yaml": ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: checkout\n---\n"
                     "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata:\n  name: fs\n"),
}

# reasons shared by several cases
CNI_NOT_OK = "{flavor} {minor} is tested with Kubernetes {lo} to {hi}, not {v}: nodes upgraded to it would go NotReady"
NO_CNI_RANGE = "midair has no support range for this CNI release"
APISERVICE = ("the APIService is not Available: discovery fails, and an upgraded controller-manager degrades "
              "(garbage collection and namespace deletion stall)")
CERT_EXPIRED = "the kubelet's client certificate has expired"
CONTAINERD_LAST = "containerd://1.7.20: 1.35 is the last release that supports containerd 1.x"
LISTENER_UNHEALTHY = "the listener is unhealthy"
PDB_NEVER = ("its budget wants {0} of {0} pods healthy at all times: no eviction can ever succeed, so a drain waits "
             "for its timeout")
PDB_NEVER_NO_DRAIN = ("its budget wants {0} of {0} pods healthy at all times: no eviction can ever succeed; inplace "
                      "does not drain, so it matters only if a node has to be drained or replaced")
INFRA = ("podDisruptionBudgets=[{{name: infra, selector: {{matchExpressions: [{{key: app, operator: In, values: "
         "[worker, node-exporter]}}]}}, {}}}]")
ONE_REPLICA = "one replica: it is out whenever its node is drained or replaced"
LOCAL_VOLUMES = "its local volumes are lost when the node is replaced"
EMPTYDIR = "its emptyDir data is lost when the pod is evicted"
BARE_POD = "a pod without a controller: evicted, it is gone for good"
SUBNET_LOW = "{} free IP(s); each subnet that gets new nodes should keep at least 2"
SHOP = "services=[{name: shop, workload: web, requestsPerSecond: 100, loadBalancer: true}]"
LB_NO_PRESTOP = ("behind a cloud load balancer (Cluster), its pods (default/web) stop answering at SIGTERM while the "
                 "load balancer still sends them requests")


HOST, ZONE = "kubernetes.io/hostname", "topology.kubernetes.io/zone"
API_SIX = "workloads[name=api].replicas=6"
API_APART = ("workloads[name=api].affinity={{podAntiAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: "
             "[{{topologyKey: {}, labelSelector: {{matchLabels: {{app: api}}}}}}]}}}}")
ROLL = ("in pool general, with 1 node(s) drained at once and none surged in, {}: its pods from the drained nodes stay "
        "Pending until they are back or replaced")
WEBHOOK = "webhook/validate.policy.example.com"


def node_set(pool: int, override: str) -> str:
    return f"cluster.nodePools[{pool}].nodes=[{override}]"


# case id, check id, --set overrides, strategy, expected [(severity, subject, reason)] of that check
TRIPS = [
    # -- core
    ("cni-out-of-range", "core.cni-unsupported", ["cluster.addons.cni.version=3.28.0"], None,
     [(BLOCK, "addon/cni calico 3.28.0",
       CNI_NOT_OK.format(flavor="calico", minor="3.28", lo="1.27", hi="1.30", v="1.31"))]),
    ("cni-first-unsupported-hop-only", "core.cni-unsupported", ["cluster.addons.cni.version=3.26.1"], None,
     [(BLOCK, "addon/cni calico 3.26.1",
       CNI_NOT_OK.format(flavor="calico", minor="3.26", lo="1.24", hi="1.28", v="1.30"))]),
    ("cni-unknown-release", "core.cni-unsupported", ["cluster.addons.cni.version=3.24.0"], None,
     [(INFO, "addon/cni calico 3.24.0", NO_CNI_RANGE)]),
    ("cni-unknown-flavor", "core.cni-unsupported", ["cluster.addons.cni={name: flannel, version: 0.25.1}"], None,
     [(INFO, "addon/cni flannel 0.25.1", NO_CNI_RANGE)]),
    ("apiservice", "core.apiservice-unavailable",
     ["cluster.apiServices=[{name: v1beta1.metrics.k8s.io, available: false, service: kube-system/metrics-server}, "
      "{name: v1.custom.example.com, available: true}]"], None,
     [(BLOCK, "apiservice/v1beta1.metrics.k8s.io", APISERVICE)]),
    ("node-not-ready", "core.node-not-ready", [node_set(0, "{name: general-2, ready: false}")], None,
     [(BLOCK, "node/general-2", "the node is NotReady before the upgrade starts")]),
    ("scheduler-unhealthy", "core.control-plane-unhealthy",
     ["cluster.controlPlane.instances=[{name: kube-scheduler-1, healthy: false}]"], None,
     [(BLOCK, "instance/kube-scheduler-1", "the kube-scheduler instance is unhealthy")]),
    ("etcd-member-unhealthy", "core.control-plane-unhealthy",
     ["cluster.controlPlane.instances=[{name: etcd-2, healthy: false}]"], None,
     [(BLOCK, "instance/etcd-2", "the etcd instance is unhealthy")]),
    ("kube-proxy-unhealthy", "core.addon-unhealthy", ["cluster.addons.kubeProxyHealthy=false"], None,
     [(WARN, "addon/kube-proxy", "kube-proxy is unhealthy before the upgrade")]),
    ("coredns-and-cni-unhealthy", "core.addon-unhealthy",
     ["cluster.addons.corednsHealthy=false", "cluster.addons.cni.healthy=false"], None,
     [(WARN, "addon/cni", "cni is unhealthy before the upgrade"),
      (WARN, "addon/coredns", "coredns is unhealthy before the upgrade")]),
    ("etcd-3.5.19-to-1.34", "core.etcd-not-ready-for-3.6",
     ["target=1.34.2", "cluster.controlPlane.etcdVersion=3.5.19"], None,
     [(BLOCK, f"instance/etcd-{i}", "etcd 3.5.19 cannot move to 3.6.4 directly") for i in range(3)]),
    ("etcd-3.5.15-to-1.36-through-1.34", "core.etcd-not-ready-for-3.6",
     ["target=1.36.0", "cluster.controlPlane.etcdVersion=3.5.15"], None,
     [(BLOCK, f"instance/etcd-{i}", "etcd 3.5.15 cannot move to 3.6.4 directly") for i in range(3)]),
    ("etcd-3.5.15-to-1.35", "core.etcd-not-ready-for-3.6",
     ["target=1.35.0", "cluster.controlPlane.etcdVersion=3.5.15"], None,
     [(BLOCK, f"instance/etcd-{i}", "etcd 3.5.15 cannot move to 3.6.4 directly") for i in range(3)]),  # at 1.34
    # -- node
    ("systemd", "node.systemd", [node_set(1, "{name: stateful-1, os: {systemd: false}}")], None,
     [(BLOCK, "node/stateful-1", "systemd is degraded: the kubelet's restart may not come back")]),
    ("ntp", "node.ntp", [node_set(1, "{name: stateful-3, os: {ntpSynced: false}}")], None,
     [(WARN, "node/stateful-3", "the clock is not synchronised: certificates and leases misbehave and the node flaps "
                                "between Ready and NotReady")]),
    *[(f"package-manager-{strategy or 'any'}", "node.package-manager",
       [node_set(1, "{name: stateful-1, os: {packageManager: false}}")], strategy,
       [(BLOCK, "node/stateful-1",
         "the package manager is broken: an in-place upgrade cannot install the new kubelet")])
      for strategy in ("inplace", None)],
    ("kernel-param-wrong", "node.kernel-params",
     [node_set(1, "{name: stateful-2, os: {kernel: {net.ipv4.ip_forward: '0', "
                  "net.bridge.bridge-nf-call-iptables: '2'}}}")], None,
     [(BLOCK, "node/stateful-2", "net.ipv4.ip_forward is 0, not 1: pod networking breaks after a restart"),
      (BLOCK, "node/stateful-2", "net.bridge.bridge-nf-call-iptables is 2, not 1: pod networking breaks after a "
                                 "restart")]),
    ("cgroup-v1-refused-at-1.35", "node.cgroup-v1",
     ["target=1.35.0", node_set(1, "{name: stateful-1, os: {cgroup: v1}}")], None,
     [(BLOCK, "node/stateful-1", "the kubelet refuses cgroup v1 by default from 1.35")]),
    ("cgroup-v1-refused-past-1.35", "node.cgroup-v1", ["target=1.36.0", "cluster.nodePools[0].os.cgroup=v1"], None,
     [(BLOCK, f"node/general-{i}", "the kubelet refuses cgroup v1 by default from 1.35") for i in range(1, 7)]),
    ("cgroup-v1-refused-at-a-1.35-release-candidate", "node.cgroup-v1",
     ["target=1.35.0-rc.1", node_set(1, "{name: stateful-1, os: {cgroup: v1}}")], None,
     [(BLOCK, "node/stateful-1", "the kubelet refuses cgroup v1 by default from 1.35")]),
    ("cgroup-v1-maintenance-at-a-1.31-release-candidate", "node.cgroup-v1",
     ["target=1.31.0-rc.1", "cluster.version=1.30.4", "cluster.nodePools[0].version=1.30.4",
      "cluster.nodePools[1].version=1.30.4", "cluster.addons.kubeProxy=1.30.4",
      node_set(1, "{name: stateful-1, os: {cgroup: v1}}")], None,
     [(WARN, "node/stateful-1", "cgroup v1 is in maintenance mode from 1.31")]),
    ("cgroup-v1-maintenance-at-1.31", "node.cgroup-v1", [node_set(1, "{name: stateful-1, os: {cgroup: v1}}")], None,
     [(WARN, "node/stateful-1", "cgroup v1 is in maintenance mode from 1.31")]),
    ("cgroup-v1-maintenance-at-1.34", "node.cgroup-v1",
     ["target=1.34.2", node_set(1, "{name: stateful-3, os: {cgroup: v1}}")], None,
     [(WARN, "node/stateful-3", "cgroup v1 is in maintenance mode from 1.31")]),
    ("kubelet-not-running", "node.kubelet-not-running", [node_set(1, "{name: stateful-1, kubelet: {running: false}}")],
     None, [(BLOCK, "node/stateful-1", "the kubelet is not running")]),
    ("kubelet-config", "node.kubelet-config", [node_set(1, "{name: stateful-1, kubelet: {configValid: false}}")], None,
     [(BLOCK, "node/stateful-1", "the kubelet's configuration does not validate: the restarted kubelet will not "
                                 "start")]),
    ("kubelet-cert-expired", "node.kubelet-cert",
     [node_set(1, "{name: stateful-1, kubelet: {certExpiryDays: 0}}, "
                  "{name: stateful-2, kubelet: {certExpiryDays: -3}}")], None,
     [(BLOCK, "node/stateful-1", CERT_EXPIRED), (BLOCK, "node/stateful-2", CERT_EXPIRED)]),
    ("kubelet-cert-expiring", "node.kubelet-cert",
     [node_set(1, "{name: stateful-1, kubelet: {certExpiryDays: 12}}, "
                  "{name: stateful-3, kubelet: {certExpiryDays: 29.5}}")], None,
     [(WARN, "node/stateful-1", "the kubelet's client certificate expires in 12 days"),
      (WARN, "node/stateful-3", "the kubelet's client certificate expires in 29.5 days")]),
    ("kubelet-cert-pool-wide", "node.kubelet-cert", ["cluster.nodePools[1].kubelet.certExpiryDays=1"], None,
     [(WARN, f"node/stateful-{i}", "the kubelet's client certificate expires in 1 day") for i in range(1, 4)]),
    ("runtime-not-running", "node.runtime-not-running", [node_set(1, "{name: stateful-3, runtimeRunning: false}")],
     None, [(BLOCK, "node/stateful-3", "the container runtime is not running")]),
    ("dockershim", "node.dockershim", [node_set(1, "{name: stateful-3, runtime: 'docker://24.0.7'}")], None,
     [(BLOCK, "node/stateful-3", "runtime docker://24.0.7: dockershim was removed in 1.24, so its kubelet will not "
                                 "start after an in-place upgrade")]),
    ("dockershim-target-runtime-still-docker", "node.dockershim",
     ["cluster.nodePools[1].runtime=docker://24.0.7", "cluster.nodePools[1].targetRuntime=docker://25.0.3"], None,
     [(BLOCK, f"node/stateful-{i}", "runtime docker://24.0.7: dockershim was removed in 1.24, so its kubelet will "
                                    "not start after an in-place upgrade") for i in range(1, 4)]),
    ("containerd-1x-past-last", "node.containerd-1x",
     ["target=1.36.0", "cluster.nodePools[0].count=1", "cluster.nodePools[1].count=1"], None,
     [(BLOCK, "node/general-1", CONTAINERD_LAST), (BLOCK, "node/stateful-1", CONTAINERD_LAST)]),
    ("containerd-1x-at-last", "node.containerd-1x",
     ["target=1.35.0", "cluster.nodePools[0].count=1", "cluster.nodePools[1].count=1"], None,
     [(WARN, "node/general-1", CONTAINERD_LAST), (WARN, "node/stateful-1", CONTAINERD_LAST)]),
    ("hosts-unobserved", "node.not-observed", ["cluster.unobserved=[host]"], None,
     [(INFO, "cluster", "this view does not show the hosts' configuration (OS services, NTP, kernel parameters, "
       "cgroups, kubelet and runtime health), so these checks did not run: node.systemd, node.ntp, "
       "node.package-manager, node.kernel-params, node.cgroup-v1, node.kubelet-not-running, node.kubelet-config, "
       "node.kubelet-cert, node.runtime-not-running")]),
    # -- cloud
    ("lb-unhealthy", "cloud.lb-unhealthy", ["cluster.cloud.loadBalancer={healthy: false}"], None,
     [(BLOCK, "loadbalancer/apiserver", "the API load balancer is unhealthy")]),
    ("listener-unhealthy", "cloud.lb-listener",
     ["cluster.cloud.loadBalancer={listeners: [{port: 6443, healthy: false}]}"], None,
     [(BLOCK, "loadbalancer/listener:6443", LISTENER_UNHEALTHY)]),
    ("listener-unhealthy-wins-over-misrouted", "cloud.lb-listener",
     ["cluster.cloud.loadBalancer={listeners: [{port: 443, backendPort: 8443, healthy: false}, {port: 6443}]}"], None,
     [(BLOCK, "loadbalancer/listener:443", LISTENER_UNHEALTHY)]),
    ("listener-misrouted", "cloud.lb-listener",
     ["cluster.cloud.loadBalancer={listeners: [{port: 6443, backendPort: 8443}]}"], None,
     [(BLOCK, "loadbalancer/listener:6443", "the listener forwards to port 8443, not the apiserver's 6443: upgraded "
                                            "apiservers re-register there and become unreachable")]),
    ("lb-acl", "cloud.lb-acl", ["cluster.cloud.loadBalancer={aclAllowsNodes: false}"], None,
     [(BLOCK, "loadbalancer/acl", "the listener ACL does not let the nodes reach the apiservers")]),
    ("vpc", "cloud.vpc-unhealthy", ["cluster.cloud.vpc={healthy: false}"], None,
     [(BLOCK, "vpc", "the VPC is unhealthy")]),
    *[(f"subnet-unhealthy-{strategy or 'any'}", "cloud.subnet-unhealthy",
       ["cluster.cloud.subnets=[{zone: c, freeIPs: 20, healthy: false}]"], strategy,
       [(BLOCK, "subnet/subnet-c", "the subnet is unhealthy")]) for strategy in ("replace", None)],
    ("subnet-unhealthy-no-new-nodes", "cloud.subnet-unhealthy",
     ["cluster.cloud.subnets=[{zone: c, freeIPs: 20, healthy: false}]"], "inplace",
     [(WARN, "subnet/subnet-c", "the subnet is unhealthy")]),
    ("subnets-full", "cloud.subnet-free-ips", ["cluster.cloud.subnetFreeIPs=0"], "replace",
     [(BLOCK, f"pool/{p}", "replace creates up to 1 node(s) at once in this pool; its subnets have 0 free IP(s)")
      for p in ("general", "stateful")]),
    ("subnets-full-any-strategy", "cloud.subnet-free-ips",
     ["cluster.cloud.subnetFreeIPs=0", "cluster.nodePools[1].zones=[d]"], None,
     [(BLOCK, "pool/general", "any creates up to 1 node(s) at once in this pool; its subnets have 0 free IP(s)"),
      (BLOCK, "pool/stateful", "any creates up to 1 node(s) at once in this pool; its subnets have 0 free IP(s)")]),
    ("subnets-short-of-the-surge", "cloud.subnet-free-ips",
     ["cluster.cloud.subnets=[{zone: a, freeIPs: 0}, {zone: b, freeIPs: 0}, {zone: c, freeIPs: 1}]",
      "strategies[1].maxSurge=2"], "replace",
     [(BLOCK, f"pool/{p}", "replace creates up to 2 node(s) at once in this pool; its subnets have 1 free IP(s)")
      for p in ("general", "stateful")]),
    ("subnet-low-shared-by-two-pools", "cloud.subnet-free-ips",
     ["cluster.cloud.subnets=[{zone: a, freeIPs: 1}, {zone: b, freeIPs: 20}, {zone: c, freeIPs: 20}]"], "replace",
     [(WARN, "subnet/subnet-a", SUBNET_LOW.format(1))]),  # once, not once per pool
    ("subnet-low", "cloud.subnet-free-ips",
     ["cluster.nodePools[1].zones=[b, c]",
      "cluster.cloud.subnets=[{zone: a, freeIPs: 1}, {zone: b, freeIPs: 20}, {zone: c, freeIPs: 20}]"], "replace",
     [(WARN, "subnet/subnet-a", SUBNET_LOW.format(1))]),
    ("subnet-empty-but-others-suffice", "cloud.subnet-free-ips",
     ["cluster.nodePools[1].zones=[c]",
      "cluster.cloud.subnets=[{zone: a, freeIPs: 0}, {zone: b, freeIPs: 20}, {zone: c, freeIPs: 20}]"], "replace",
     [(WARN, "subnet/subnet-a", SUBNET_LOW.format(0))]),
    ("subnets-full-no-new-nodes", "cloud.subnet-free-ips",
     ["cluster.cloud.subnets=[{zone: a, freeIPs: 0}, {zone: b, freeIPs: 20}, {zone: c, freeIPs: 20}]"], "inplace",
     [(INFO, "subnets", "inplace creates no node, so full subnets do not matter (unless a node has to be "
                        "replaced)")]),
    *[(f"instance-quota-{strategy or 'any'}", "cloud.instance-quota", ["cluster.cloud.instanceQuota=9"], strategy,
       [(BLOCK, "quota/instances", f"9 of 9 instances are in use; {strategy or 'any'} needs 1 more at once")])
      for strategy in ("replace", None)],
    ("instance-quota-surge", "cloud.instance-quota", ["cluster.cloud.instanceQuota=11", "strategies[1].maxSurge=3"],
     "replace", [(BLOCK, "quota/instances", "9 of 11 instances are in use; replace needs 3 more at once")]),
    ("instances-unhealthy", "cloud.instances-unhealthy", ["cluster.cloud.instances={healthy: false}"], None,
     [(BLOCK, "instances", "the cloud reports unhealthy instances (failed status checks)")]),
    ("cloud-unobserved", "cloud.not-observed", ["cluster.unobserved=[cloud]"], "replace",
     [(INFO, "cluster", "this view does not show the cloud resources (API load balancer, VPC and subnets, instance "
       "health and quota), so these checks did not run: cloud.lb-unhealthy, cloud.lb-listener, cloud.lb-acl, "
       "cloud.vpc-unhealthy, cloud.subnet-unhealthy, cloud.subnet-free-ips, cloud.instance-quota, "
       "cloud.instances-unhealthy")]),
    # -- skew
    ("kubelet-newer-than-apiserver", "skew.now", [node_set(0, "{name: general-1, version: 1.30.1}")], None,
     [(BLOCK, "kubelet/general-1", "kubelet 1.30.1 (general-1) is newer than the oldest kube-apiserver (1.29.8); it "
                                   "must not be newer (kubelet-newer-than-apiserver)")]),
    ("controller-manager-newer-than-apiserver", "skew.now",
     ["cluster.controlPlane.instances=[{name: kube-controller-manager-0, version: 1.30.0}]"], None,
     [(BLOCK, "kube-controller-manager/kube-controller-manager-0",
       "kube-controller-manager 1.30.0 (kube-controller-manager-0) is newer than the oldest kube-apiserver (1.29.8); "
       "it must not be newer (controller-manager-newer-than-apiserver)")]),
    ("kubelet-too-old", "skew.now", ["cluster.nodePools[0].version=1.25.9"], None,
     [(WARN, "kube-proxy/general-1 and 5 more", "kube-proxy 1.29.8 (general-1 and 5 more) is 4 minor versions newer "
       "than the kubelet on its node (1.25.9); at most 3 allowed (kube-proxy-kubelet-skew)"),
      (WARN, "kubelet/general-1 and 5 more", "kubelet 1.25.9 (general-1 and 5 more) is 4 minor versions older than "
       "the newest kube-apiserver (1.29.8); at most 3 allowed (kubelet-too-old)")]),
    ("no-skew-safe-path", "skew.path", ["cluster.nodePools[1].version=1.30.2"], None,
     [(BLOCK, "target/1.31.2", "kubelet 1.30.2 is newer than the control plane 1.29.8; a kubelet must never be newer "
                               "than the apiserver")]),
    # -- apis
    ("removed-before-target", "apis.removed", ["manifests=[manifests/gallery/rendered.yaml]"], None,
     [(BLOCK, "scenarios/manifests/gallery/rendered.yaml:3", "Ingress shop uses extensions/v1beta1, removed in 1.22"),
      (BLOCK, "scenarios/manifests/gallery/rendered.yaml:13",
       "PodDisruptionBudget checkout uses policy/v1beta1, removed in 1.25"),
      (BLOCK, "scenarios/manifests/gallery/rendered.yaml:29",
       "CronJob nightly-report uses batch/v1beta1, removed in 1.25")]),
    ("removed-at-target", "apis.removed", ["manifests=[{tmp}/current.yaml]", "target=1.32.4"], None,
     [(BLOCK, "{tmp}/current.yaml:6", "FlowSchema fs uses flowcontrol.apiserver.k8s.io/v1beta3, removed in 1.32")]),
    ("deprecated-at-target", "apis.deprecated", ["manifests=[{tmp}/current.yaml]"], None,
     [(WARN, "{tmp}/current.yaml:6", "FlowSchema fs uses flowcontrol.apiserver.k8s.io/v1beta3, deprecated since "
                                     "1.29 and removed in 1.32")]),
    ("unreadable", "apis.unreadable", ["manifests=[manifests/gallery/broken.yaml]"], None,
     [(WARN, "scenarios/manifests/gallery/broken.yaml:7",
       "not valid YAML: expected ',' or ']', but got '<stream end>'")]),
    # -- disruption
    ("pdb-max-unavailable-0", "disruption.pdb-never-allows", ["workloads[name=api].pdb.maxUnavailable=0"], "replace",
     [(BLOCK, "workload/default/api", PDB_NEVER.format(4))]),
    ("pdb-max-unavailable-0%", "disruption.pdb-never-allows", ["workloads[name=api].pdb.maxUnavailable=0%"], None,
     [(BLOCK, "workload/default/api", PDB_NEVER.format(4))]),
    ("pdb-min-available-all", "disruption.pdb-never-allows", ["workloads[name=web].pdb.minAvailable=6"], "replace",
     [(BLOCK, "workload/default/web", PDB_NEVER.format(6))]),
    ("pdb-min-available-past-replicas", "disruption.pdb-never-allows", ["workloads[name=web].pdb.minAvailable=8"],
     "replace", [(BLOCK, "workload/default/web", "its budget wants 8 pods healthy at all times, more than the 6 it "
                 "selects: no eviction can ever succeed, so a drain waits for its timeout")]),
    ("pdb-min-available-100%", "disruption.pdb-never-allows", ["workloads[name=web].pdb.minAvailable=100%"], "replace",
     [(BLOCK, "workload/default/web", PDB_NEVER.format(6))]),
    ("pdb-min-available-inplace-drain-first", "disruption.pdb-never-allows",
     ["workloads[name=web].pdb.minAvailable=6", "strategies[0].drainFirst=true"], "inplace",
     [(BLOCK, "workload/default/web", PDB_NEVER.format(6))]),
    ("pdb-no-drain-min-available", "disruption.pdb-never-allows", ["workloads[name=web].pdb.minAvailable=6"], "inplace",
     [(INFO, "workload/default/web", PDB_NEVER_NO_DRAIN.format(6))]),
    ("pdb-no-drain-max-unavailable", "disruption.pdb-never-allows", ["workloads[name=api].pdb.maxUnavailable=0"],
     "inplace", [(INFO, "workload/default/api", PDB_NEVER_NO_DRAIN.format(4))]),
    # the disruption controller's count (models.disruption): a DaemonSet has no scale, bare pods no controller
    ("pdb-over-a-daemonset", "disruption.pdb-never-allows", [INFRA.format("maxUnavailable: 1")], "replace",
     [(BLOCK, "workload/default/worker", "its budget (maxUnavailable 1) selects the pods of DaemonSet "
       "default/node-exporter and daemonsets.apps does not implement the scale subresource: the disruption "
       "controller cannot count the pods it expects and keeps disruptionsAllowed at 0: no eviction can ever "
       "succeed, so a drain waits for its timeout")]),
    ("pdb-over-bare-pods", "disruption.pdb-never-allows",
     ["workloads[name=worker].kind=Pod", "workloads[name=worker].pdb={minAvailable: 50%}"], "replace",
     [(BLOCK, "workload/default/worker", "its budget (minAvailable 50%) expects the pods of its pods' controllers, "
       "and bare pods have none: it expects 0 pods and keeps disruptionsAllowed at 0: no eviction can ever "
       "succeed, so a drain waits for its timeout")]),
    ("single-replica-replace", "disruption.single-replica", ["workloads[name=worker].replicas=1"], "replace",
     [(WARN, "workload/default/db", ONE_REPLICA), (WARN, "workload/default/worker", ONE_REPLICA)]),
    ("single-replica-any", "disruption.single-replica", [], None, [(WARN, "workload/default/db", ONE_REPLICA)]),
    ("single-replica-no-drain", "disruption.single-replica", ["workloads[name=worker].replicas=1"], "inplace",
     [(INFO, "workload/default/db", ONE_REPLICA), (INFO, "workload/default/worker", ONE_REPLICA)]),
    ("local-storage-replace", "disruption.local-storage", ["workloads[name=web].localStorage=true"], "replace",
     [(WARN, "workload/default/cache", LOCAL_VOLUMES), (WARN, "workload/default/web", EMPTYDIR)]),
    ("local-storage-inplace-drain-first", "disruption.local-storage",
     ["workloads[name=web].localStorage=true", "strategies[0].drainFirst=true"], "inplace",
     [(WARN, "workload/default/cache", LOCAL_VOLUMES), (WARN, "workload/default/web", EMPTYDIR)]),
    ("local-storage-inplace-replacing-failures", "disruption.local-storage",
     ["workloads[name=cache].localStorage=false", "workloads[name=db].storage=null", "workloads[name=db].localStorage=true",
      "strategies[0].onInplaceFailure=replace"], "inplace",
     [(WARN, "workload/default/db", LOCAL_VOLUMES)]),
    ("bare-pod-replace", "disruption.bare-pod", ["workloads[name=worker].kind=Pod"], "replace",
     [(WARN, "workload/default/worker", BARE_POD)]),
    ("bare-pod-inplace-replacing-failures", "disruption.bare-pod",
     ["workloads[name=worker].kind=Pod", "strategies[0].onInplaceFailure=replace"], "inplace",
     [(WARN, "workload/default/worker", BARE_POD)]),
    ("lb-no-prestop-replace", "disruption.lb-no-prestop", [SHOP], "replace",
     [(WARN, "service/default/shop", LB_NO_PRESTOP)]),
    ("lb-no-prestop-in-place", "disruption.lb-no-prestop", [SHOP], "inplace",
     [(INFO, "service/default/shop", LB_NO_PRESTOP + "; inplace moves no pod, so it matters only if one is drained")]),
    # -- capacity
    ("spare-short", "capacity.spare", ["cluster.nodePools[0].cpu=2", "strategies[0].drainFirst=true"], "inplace",
     [(WARN, "pool/general", "with 1 node(s) drained the other 5 offer 10000m CPU for 13200m of requests: pods will "
                             "wait (Pending)")]),
    ("spare-short-replace-without-surge", "capacity.spare",
     ["cluster.nodePools[0].cpu=2", "strategies[1].maxSurge=0", "strategies[1].maxUnavailable=2"], "replace",
     [(WARN, "pool/general", "with 2 node(s) drained the other 4 offer 8000m CPU for 13200m of requests: pods will "
                             "wait (Pending)")]),
    ("spare-memory-and-pod-slots", "capacity.spare",
     ["strategies[0].drainFirst=true", "strategies[0].maxUnavailable=2", "cluster.nodePools[0].memory=4Gi",
      "cluster.nodePools[0].maxPods=4"], "inplace",
     [(WARN, "pool/general", "with 2 node(s) drained the other 4 offer 16Gi memory for 19712Mi of requests; 12 pod "
                             "slots (after DaemonSet pods) for 15 pods: pods will wait (Pending)")]),
    # -- scheduling constraints
    ("anti-affinity-by-hostname", "scheduling.roll-breaks-anti-affinity", [API_SIX, API_APART.format(HOST)], None,
     [(WARN, "workload/default/api", ROLL.format("its 6 replicas need 6 nodes apart (required anti-affinity by hostname) "
                                                 "and the batch leaves 5"))]),
    ("anti-affinity-and-spread-by-zone", "scheduling.roll-breaks-anti-affinity",
     ["cluster.nodePools[0].count=3", "workloads[name=web].replicas=3", "workloads[name=web].pdb={minAvailable: 2}",
      "workloads[name=api].replicas=3", API_APART.format(ZONE)], None,
     [(WARN, "workload/default/api", ROLL.format("its 3 replicas need 3 zones apart (required anti-affinity by zone) and "
                                                 "the batch can take every node of a zone, leaving 2")),
      (WARN, "workload/default/web", ROLL.format("its spread over topology.kubernetes.io/zone (maxSkew 1, DoNotSchedule) "
                                                 "counts the drained zone as a domain with 0 pods while every other "
                                                 "holds 1 or more"))]),
    # -- admission webhooks
    ("webhook-one-replica", "admission.webhook-single-replica", ["workloads[name=policy-controller].replicas=1"],
     "replace", [(WARN, WEBHOOK, "failurePolicy Fail, served by the single pod of policy/policy-controller: while that "
                                 "pod moves or restarts, creating pods fails")]),
    ("webhook-one-replica-deadlock", "admission.webhook-single-replica",
     ["workloads[name=policy-controller].replicas=1", "webhooks[0].namespaceSelector=null"], "replace",
     [(BLOCK, WEBHOOK, "failurePolicy Fail, served by the single pod of policy/policy-controller, and it matches that "
                       "pod's own creation: once a drain evicts it, nothing can create it again and creating pods fails "
                       "for good (a deadlock)")]),
    ("webhook-no-budget", "admission.webhook-no-budget", ["workloads[name=policy-controller].pdb=null"], "replace",
     [(WARN, WEBHOOK, "failurePolicy Fail, served by policy/policy-controller, which has no PodDisruptionBudget: a "
                      "drain may evict every one of its pods at once, and then creating pods fails")]),
    ("webhook-on-drained-nodes", "admission.webhook-on-drained-nodes", [], "replace",
     [(WARN, WEBHOOK, "failurePolicy Fail, served by policy/policy-controller on pool(s) general, which the roll drains: "
                      "each drain of one of its nodes takes a pod away, and creating pods waits for the replacement to "
                      "be Ready")]),
    ("webhook-no-drain", "admission.webhook-on-drained-nodes", [], "inplace",
     [(INFO, WEBHOOK, "failurePolicy Fail, served by policy/policy-controller: inplace drains nothing, but a node it "
                      "restarts takes the webhook's pod away for a while")]),
    ("webhook-kube-system", "admission.webhook-kube-system", ["webhooks[0].namespaceSelector=null"], None,
     [(WARN, WEBHOOK, "it matches pods in kube-system and fails closed: while it cannot answer, the cluster cannot "
                      "recreate its own system pods (or keep its nodes Ready)")]),
    ("webhook-kube-system-fails-open", "admission.webhook-kube-system",
     ["webhooks[0].namespaceSelector=null", "webhooks[0].failurePolicy=Ignore"], None,
     [(INFO, WEBHOOK, "it matches pods in kube-system; it fails open, so while it cannot answer those requests wait up "
                      "to its 10s timeout")]),
]

# case id, check id, --set overrides, strategy: a near miss on which the check finds nothing
PASSES = [
    ("cni-in-range", "core.cni-unsupported", ["cluster.addons.cni.version=3.28.0", "target=1.30.4"], None),
    ("cni-clean", "core.cni-unsupported", [], None),
    ("apiservice-available", "core.apiservice-unavailable",
     ["cluster.apiServices=[{name: v1beta1.metrics.k8s.io, available: true}]"], None),
    ("node-ready", "core.node-not-ready", [node_set(0, "{name: general-2, ready: true}")], None),
    ("instance-healthy", "core.control-plane-unhealthy",
     ["cluster.controlPlane.instances=[{name: kube-scheduler-1, healthy: true}]"], None),
    ("addons-healthy", "core.addon-unhealthy",
     ["cluster.addons.kubeProxyHealthy=true", "cluster.addons.corednsHealthy=true", "cluster.addons.cni.healthy=true"],
     None),
    ("etcd-3.5.20-to-1.35", "core.etcd-not-ready-for-3.6", ["target=1.35.0", "cluster.controlPlane.etcdVersion=3.5.20"],
     None),
    ("etcd-old-but-target-on-3.5", "core.etcd-not-ready-for-3.6",
     ["target=1.33.1", "cluster.controlPlane.etcdVersion=3.5.15"], None),
    ("systemd-healthy", "node.systemd", [node_set(1, "{name: stateful-1, os: {systemd: true}}")], None),
    ("ntp-synced", "node.ntp", [node_set(1, "{name: stateful-3, os: {ntpSynced: true}}")], None),
    ("package-manager-broken-but-replaced", "node.package-manager",
     [node_set(1, "{name: stateful-1, os: {packageManager: false}}")], "replace"),
    ("kernel-params-set", "node.kernel-params",
     [node_set(1, "{name: stateful-2, os: {kernel: {net.ipv4.ip_forward: '1', net.bridge.bridge-nf-call-iptables: '1', "
                  "vm.swappiness: '0'}}}")], None),
    ("cgroup-v1-before-1.31", "node.cgroup-v1", ["target=1.30.4", node_set(1, "{name: stateful-1, os: {cgroup: v1}}")],
     None),
    ("cgroup-v2-at-1.35", "node.cgroup-v1", ["target=1.35.0", "cluster.nodePools[1].os.cgroup=v2"], None),
    ("kubelet-running", "node.kubelet-not-running", [node_set(1, "{name: stateful-1, kubelet: {running: true}}")],
     None),
    ("kubelet-config-valid", "node.kubelet-config", [node_set(1, "{name: stateful-1, kubelet: {configValid: true}}")],
     None),
    ("kubelet-cert-30-days", "node.kubelet-cert", [node_set(1, "{name: stateful-1, kubelet: {certExpiryDays: 30}}")],
     None),
    ("runtime-running", "node.runtime-not-running", [node_set(1, "{name: stateful-3, runtimeRunning: true}")], None),
    ("docker-moving-to-containerd", "node.dockershim",
     [node_set(1, "{name: stateful-3, runtime: 'docker://24.0.7'}"),
      "cluster.nodePools[1].targetRuntime=containerd://1.7.20"],
     None),
    ("docker-before-1.24", "node.dockershim",
     ["cluster.version=1.23.17", "cluster.addons.kubeProxy=1.23.17", "target=1.23.17",
      "cluster.addons.cni.version=3.25.2", "cluster.nodePools[1].runtime=docker://20.10.24"], None),
    ("containerd-1x-before-1.35", "node.containerd-1x", ["target=1.34.2"], None),
    ("containerd-1x-moving-to-2", "node.containerd-1x",
     ["target=1.36.0", "cluster.nodePools[0].targetRuntime=containerd://2.0.5",
      "cluster.nodePools[1].targetRuntime=containerd://2.0.5"], None),
    ("containerd-2-past-1.35", "node.containerd-1x",
     ["target=1.36.0", "cluster.nodePools[0].runtime=containerd://2.0.5",
      "cluster.nodePools[1].runtime=containerd://2.1.1"],
     None),
    ("hosts-observed", "node.not-observed", ["cluster.unobserved=[cloud]"], None),
    ("lb-healthy", "cloud.lb-unhealthy", ["cluster.cloud.loadBalancer={healthy: true}"], None),
    ("listener-healthy-to-6443", "cloud.lb-listener",
     ["cluster.cloud.loadBalancer={listeners: [{port: 443, backendPort: 6443, healthy: true}]}"], None),
    ("acl-allows", "cloud.lb-acl", ["cluster.cloud.loadBalancer={aclAllowsNodes: true}"], None),
    ("vpc-healthy", "cloud.vpc-unhealthy", ["cluster.cloud.vpc={healthy: true}"], None),
    ("subnet-healthy", "cloud.subnet-unhealthy", ["cluster.cloud.subnets=[{zone: c, freeIPs: 20, healthy: true}]"],
     "replace"),
    ("subnets-keep-2", "cloud.subnet-free-ips", ["cluster.cloud.subnetFreeIPs=2"], "replace"),
    ("subnets-low-no-new-nodes", "cloud.subnet-free-ips", ["cluster.cloud.subnetFreeIPs=1"], "inplace"),
    ("quota-room-for-one", "cloud.instance-quota", ["cluster.cloud.instanceQuota=10"], "replace"),
    ("quota-full-no-new-nodes", "cloud.instance-quota", ["cluster.cloud.instanceQuota=9"], "inplace"),
    ("instances-healthy", "cloud.instances-unhealthy", ["cluster.cloud.instances={healthy: true}"], None),
    ("cloud-observed", "cloud.not-observed", ["cluster.unobserved=[host]"], "replace"),
    ("kubelets-3-minors-old", "skew.now",
     ["cluster.nodePools[0].version=1.26.15", "cluster.nodePools[1].version=1.26.15"], None),
    ("path-exists", "skew.path", ["cluster.nodePools[1].version=1.29.8"], None),
    ("api-removed-after-target", "apis.removed", ["manifests=[{tmp}/current.yaml]"], None),
    ("api-already-removed-not-deprecated", "apis.deprecated", ["manifests=[{tmp}/current.yaml]", "target=1.32.4"],
     None),
    ("manifest-readable", "apis.unreadable", ["manifests=[{tmp}/current.yaml]"], None),
    ("pdb-allows-one", "disruption.pdb-never-allows", ["workloads[name=web].pdb.minAvailable=5"], "replace"),
    ("pdb-over-no-pods", "disruption.pdb-never-allows",
     ["workloads[name=web].replicas=0", "workloads[name=web].pdb={minAvailable: 0}"], "replace"),
    ("pdb-percent-rounds-up", "disruption.pdb-never-allows", ["workloads[name=api].pdb.maxUnavailable=10%"], "replace"),
    ("pdb-integer-over-a-daemonset", "disruption.pdb-never-allows", [INFRA.format("minAvailable: 2")], "replace"),
    ("pdb-integer-over-bare-pods", "disruption.pdb-never-allows",
     ["workloads[name=worker].kind=Pod", "workloads[name=worker].pdb={minAvailable: 2}"], "replace"),
    ("two-replicas", "disruption.single-replica", ["workloads[name=db].replicas=2"], "replace"),
    ("single-bare-pod-is-not-a-replica", "disruption.single-replica",
     ["workloads[name=db].replicas=2", "workloads[name=worker].kind=Pod", "workloads[name=worker].replicas=1"],
     "replace"),
    ("local-storage-in-place", "disruption.local-storage", ["workloads[name=web].localStorage=true"], "inplace"),
    ("no-local-storage", "disruption.local-storage",
     ["workloads[name=cache].localStorage=false", "workloads[name=db].localStorage=false"], "replace"),
    ("bare-pod-in-place", "disruption.bare-pod", ["workloads[name=worker].kind=Pod"], "inplace"),
    ("lb-with-prestop", "disruption.lb-no-prestop", [SHOP, "workloads[name=web].preStopSeconds=15"], "replace"),
    ("no-load-balancer", "disruption.lb-no-prestop",
     ["services=[{name: shop, workload: web, requestsPerSecond: 100}]"], "replace"),
    ("spare-enough", "capacity.spare", ["cluster.nodePools[0].cpu=3", "strategies[0].drainFirst=true"], "inplace"),
    ("spare-covered-by-surge", "capacity.spare", ["cluster.nodePools[0].cpu=2"], "replace"),
    ("spare-nothing-drained", "capacity.spare", ["cluster.nodePools[0].cpu=2"], "inplace"),
    ("anti-affinity-behind-surge", "scheduling.roll-breaks-anti-affinity", [API_SIX, API_APART.format(HOST)], "replace"),
    ("anti-affinity-in-place", "scheduling.roll-breaks-anti-affinity", [API_SIX, API_APART.format(HOST)], "inplace"),
    ("webhook-two-replicas", "admission.webhook-single-replica", [], "replace"),
    ("webhook-with-budget", "admission.webhook-no-budget", [], "replace"),
    ("webhook-fails-open", "admission.webhook-on-drained-nodes", ["webhooks[0].failurePolicy=Ignore"], "replace"),
    ("webhook-spares-kube-system", "admission.webhook-kube-system", [], None),
]


def _sub(text: str, tmp) -> str:
    return text.replace("{tmp}", str(tmp))


def check_findings(check_id, sets, strategy, tmp):
    for name, text in MANIFESTS.items():
        (tmp / name).write_text(text)
    scenario = load_scenario(CLEAN, [_sub(s, tmp) for s in sets])
    spec = scenario.strategy(strategy) if strategy else None
    return [f for f in findings_for(scenario, spec) if f.id == check_id]


@pytest.mark.parametrize("check_id, sets, strategy, expected", [c[1:] for c in TRIPS],
                         ids=[f"{c[1]}:{c[0]}" for c in TRIPS])
def test_check_trips_exactly(check_id, sets, strategy, expected, tmp_path):
    found = check_findings(check_id, sets, strategy, tmp_path)
    got = [(f.id, f.family, f.severity, f.subject, f.reason) for f in found]
    family = BY_ID[check_id].family
    assert got == [(check_id, family, sev, _sub(subject, tmp_path), reason) for sev, subject, reason in expected]


@pytest.mark.parametrize("check_id, sets, strategy", [c[1:] for c in PASSES], ids=[f"{c[1]}:{c[0]}" for c in PASSES])
def test_check_passes(check_id, sets, strategy, tmp_path):
    assert check_findings(check_id, sets, strategy, tmp_path) == []


def test_kernel_param_unset_is_named():
    # a scenario's os.kernel is merged over the defaults, so only a state built directly can lack one
    scenario = load_scenario(CLEAN)
    state = scenario.cluster
    nodes = tuple(replace(n, config=replace(n.config, kernel_params=(("net.ipv4.ip_forward", "1"),)))
                  if n.name == "general-4" else n for n in state.nodes)
    found = [(f.severity, f.subject, f.reason) for f in run_prechecks(replace(state, nodes=nodes), scenario.target)
             if f.id == "node.kernel-params"]
    assert found == [(BLOCK, "node/general-4", "net.bridge.bridge-nf-call-iptables is unset, not 1: pod networking "
                                               "breaks after a restart")]


def branches(check) -> set[str]:
    """The severities a check's body can yield (the decorator's worst severity left out)."""
    lines = inspect.getsource(check.fn).splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("def "))
    return set(re.findall(r"\b(BLOCK|WARN|INFO)\b", "\n".join(lines[start:])))


def test_every_check_has_a_trip_and_a_pass():
    ids = [c.id for c in CHECKS]
    assert sorted({c[1] for c in TRIPS}) == sorted(ids)
    assert sorted({c[1] for c in PASSES}) == sorted(ids)
    assert len({c[0] for c in TRIPS}) == len(TRIPS) and len({c[0] for c in PASSES}) == len(PASSES)


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_every_severity_branch_is_tripped(check):
    tripped = {sev for c in TRIPS if c[1] == check.id for sev, _, _ in c[4]}
    assert tripped == branches(check)


@pytest.mark.parametrize("check", CHECKS, ids=[c.id for c in CHECKS])
def test_declared_severity_is_the_worst_branch(check):
    order = (BLOCK, WARN, INFO)
    assert check.severity == min(branches(check), key=order.index)
