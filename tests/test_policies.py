"""The safety policies of models/policies.py: each one refuses with its exact id and reason, and lets
the safe case through.

The view is the seed's cluster (two 1.14.10 apiservers, controller-managers and schedulers; pool
``workers`` of two 1.14.10 nodes); the plan upgrades it to 1.16.15.
"""

from dataclasses import replace

import pytest

from models.actions import (
    Cordon,
    DeleteNode,
    Drain,
    ProvisionNode,
    Uncordon,
    UpgradeAddon,
    UpgradeControlPlaneInstance,
    UpgradeNodeInPlace,
)
from models.plan import CONTROL_PLANE, Phase, make_plan
from models.policies import POLICIES, POLICY_IDS, review
from models.state import UPGRADING, ControlPlane
from models.strategies.base import control_plane_step, left_behind_by
from models.version import parse_version as V
from sim.scenario import load_scenario

WHY = "test"


@pytest.fixture(scope="module")
def cluster():
    return load_scenario("scenarios/seed-example.yaml").cluster


def plan_for(cluster, max_surge=None, max_unavailable=1):
    return make_plan(cluster, V("1.16.15"), max_surge, max_unavailable)


def with_node(cluster, name, **changes):
    nodes = tuple(replace(n, **changes) if n.name == name else n for n in cluster.nodes)
    return replace(cluster, nodes=nodes)


def with_instance(cluster, name, **changes):
    instances = tuple(replace(i, **changes) if i.name == name else i for i in cluster.control_plane.instances)
    return replace(cluster, control_plane=ControlPlane(instances))


def verdicts(actions, view, plan):
    """Each action's description with (policy, reason) of its refusal, or None when it passes."""
    return [(a.describe(), (r.policy, r.reason) if r else None) for a, r in review(tuple(actions), view, plan)]


# -- delete-node-with-pods ---------------------------------------------------------------------


def test_delete_node_with_pods_is_refused_until_the_node_is_drained(cluster):
    view = with_node(cluster, "workers-1", pods=3)
    assert verdicts([DeleteNode(WHY, node="workers-1")], view, plan_for(cluster)) == [
        ("DeleteNode node/workers-1",
         ("delete-node-with-pods", "DeleteNode node/workers-1: it still holds 3 pod(s) that a drain would evict; "
                                   "drain it first (or force)"))]


def test_delete_node_with_pods_passes_when_forced(cluster):
    view = with_node(cluster, "workers-1", pods=3)
    assert verdicts([DeleteNode(WHY, node="workers-1", force=True)], view, plan_for(cluster)) == [
        ("DeleteNode node/workers-1", None)]


def test_delete_of_a_drained_node_passes(cluster):
    view = with_node(cluster, "workers-1", pods=0, schedulable=False)
    assert verdicts([DeleteNode(WHY, node="workers-1")], view, plan_for(cluster)) == [
        ("DeleteNode node/workers-1", None)]


# -- new-node-zone --------------------------------------------------------------------------------


@pytest.mark.parametrize("zone, refusal", [
    ("", None),
    ("a", None),
    ("c", ("new-node-zone", "ProvisionNode in pool/workers zone/c at 1.14.10: pool workers has no zone 'c'; valid: a, "
           "b")),
], ids=["cloud-balances", "one-of-its-zones", "a-zone-it-lacks"])
def test_a_new_node_goes_to_a_zone_of_its_pool(cluster, zone, refusal):
    action = ProvisionNode(WHY, "workers", V("1.14.10"), zone)
    assert verdicts([action], cluster, plan_for(cluster)) == [(action.describe(), refusal)]


# -- control-plane-one-at-a-time ---------------------------------------------------------------


