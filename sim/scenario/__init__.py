"""Scenario files: load, check and build them into a ``Scenario``.

Lives here: the YAML source with line numbers (``source``), the schema engine
(``schema``), the scenario format (``fields``), timing from other files (``timing_files``:
profiles, includes, ``--timing``), the builders (``cluster``, ``workloads``, ``faults``,
``expect``, ``build``), which check the rules across fields as far as the good values allow, so
that every problem of a file is reported at once, and the writer (``export``).
May import ``models``, PyYAML, ``sim.adapters.hooks`` (to check hook templates) and
``sim.metrics`` (the metric names an ``expect:`` entry may bound); never simpy, matplotlib or
a Kubernetes client.
"""

from __future__ import annotations

from collections.abc import Iterable

from sim.scenario.build import build_scenario
from sim.scenario.fields import SCENARIO
from sim.scenario.model import Dist, FaultSpec, Scenario, StrategySpec, Timing
from sim.scenario.schema import Checker
from sim.scenario.source import InputError, Problem, Source, apply_set, load_yaml_file, parse_yaml
from sim.scenario.timing_files import resolve_timing

__all__ = ["load_scenario", "load_scenario_text", "check_source", "InputError", "Problem", "Scenario",
           "StrategySpec", "FaultSpec", "Timing", "Dist"]


def check_source(src: Source, timing_file: str | None = None) -> Scenario:
    """Check a parsed scenario (its timing files folded in) and build it; raise ``InputError`` with
    every problem found."""
    resolve_timing(src, timing_file)
    ck = Checker(src)
    data = SCENARIO.check(src.data, (), ck)
    scenario = None
    if isinstance(data, dict):
        scenario = build_scenario(data, ck, src.file)
    if ck.problems or scenario is None:
        problems = sorted(ck.problems, key=lambda p: (p.file != src.file, p.line or 0))
        raise InputError(problems or [src.problem((), "the scenario could not be built")])
    return scenario


Override = str | tuple[str, str]  # PATH=VALUE, or (the argument it came from, PATH=VALUE)


def _apply(src: Source, sets: Iterable[Override]) -> Source:
    for assignment in sets:
        if isinstance(assignment, tuple):
            apply_set(src, assignment[1], assignment[0])
        else:
            apply_set(src, assignment)
    return src


def load_scenario(path: str, sets: Iterable[Override] = (), timing: str | None = None) -> Scenario:
    """Load the scenario file at ``path`` with ``--set`` overrides applied, and the timing file
    ``timing`` (``--timing``) over its own timing; an override given as ``(argument, PATH=VALUE)``
    names that argument in its problems (``--grid ...``)."""
    return check_source(_apply(load_yaml_file(path), sets), timing)


def load_scenario_text(text: str, file: str = "<scenario>", sets: Iterable[Override] = ()) -> Scenario:
    return check_source(_apply(parse_yaml(text, file), sets))
