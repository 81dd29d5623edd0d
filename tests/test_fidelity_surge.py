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


def test_aks_drained_nodes_buffer_the_next_batch_and_the_surge_nodes_go_at_the_end():
    # AKS rolling upgrades: "Reimage old nodes: As old nodes are drained, they're reimaged to receive the new
    # version. The reimaged node becomes the buffer node for the next set of nodes to upgrade" ... "Remove surge
    # nodes: After all nodes are upgraded, any remaining buffer nodes are removed" (the surge node is "cordoned,
    # drained and deleted"). midair re-adds a drained node instead of reimaging it.
    aks = run("a", "strategies=[{preset: aks, label: a, maxSurge: 2}]")
    gke = run("s", "strategies=[{name: surge, label: s, maxSurge: 2}]")
    assert (aks.completed, aks.halted) == (True, None)
    tail = [a for _, a in actions(aks, "Provision", "Drain", "DeleteNode")][-8:]
    assert tail == ["Drain node/general-5", "DeleteNode node/general-5",
                    "ProvisionNode in pool/general at 1.29.8", "ProvisionNode in pool/general at 1.29.8",
                    "Drain node/general-6", "Drain node/general-7",  # the two surge nodes, the roll's first
                    "DeleteNode node/general-7", "DeleteNode node/general-6"]
    assert sorted(aks.world.nodes) == ["general-10", "general-11", "general-12", "general-8", "general-9"]
    assert aks.metrics["peak_extra_nodes"] == gke.metrics["peak_extra_nodes"] == 2
    # the buffers' pods move once more at the end
    assert (aks.metrics["pods_evicted"], gke.metrics["pods_evicted"]) == (18, 13)
    assert sorted(gke.world.nodes) == ["general-10", "general-6", "general-7", "general-8", "general-9"]
