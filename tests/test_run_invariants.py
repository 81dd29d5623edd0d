"""What every run must keep (``models.invariants``), judged exactly, and the watch that gathers the
facts from a simulated run (``sim.testing.watch``)."""

from dataclasses import replace

import pytest

from models.actions import Cordon, DeleteNode, ProvisionNode, UpgradeAddon, UpgradeControlPlaneInstance, UpgradeNodeInPlace
from models.drain import DrainOptions
from models.invariants import Breach, budget_breaches, ending_breaches, forces_past_budgets, merged, repeated
from models.state import DELETING, UPGRADE_FAILED, UPGRADING
from models.version import KubeVersion
from sim.scenario import load_scenario_text
from sim.testing.watch import watch_run
from tests.tiny_scenarios import TINY

V = KubeVersion.parse("1.30.4")
BASE = load_scenario_text(TINY).cluster


def node(state, name, **changes):
    return replace(state, nodes=tuple(replace(n, **changes) if n.name == name else n for n in state.nodes))


def instance(state, name, **changes):
    cp = state.control_plane
    return replace(state, control_plane=replace(cp, instances=tuple(replace(i, **changes) if i.name == name else i
                                                                    for i in cp.instances)))


def addon(state, name, **changes):
    return replace(state, addons=tuple(replace(a, **changes) if a.name == name else a for a in state.addons))


REPEATS = [
    ("inplace-of-a-node-at-the-version", UpgradeNodeInPlace("r", "general-1", V), node(BASE, "general-1", kubelet=V), (),
     "general-1 already runs kubelet 1.30.4"),
    ("inplace-of-a-node-being-upgraded", UpgradeNodeInPlace("r", "general-1", V),
     node(BASE, "general-1", phase=UPGRADING), (), "general-1 is already being upgraded"),
    ("retry-of-a-failed-inplace-is-not-a-repeat", UpgradeNodeInPlace("r", "general-1", V),
     node(BASE, "general-1", kubelet=V, phase=UPGRADE_FAILED), (), None),
    ("first-inplace", UpgradeNodeInPlace("r", "general-1", V), BASE, (), None),
    ("delete-of-a-node-gone", DeleteNode("r", "general-9"), BASE, (), "general-9 is already gone"),
    ("delete-of-a-node-being-deleted", DeleteNode("r", "general-2"), node(BASE, "general-2", phase=DELETING), (),
     "general-2 is already being deleted"),
    ("instance-at-the-version", UpgradeControlPlaneInstance("r", "kube-apiserver-0", V),
     instance(BASE, "kube-apiserver-0", version=V), (), "kube-apiserver-0 already runs 1.30.4"),
    ("instance-being-upgraded", UpgradeControlPlaneInstance("r", "kube-apiserver-0", V),
     instance(BASE, "kube-apiserver-0", phase=UPGRADING), (), "kube-apiserver-0 is already being upgraded"),
    ("addon-at-the-version", UpgradeAddon("r", "kube-proxy", V), addon(BASE, "kube-proxy", version=V), (),
     "kube-proxy already runs 1.30.4"),
    ("twice-in-one-decision", DeleteNode("r", "general-2"), BASE, (DeleteNode("other reason", "general-2"),),
     "the same action twice in one decision"),
    ("two-new-nodes-are-two-nodes", ProvisionNode("r", "general", V), BASE, (ProvisionNode("r", "general", V),), None),
    ("cordon-is-not-judged", Cordon("r", "general-1"), node(BASE, "general-1", schedulable=False), (), None),
]


@pytest.mark.parametrize("action, view, earlier, why", [c[1:] for c in REPEATS], ids=[c[0] for c in REPEATS])
def test_an_action_repeats_when_the_view_already_shows_its_effect(action, view, earlier, why):
    assert repeated(action, view, earlier) == why


ENDINGS = [
    ("completed", (True, None, False, ()), []),
    ("completed-with-a-node-left-cordoned", (True, None, False, ("general-2",)),
     ["ending at 9.0s: the run completed but left general-2 cordoned; every node the upgrade took out of service must "
      "be back in service"]),
    ("halted-with-a-reason", (False, "drain of general-1 timed out", False, ()), []),
    ("done-with-work-left", (False, "the strategy stopped with work remaining: x", True, ()),
     ["ending at 9.0s: the strategy declared itself done with work left (the strategy stopped with work remaining: x)"]),
    ("halted-without-a-reason", (False, " ", False, ()),
     ["ending at 9.0s: the run neither completed nor halted with a reason"]),
]


