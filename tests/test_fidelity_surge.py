"""GKE's and AKS's surge and blue-green upgrades, held to the platforms' documented behaviour."""

from sim.scenario import load_scenario_text
from sim.simulate import simulate

POOL5 = """
apiVersion: midair/v1alpha1
kind: Scenario
metadata: {name: five}
cluster:
  version: "1.29.4"
  controlPlane: {apiservers: 3}
  nodePools: [{name: general, count: 5, cpu: "4", memory: 16Gi, zones: [a, b]}]
workloads:
  - {name: app, replicas: 10, cpu: "1", memory: 1Gi, pdb: {maxUnavailable: 3}, startupSeconds: 10}
target: "1.29.8"
strategies:
  - {name: surge, label: s, maxSurge: 2, maxUnavailable: 1}
  - {name: bluegreen, label: b, drainBatch: 2}
"""


def run(label, *sets, seed=2):
    scenario = load_scenario_text(POOL5, "five.yaml", ["faults=[]", *sets])
    return simulate(scenario, scenario.strategy(label), seed, keep_world=True)


def actions(r, *kinds):
    return [(e.t, e.action) for e in r.log if e.kind == "action" and e.action.startswith(kinds)]


def test_gke_surge_creates_max_surge_nodes_then_takes_max_surge_plus_max_unavailable_old_ones_at_once():
    # GKE's UpgradeSettings: "Consider a hypothetical node pool with 5 nodes having maxSurge=2, maxUnavailable=1.
    # This means the upgrade process upgrades 3 nodes simultaneously. It creates 2 additional (upgraded) nodes,
    # then it brings down 3 old (not yet upgraded) nodes at the same time. This ensures that there are always
    # at least 4 nodes available."
    r = run("s")
    assert (r.completed, r.halted) == (True, None)
    steps = actions(r, "Provision", "Drain")
    first_drain = next(t for t, a in steps if a.startswith("Drain"))
    assert [a for t, a in steps if t < first_drain] == ["ProvisionNode in pool/general at 1.29.8"] * 2
    assert [a for t, a in steps if t == first_drain] == ["Drain node/general-1", "Drain node/general-2",
                                                         "Drain node/general-3"]
    assert r.metrics["peak_extra_nodes"] == 2
    assert r.metrics["pdb_violations"] == 0


def test_bluegreen_keeps_the_drained_blue_pool_for_gkes_default_node_pool_soak_of_an_hour():
    # GKE's nodePoolSoakDuration: "By default, it is set to one hour (3600 seconds)"; batchSoakDuration
    # "Default to zero"
    r = run("b")
    assert (r.completed, r.halted) == (True, None)
    params = dict(load_scenario_text(POOL5, "five.yaml", ["faults=[]"]).strategy("b").params)
    assert (params["finalSoakSeconds"], params["soakSeconds"]) == (3600.0, 0.0)
    last_drain = max(t for t, a in actions(r, "Drain"))
    deletes = [(t, a) for t, a in actions(r, "DeleteNode")]
    assert sorted(a for _, a in deletes) == [f"DeleteNode node/general-{i}" for i in range(1, 6)]
    # every blue node goes at the same moment, an hour after the last drain batch finished (its drain took 12 s)
    assert len({t for t, _ in deletes}) == 1
    assert round(deletes[0][0] - last_drain, 3) == 3600 + 12
