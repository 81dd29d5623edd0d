"""For 50 seeds, the built-in strategies keep their promises in the simulated world:
no voluntary eviction below a budget, never fewer available nodes than maxUnavailable
allows, no skew violation, and the upgrade completes. (With faults, see test_faults.py.)"""

import pytest

from models.plan import make_plan
from sim.sampling import derive_seed
from sim.scenario import load_scenario
from sim.simulate import simulate

CASES = [
    ("scenarios/seed-example.yaml", "inplace"),
    ("scenarios/seed-example.yaml", "replace"),
    ("scenarios/quickstart.yaml", "inplace"),
    ("scenarios/quickstart.yaml", "replace"),
    ("scenarios/quickstart.yaml", "surge"),
    ("scenarios/quickstart.yaml", "bluegreen"),
]
# blue-green cannot move pods tied to a node's local volume (they wait for their node): leave those out
NO_LOCAL = ["workloads[name=cache].localStorage=false", "workloads[name=db].localStorage=false"]


@pytest.mark.parametrize("path, label", CASES, ids=[f"{p.split('/')[-1][:-5]}-{l}" for p, l in CASES])
def test_invariants_hold_for_50_seeds(path, label):
    sets = ["faults=[]", f"strategies=[{{name: {label}}}]", *(NO_LOCAL if label == "bluegreen" else [])]
    scenario = load_scenario(path, sets)  # the promises are about the strategy, in fair weather
    spec = scenario.strategy(label)
    plan = make_plan(scenario.cluster, scenario.target, spec.param("maxSurge"), spec.param("maxUnavailable"))
    for i in range(50):
        r = simulate(scenario, spec, derive_seed(99, "run", i), keep_world=True)
        assert (r.completed, r.halted) == (True, None), i
        assert r.metrics["pdb_violations"] == 0, i
        assert r.metrics["skew_violations"] == 0, i
        for pool in scenario.cluster.pools:
            floor = pool.count - plan.batch(pool.name).unavailable
            assert r.world.min_available[pool.name] >= floor, (i, pool.name)
