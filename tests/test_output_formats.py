"""-o json|yaml|markdown|csv on every command that prints results: the JSON documents have
exactly the fields docs/output.md shows, and every format holds the same result."""

import csv
import io
import json
import os
import pathlib
import re

import pytest
import yaml

from sim.cli import main
from sim.metrics import METRIC_NAMES
from tests.scenario_text import edit

DOC = pathlib.Path("docs/output.md").read_text()
NUMERIC = {m for m in METRIC_NAMES if m not in ("completed", "halted")}
FAST = ("--runs", "1", "--executor", "serial")


def documented(heading: str):
    """The JSON example under the docs/output.md heading that begins with ``heading``."""
    section = DOC.split(f"## {heading}", 1)[1]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


def mismatches(actual, doc, where="") -> list[str]:
    """Where ``actual`` has other fields than ``doc``: keys must be the same (an upper-case key of
    ``doc`` stands for every key not listed); a list's items are compared with the first documented
    one; null matches any value, numbers any number."""
    if actual is None or doc is None:
        return []
    if isinstance(doc, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected a mapping"]
        placeholder = next((k for k in doc if k.isupper()), None)
        listed = {k for k in doc if k != placeholder}
        out = [f"{where}.{k}: missing" for k in sorted(listed - set(actual))]
        if placeholder is None:
            out += [f"{where}.{k}: not documented" for k in sorted(set(actual) - listed)]
        for k, v in actual.items():
            if k in listed or placeholder is not None:
                out += mismatches(v, doc[k if k in listed else placeholder], f"{where}.{k}")
        return out
    if isinstance(doc, list):
        if not isinstance(actual, list):
            return [f"{where}: expected a list"]
        return [m for item in actual for m in mismatches(item, doc[0], f"{where}[]")] if doc else []
    kinds = {bool: "boolean", int: "number", float: "number", str: "text"}
    if kinds[type(actual)] != kinds[type(doc)]:
        return [f"{where}: {kinds[type(actual)]}, documented as {kinds[type(doc)]}"]
    return []


def output(capsys, *argv, code=None):
    got = main(list(argv))
    out, _ = capsys.readouterr()
    if code is not None:
        assert got == code
    return out


@pytest.fixture
def bad_scenario(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(edit("    memory: 512Mi", "    memory: 512Mx"))
    return str(f)


CASES = [
    ("validate", "midair validate", lambda bad: ["validate", bad, "scenarios/seed-example.yaml"], 2),
    ("skew", "midair skew", lambda bad: ["skew", "--apiserver", "1.29", "--kubelet", "1.30", "--allowed", "kubelet"], 1),
    ("path", "midair path", lambda bad: ["path", "--from", "1.24", "--to", "1.29"], 0),
    ("precheck", "midair precheck", lambda bad: ["precheck", "scenarios/seed-example.yaml"], 0),
    ("run-halted", "midair run", lambda bad: ["run", "scenarios/seed-example.yaml", *FAST, "--set", "horizon=60s"], 0),
    ("run-blocked", "midair run", lambda bad: ["run", "scenarios/seed-example.yaml", *FAST, "--set", "target=1.33.0"], 1),
    ("trace", "midair trace", lambda bad: ["trace", "scenarios/seed-example.yaml", "--strategy", "inplace", "--events",
                                           "--set", "cluster.controlPlane.apiservers=1"], 0),
    ("fuzz", "midair fuzz", lambda bad: ["fuzz", "scenarios/seed-example.yaml", "--strategy", "inplace", "--examples",
                                         "2", "--no-database"], 0),
    ("fuzz-found", "midair fuzz", lambda bad: ["fuzz", "scenarios/seed-example.yaml", "--strategy", "inplace",
                                               "--examples", "2", "--no-database", "--out", os.path.dirname(bad),
                                               "--set", "expect=[{metric: api_downtime_s, max: 0}]",
                                               "--set", "cluster.controlPlane.apiservers=1"], 1),
]


@pytest.mark.parametrize("heading, argv, code", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_json_document_has_the_documented_fields(capsys, bad_scenario, heading, argv, code):
    data = json.loads(output(capsys, *argv(bad_scenario), "-o", "json", code=code))
    assert mismatches(data, documented(f"`{heading}")) == []


def test_the_comparison_has_every_numeric_metric(capsys):
    data = json.loads(output(capsys, "run", "scenarios/seed-example.yaml", *FAST, "-o", "json", code=0))
    assert [set(s["metrics"]) for s in data["strategies"]] == [NUMERIC, NUMERIC]


def test_the_results_file_has_the_documented_fields_and_every_metric(capsys):
    from sim.version import midair_version

    data = json.loads(output(capsys, "run", "scenarios/seed-example.yaml", *FAST, "--json", "-", code=0))
    assert mismatches(data, documented("The results file")) == []
    assert data["midair_version"] == midair_version()
    assert [set(r["metrics"]) for r in data["runs"]] == [set(METRIC_NAMES)] * 2


def test_sweep_prints_the_run_document_and_writes_the_version_into_every_results_file(capsys, tmp_path):
    out_dir = tmp_path / "r"
    data = json.loads(output(capsys, "sweep", "scenarios/seed-example.yaml", *FAST, "--out", str(out_dir), "-o", "json",
                             code=0))
    assert mismatches(data, documented("`midair run")) == []
    from sim.version import midair_version

    assert list(json.loads((out_dir / "results.json").read_text()))[:2] == ["midair_version", "scenario"]
    generated = f" by midair {midair_version()} from scenarios/seed-example.yaml."
    assert generated in (out_dir / "summary.md").read_text() and generated in (out_dir / "report.html").read_text()


def test_a_checker_that_finds_nothing_is_no_checker():
    doc = documented("`midair path")
    assert mismatches({**doc, "extra": 1}, doc) == [".extra: not documented"]
    assert mismatches({"from": "1.24", "to": "1.29", "kubelets": []}, doc) == [".steps: missing"]
    assert mismatches({**doc, "steps": [{"component": 1, "version": "1.25"}]}, doc) == [
        ".steps[].component: number, documented as text"]


@pytest.mark.parametrize("heading, argv, code", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_yaml_is_the_json_document(capsys, bad_scenario, heading, argv, code):
    args = argv(bad_scenario)
    assert yaml.safe_load(output(capsys, *args, "-o", "yaml", code=code)) == json.loads(
        output(capsys, *args, "-o", "json", code=code))


TABLES = [
    ("validate", ["validate", "scenarios/seed-example.yaml"], 0, ["Files"],
     ["file", "valid", "scenario", "from", "to", "apiservers", "nodes", "pools", "workloads", "strategies", "problems"]),
    ("skew", ["skew", "--apiserver", "1.29", "--kubelet", "1.28"], 0, ["Violations"],
     ["rule", "component", "subject", "version", "bound", "mandatory", "count", "reason"]),
    ("path", ["path", "--from", "1.24", "--to", "1.26"], 0, ["Path 1.24 -> 1.26"], ["step", "component", "version"]),
    ("precheck", ["precheck", "scenarios/seed-example.yaml"], 0, ["Findings"],
     ["severity", "id", "family", "subject", "reason", "fix"]),
    ("run", ["run", "scenarios/seed-example.yaml", *FAST], 0, ["Comparison (mean / p95)"],
     ["strategy", "metric", "n", "mean", "p50", "p95", "max", "ci95_low", "ci95_high"]),
    ("trace", ["trace", "scenarios/seed-example.yaml", "--strategy", "inplace"], 0, ["Decisions"],
     ["t", "kind", "action", "detail", "reason"]),
    ("fuzz", ["fuzz", "scenarios/seed-example.yaml", "--strategy", "inplace", "--examples", "2", "--no-database"], 0,
     ["Strategies"], ["strategy", "examples tried", "skipped", "broke", "counterexample"]),
]


@pytest.mark.parametrize("argv, code, headings, header", [c[1:] for c in TABLES], ids=[c[0] for c in TABLES])
def test_markdown_and_csv_hold_the_tables(capsys, argv, code, headings, header):
    md = output(capsys, *argv, "-o", "markdown", code=code)
    assert re.findall(r"^## (.*)$", md, re.M) == headings
    rows = list(csv.reader(io.StringIO(output(capsys, *argv, "-o", "csv", code=code))))
    assert rows[0] == header


def test_csv_of_path_is_one_row_per_step(capsys):
    assert output(capsys, "path", "--from", "1.24", "--to", "1.26", "-o", "csv", code=0) == (
        "step,component,version\n1,control-plane,1.25\n2,control-plane,1.26\n3,workers,1.26\n")


@pytest.mark.parametrize("argv", [
    ["skew", "--apiserver", "1.29", "--kubelet", "1.30"],
    ["path", "--from", "1.24", "--to", "1.29"],
    ["precheck", "scenarios/seed-example.yaml"],
], ids=["skew", "path", "precheck"])
def test_the_old_json_flag_is_o_json(capsys, argv):
    assert output(capsys, *argv, "--json") == output(capsys, *argv, "-o", "json")


def test_validate_problems_are_the_documents_in_json_and_standard_error_in_text(capsys, bad_scenario):
    assert main(["validate", bad_scenario, "-o", "json"]) == 2
    out, err = capsys.readouterr()
    assert (json.loads(out)["files"][0]["problems"], err) == ([{
        "file": bad_scenario, "line": 23, "field": "workloads[0].memory",
        "message": "memory '512Mx' has an unknown suffix 'Mx' (valid suffixes: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, "
                   "Pi, Ei)"}], "")
    assert main(["validate", bad_scenario]) == 2
    assert capsys.readouterr() == ("", f"{bad_scenario}:23: workloads[0].memory: memory '512Mx' has an unknown suffix "
                                       "'Mx' (valid suffixes: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei)\n")


def test_the_same_seed_gives_the_same_document_byte_for_byte(capsys):
    argv = ("run", "scenarios/seed-example.yaml", "--runs", "2", "--workers", "2", "-o", "json")
    assert output(capsys, *argv, code=0) == output(capsys, *argv[:4], "--executor", "serial", "-o", "json", code=0)


def test_json_results_to_standard_output_leave_the_comparison_on_standard_error(capsys):
    assert main(["run", "scenarios/seed-example.yaml", *FAST, "--json", "-"]) == 0
    out, err = capsys.readouterr()
    assert [r["strategy"] for r in json.loads(out)["runs"]] == ["inplace", "replace"]
    assert err.splitlines()[0] == "scenario seed-example: 1.14.10 -> 1.16.15, 1 run(s) per strategy, seed 42"


def test_a_format_a_scenario_cannot_be_written_in_is_a_usage_error(capsys):
    assert main(["import", "tests/data/kubectl-dump.json", "-o", "csv"]) == 2
    assert capsys.readouterr().err == "midair import: -o csv: a scenario is written as yaml or json\n"


def test_an_unknown_format_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["validate", "scenarios/seed-example.yaml", "-o", "xml"])
    assert exit_.value.code == 2
    assert "argument -o/--output: invalid choice: 'xml' (choose from 'text', 'json', 'yaml', 'markdown', 'csv')" in (
        capsys.readouterr().err)


def test_import_writes_json_that_loads_as_the_yaml_does(capsys, tmp_path):
    from sim.scenario import load_scenario

    as_yaml, as_json = tmp_path / "s.yaml", tmp_path / "s.json"
    assert main(["import", "tests/data/kubectl-dump.json", "--out", str(as_yaml)]) == 0
    assert main(["import", "tests/data/kubectl-dump.json", "-o", "json", "--out", str(as_json)]) == 0
    assert load_scenario(str(as_json)).cluster == load_scenario(str(as_yaml)).cluster


def test_import_with_o_file_still_writes_it_and_says_to_use_out(capsys, tmp_path):
    out = tmp_path / "s.yaml"
    assert main(["import", "tests/data/kubectl-dump.json", "-o", str(out)]) == 0
    assert out.read_text().startswith("# midair scenario written by midair")
    assert (f"midair import: -o FILE is deprecated: -o names the format; write to a file with --out {out}"
            in capsys.readouterr().err)
