"""A small cluster with constant timings, for the fidelity tests: every time in them follows from these."""

from sim.scenario import load_scenario_text
from sim.simulate import simulate, world_for

BASE = """
apiVersion: midair/v1alpha1
kind: Scenario
metadata: {name: fidelity}
cluster:
  version: "1.30.4"
  controlPlane: {apiservers: 3}
  nodePools: [{name: general, count: 3, zones: [a, b, c]}]
  addons: {corednsReplicas: 0}
workloads:
  - {name: web, replicas: 3, startupSeconds: 5}
  - {name: agent, kind: DaemonSet, startupSeconds: 5}
target: "1.31.2"
timing:
  controlPlaneInstance: 60s
  controllerInstance: 30s
  imagePull: 4s
  nodeProvision: 60s
  nodeDelete: 30s
  podTermination: 3s
  inplace: {stopKubelet: 2s, replaceBinaries: 10s, startKubelet: 3s, rejoin: 5s}
strategies: [{name: inplace, maxUnavailable: 1}, {name: replace, maxSurge: 1, maxUnavailable: 0}]
"""


def scenario(*sets):
    return load_scenario_text(BASE, "fidelity.yaml", sets)


def run(label, *sets, seed=1):
    sc = scenario(*sets)
    return simulate(sc, sc.strategy(label), seed, keep_world=True)


def world(*sets):
    return world_for(scenario(*sets), 1)


def events(w, text):
    return [(t, e) for t, e in w.rec.events if text in e]
