"""Helpers shared by the commands: reading versions, scenarios, strategies and field options from arguments."""

from __future__ import annotations

import argparse

from models import compat
from models.version import KubeVersion
from sim.errors import UsageError
from sim.scenario import Scenario, load_scenario
from sim.scenario.build import strategy_by_name
from sim.scenario.model import StrategySpec


def version_arg(text: str, option: str) -> KubeVersion:
    try:
        v = KubeVersion.parse(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None
    problem = compat.version_problem(v)
    if problem:
        raise UsageError(f"{option}: {problem}")
    return v


def versions_arg(texts: list[str] | None, option: str) -> list[KubeVersion]:
    """Versions from repeated and comma-separated options; an empty item is an error."""
    out = []
    for text in texts or ():
        for part in text.split(","):
            if not part.strip():
                raise UsageError(f"{option} {text!r}: an empty version in the list; give versions separated by "
                                 "commas, e.g. 1.28,1.29")
            out.append(version_arg(part.strip(), option))
    return out


def add_set_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="PATH=VALUE",
                        help="override a scenario field, e.g. --set cluster.controlPlane.apiservers=1 (repeatable)")


def add_timing_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timing", metavar="FILE", help="a timing file (midair calibrate writes one) over the "
                                                         "scenario's own timing; --set still wins")


def scenario_from(args: argparse.Namespace, path: str) -> Scenario:
    return load_scenario(path, args.sets, getattr(args, "timing", None))


def strategies_named(scenario: Scenario | None, names: list[str] | None, pools=None) -> list[StrategySpec]:
    """What ``--strategy NAME`` means for every command: the scenario's entries with that label,
    else with that strategy name, else any built-in or registered strategy or preset with its
    defaults. No names: the scenario's strategies."""
    entries = list(scenario.strategies) if scenario else []
    if not names:
        return entries
    chosen: list[StrategySpec] = []
    for name in names:
        matches = [s for s in entries if s.label == name] or [s for s in entries if s.name == name]
        if not matches:
            try:
                matches = [strategy_by_name(name, list(pools if pools is not None else scenario.cluster.pools))]
            except ValueError as exc:
                have = f"the scenario has none by that name (it has: {', '.join(s.label for s in entries)}), and " \
                    if entries else ""
                raise UsageError(f"--strategy {name}: {have}{str(exc).removeprefix(f'--strategy {name}: ')}") from None
        chosen += [m for m in matches if m not in chosen]
    return chosen


def field_option(value, field: str, option: str):
    """The value of an option that stands for a scenario field (``--runs``, ``--seed``), checked
    as that field is, so that the option and ``--set FIELD=...`` accept the same values."""
    from sim.scenario.fields import SCENARIO
    from sim.scenario.schema import Checker
    from sim.scenario.source import Source

    ck = Checker(Source(option, None, origin={(): option}))
    checked = SCENARIO.fields[field].spec.check(value, (), ck)
    if ck.problems:
        raise UsageError(f"{option} {value}: {ck.problems[0].message}")
    return checked


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """``--json``, as documented before ``-o`` existed: the same as ``-o json``."""
    parser.add_argument("--json", action="store_true", help="the same as -o json")


def output_format(args: argparse.Namespace) -> str:
    return "json" if getattr(args, "json", False) is True else args.output
