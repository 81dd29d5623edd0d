"""The opt-in pytest plugin (``pytest -p midair.pytest_plugin``), run as a user runs it, in a pytest of its own:
it collects a scenario directory's files with ``expect:`` as one test per strategy, runs their sweeps, fails
with the measured values, and with ``--midair-fuzz N`` fuzzes them instead."""

import os
import pathlib
import subprocess
import sys

from tests.tiny_scenarios import TINY, with_expect

REPO = pathlib.Path(__file__).resolve().parent.parent


def pytest_in(tmp_path, *argv):
    # only the plugin under test (no other installed plugin to start); the scenarios may name strategies in
    # tests.wrong_strategies
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "midair.pytest_plugin", "-p", "no:cacheprovider",
                           "-v", *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    return proc.returncode, proc.stdout


def test_a_scenario_directory_becomes_tests_that_fail_with_the_measured_values(tmp_path):
    d = tmp_path / "plans"
    d.mkdir()
    (d / "holds.yaml").write_text(with_expect("{metric: api_downtime_s, max: 100s}"))
    (d / "evicts.yaml").write_text(with_expect("{metric: pods_evicted, max: 0}", "{metric: completed, atLeast: 1}"))
    (d / "malformed.yaml").write_text(with_expect("{metric: completed, p95: 1}"))
    (d / "no-expectations.yaml").write_text(TINY)
    (d / "a-manifest.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    code, out = pytest_in(tmp_path, "--midair-scenarios", "plans", "-m", "midair", "--continue-on-collection-errors")
    assert code == 1
    results = sorted(line.split(" ")[0:2] for line in out.splitlines() if line.startswith("plans/"))
    assert results == [["plans/evicts.yaml::inplace", "PASSED"], ["plans/evicts.yaml::replace", "FAILED"],
                       ["plans/holds.yaml::inplace", "PASSED"], ["plans/holds.yaml::replace", "PASSED"]]
    failure = out.split("_ evicts.yaml, strategy replace _")[1]
    assert failure.split("\n\n")[0].splitlines()[1:] == [
        f"{d / 'evicts.yaml'}: strategy replace: 1 expectation(s) failed",
        "expectation                replace",
        "-----------------------  ---------",
        "pods_evicted: max 0         2 FAIL",
        "completed: atLeast 100%  100% PASS",
        "(expectations over 3 run(s) per strategy: 1 of 2 failed)"]
    # a malformed expectation is a collection error that names the file, the line and the field
    assert (f"{d / 'malformed.yaml'}:21: expect[0].p95: p95 does not apply to completed: it is a rate, the share of "
            "runs that completed; valid: atLeast, atMost") in out
    assert "1 failed, 3 passed, 1 error" in out


def test_midair_fuzz_fuzzes_each_strategy_and_fails_with_the_counterexample(tmp_path):
    # one apiserver: the API is down while it is upgraded, so the scenario's own run breaks the expectation
    (tmp_path / "plan.yaml").write_text(with_expect("{metric: api_downtime_s, max: 0}", text=TINY))
    code, out = pytest_in(tmp_path, "--midair-scenarios", "plan.yaml", "--midair-fuzz", "100", "-k", "inplace",
                          "--midair-database", "none", "--midair-out", "found")
    assert code == 1
    cx = tmp_path / "found" / "tiny-inplace" / "counterexample.yaml"
    assert ("counterexample: found/tiny-inplace/counterexample.yaml (trace: "
            "found/tiny-inplace/counterexample.trace)") in out
    assert "replay: midair fuzz found/tiny-inplace/counterexample.yaml --replay" in out
    assert "found after 1 example(s)):\n  - expectation: api_downtime_s: max 0s: this run measured 100s\n" in out
    assert cx.exists() and (cx.parent / "counterexample.trace").exists()
