"""Versions and plans as real clusters report them: vendor builds, a control plane stopped part-way."""

import pytest

from models.plan import CONTROL_PLANE, WORKERS, make_plan
from sim.scenario import load_scenario_text
from sim.simulate import simulate
from tests.scenario_text import BASE, edit

EKS = edit('  version: "1.27.4"\n  controlPlane: {apiservers: 3}',
           '  version: "1.30.2-eks-036c24b"\n  controlPlane: {apiservers: 3}',
           edit('      version: "1.27.4"', '      version: "1.30.2-eks-036c24b"',
                edit('kubeProxy: "1.27.4"', 'kubeProxy: "1.30.2-eks-036c24b"',
                     edit('coredns: "1.10.1"', 'coredns: "1.11.1"',
                          edit('version: "3.26.1"', 'version: "3.28.1"',
                               edit('target: "1.29.0"', 'target: "1.30.2"'))))))


@pytest.mark.parametrize("label", ["inplace", "replace"])
def test_nodes_on_a_vendor_build_of_the_target_are_left_alone(label):
    scenario = load_scenario_text(EKS)
    assert {str(n.kubelet) for n in scenario.cluster.nodes} == {"1.30.2-eks-036c24b"}
    result = simulate(scenario, scenario.strategy(label), seed=3)
    assert (result.completed, result.halted) == (True, None)
    assert [e.action for e in result.log] == ["Done"]
    m = result.metrics
    assert (m["pods_evicted"], m["node_ip_changes"], m["peak_extra_nodes"], m["duration_s"]) == (0, 0, 0, 0.0)


TRAILING = edit("  controlPlane: {apiservers: 3}",
                "  controlPlane:\n    apiservers: 3\n    instances: [{name: kube-scheduler-1, version: \"1.28.9\"}]",
                edit('  version: "1.27.4"\n', '  version: "1.29.0"\n',
                     edit('kubeProxy: "1.27.4"', 'kubeProxy: "1.29.0"',
                          edit('coredns: "1.10.1"', 'coredns: "1.11.1"',
                               edit('version: "3.26.1"', 'version: "3.29.1"')))))


def test_a_plan_finishes_the_control_plane_instances_left_behind_first():
    scenario = load_scenario_text(TRAILING)
    plan = make_plan(scenario.cluster, scenario.target, 0, 1)
    assert [(p.kind, str(p.version)) for p in plan.phases] == [
        (CONTROL_PLANE, "1.29.0"), ("addons", "1.29.0"), (WORKERS, "1.29.0")]


@pytest.mark.parametrize("label", ["inplace", "replace"])
def test_a_scheduler_trailing_the_apiservers_is_upgraded_and_the_run_completes(label):
    scenario = load_scenario_text(TRAILING)
    result = simulate(scenario, scenario.strategy(label), seed=3, keep_world=True)
    assert (result.completed, result.halted) == (True, None)
    first = result.log[0]
    assert (first.action, first.reason) == (
        "UpgradeControlPlaneInstance kube-scheduler-1 to 1.29.0",
        "control plane to 1.29.0: kube-scheduler 2 of 3, one at a time; every apiserver is at 1.29.0 "
        "(it must never be newer than an apiserver)")
    assert {str(i.version) for i in result.world.cp.instances.values()} == {"1.29.0"}
    assert result.metrics["skew_violations"] == 0


def test_a_node_left_behind_while_notready_halts_the_next_hop_with_the_reason():
    # general-2 dies at the start: its kube-proxy (1.28) cannot follow the others to 1.30 and 1.31, and at 1.32 it
    # would be 4 minors behind; the safety policy would refuse that hop, so the strategy halts and says why
    sc = load_scenario_text(BASE, "s.yaml", [
        "cluster.version=1.29.4", "cluster.nodePools[0].version=1.29.4", "cluster.addons={coredns: '1.11.1', "
        "kubeProxy: '1.28.9', cni: {name: calico, version: '3.29.1'}}", "target=1.32.2",
        "faults=[{type: node-crash, at: 0s, target: node/general-2}]"])
    result = simulate(sc, sc.strategy("inplace"), seed=3)
    assert result.halted == (
        "the control plane cannot move to 1.32.2: kube-proxy 1.28.9 (general-2) is 4 minor versions older than the "
        "newest kube-apiserver (1.32.2); at most 3 allowed (kube-proxy-too-old); bring the node back (its kubelet and "
        "kube-proxy are upgraded when it is) or remove it, then resume")
