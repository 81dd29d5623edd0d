"""The collector's thresholds while a run lasts, and as they are left afterwards."""

import gc

from sim.collector import YOUNG_THRESHOLD, run_collection
from sim.scenario import load_scenario
from sim.simulate import simulate


def test_a_run_collects_the_youngest_generation_less_often_and_restores_the_thresholds():
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 11, 12)
        with run_collection():
            assert gc.get_threshold() == (YOUNG_THRESHOLD, 11, 12)
        assert gc.get_threshold() == (700, 11, 12)
        gc.set_threshold(50_000, 11, 12)  # a caller that already collects less often keeps its setting
        with run_collection():
            assert gc.get_threshold() == (50_000, 11, 12)
        assert gc.get_threshold() == (50_000, 11, 12)
    finally:
        gc.set_threshold(*before)


def test_the_thresholds_are_restored_when_the_block_raises():
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        try:
            with run_collection():
                raise RuntimeError("boom")
        except RuntimeError:
            pass
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)


def test_simulate_leaves_the_thresholds_as_it_found_them():
    scenario = load_scenario("scenarios/quickstart.yaml")
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        seen = []
        orig = scenario.strategies[0]
        result = simulate(scenario, orig, seed=1, wrap_port=lambda port: seen.append(gc.get_threshold()) or port)
        assert result.completed is True
        assert seen == [(YOUNG_THRESHOLD, 10, 10)]
        assert gc.get_threshold() == (700, 10, 10)
    finally:
        gc.set_threshold(*before)
