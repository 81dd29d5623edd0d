"""Decision logs of fixed runs, compared line by line with golden files.

A change in behaviour shows up as a diff of what was decided, when, and why. After an
intended change, regenerate with: MIDAIR_UPDATE_GOLDEN=1 make test
"""

import os
import pathlib

import pytest

from sim.scenario import load_scenario
from sim.simulate import simulate

GOLDEN = pathlib.Path(__file__).parent / "golden"
CASES = [("seed-example", "inplace"), ("seed-example", "replace"), ("quickstart", "inplace"), ("quickstart", "replace"),
         ("quickstart", "surge"), ("quickstart", "bluegreen")]
EXTRA = {"surge": ["strategies=[{name: surge, maxSurge: 2, maxUnavailable: 1}]"],
         "bluegreen": ["strategies=[{name: bluegreen, drainBatch: 2, soakSeconds: 2m}]", "faults=[]",
                       "workloads[name=cache].localStorage=false", "workloads[name=db].localStorage=false"]}


def decision_log(scenario_name: str, label: str) -> str:
    scenario = load_scenario(f"scenarios/{scenario_name}.yaml", EXTRA.get(label, []))
    result = simulate(scenario, scenario.strategy(label), seed=1)
    lines = [e.line() for e in result.log]
    lines.append(f"# completed={result.completed} halted={result.halted} duration_s={result.metrics['duration_s']}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("scenario_name, label", CASES, ids=[f"{s}-{l}" for s, l in CASES])
def test_decision_log_matches_golden(scenario_name, label):
    path = GOLDEN / f"{scenario_name}-{label}.log"
    text = decision_log(scenario_name, label)
    if os.environ.get("MIDAIR_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text()
