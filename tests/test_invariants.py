"""For 50 seeds, the built-in strategies keep their promises in the simulated world:
no voluntary eviction below a budget, never fewer available nodes than maxUnavailable
allows, no skew violation, and the upgrade completes. (With faults, see test_faults.py.)"""

import pytest

from models.plan import plan_for_params
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
# a replacing strategy strands a local-volume pod whose node it deletes until a person recovers it; with
# someone watching (5 min), the next node's drain finds its budget again within the 15 min drain timeout
ATTENDED = ["timing.operatorResponse=5m"]


@pytest.mark.parametrize("path, label", CASES, ids=[f"{p.split('/')[-1][:-5]}-{l}" for p, l in CASES])
def test_invariants_hold_for_50_seeds(path, label):
    extra = NO_LOCAL if label == "bluegreen" else ATTENDED if label in ("replace", "surge") else []
    sets = ["faults=[]", f"strategies=[{{name: {label}}}]", *extra]
    scenario = load_scenario(path, sets)  # the promises are about the strategy, in fair weather
    spec = scenario.strategy(label)
    plan = plan_for_params(scenario.cluster, scenario.target, spec.kwargs())
    for i in range(50):
        r = simulate(scenario, spec, derive_seed(99, "run", i), keep_world=True)
        assert (r.completed, r.halted) == (True, None), i
        assert r.metrics["pdb_violations"] == 0, i
        assert r.metrics["skew_violations"] == 0, i
        for pool in scenario.cluster.pools:
            floor = pool.count - plan.batch(pool.name).unavailable
            assert r.world.min_available[pool.name] >= floor, (i, pool.name)
