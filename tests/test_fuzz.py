"""``midair fuzz`` as a user runs it: it catches each deliberately wrong strategy within the
default example budget with a counterexample that validates and replays, leaves the built-in
strategies on the shipped scenarios alone, is deterministic for a seed, remembers what it
found, and refuses bad input with exit code 2."""

import io
import re
import sys

import pytest

from sim.cli import main
from sim.commands.fuzz import DEFAULT_EXAMPLES
from tests.conftest import examples
from tests.tiny_scenarios import TINY, with_expect, with_strategy

SKEW = (r"skew at [\d.]+s \(\d+ times, the last at [\d.]+s\): the strategy asked for UpgradeNodeInPlace "
        r"node/general-[12] to 1\.30\.4, which the version-skew policy refused: UpgradeNodeInPlace node/general-[12] "
        r"to 1\.30\.4: kubelet 1\.30\.4 \(general-[12]\) is newer than the oldest kube-apiserver \(1\.2[89]\.\d+\); it "
        r"must not be newer \(kubelet-newer-than-apiserver\)")
WRONG = [
    ("drains-past-budget-under-a-node-crash", "{name: 'tests.wrong_strategies:DrainsPastBudget', maxSurge: 2}",
     r"budget: 1 voluntary disruption\(s\) took a workload below its PodDisruptionBudget, and the strategy was not "
     r"told to force \(undrainable: force, drain.disableEviction or terminationGracePeriod\)", "node-crash"),
    ("kubelet-first-on-a-resumed-run", "{name: 'tests.wrong_strategies:ResumesAtWorkers'}", SKEW, "operator-crash"),
    ("never-uncordons-after-a-failed-step", "{name: 'tests.wrong_strategies:NeverUncordons', maxUnavailable: 2}",
     r"ending at [\d.]+s: the run completed but left general-[12](, general-2)? cordoned; every node the upgrade took "
     r"out of service must be back in service", "(inplace-step-failure|node-crash)"),  # a crash mid-upgrade fails it
]


