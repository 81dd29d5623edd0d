"""Each pre-check, tripped by one change to a clean scenario (exact id, severity and subject),
and passed by the clean scenario itself; the gallery trips them all at once."""

import json

import pytest

from models.prechecks import CHECK_IDS
from sim.cli import main
from sim.prechecks import findings_for
from sim.scenario import load_scenario

CLEAN = "scenarios/quickstart.yaml"

CASES = [
    # id, --set overrides, strategy (None: any), expected (severity, subject) findings of that id
    ("core.cni-unsupported", ["cluster.addons.cni.version=3.26.1"], None, [("BLOCK", "addon/cni calico 3.26.1")]),
    ("core.apiservice-unavailable", ["cluster.apiServices=[{name: v1beta1.metrics.k8s.io, available: false}]"], None,
     [("BLOCK", "apiservice/v1beta1.metrics.k8s.io")]),
    ("core.node-not-ready", ["cluster.nodePools[0].nodes=[{name: general-2, ready: false}]"], None,
     [("BLOCK", "node/general-2")]),
    ("core.control-plane-unhealthy", ["cluster.controlPlane.instances=[{name: kube-scheduler-1, healthy: false}]"], None,
     [("BLOCK", "instance/kube-scheduler-1")]),
    ("core.addon-unhealthy", ["cluster.addons.kubeProxyHealthy=false"], None, [("WARN", "addon/kube-proxy")]),
    ("core.etcd-not-ready-for-3.6", ["target=1.35.0", "cluster.addons.cni.version=3.31.0",
                                     "cluster.controlPlane.etcdVersion=3.5.15"], None,
     [("BLOCK", "instance/etcd-0"), ("BLOCK", "instance/etcd-1"), ("BLOCK", "instance/etcd-2")]),
    ("node.systemd", ["cluster.nodePools[1].nodes=[{name: stateful-1, os: {systemd: false}}]"], None,
     [("BLOCK", "node/stateful-1")]),
    ("node.ntp", ["cluster.nodePools[1].nodes=[{name: stateful-3, os: {ntpSynced: false}}]"], None,
     [("WARN", "node/stateful-3")]),
    ("node.package-manager", ["cluster.nodePools[1].nodes=[{name: stateful-1, os: {packageManager: false}}]"], "inplace",
     [("BLOCK", "node/stateful-1")]),
    ("node.kernel-params", ["cluster.nodePools[1].nodes=[{name: stateful-2, os: {kernel: {net.bridge.bridge-nf-call-iptables: '0'}}}]"],
     None, [("BLOCK", "node/stateful-2")]),
    ("node.cgroup-v1", ["cluster.nodePools[1].nodes=[{name: stateful-1, os: {cgroup: v1}}]"], None,
     [("WARN", "node/stateful-1")]),
    ("node.kubelet-not-running", ["cluster.nodePools[1].nodes=[{name: stateful-1, kubelet: {running: false}}]"], None,
     [("BLOCK", "node/stateful-1")]),
    ("node.kubelet-config", ["cluster.nodePools[1].nodes=[{name: stateful-1, kubelet: {configValid: false}}]"], None,
     [("BLOCK", "node/stateful-1")]),
    ("node.kubelet-cert", ["cluster.nodePools[1].nodes=[{name: stateful-1, kubelet: {certExpiryDays: 12}}]"], None,
     [("WARN", "node/stateful-1")]),
    ("node.runtime-not-running", ["cluster.nodePools[1].nodes=[{name: stateful-3, runtimeRunning: false}]"], None,
     [("BLOCK", "node/stateful-3")]),
    ("node.dockershim", ["cluster.nodePools[1].nodes=[{name: stateful-3, runtime: 'docker://24.0.7'}]"], None,
     [("BLOCK", "node/stateful-3")]),
    ("node.containerd-1x", ["target=1.35.0", "cluster.addons.cni.version=3.31.0", "cluster.nodePools[0].count=1",
                            "cluster.nodePools[1].count=1", "cluster.controlPlane.etcdVersion=3.5.21"], None,
     [("WARN", "node/general-1"), ("WARN", "node/stateful-1")]),
    ("cloud.lb-unhealthy", ["cluster.cloud.loadBalancer={healthy: false}"], None, [("BLOCK", "loadbalancer/apiserver")]),
    ("cloud.lb-listener", ["cluster.cloud.loadBalancer={listeners: [{port: 6443, backendPort: 8443}]}"], None,
     [("BLOCK", "loadbalancer/listener:6443")]),
    ("cloud.lb-acl", ["cluster.cloud.loadBalancer={aclAllowsNodes: false}"], None, [("BLOCK", "loadbalancer/acl")]),
    ("cloud.vpc-unhealthy", ["cluster.cloud.vpc={healthy: false}"], None, [("BLOCK", "vpc")]),
    ("cloud.subnet-unhealthy", ["cluster.cloud.subnets=[{zone: c, freeIPs: 20, healthy: false}]"], "replace",
     [("BLOCK", "subnet/subnet-c")]),
    ("cloud.subnet-free-ips", ["cluster.cloud.subnetFreeIPs=0"], "replace",
     [("BLOCK", "pool/general"), ("BLOCK", "pool/stateful")]),
    ("cloud.instance-quota", ["cluster.cloud.instanceQuota=9"], "replace", [("BLOCK", "quota/instances")]),
    ("cloud.instances-unhealthy", ["cluster.cloud.instances={healthy: false}"], None, [("BLOCK", "instances")]),
    ("skew.now", ["cluster.nodePools[0].version=1.25.9"], None,
     [("WARN", "kube-proxy/general-1 and 5 more"), ("WARN", "kubelet/general-1 and 5 more")]),
    ("skew.path", ["cluster.nodePools[1].version=1.30.2"], None, [("BLOCK", "target/1.31.2")]),
    ("apis.removed", ["manifests=[manifests/gallery/rendered.yaml]"], None,
     [("BLOCK", "scenarios/manifests/gallery/rendered.yaml:3"), ("BLOCK", "scenarios/manifests/gallery/rendered.yaml:13"),
      ("BLOCK", "scenarios/manifests/gallery/rendered.yaml:29")]),
    ("apis.deprecated", ["manifests=[manifests/gallery/rendered.yaml]"], None,
     [("WARN", "scenarios/manifests/gallery/rendered.yaml:35")]),
    ("apis.unreadable", ["manifests=[manifests/gallery/broken.yaml]"], None,
     [("WARN", "scenarios/manifests/gallery/broken.yaml:7")]),
    ("disruption.pdb-never-allows", ["workloads[name=api].pdb.maxUnavailable=0"], "replace",
     [("BLOCK", "workload/default/api")]),
    ("disruption.single-replica", ["workloads[name=worker].replicas=1"], "replace",
     [("WARN", "workload/default/db"), ("WARN", "workload/default/worker")]),
    ("disruption.local-storage", ["workloads[name=web].localStorage=true"], "replace",
     [("WARN", "workload/default/cache"), ("WARN", "workload/default/web")]),
    ("disruption.bare-pod", ["workloads[name=worker].kind=Pod"], "replace", [("WARN", "workload/default/worker")]),
    ("capacity.spare", ["cluster.nodePools[0].cpu=2"], "inplace", []),  # in place drains nothing: no capacity needed
    ("scheduling.roll-breaks-anti-affinity",
     ["workloads[name=api].replicas=6", "workloads[name=api].affinity={podAntiAffinity: "
      "{requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: kubernetes.io/hostname, labelSelector: "
      "{matchLabels: {app: api}}}]}}"], None, [("WARN", "workload/default/api")]),
    ("admission.webhook-single-replica", ["workloads[name=policy-controller].replicas=1"], "replace",
     [("WARN", "webhook/validate.policy.example.com")]),
    ("admission.webhook-no-budget", ["workloads[name=policy-controller].pdb=null"], "replace",
     [("WARN", "webhook/validate.policy.example.com")]),
    ("admission.webhook-on-drained-nodes", [], "replace", [("WARN", "webhook/validate.policy.example.com")]),
    ("admission.webhook-kube-system", ["webhooks[0].namespaceSelector=null"], None,
     [("WARN", "webhook/validate.policy.example.com")]),
    ("disruption.lb-no-prestop", ["services=[{name: shop, workload: web, requestsPerSecond: 100, loadBalancer: true}, "
                                  "{name: inside, workload: web, requestsPerSecond: 100}]"], "replace",
     [("WARN", "service/default/shop")]),  # through kube-proxy only: no load balancer to deregister from
]


