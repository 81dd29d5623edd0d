"""A pytest plugin that turns scenario files with an ``expect:`` block into tests.

Opt-in: ``pytest -p midair.pytest_plugin --midair-scenarios PATHS``. Every file named, or
found under a directory named, that is a ``kind: Scenario`` with ``expect:`` entries gives
one test per strategy (``FILE::LABEL``, marked ``midair``). The test runs the strategy's
sweep (the scenario's runs and seed) and fails with the expectation table when one fails;
with ``--midair-fuzz N`` it fuzzes the strategy with N examples instead (``midair fuzz``)
and fails with what broke and where the counterexample was written.
"""

from __future__ import annotations

import os
import re

import pytest
import yaml

from sim import expectations
from sim.commands.fuzz import DEFAULT_DATABASE, VARY
from sim.scenario import InputError, check_source, load_scenario
from sim.sweep import Variant, executor_for, jobs, run_sweep

SUFFIXES = (".yaml", ".yml")


class MidairFailure(Exception):
    """A failed expectation or a found counterexample; its text is the whole report."""


def pytest_addoption(parser) -> None:
    group = parser.getgroup("midair", "midair: scenario expectations as tests")
    group.addoption("--midair-scenarios", action="append", default=[], metavar="PATHS",
                    help="scenario files or directories (comma-separated; repeatable): each scenario with an expect: "
                         "block is a test per strategy")
    group.addoption("--midair-fuzz", type=int, default=0, metavar="N",
                    help="fuzz each strategy with N examples (midair fuzz) instead of running its sweep")
    group.addoption("--midair-workers", type=int, default=1, metavar="N",
                    help="processes for each sweep (default 1)")
    group.addoption("--midair-out", default="midair-counterexamples", metavar="DIR",
                    help="where --midair-fuzz writes counterexamples, one directory per test")
    group.addoption("--midair-database", default=DEFAULT_DATABASE, metavar="DIR",
                    help=f"--midair-fuzz's example database (default {DEFAULT_DATABASE}); 'none' keeps none")


def _paths(config) -> list[str]:
    return [os.path.abspath(p.strip()) for arg in config.getoption("midair_scenarios") for p in arg.split(",")
            if p.strip()]


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "midair: a scenario's expectations, collected by --midair-scenarios")
    paths = _paths(config)
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        raise pytest.UsageError(f"--midair-scenarios: no such file or directory: {', '.join(missing)}")
    if config.getoption("midair_fuzz") < 0:
        raise pytest.UsageError("--midair-fuzz N: give 1 or more examples (0, the default, runs the sweeps)")
    config.args[:] = [*config.args, *(p for p in paths if p not in config.args)]


def _is_expecting_scenario(path: str) -> bool:
    """Is ``path`` a scenario file (one YAML mapping of ``kind: Scenario``) with ``expect:`` entries?"""
    try:
        with open(path, encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, dict) and data.get("kind") == "Scenario" and bool(data.get("expect"))


def pytest_collect_file(file_path, parent):
    if file_path.suffix not in SUFFIXES:
        return None
    path = str(file_path)
    named = _paths(parent.config)
    if path in named or (any(path.startswith(d + os.sep) for d in named if os.path.isdir(d))
                         and _is_expecting_scenario(path)):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self):
        try:
            scenario = load_scenario(str(self.path))
        except InputError as exc:
            raise self.CollectError("\n".join(str(p) for p in exc.problems)) from None
        if not scenario.expectations:
            raise self.CollectError(f"{self.path}: the scenario has no expect: entries to test")
        for spec in scenario.strategies:
            item = ScenarioItem.from_parent(self, name=spec.label, scenario=scenario, spec=spec)
            item.add_marker("midair")
            yield item


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario, spec, **kwargs):
        super().__init__(**kwargs)
        self.scenario = scenario
        self.spec = spec

    def runtest(self) -> None:
        if self.config.getoption("midair_fuzz"):
            self._fuzz(self.config.getoption("midair_fuzz"))
        else:
            self._sweep()

    def _sweep(self) -> None:
        s = self.scenario
        variant = Variant("", (), s)
        work = jobs([(variant, [self.spec])], s.runs, s.seed)
        rows = run_sweep([variant], work, executor_for("process", self.config.getoption("midair_workers"), None))
        found = expectations.verdicts([variant], rows)
        if expectations.failed(found):
            raise MidairFailure(f"{s.file}: strategy {self.spec.label}: {len(expectations.failed(found))} "
                                f"expectation(s) failed\n{expectations.format_text(expectations.to_json(found))}")

    def _fuzz(self, examples: int) -> None:
        from sim import fuzz
        from sim.scenario.export import source_document
        from sim.scenario.source import load_yaml_file

        s = self.scenario
        src = load_yaml_file(s.file)
        check_source(src)  # folds the timing files it names into src
        target, = fuzz.targets(source_document(src), s, [self.spec], s.file)
        db = self.config.getoption("midair_database")
        outcome = fuzz.fuzz(target, examples=examples, seed=s.seed, vary=VARY, database=None if db == "none" else db)
        if outcome.blocked:
            raise MidairFailure(f"{s.file}: strategy {self.spec.label}: the upgrade cannot start: {outcome.blocked}")
        if outcome.found is None:
            return
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{s.name}-{self.spec.label}")
        out = os.path.join(self.config.getoption("midair_out"), slug)
        os.makedirs(out, exist_ok=True)
        path, trace = fuzz.write_counterexample(outcome, target, out, s.seed)
        broke = "\n".join(f"  - {b.describe()}" for b in outcome.found.breaches)
        raise MidairFailure(f"{s.file}: strategy {self.spec.label}: a run breaks what must hold (found after "
                            f"{outcome.tried} example(s)):\n{broke}\ncounterexample: {path} (trace: {trace})\n"
                            f"replay: midair fuzz {path} --replay")

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, MidairFailure):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}, strategy {self.name}"