def fuzz(capsys, *argv):
    code = main(["fuzz", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("entry, broke, fault", [c[1:] for c in WRONG], ids=[c[0] for c in WRONG])
def test_each_wrong_strategy_is_caught_within_the_default_budget(tmp_path, capsys, entry, broke, fault):
    scenario = tmp_path / "plan.yaml"
    scenario.write_text(with_strategy(entry))
    code, out, _ = fuzz(capsys, str(scenario), "--no-database", "--out", str(tmp_path))
    assert code == 1
    lines = out.splitlines()
    found = re.fullmatch(r"fuzz two-hops: strategy (\S+): a run breaks what must hold \(found after (\d+) example\(s\), "
                         r"shrunk in \d+ step\(s\)\):", lines[0])
    assert found and int(found[2]) <= DEFAULT_EXAMPLES, lines[0]
    assert re.fullmatch(rf"  - {broke}", lines[1]), lines[1]
    cx = tmp_path / "counterexample.yaml"
    assert lines[2:] == [f"counterexample: {cx} (trace: {tmp_path / 'counterexample.trace'})",
                         f"replay: midair fuzz {cx} --replay",
                         f"trace:  midair trace {cx} --strategy {found[1]} --events"]
    text = cx.read_text()
    assert f"#   - {lines[1][4:]}\n" in text  # the comment says what broke
    assert re.search(rf"#   - faults\[0\] added: \{{.*type: {fault}.*\}}\n", text), text.split("apiVersion")[0]
    assert main(["validate", str(cx)]) == 0
    capsys.readouterr()
    code, out, _ = fuzz(capsys, str(cx), "--replay")  # the counterexample reproduces the failure
    assert code == 1
    assert out.splitlines()[1] == lines[1]
    assert "# completed" in (tmp_path / "counterexample.trace").read_text() or "# halted" in (
        tmp_path / "counterexample.trace").read_text()


SHIPPED = [("seed-example", s) for s in ("inplace", "replace", "surge", "bluegreen")] + [
    ("quickstart", s) for s in ("inplace", "replace", "surge", "bluegreen")]


@pytest.mark.parametrize("name, strategy", SHIPPED, ids=[f"{n}-{s}" for n, s in SHIPPED])
def test_the_builtin_strategies_on_the_shipped_scenarios_are_not_flagged(tmp_path, capsys, name, strategy):
    n = examples(10)
    code, out, _ = fuzz(capsys, f"scenarios/{name}.yaml", "--set", f"strategies=[{{name: {strategy}}}]",
                        "--examples", str(n), "--seed", "7", "--no-database", "--out", str(tmp_path))
    assert (code, out) == (
        0, f"fuzz {name}: strategy {strategy}: {n} example(s) tried; none broke an expectation or an invariant\n")


def test_a_scenario_the_prechecks_block_has_nothing_to_fuzz(capsys):
    code, out, _ = fuzz(capsys, "scenarios/precheck-gallery.yaml", "--strategy", "inplace", "--no-database")
    assert code == 1
    assert out.startswith("fuzz precheck-gallery: strategy inplace: the upgrade cannot start, so there is nothing to "
                          "fuzz: blocked by ")


def test_the_search_is_deterministic_for_a_seed(tmp_path, capsys):
    scenario = tmp_path / "plan.yaml"
    scenario.write_text(with_strategy(WRONG[0][1]))
    texts = []
    for k in range(2):
        out = tmp_path / f"out{k}"
        out.mkdir()
        assert fuzz(capsys, str(scenario), "--no-database", "--out", str(out), "--seed", "1")[0] == 1
        texts.append((out / "counterexample.yaml").read_text().replace(str(out), "OUT"))
    assert texts[0] == texts[1]


def test_what_was_found_is_tried_first_next_time(tmp_path, capsys):
    scenario = tmp_path / "plan.yaml"
    scenario.write_text(with_strategy(WRONG[0][1]))
    db = tmp_path / "db"
    first = fuzz(capsys, str(scenario), "--database", str(db), "--out", str(tmp_path))
    again = fuzz(capsys, str(scenario), "--database", str(db), "--out", str(tmp_path))
    assert (first[0], again[0]) == (1, 1)
    tried = [int(re.search(r"found after (\d+) example", r[1])[1]) for r in (first, again)]
    assert tried[0] > 1 and tried[1] == 1, tried


def test_none_found_says_how_many_examples_were_tried(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    code, out, _ = fuzz(capsys, str(scenario), "--strategy", "inplace", "--examples", "12", "--no-database",
                        "--vary", "timing")
    assert (code, out) == (
        0, "fuzz tiny: strategy inplace: 12 example(s) tried; none broke an expectation or an invariant\n")


def test_a_broken_expectation_is_a_counterexample(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(with_expect("{metric: api_downtime_s, max: 99s}"))
    code, out, _ = fuzz(capsys, str(scenario), "--strategy", "replace", "--no-database", "--out", str(tmp_path))
    assert code == 1
    head, broke = out.splitlines()[:2]
    assert re.fullmatch(r"fuzz tiny: strategy replace: a run breaks what must hold \(found after 1 example\(s\), "
                        r"shrunk in \d+ step\(s\)\):", head), head  # the scenario's own run 0 breaks it
    assert broke == "  - expectation: api_downtime_s: max 99s: this run measured 100s"
    assert "#   - nothing but the seed\n" in (tmp_path / "counterexample.yaml").read_text()


def test_replay_of_a_run_that_holds(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(with_expect("{metric: api_downtime_s, max: 100s}"))
    code, out, _ = fuzz(capsys, str(scenario), "--replay")
    assert (code, out) == (0, "inplace: run 0 (seed 3724698793242690614) keeps every expectation and invariant\n"
                              "replace: run 0 (seed 3724698793242690614) keeps every expectation and invariant\n")


def test_a_progress_bar_while_searching(tmp_path, capsys, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    fake = Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    assert main(["fuzz", str(scenario), "--strategy", "inplace", "--examples", "3", "--no-database"]) == 0
    assert "fuzz tiny: inplace" in fake.getvalue()


BAD = [
    ("unknown-vary", ["--vary", "faults,meteors"], "midair fuzz: --vary faults,meteors: unknown: meteors; valid: faults, "
                                                   "timing, cluster, comma-separated"),
    ("no-examples", ["--examples", "0"], "midair fuzz: --examples 0: give 1 or more"),
    ("no-such-strategy", ["--strategy", "canary"], "midair fuzz: --strategy canary: the scenario has none by that name "
                                                   "(it has: inplace, replace), and unknown strategy 'canary'; known: "
                                                   "bluegreen, inplace, karpenter-drift, replace, surge (or a class as module:attr)"),
    ("no-out-dir", ["--out", "/nonexistent/dir"], "midair fuzz: --out /nonexistent/dir: no such directory"),
]


@pytest.mark.parametrize("argv, message", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_is_exit_2_with_one_clear_line(tmp_path, capsys, argv, message):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    assert fuzz(capsys, str(scenario), "--no-database", *argv) == (2, "", message + "\n")


def test_a_bad_scenario_is_exit_2_with_its_line(tmp_path, capsys):
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(with_expect("{metric: completed, p95: 1}"))
    code, out, err = fuzz(capsys, str(scenario))
    assert (code, out, err) == (2, "", f"{scenario}:21: expect[0].p95: p95 does not apply to completed: it is a rate, "
                                       "the share of runs that completed; valid: atLeast, atMost\n")