@pytest.mark.parametrize("check_id, sets, strategy, expected", CASES, ids=[c[0] for c in CASES])
def test_check_trips(check_id, sets, strategy, expected):
    scenario = load_scenario(CLEAN, sets)
    spec = scenario.strategy(strategy) if strategy else None
    got = [(f.severity, f.subject) for f in findings_for(scenario, spec) if f.id == check_id]
    assert got == expected


def test_capacity_spare_trips_when_the_drained_nodes_are_missed():
    scenario = load_scenario(CLEAN, ["cluster.nodePools[0].cpu=2", "strategies[0].drainFirst=true"])
    got = [(f.severity, f.subject, f.reason) for f in findings_for(scenario, scenario.strategy("inplace"))
           if f.id == "capacity.spare"]
    assert got == [("WARN", "pool/general", "with 1 node(s) drained the other 5 offer 10000m CPU for 13200m of "
                                            "requests: pods will wait (Pending)")]


def test_the_clean_scenario_passes_every_blocking_check():
    scenario = load_scenario(CLEAN)
    for spec in scenario.strategies:
        assert [f.id for f in findings_for(scenario, spec) if f.severity == "BLOCK"] == []
    assert sorted({f.id for f in findings_for(scenario, scenario.strategy("replace"))}) == [
        "admission.webhook-on-drained-nodes", "disruption.local-storage", "disruption.single-replica"]


