"""The stateful test of the reconcile loop (``sim.testing.machine``): the built-in strategies keep the
reference model through any order of decisions, time, faults and operator crashes, and a strategy that
repeats work or upgrades a kubelet first on a resumed run is caught."""

import re

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from sim.testing.machine import UpgradeLoopMachine
from tests.conftest import examples
from tests.tiny_scenarios import TINY, TWO_HOPS

LOOP = settings(max_examples=examples(20), stateful_step_count=50, deadline=None)


class InPlaceLoop(UpgradeLoopMachine):
    scenario_text = TINY
    strategy = "inplace"


class ReplaceLoop(UpgradeLoopMachine):
    scenario_text = TINY
    strategy = "replace"


class SurgeOnTheShippedScenario(UpgradeLoopMachine):  # a strategy the scenario does not name, by name
    scenario_file = "scenarios/seed-example.yaml"
    strategy = "surge"


TestInPlaceLoop = InPlaceLoop.TestCase
TestInPlaceLoop.settings = LOOP
TestReplaceLoop = ReplaceLoop.TestCase
TestReplaceLoop.settings = LOOP
TestSurgeOnTheShippedScenario = SurgeOnTheShippedScenario.TestCase
TestSurgeOnTheShippedScenario.settings = LOOP

CAUGHT = [
    ("repeats-an-inplace-upgrade", TINY, "tests.wrong_strategies:UpgradesTwice",
     r"repeat at [\d.]+s: UpgradeNodeInPlace node/general-[12] to 1\.30\.4 applied again: general-[12] already runs "
     r"kubelet 1\.30\.4"),
    ("kubelet-first-on-a-resumed-run", TWO_HOPS, "tests.wrong_strategies:ResumesAtWorkers",
     r"skew at [\d.]+s: the strategy asked for UpgradeNodeInPlace node/general-[12] to 1\.30\.4, which the "
     r"version-skew policy refused: .*\(kubelet-newer-than-apiserver\)"),
]


@pytest.mark.parametrize("text, strategy, message", [c[1:] for c in CAUGHT], ids=[c[0] for c in CAUGHT])
def test_a_wrong_strategy_breaks_the_reference_model(text, strategy, message):
    machine = type("Loop", (UpgradeLoopMachine,), {"scenario_text": text, "strategy": strategy})
    with pytest.raises(AssertionError) as caught:
        run_state_machine_as_test(machine, settings=settings(
            max_examples=100, stateful_step_count=50, deadline=None, database=None, derandomize=True,
            phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
    assert re.match(message, str(caught.value)), str(caught.value)


def test_a_machine_without_a_scenario_says_what_to_set():
    with pytest.raises(TypeError, match="Unset: set scenario_file or scenario_text"):
        type("Unset", (UpgradeLoopMachine,), {}).load()
