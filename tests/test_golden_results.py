"""Every shipped scenario's results, and a 60-node cluster's under every strategy, compared byte for byte
with golden files: speed-ups must come from the implementation, not from a changed model.

Each line of a golden file is one run's results as results.json holds it (keys sorted). After an
intended change of behaviour, regenerate with: MIDAIR_UPDATE_GOLDEN=1 make test, and say in the commit
why the numbers moved.
"""

import json
import os
import pathlib

import pytest

from sim.scenario import load_scenario, load_scenario_text
from sim.sweep import SerialExecutor, Variant, jobs, run_sweep

GOLDEN = pathlib.Path(__file__).parent / "golden" / "results"
SHIPPED = sorted(p.stem for p in pathlib.Path("scenarios").glob("*.yaml") if p.stem != "precheck-gallery")
RUNS = 3
STRATEGIES = ("strategies=[{name: inplace, maxUnavailable: 10%}, {name: replace, maxSurge: 10%, maxUnavailable: 0}, "
              "{name: surge, maxSurge: 10%, maxUnavailable: 0}, {name: bluegreen}]")


def lines(scenario) -> str:
    variant = Variant("", (), scenario)
    rows = run_sweep([variant], jobs([(variant, scenario.strategies)], RUNS, scenario.seed), SerialExecutor())
    return "".join(json.dumps(r.data, sort_keys=True) + "\n" for r in rows)


def check(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.jsonl"
    if os.environ.get("MIDAIR_UPDATE_GOLDEN"):
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_scenario_gives_its_golden_results(name):
    check(name, lines(load_scenario(f"scenarios/{name}.yaml")))


SIXTY = """apiVersion: midair/v1alpha1
kind: Scenario
metadata: {name: scale-60}
cluster:
  version: "1.29.4"
  controlPlane: {apiservers: 3}
  nodePools:
    - {name: general, count: 60, cpu: "16", memory: 64Gi, maxPods: 110, zones: [a, b, c]}
  addons: {corednsReplicas: 0}
workloads:
""" + "".join(f"  - {{name: app-{i}, replicas: 300, cpu: 100m, memory: 128Mi, pdb: {{maxUnavailable: 10%}}, "
              f"startupSeconds: 5}}\n" for i in range(6)) + """target: "1.29.8"
faults:
  - {type: node-crash, rate: 0.5, duration: {uniform: [2m, 10m]}}
  - {type: provision-failure, probability: 0.05}
"""


def test_sixty_nodes_under_every_strategy_give_their_golden_results():
    check("scale-60", lines(load_scenario_text(SIXTY, "scale-60", [STRATEGIES])))