NOT_OBSERVED = ("cloud.not-observed", "node.not-observed")


def test_every_check_has_a_case():
    assert sorted({c[0] for c in CASES}) == sorted(set(CHECK_IDS) - set(NOT_OBSERVED))


# what the gallery's target (1.35) cannot show: no API midair knows of is deprecated at 1.35 and removed later
NOT_AT_THE_GALLERY_TARGET = ("apis.deprecated",)


def test_gallery_trips_every_check(capsys):
    assert main(["precheck", "scenarios/precheck-gallery.yaml", "--json"]) == 1
    found = json.loads(capsys.readouterr().out)["findings"]
    assert sorted({f["id"] for f in found}) == sorted(set(CHECK_IDS) - set(NOT_OBSERVED) - set(NOT_AT_THE_GALLERY_TARGET))


def test_the_gallery_trips_the_deprecated_api_check_at_a_target_before_the_removal(capsys):
    assert main(["precheck", "scenarios/precheck-gallery.yaml", "--json", "--set", "target=1.31.2",
                 "--set", "cluster.nodePools[1].version=1.28.9"]) == 1
    found = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["severity"], f["subject"], f["reason"]) for f in found if f["id"] == "apis.deprecated"] == [
        ("WARN", "scenarios/manifests/gallery/rendered.yaml:35",
         "FlowSchema catch-all uses flowcontrol.apiserver.k8s.io/v1beta3, deprecated since 1.29 and removed in 1.32")]
    assert set(found[0]) == {"id", "family", "severity", "subject", "reason", "fix"}


def test_unobserved_hosts_and_cloud_are_said_not_passed():
    # the gallery's host and cloud problems are there, but this description says it has not seen them
    scenario = load_scenario("scenarios/precheck-gallery.yaml", ["cluster.unobserved=[host, cloud]"])
    found = findings_for(scenario, scenario.strategy("replace"))
    assert [(f.id, f.subject) for f in found if f.family in ("node", "cloud")] == [
        ("node.dockershim", "node/legacy-1"), ("node.dockershim", "node/legacy-2"),  # the runtime the node reports
        ("node.containerd-1x", "node/modern-1"), ("node.containerd-1x", "node/modern-2"),
        ("node.not-observed", "cluster"), ("cloud.not-observed", "cluster")]
    notes = {f.id: (f.severity, f.subject, f.reason) for f in found if f.id in NOT_OBSERVED}
    assert notes == {
        "node.not-observed": ("INFO", "cluster", "this view does not show the hosts' configuration (OS services, NTP, "
                              "kernel parameters, cgroups, kubelet and runtime health), so these checks did not run: "
                              "node.systemd, node.ntp, node.package-manager, node.kernel-params, node.cgroup-v1, "
                              "node.kubelet-not-running, node.kubelet-config, node.kubelet-cert, "
                              "node.runtime-not-running"),
        "cloud.not-observed": ("INFO", "cluster", "this view does not show the cloud resources (API load balancer, VPC "
                               "and subnets, instance health and quota), so these checks did not run: "
                               "cloud.lb-unhealthy, cloud.lb-listener, cloud.lb-acl, cloud.vpc-unhealthy, "
                               "cloud.subnet-unhealthy, cloud.subnet-free-ips, cloud.instance-quota, "
                               "cloud.instances-unhealthy")}


def test_precheck_text_groups_by_family_most_severe_first(capsys):
    assert main(["precheck", CLEAN, "--strategy", "replace"]) == 0
    assert capsys.readouterr().out == (
        "Disruption risks:\n"
        "  WARN  disruption.local-storage  workload/default/cache\n"
        "        its local volumes are lost when the node is replaced\n"
        "        fix: move the data to network storage, or upgrade in place\n"
        "  WARN  disruption.single-replica  workload/default/db\n"
        "        one replica: it is out whenever its node is drained or replaced\n"
        "        fix: run two or more replicas, with a budget\n"
        "Admission webhooks:\n"
        "  WARN  admission.webhook-on-drained-nodes  webhook/validate.policy.example.com\n"
        "        failurePolicy Fail, served by policy/policy-controller on pool(s) general, which the roll drains: each "
        "drain of one of its nodes takes a pod away, and creating pods waits for the replacement to be Ready\n"
        "        fix: keep enough replicas and a budget, or run the webhook on nodes the roll leaves for last\n"
        "0 blocking, 3 warning(s), 0 note(s)\n")


def test_precheck_to_overrides_the_target(capsys):
    assert main(["precheck", CLEAN, "--to", "1.33.1", "--json"]) == 1
    ids = {f["id"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "core.cni-unsupported" in ids  # calico 3.29 stops at 1.32


def test_precheck_usage_errors(capsys):
    assert main(["precheck"]) == 2
    assert capsys.readouterr().err == ("midair precheck: give a SCENARIO, or --live --to V for the cluster of a "
                                       "kubeconfig context\n")