def test_control_plane_upgrade_is_refused_while_another_instance_is_upgrading(cluster):
    view = with_instance(cluster, "kube-apiserver-1", phase=UPGRADING)
    action = UpgradeControlPlaneInstance(WHY, instance="kube-apiserver-0", version=V("1.15.12"))
    assert verdicts([action], view, plan_for(cluster)) == [
        ("UpgradeControlPlaneInstance kube-apiserver-0 to 1.15.12",
         ("control-plane-one-at-a-time", "UpgradeControlPlaneInstance kube-apiserver-0 to 1.15.12: "
                                         "kube-apiserver-1 is already being upgraded"))]


def test_control_plane_second_upgrade_in_the_same_decision_is_refused(cluster):
    actions = [UpgradeControlPlaneInstance(WHY, instance="kube-apiserver-0", version=V("1.15.12")),
               UpgradeControlPlaneInstance(WHY, instance="kube-apiserver-1", version=V("1.15.12"))]
    assert verdicts(actions, cluster, plan_for(cluster)) == [
        ("UpgradeControlPlaneInstance kube-apiserver-0 to 1.15.12", None),
        ("UpgradeControlPlaneInstance kube-apiserver-1 to 1.15.12",
         ("control-plane-one-at-a-time", "UpgradeControlPlaneInstance kube-apiserver-1 to 1.15.12: "
                                         "another instance in this decision is already being upgraded"))]


def test_control_plane_upgrade_passes_once_the_previous_one_is_idle(cluster):
    # kube-apiserver-1 finished its upgrade (phase idle again, at 1.15.12): the next one may start
    view = with_instance(cluster, "kube-apiserver-1", version=V("1.15.12"))
    action = UpgradeControlPlaneInstance(WHY, instance="kube-apiserver-0", version=V("1.15.12"))
    assert verdicts([action], view, plan_for(cluster)) == [
        ("UpgradeControlPlaneInstance kube-apiserver-0 to 1.15.12", None)]


# -- max-unavailable ---------------------------------------------------------------------------


def test_max_unavailable_refuses_the_second_node_of_a_batch_of_one(cluster):
    actions = [Cordon(WHY, node="workers-1"), Drain(WHY, node="workers-2")]
    assert verdicts(actions, cluster, plan_for(cluster, max_unavailable=1)) == [
        ("Cordon node/workers-1", None),
        ("Drain node/workers-2",
         ("max-unavailable", "Drain node/workers-2 would leave pool workers with 0 available node(s); "
                             "maxUnavailable 1 of 2 requires at least 1"))]


def test_max_unavailable_zero_refuses_taking_any_node_out(cluster):
    plan = plan_for(cluster, max_surge=1, max_unavailable=0)
    assert verdicts([UpgradeNodeInPlace(WHY, node="workers-1", version=V("1.14.10"))], cluster, plan) == [
        ("UpgradeNodeInPlace node/workers-1 to 1.14.10",
         ("max-unavailable", "UpgradeNodeInPlace node/workers-1 to 1.14.10 would leave pool workers with 1 "
                             "available node(s); maxUnavailable 0 of 2 requires at least 2"))]


def test_max_unavailable_lets_both_nodes_go_when_the_budget_is_two(cluster):
    actions = [Cordon(WHY, node="workers-1"), Cordon(WHY, node="workers-2")]
    assert verdicts(actions, cluster, plan_for(cluster, max_unavailable=2)) == [
        ("Cordon node/workers-1", None), ("Cordon node/workers-2", None)]


def test_max_unavailable_does_not_count_a_node_that_is_already_unavailable(cluster):
    # workers-1 is NotReady already: draining it takes nothing more away, and workers-2 stays
    view = with_node(cluster, "workers-1", ready=False)
    assert verdicts([Drain(WHY, node="workers-1")], view, plan_for(cluster, max_unavailable=1)) == [
        ("Drain node/workers-1", None)]


def test_max_unavailable_ignores_uncordon_and_unknown_nodes(cluster):
    actions = [Cordon(WHY, node="workers-1"), Uncordon(WHY, node="workers-2"), Cordon(WHY, node="workers-9")]
    assert verdicts(actions, cluster, plan_for(cluster, max_unavailable=1)) == [
        ("Cordon node/workers-1", None), ("Uncordon node/workers-2", None), ("Cordon node/workers-9", None)]


