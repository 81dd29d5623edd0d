"""Cluster API-style sequence tests: each built-in strategy, run against a reference cluster
to convergence, in a fixed order and in seeded random orders, checking the invariants at
every step."""

import pytest

from models.plan import make_plan
from models.policies import review
from models.progress import remaining_work
from models.skew import check_state
from sim import registry
from sim.scenario import load_scenario
from tests.fake_cluster import FakeCluster

SCENARIOS = {
    "seed": ("scenarios/seed-example.yaml", []),
    "quickstart": ("scenarios/quickstart.yaml", []),
    "multi-hop": ("scenarios/quickstart.yaml", ["cluster.version=1.27.3", "cluster.addons.kubeProxy=1.27.3",
                                                "cluster.nodePools[0].version=1.25.6", "cluster.nodePools[1].version=1.26.1",
                                                "cluster.addons.cni.version=3.28.0"]),
    "wide-batches": ("scenarios/quickstart.yaml", ["strategies[0].maxUnavailable=50%", "strategies[1].maxSurge=3",
                                                   "strategies[1].maxUnavailable=1"]),
}
STRATEGIES = ["inplace", "replace", "surge", "bluegreen"]


def converge(path, sets, label, order, seed, max_steps=5000, cordoned=(), halts=False):
    scenario = load_scenario(path, [*sets, f"strategies=[{{name: {label}}}]"] if label not in ("inplace", "replace") else sets)
    spec = scenario.strategy(label)
    strategy = registry.strategy_class(spec.name)(**spec.kwargs())
    params = spec.kwargs()
    plan = make_plan(scenario.cluster, scenario.target, params["maxSurge"], params["maxUnavailable"])
    cluster = FakeCluster(scenario.cluster, order, seed)
    for name in cordoned:  # cordoned by someone before the upgrade
        cluster._node(name, schedulable=False)
    memo: dict = {}
    for step in range(max_steps):
        view = cluster.state
        decision = strategy.decide(view, plan, memo)
        memo = dict(decision.memo)
        halted = [a.reason for a in decision.actions if a.kind == "Halt"]
        if halts and halted:
            return step, cluster.state, halted[0]
        assert not halted, decision.actions
        for action, refusal in review(decision.actions, view, plan):
            assert refusal is None, f"step {step}: {refusal.policy}: {refusal.reason}"
            cluster.apply(action)
        state = cluster.state
        assert check_state(state) == [], f"step {step}: skew"
        for pool in state.pools:
            available = sum(1 for n in state.nodes_in(pool.name) if n.available)
            assert available >= pool.count - plan.batch(pool.name).unavailable, f"step {step}: pool {pool.name}"
        if decision.done:
            assert remaining_work(view, plan) == []
            assert not halts, "expected a halt"
            return step, state
        if not decision.actions and not cluster.step():
            if decision.wake_at is None or decision.wake_at <= cluster.state.observed_at:
                pytest.fail(f"stuck at step {step}: {decision.notes}")
            cluster.advance(decision.wake_at)
        elif decision.actions and cluster.order == "random" and cluster.rng.random() < 0.5:
            cluster.step()
    pytest.fail("did not converge")


@pytest.mark.parametrize("label", STRATEGIES)
@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("order, seeds", [("fixed", [0]), ("random", range(5))], ids=["fixed", "random"])
def test_strategy_converges(name, label, order, seeds):
    path, sets = SCENARIOS[name]
    for seed in seeds:
        _, final = converge(path, sets, label, order, seed)
        target = load_scenario(path, sets).target
        assert {str(n.kubelet) for n in final.nodes} == {str(target)}
        assert all(n.schedulable and n.ready for n in final.nodes)
        assert len(final.nodes) == sum(p.count for p in final.pools)


def test_a_decision_is_a_pure_function_of_its_inputs():
    scenario = load_scenario("scenarios/quickstart.yaml", ["strategies=[{name: inplace}, {name: replace}, "
                                                           "{name: surge}, {name: bluegreen}]"])
    plan = make_plan(scenario.cluster, scenario.target, 1, 0)
    for label in STRATEGIES:
        spec = scenario.strategy(label)
        strategy = registry.strategy_class(spec.name)(**spec.kwargs())
        memo = {"cordoned": ["general-1"]}
        first = strategy.decide(scenario.cluster, plan, memo)
        second = strategy.decide(scenario.cluster, plan, memo)
        assert first == second and memo == {"cordoned": ["general-1"]}


def test_inplace_upgrades_a_node_cordoned_before_the_upgrade_and_leaves_it_cordoned():
    _, final = converge("scenarios/quickstart.yaml", ["strategies[0].maxUnavailable=2"], "inplace", "fixed", 0,
                        cordoned=["general-2"])
    assert {str(n.kubelet) for n in final.nodes} == {"1.31.2"}
    assert sorted(n.name for n in final.nodes if not n.schedulable) == ["general-2"]


def test_inplace_halts_when_nodes_cordoned_before_the_upgrade_use_up_max_unavailable():
    _, final, reason = converge("scenarios/quickstart.yaml", [], "inplace", "fixed", 0, cordoned=["general-2"],
                                halts=True)
    assert reason == ("pool general: general-2 was cordoned before the upgrade and stays cordoned, which uses up "
                      "maxUnavailable 1; uncordon it or raise maxUnavailable to go on")
    assert [n.name for n in final.nodes if str(n.kubelet) == "1.31.2"] == ["general-2"]  # it took no slot
