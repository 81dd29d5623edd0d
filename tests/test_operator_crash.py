"""The upgrade operator may die at any moment and resume from its journal: the cluster ends the same,
and no action is applied twice."""

from hypothesis import given, settings
from hypothesis import strategies as st

from sim.scenario import load_scenario
from sim.simulate import simulate
from tests.conftest import examples
from tests.world_state import applied, final_state

SEED = 11

LABELS = ("inplace", "replace", "surge", "bluegreen")


def run(label, faults="[]"):
    # db on network storage, so that blue-green can move it (its local volume would roll the upgrade back)
    scenario = load_scenario("scenarios/seed-example.yaml", [f"faults={faults}", f"strategies=[{{name: {label}}}]",
                                                             "workloads[name=db].localStorage=false"])
    return simulate(scenario, scenario.strategy(label), SEED, keep_world=True)


BASE = {label: run(label) for label in LABELS}


@settings(max_examples=examples(20))
@given(label=st.sampled_from(LABELS), fraction=st.floats(0.0, 0.98), delay=st.sampled_from([5, 90, 600]))
def test_crash_at_any_time_ends_in_the_same_state_without_repeating(label, fraction, delay):
    base = BASE[label]
    at = round(fraction * base.metrics["duration_s"], 1)
    r = run(label, f"[{{type: operator-crash, at: {at}s, delay: {delay}s}}]")
    assert r.completed, r.halted
    assert any(text.startswith("the operator crashed") for _, text in r.world.rec.events)
    assert final_state(r.world) == final_state(base.world)
    assert applied(r) == applied(base)