# -- skew --------------------------------------------------------------------------------------


@pytest.mark.parametrize("action, reason", [
    (UpgradeNodeInPlace(WHY, node="workers-1", version=V("1.15.12")),
     "UpgradeNodeInPlace node/workers-1 to 1.15.12: kubelet 1.15.12 (workers-1) is newer than the oldest "
     "kube-apiserver (1.14.10); it must not be newer (kubelet-newer-than-apiserver)"),
    (ProvisionNode(WHY, pool="workers", version=V("1.16.15")),
     "ProvisionNode in pool/workers at 1.16.15: kubelet 1.16.15 (a new node in workers) is newer than the oldest "
     "kube-apiserver (1.14.10); it must not be newer (kubelet-newer-than-apiserver)"),
    (UpgradeControlPlaneInstance(WHY, instance="kube-apiserver-0", version=V("1.16.15")),
     "UpgradeControlPlaneInstance kube-apiserver-0 to 1.16.15: kube-apiserver kube-apiserver-0 would move from "
     "1.14.10 to 1.16.15, skipping 1 minor version(s); the control plane must be upgraded one minor version at "
     "a time (1.15 next) (control-plane-minor-skip)"),
    (UpgradeControlPlaneInstance(WHY, instance="kube-controller-manager-0", version=V("1.15.12")),
     "UpgradeControlPlaneInstance kube-controller-manager-0 to 1.15.12: kube-controller-manager 1.15.12 "
     "(kube-controller-manager-0) is newer than the oldest kube-apiserver (1.14.10); it must not be newer "
     "(controller-manager-newer-than-apiserver)"),
    (UpgradeAddon(WHY, addon="kube-proxy", version=V("1.15.12")),
     "UpgradeAddon kube-proxy to 1.15.12: kube-proxy 1.15.12 (workers-1 and 1 more) is newer than the oldest "
     "kube-apiserver (1.14.10); it must not be newer (kube-proxy-newer-than-apiserver)"),
], ids=["kubelet-in-place-newer-than-apiserver", "new-node-newer-than-apiserver", "apiserver-skips-a-minor",
        "controller-manager-newer-than-apiserver", "kube-proxy-newer-than-apiserver"])
def test_skew_refuses(cluster, action, reason):
    assert verdicts([action], cluster, plan_for(cluster)) == [(action.describe(), ("skew", reason))]


@pytest.mark.parametrize("action", [
    UpgradeNodeInPlace(WHY, node="workers-1", version=V("1.14.10")),
    ProvisionNode(WHY, pool="workers", version=V("1.14.10")),
    UpgradeControlPlaneInstance(WHY, instance="kube-apiserver-0", version=V("1.15.12")),
    UpgradeAddon(WHY, addon="kube-proxy", version=V("1.14.10")),
    UpgradeAddon(WHY, addon="coredns", version=V("1.6.2")),
], ids=["kubelet-at-apiserver-version", "new-node-at-apiserver-version", "apiserver-one-minor-up",
        "kube-proxy-at-apiserver-version", "coredns-is-not-versioned-by-skew"])
def test_skew_allows(cluster, action):
    assert verdicts([action], cluster, plan_for(cluster)) == [(action.describe(), None)]


def _control_plane_129_kubelets_126(cluster):
    view = cluster
    for i in cluster.control_plane.instances:
        view = with_instance(view, i.name, version=V("1.29.4"))
    for n in cluster.nodes:
        view = with_node(view, n.name, kubelet=V("1.26.0"), kube_proxy=V("1.26.0"))
    return view


