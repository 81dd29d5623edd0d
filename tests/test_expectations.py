"""Expectations: checked on load with FILE:LINE errors, measured exactly over runs, and turned
into a table, results.json entries, a report section and an exit code by run and sweep."""

import json

import pytest

from models.expectations import Expectation, evaluate, measure
from sim.cli import main
from sim.metrics import METRIC_NAMES
from sim.scenario import InputError, load_scenario, load_scenario_text
from sim.scenario.expect import per_workload_metrics
from sim.simulate import simulate
from tests.tiny_scenarios import TINY, with_expect


def problems(tmp_path, *entries):
    f = tmp_path / "s.yaml"
    f.write_text(with_expect(*entries))
    with pytest.raises(InputError) as err:
        load_scenario(str(f))
    return [str(p).replace(str(f), "s.yaml") for p in err.value.problems]


ERRORS = [
    # the valid names are the simulator's own lists, whatever they hold today
    ("unknown-metric", "{metric: outage, max: 0}",
     f"s.yaml:21: expect[0].metric: unknown metric 'outage'; did you mean 'outage_s'? valid: {', '.join(METRIC_NAMES)} "
     "(docs/metrics.md)"),
    ("no-per-workload-breakdown", "{metric: api_downtime_s, workload: web, max: 0}",
     "s.yaml:21: expect[0].workload: api_downtime_s has no per-workload breakdown; the metrics a run reports per "
     f"workload: {', '.join(per_workload_metrics())}"),
    ("no-such-workload", "{metric: outage_s, workload: checkout, max: 0}",
     "s.yaml:21: expect[0].workload: no workload named 'checkout'; valid: web (or namespace/name)"),
    ("misspelt-workload", "{metric: outage_s, workload: wbe, max: 0}",
     "s.yaml:21: expect[0].workload: no workload named 'wbe'; did you mean 'web'? valid: web (or namespace/name)"),
    ("p95-on-a-rate", "{metric: completed, p95: 1}",
     "s.yaml:21: expect[0].p95: p95 does not apply to completed: it is a rate, the share of runs that completed; "
     "valid: atLeast, atMost"),
    ("atLeast-on-seconds", "{metric: outage_s, atLeast: 1}",
     "s.yaml:21: expect[0].atLeast: atLeast is for rates (completed, halted); outage_s is a duration in seconds per "
     "run, bounded by a statistic over the runs; valid: max, p95, p50, mean"),
    ("no-bound", "{metric: outage_s}", "s.yaml:21: expect[0]: give a bound on outage_s: one of max, p95, p50, mean"),
    ("two-bounds", "{metric: outage_s, max: 1, p95: 2}",
     "s.yaml:21: expect[0].p95: give one bound per entry, not both max and p95; write a second entry for the "
     "second bound"),
    ("rate-as-a-whole-percent", "{metric: completed, atLeast: 99}",
     "s.yaml:21: expect[0].atLeast: expected a share of runs such as \"99%\" or 0.99 (0 to 1), got 99"),
    ("seconds-not-a-duration", "{metric: outage_s, max: soon}",
     "s.yaml:21: expect[0].max: outage_s is a duration in seconds; expected a duration such as 0, 90s or 5m, "
     "got 'soon'"),
    ("negative-count", "{metric: pods_evicted, max: -1}",
     "s.yaml:21: expect[0].max: pods_evicted is a count; expected a number of 0 or more, got -1"),
    ("unknown-field", "{metric: outage_s, maximum: 1}",
     "s.yaml:21: expect[0].maximum: unknown field 'maximum'; did you mean 'max'? valid fields here: metric, workload, max, p95, p50, "
     "mean, atLeast, atMost"),
    ("metric-missing", "{max: 1}",
     "s.yaml:21: expect[0].metric: missing required field 'metric' (text)"),
]


