"""What a valid scenario turns into, and how --set changes it."""

import pytest

from models.quantity import IntOrPercent
from models.state import PDB, Resources
from models.version import parse_version as V
from sim.scenario import load_scenario, load_scenario_text
from tests.scenario_text import BASE, edit


def test_base_scenario_builds_the_cluster():
    s = load_scenario_text(BASE, "s.yaml")
    c = s.cluster
    assert (s.name, str(s.target), s.runs, s.seed, s.safety, s.prechecks, s.horizon_s) == (
        "example", "1.29.0", 20, 42, True, "enforce", None)
    assert [i.name for i in c.control_plane.instances] == [
        "kube-apiserver-0", "kube-apiserver-1", "kube-apiserver-2",
        "kube-controller-manager-0", "kube-controller-manager-1", "kube-controller-manager-2",
        "kube-scheduler-0", "kube-scheduler-1", "kube-scheduler-2", "etcd-0", "etcd-1", "etcd-2"]
    assert {str(i.version) for i in c.control_plane.instances if i.component == "etcd"} == {"3.5.7"}
    assert [(n.name, n.zone, n.ip) for n in c.nodes] == [
        ("general-1", "a", "10.0.0.10"), ("general-2", "b", "10.1.0.10"), ("general-3", "c", "10.2.0.10"),
        ("general-4", "a", "10.0.0.11"), ("general-5", "b", "10.1.0.11"), ("general-6", "c", "10.2.0.11")]
    assert c.nodes[0].allocatable == Resources(8000, 32 * 2**30, 110)
    assert [(w.key, w.kind, w.replicas) for w in c.workloads] == [
        ("kube-system/coredns", "Deployment", 2), ("default/web", "Deployment", 6),
        ("default/db", "StatefulSet", 1), ("default/node-exporter", "DaemonSet", 0)]
    assert c.workload("web").pdb == PDB(min_available=IntOrPercent(4))
    assert c.workload("web").requests == Resources(500, 512 * 2**20, 1)
    assert [(a.name, str(a.version), a.flavor) for a in c.addons] == [
        ("coredns", "1.10.1", None), ("kube-proxy", "1.27.4", None), ("cni", "3.26.1", "calico")]
    assert [(x.zone, x.free_ips) for x in c.cloud.subnets] == [("a", 20), ("b", 20), ("c", 20)]
    assert [(x.label, x.param("maxUnavailable")) for x in s.strategies] == [
        ("inplace", IntOrPercent(1)), ("replace", IntOrPercent(0))]


def test_unquoted_versions_keep_the_text_as_typed():
    s = load_scenario_text(edit('target: "1.29.0"', "target: 1.30"), "s.yaml")
    assert s.target == V("1.30")


@pytest.mark.parametrize("assignment, check", [
    ("cluster.controlPlane.apiservers=1", lambda s: len(s.cluster.control_plane.apiservers) == 1),
    ("strategies[0].maxUnavailable=2", lambda s: s.strategies[0].param("maxUnavailable") == IntOrPercent(2)),
    ("strategies[0].maxUnavailable=50%", lambda s: s.strategies[0].param("maxUnavailable") == IntOrPercent(50, True)),
    ("workloads[name=web].replicas=8", lambda s: s.cluster.workload("web").replicas == 8),
    ("target=1.30", lambda s: s.target == V("1.30")),
    ("cluster.cloud.instanceQuota=7", lambda s: s.cluster.cloud.instance_quota == 7),
    ("safety=off", lambda s: s.safety is False),
    ("horizon=6h", lambda s: s.horizon_s == 21600.0),
], ids=["int", "list-index", "percent", "select-by-name", "version", "new-field", "on-off", "duration"])
def test_set_overrides(assignment, check):
    assert check(load_scenario_text(BASE, "s.yaml", [assignment]))


def test_shipped_scenarios_are_valid():
    seed = load_scenario("scenarios/seed-example.yaml")
    assert (len(seed.cluster.nodes), len(seed.cluster.control_plane.apiservers), str(seed.cluster.version),
            str(seed.target)) == (2, 2, "1.14.10", "1.16.15")
    quick = load_scenario("scenarios/quickstart.yaml")
    assert (len(quick.cluster.nodes), [s.label for s in quick.strategies]) == (9, ["inplace", "replace"])


def test_same_name_strategies_are_labelled_by_their_parameters():
    s = load_scenario_text(edit("strategies: [{name: inplace, maxUnavailable: 1}, {name: replace, maxSurge: 1, maxUnavailable: 0}]",
                                "strategies: [{name: inplace, maxUnavailable: 1}, {name: inplace, maxUnavailable: 2}, "
                                "{name: replace, label: capi}]"), "s.yaml")
    assert [x.label for x in s.strategies] == ["inplace(maxUnavailable=1)", "inplace(maxUnavailable=2)", "capi"]