def test_skew_refuses_the_first_apiserver_past_kubelets_three_minors_behind(cluster):
    # the newest apiserver bounds how old a kubelet may be (the policy's HA note: apiservers at 1.32 and 1.31
    # support kubelets at 1.31, 1.30 and 1.29), so the first apiserver at 1.30 already leaves 1.26 too old
    action = UpgradeControlPlaneInstance(WHY, instance="kube-apiserver-0", version=V("1.30.0"))
    assert verdicts([action], _control_plane_129_kubelets_126(cluster), plan_for(cluster)) == [
        ("UpgradeControlPlaneInstance kube-apiserver-0 to 1.30.0",
         ("skew", "UpgradeControlPlaneInstance kube-apiserver-0 to 1.30.0: kubelet 1.26.0 (workers-1 and 1 more) "
                  "is 4 minor versions older than the newest kube-apiserver (1.30.0); at most 3 allowed "
                  "(kubelet-too-old)"))]


def test_the_strategy_halts_before_the_first_apiserver_of_a_hop_that_leaves_kubelets_too_old(cluster):
    # left_behind_by asks what the policy above would refuse before any apiserver moves, and says why
    view = _control_plane_129_kubelets_126(cluster)
    reason = ("kubelet 1.26.0 (workers-1 and 1 more) is 4 minor versions older than the newest kube-apiserver "
              "(1.30.0); at most 3 allowed (kubelet-too-old)")
    assert left_behind_by(view, V("1.30.0")) == reason
    decision = control_plane_step(view, Phase(CONTROL_PLANE, V("1.30.0")), {})
    assert [(a.describe(), a.reason) for a in decision.actions] == [
        ("Halt", f"the control plane cannot move to 1.30.0: {reason}; bring the node back (its kubelet and "
                 "kube-proxy are upgraded when it is) or remove it, then resume")]
    assert left_behind_by(view, V("1.29.9")) is None


def test_skew_does_not_hold_a_kubelet_already_too_old_against_the_last_apiserver(cluster):
    # a cluster that is out of policy already (one apiserver at 1.30, kubelets at 1.26): the last apiserver's
    # move adds no violation (the newest stays 1.30), and a violation present before is not counted against it
    view = with_instance(_control_plane_129_kubelets_126(cluster), "kube-apiserver-0", version=V("1.30.0"))
    action = UpgradeControlPlaneInstance(WHY, instance="kube-apiserver-1", version=V("1.30.0"))
    assert verdicts([action], view, plan_for(cluster)) == [(action.describe(), None)]


def test_skew_refuses_a_new_node_too_old_for_the_newest_of_mixed_apiservers(cluster):
    view = with_instance(_control_plane_129_kubelets_126(cluster), "kube-apiserver-0", version=V("1.30.0"))
    actions = [ProvisionNode(WHY, pool="workers", version=V("1.26.0")),
               ProvisionNode(WHY, pool="workers", version=V("1.27.0"))]
    assert verdicts(actions, view, plan_for(cluster)) == [
        ("ProvisionNode in pool/workers at 1.26.0",
         ("skew", "ProvisionNode in pool/workers at 1.26.0: kubelet 1.26.0 (a new node in workers) is 4 minor versions "
                  "older than the newest kube-apiserver (1.30.0); at most 3 allowed (kubelet-too-old)")),
        ("ProvisionNode in pool/workers at 1.27.0", None)]


def test_skew_allows_a_controller_manager_once_every_apiserver_is_at_its_version(cluster):
    view = with_instance(with_instance(cluster, "kube-apiserver-0", version=V("1.15.12")),
                         "kube-apiserver-1", version=V("1.15.12"))
    action = UpgradeControlPlaneInstance(WHY, instance="kube-controller-manager-0", version=V("1.15.12"))
    assert verdicts([action], view, plan_for(cluster)) == [(action.describe(), None)]