@pytest.mark.parametrize("entry, message", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_malformed_expectations_are_one_clear_error_with_the_line(tmp_path, entry, message):
    assert problems(tmp_path, entry) == [message]


def test_a_workload_in_two_namespaces_must_be_named_with_its_namespace(tmp_path):
    text = TINY.replace("workloads:\n", "workloads:\n  - {name: web, namespace: shop, replicas: 1}\n")
    f = tmp_path / "s.yaml"
    f.write_text(with_expect("{metric: outage_s, workload: web, max: 0}", text=text))
    with pytest.raises(InputError) as err:
        load_scenario(str(f))
    assert [p.message for p in err.value.problems] == [
        "'web' names a workload in more than one namespace; write namespace/name: shop/web, default/web"]
    ok = load_scenario_text(with_expect("{metric: outage_s, workload: shop/web, max: 0}", text=text))
    assert ok.expectations == (Expectation("outage_s", "max", 0.0, "shop/web"),)


LOADED = [
    ("seconds-as-a-duration", "{metric: degraded_s, workload: web, p95: 5m}",
     Expectation("degraded_s", "p95", 300.0, "default/web"), "degraded_s of default/web: p95 5m"),
    ("rate-as-a-percent", '{metric: completed, atLeast: "99%"}', Expectation("completed", "atLeast", 0.99),
     "completed: atLeast 99%"),
    ("rate-as-a-fraction", "{metric: halted, atMost: 0.05}", Expectation("halted", "atMost", 0.05),
     "halted: atMost 5%"),
    ("count", "{metric: pdb_violations, max: 0}", Expectation("pdb_violations", "max", 0.0), "pdb_violations: max 0"),
    ("hours", "{metric: node_hours, mean: 1.5}", Expectation("node_hours", "mean", 1.5), "node_hours: mean 1.5h"),
    ("workload-by-key", "{metric: outage_s, workload: default/web, p50: 0}",
     Expectation("outage_s", "p50", 0.0, "default/web"), "outage_s of default/web: p50 0s"),
]


@pytest.mark.parametrize("entry, expected, described", [c[1:] for c in LOADED], ids=[c[0] for c in LOADED])
def test_expectations_load_in_the_units_of_their_metric(entry, expected, described):
    (e,) = load_scenario_text(with_expect(entry)).expectations
    assert (e, e.describe()) == (expected, described)


def test_the_per_workload_metrics_are_what_a_run_reports_per_workload():
    scenario = load_scenario_text(TINY)
    result = simulate(scenario, scenario.strategies[0], 1)
    assert per_workload_metrics() == tuple(result.workloads["default/web"])


def run_of(value=0.0, completed=True, halted=None, web=None):
    out = {"metrics": {"outage_s": value, "completed": completed, "halted": halted}}
    if web is not None:
        out["workloads"] = {"default/web": {"outage_s": web}}
    return out


MEASURED = [
    ("max", Expectation("outage_s", "max", 4.0), [run_of(0), run_of(5), run_of(3)], 5.0, False),
    ("p95-interpolates", Expectation("outage_s", "p95", 10.0), [run_of(0), run_of(10)], 9.5, True),
    ("p50-of-an-even-count", Expectation("outage_s", "p50", 2.0), [run_of(v) for v in (4, 1, 3, 2)], 2.5, False),
    ("mean-rounded-to-3", Expectation("outage_s", "mean", 1.0), [run_of(0), run_of(1), run_of(1)], 0.667, True),
    ("completed-share", Expectation("completed", "atLeast", 0.99),
     [run_of(), run_of(), run_of(completed=False), run_of()], 0.75, False),
    ("halted-share", Expectation("halted", "atMost", 0.25),
     [run_of(), run_of(halted="drain timed out"), run_of(), run_of()], 0.25, True),
    ("per-workload", Expectation("outage_s", "max", 0.0, "default/web"), [run_of(9, web=0), run_of(9, web=2)], 2.0,
     False),
    ("per-workload-of-an-unstarted-run", Expectation("outage_s", "max", 0.0, "default/web"), [run_of(0)], 0.0, True),
]


@pytest.mark.parametrize("exp, runs, value, passed", [c[1:] for c in MEASURED], ids=[c[0] for c in MEASURED])
def test_measured_over_runs(exp, runs, value, passed):
    assert measure(exp, runs) == value
    (verdict,) = evaluate([exp], "inplace", runs)
    assert (verdict.value, verdict.passed, verdict.runs) == (value, passed, len(runs))


def write(tmp_path, *entries):
    f = tmp_path / "tiny.yaml"
    f.write_text(with_expect(*entries))
    return str(f)


def test_run_exits_1_naming_the_failed_expectation_and_writes_the_table_to_results_json(tmp_path, capsys):
    path = write(tmp_path, "{metric: api_downtime_s, max: 99s}", "{metric: pods_evicted, max: 0}",
                 '{metric: completed, atLeast: "100%"}')
    out_json = tmp_path / "r.json"
    code = main(["run", path, "--json", str(out_json)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.split("(mean / p95 per metric; seconds for *_s)\n\n")[1] == (
        "expectation                inplace    replace\n"
        "-----------------------  ---------  ---------\n"
        "api_downtime_s: max 99s  100s FAIL  100s FAIL\n"
        "pods_evicted: max 0         0 PASS     2 FAIL\n"
        "completed: atLeast 100%  100% PASS  100% PASS\n"
        "(expectations over 3 run(s) per strategy: 3 of 6 failed)\n")
    assert err.splitlines()[-3:] == [
        "midair: expectation failed: inplace: api_downtime_s: max 99s: measured 100s, FAIL",
        "midair: expectation failed: replace: api_downtime_s: max 99s: measured 100s, FAIL",
        "midair: expectation failed: replace: pods_evicted: max 0: measured 2, FAIL"]
    data = json.loads(out_json.read_text())
    assert list(data) == ["midair_version", "scenario", "root_seed", "expectations", "runs"]
    assert data["expectations"][3] == {"strategy": "replace", "expectation": "api_downtime_s: max 99s",
                                       "metric": "api_downtime_s", "workload": None, "bound": "max", "limit": 99.0,
                                       "value": 100.0, "runs": 3, "passed": False}
    assert [(e["strategy"], e["metric"], e["passed"]) for e in data["expectations"]] == [
        ("inplace", "api_downtime_s", False), ("inplace", "pods_evicted", True), ("inplace", "completed", True),
        ("replace", "api_downtime_s", False), ("replace", "pods_evicted", False), ("replace", "completed", True)]


@pytest.mark.parametrize("argv, code", [([], 0), (["--no-fail"], 0), (["--set", "expect[0].max=99"], 1),
                                        (["--set", "expect[0].max=99", "--no-fail"], 0)],
                         ids=["all-hold", "no-fail-when-all-hold", "one-fails", "no-fail-keeps-0"])
def test_run_exit_codes(tmp_path, capsys, argv, code):
    path = write(tmp_path, "{metric: api_downtime_s, max: 100s}", "{metric: outage_s, workload: web, max: 0}")
    assert main(["run", path, "--strategy", "inplace", *argv]) == code
    out, err = capsys.readouterr()
    failing = "expect[0].max=99" in argv
    assert ("100s FAIL" in out, "100s PASS" in out) == (failing, not failing)
    assert [line for line in err.splitlines() if line.startswith("midair: expectation")] == (
        ["midair: expectation failed: inplace: api_downtime_s: max 99s: measured 100s, FAIL"] if failing else [])


def test_without_expectations_run_prints_no_table_and_results_json_has_none(tmp_path, capsys):
    f = tmp_path / "tiny.yaml"
    f.write_text(TINY)
    out_json = tmp_path / "r.json"
    assert main(["run", str(f), "--json", str(out_json)]) == 0
    assert "expectation" not in capsys.readouterr().out
    assert json.loads(out_json.read_text())["expectations"] == []


def test_sweep_puts_the_expectations_in_the_report(tmp_path, capsys):
    path = write(tmp_path, "{metric: pods_evicted, max: 0}")
    out = tmp_path / "report"
    assert main(["sweep", path, "--out", str(out), "--workers", "1"]) == 1
    md = (out / "summary.md").read_text()
    assert md.split("## Expectations\n\n")[1].split("\n\n")[:2] == [
        "The scenario's expect: entries, measured over each strategy's runs. 1 of 2 failed: midair run and sweep exit 1 "
        "(unless --no-fail).",
        "| expectation | inplace | replace |\n|---|---:|---:|\n| pods_evicted: max 0 | 0 PASS | 2 FAIL |"]
    html = (out / "report.html").read_text()
    assert ('<table id="expectations"><thead><tr><th>expectation</th><th>inplace</th><th>replace</th></tr></thead>'
            "<tbody><tr><td>pods_evicted: max 0</td><td>0 PASS</td><td>2 FAIL</td></tr></tbody></table>") in html
    assert [e["passed"] for e in json.loads((out / "results.json").read_text())["expectations"]] == [True, False]


def test_the_expectations_in_results_json_are_the_same_whatever_runs_them(tmp_path, capsys):
    path = write(tmp_path, "{metric: pods_evicted, max: 0}", "{metric: api_downtime_s, p95: 100s}")
    files = []
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}.json"
        assert main(["run", path, "--workers", workers, "--json", str(out)]) == 1
        files.append(out.read_bytes())
    capsys.readouterr()
    assert files[0] == files[1]
    assert [(e["strategy"], e["value"], e["passed"]) for e in json.loads(files[0])["expectations"]] == [
        ("inplace", 0.0, True), ("inplace", 100.0, True), ("replace", 2.0, False), ("replace", 100.0, True)]