@pytest.mark.parametrize("args, described", [c[1:] for c in ENDINGS], ids=[c[0] for c in ENDINGS])
def test_how_a_run_may_end(args, described):
    assert [b.describe() for b in ending_breaches(*args, 9.0)] == described


@pytest.mark.parametrize("violations, forced, described", [
    (0, False, []), (2, True, []),
    (2, False, ["budget: 2 voluntary disruption(s) took a workload below its PodDisruptionBudget, and the strategy was "
                "not told to force (undrainable: force, drain.disableEviction or terminationGracePeriod)"])], ids=["none", "forced", "not-forced"])
def test_budget_breaches(violations, forced, described):
    assert [b.describe() for b in budget_breaches(violations, forced)] == described


@pytest.mark.parametrize("params, forced", [
    ({}, False), ({"undrainable": "fail", "drain": DrainOptions()}, False), ({"undrainable": "force"}, True),
    ({"drain": DrainOptions(disable_eviction=True)}, True), ({"terminationGracePeriod": 0.0}, False),
    ({"terminationGracePeriod": 300.0}, True),
], ids=["defaults", "fail", "undrainable-force", "disable-eviction", "no-grace-period", "karpenter-grace-period"])
def test_the_knobs_that_force_past_budgets(params, forced):
    assert forces_past_budgets(params) is forced


def test_recurrences_fold_into_the_first():
    found = merged([Breach("skew", "x", 4.0), Breach("repeat", "y", 5.0), Breach("skew", "x", 64.0),
                    Breach("skew", "x", 124.0)])
    assert [b.describe() for b in found] == ["skew at 4.0s (3 times, the last at 124.0s): x", "repeat at 5.0s: y"]


def watched(strategy_entry, *sets):
    text = TINY.replace("strategies: [{name: inplace}, {name: replace}]", f"strategies: [{strategy_entry}]")
    for old, new in sets:
        text = text.replace(old, new)
    scenario = load_scenario_text(text)
    return watch_run(scenario, scenario.strategies[0], 1)


WATCHED = [
    ("fair-weather", "{name: inplace}", [], [], 0),
    ("upgrades-twice", "{name: 'tests.wrong_strategies:UpgradesTwice'}", [],
     ["repeat at 172.0s: UpgradeNodeInPlace node/general-1 to 1.30.4 applied again: general-1 already runs kubelet "
      "1.30.4",
      "repeat at 216.0s: UpgradeNodeInPlace node/general-2 to 1.30.4 applied again: general-2 already runs kubelet "
      "1.30.4"], 0),
    ("quits-early", "{name: 'tests.wrong_strategies:QuitsEarly'}", [],
     ["ending at 0.0s: the strategy declared itself done with work left (the strategy stopped with work remaining: "
      "kube-apiserver-0 at 1.29.8, wants 1.30.4; kube-controller-manager-0 at 1.29.8, wants 1.30.4; "
      "kube-scheduler-0 at 1.29.8, wants 1.30.4)"], 0),
    ("workers-first-with-safety-off", "{name: 'tests.strategy_fixtures:WorkersFirst'}", [("runs: 3", "runs: 3\nsafety: off")],
     # the kubelet moves at the startKubelet step: 2 s + 10 s + 3 s after the upgrade starts
     ["skew at 15.0s: the cluster broke the version-skew policy (kubelet-newer-than-apiserver): kubelet 1.30.4 "
      "(general-1) is newer than the oldest kube-apiserver (1.29.8); it must not be newer",
      "ending at 20.0s: the strategy declared itself done with work left (the strategy stopped with work remaining: "
      "kube-apiserver-0 at 1.29.8, wants 1.30.4; kube-controller-manager-0 at 1.29.8, wants 1.30.4; "
      "kube-scheduler-0 at 1.29.8, wants 1.30.4)"], 0),
    ("forced-drain-when-told-to", "{name: replace, drainTimeout: 1m, undrainable: force}",
     [("pdb: {minAvailable: 1}", "pdb: {minAvailable: 2}"), ("runs: 3", "runs: 3\nprechecks: ignore")], [], 2),
]


@pytest.mark.parametrize("entry, sets, described, pdb_violations", [c[1:] for c in WATCHED], ids=[c[0] for c in WATCHED])
def test_the_watch_judges_a_simulated_run(entry, sets, described, pdb_violations):
    run = watched(entry, *sets)
    assert [b.describe() for b in run.breaches] == described
    assert run.result.metrics["pdb_violations"] == pdb_violations