def test_skew_allows_a_kubelet_two_minors_behind_once_the_control_plane_is_at_the_target(cluster):
    # the seed's path: the 1.14 kubelets may trail 1.16 apiservers by two minors, and a kubelet may join at 1.16
    view = cluster
    for name in ("kube-apiserver-0", "kube-apiserver-1", "kube-controller-manager-0", "kube-controller-manager-1",
                 "kube-scheduler-0", "kube-scheduler-1"):
        view = with_instance(view, name, version=V("1.16.15"))
    actions = [UpgradeNodeInPlace(WHY, node="workers-1", version=V("1.16.15")),
               ProvisionNode(WHY, pool="workers", version=V("1.16.15"))]
    assert verdicts(actions, view, plan_for(cluster)) == [(a.describe(), None) for a in actions]


# -- review as a whole -------------------------------------------------------------------------


def test_the_first_refusal_wins_and_a_refused_action_takes_nothing_out_of_service(cluster):
    # workers-1 still holds pods: its deletion is refused, so it does not count against maxUnavailable,
    # and cordoning workers-2 afterwards is allowed
    view = with_node(cluster, "workers-1", pods=2)
    actions = [UpgradeNodeInPlace(WHY, node="workers-1", version=V("1.15.12")),
               DeleteNode(WHY, node="workers-1"), Cordon(WHY, node="workers-2")]
    assert verdicts(actions, view, plan_for(cluster, max_unavailable=1)) == [
        ("UpgradeNodeInPlace node/workers-1 to 1.15.12",
         ("skew", "UpgradeNodeInPlace node/workers-1 to 1.15.12: kubelet 1.15.12 (workers-1) is newer than the "
                  "oldest kube-apiserver (1.14.10); it must not be newer (kubelet-newer-than-apiserver)")),
        ("DeleteNode node/workers-1",
         ("delete-node-with-pods", "DeleteNode node/workers-1: it still holds 2 pod(s) that a drain would evict; "
                                   "drain it first (or force)")),
        ("Cordon node/workers-2", None)]


def test_every_policy_has_an_id_and_each_id_is_covered_above():
    assert [p.__name__ for p in POLICIES] == ["max_unavailable", "skew", "delete_node_with_pods",
                                              "one_control_plane_instance_at_a_time", "new_node_zone"]
    assert POLICY_IDS == ("max-unavailable", "skew", "delete-node-with-pods", "control-plane-one-at-a-time",
                          "new-node-zone")


# -- a strategy that starts part-way through an upgrade ----------------------------------------


@pytest.mark.parametrize("label", ["inplace", "replace", "surge", "bluegreen"])
def test_a_strategy_without_a_memo_picks_up_after_the_hop_the_control_plane_has_reached(cluster, label):
    # Found by the generators: 1.19 with 1.17 kubelets to 1.22 first rolls the workers to 1.19.0. With the
    # control plane already at 1.22.0 and a pool one node short (a node being deleted), a fresh strategy
    # went back to that first roll and asked for a 1.19.0 node, which the skew policy refuses (kubelets
    # below 1.25 may trail by two minors). The control plane's hop says every phase before it is done.
    from models.state import Addon
    from sim.registry import strategy_class

    def at(state, cp, kubelet, proxy):
        instances = tuple(replace(i, version=V(cp)) for i in state.control_plane.instances)
        nodes = tuple(replace(n, kubelet=V(kubelet), kube_proxy=V(proxy)) for n in state.nodes)
        addons = tuple(Addon(a.name, V(proxy) if a.name == "kube-proxy" else a.version, a.flavor, a.healthy, a.phase)
                       for a in state.addons)
        return replace(state, control_plane=ControlPlane(instances), nodes=nodes, addons=addons)

    start = at(cluster, "1.19.0", "1.17.0", "1.17.0")
    plan = make_plan(start, V("1.22.0"), None, 1)
    assert str(plan.phases[0]) == "workers 1.19.0"
    view = with_node(at(cluster, "1.22.0", "1.21.0", "1.22.0"), "workers-2", phase="deleting")
    decision = strategy_class(label)().decide(view, plan, {})
    assert decision.memo["phase"] == "addons 1.22.0"  # CoreDNS is behind; then the last worker roll
    assert [v for _, v in verdicts(decision.actions, view, plan) if v] == []
