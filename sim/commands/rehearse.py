"""The rest of an ``apply`` dry run, rehearsed in simulation.

A dry run against the live cluster can show only the first decision: nothing changes,
so the strategy would decide the same again. To show the whole sequence, the observed
state becomes a scenario (as ``midair snapshot`` writes it) and the same strategy runs
on a simulated copy, with the scenario's timing and no faults.
"""

from __future__ import annotations

from dataclasses import replace

from models.state import ClusterState
from sim.scenario import Scenario, load_scenario_text
from sim.scenario.export import scenario_from_state, to_yaml
from sim.scenario.model import StrategySpec
from sim.simulate import simulate


def rehearse(state: ClusterState, scenario: Scenario, spec: StrategySpec, seed: int = 0) -> list[str]:
    """The decision log of ``spec`` on a simulated copy of ``state``, and how it ended."""
    data = scenario_from_state(state, scenario.name, scenario.target, description="the live state, observed")
    copy = load_scenario_text(to_yaml(data, ""), "<live state>")
    copy = replace(copy, strategies=(spec,), faults=(), timing=scenario.timing, prechecks="ignore",
                   safety=scenario.safety, horizon_s=None)
    result = simulate(copy, spec, seed)
    lines = [e.line() for e in result.log]
    end = "completes" if result.completed else f"halts: {result.halted}"
    lines.append(f"# in simulation the upgrade {end} after {result.metrics['duration_s']:g}s "
                 f"(outage {result.metrics['outage_s']:g}s, {result.metrics['pods_evicted']:g} pod(s) evicted)")
    return lines
