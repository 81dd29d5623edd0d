"""The defects a new user's trial found in the command line (issue 13), one regression test each.

Defects of the scenario checker (every error of a list item, percents past 100%, pools of 0
nodes, Kubernetes names, YAML aliases) are in test_scenario_errors.py, beside the other
file errors.
"""

import importlib.metadata
import json
import pathlib
import tomllib

import pytest

from sim.cli import main
from sim.metrics import METRIC_NAMES

NUMERIC = [m for m in METRIC_NAMES if m not in ("completed", "halted")]
FAST = ("--runs", "1", "--executor", "serial")
DOCKERSHIM = ("  BLOCK node.dockershim  node/workers-{n}: runtime docker://18.9.7: dockershim was removed in 1.24, so "
              "its kubelet will not start after an in-place upgrade")


def cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_project_license_is_an_spdx_expression_so_install_does_not_warn():
    with open("pyproject.toml", "rb") as fh:
        project = tomllib.load(fh)
    # a {text = ...} table makes setuptools 77+ warn on every install; a string is an SPDX expression
    assert project["project"]["license"] == "Apache-2.0"
    assert project["build-system"]["requires"] == ["setuptools>=77"]
    assert importlib.metadata.metadata("midair")["License-Expression"] == "Apache-2.0"


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_runs_that_pre_checks_block_end_with_the_findings_not_a_table_of_zeros(capsys, tmp_path, command):
    # the trial: `sweep --set target=1.33.0` crashed in the report; `run` printed zeros that looked ideal
    out_dir = tmp_path / "r"
    extra = ("--out", str(out_dir)) if command == "sweep" else ()
    code, out, err = cli(capsys, command, "scenarios/seed-example.yaml", "--set", "target=1.33.0", *FAST, *extra)
    assert (code, err) == (1, "")
    assert out.splitlines() == [
        "scenario seed-example: 1.14.10 -> 1.33.0, 1 run(s) per strategy, seed 42: nothing was run",
        "pre-check findings block the upgrade with inplace, replace (prechecks: enforce):",
        DOCKERSHIM.format(n=1), DOCKERSHIM.format(n=2),
        "fix them (midair precheck shows how), or set prechecks: ignore in the scenario to measure what ignoring "
        "them costs"]
    assert not out_dir.exists() or sorted(p.name for p in out_dir.iterdir()) == []  # no report of nothing


def test_runs_without_an_upgrade_plan_say_why_before_anything_runs(capsys):
    code, out, _ = cli(capsys, "run", "scenarios/seed-example.yaml", *FAST, "--set", "prechecks=ignore",
                       "--set", "cluster.nodePools[0].version=1.15.0")
    reason = ("no upgrade plan: kubelet 1.15.0 is newer than the control plane 1.14.10; a kubelet must never be newer "
              "than the apiserver")
    assert (code, out.splitlines()[1:]) == (1, [f"inplace: {reason}", f"replace: {reason}"])


def test_a_report_leaves_out_the_timeline_of_runs_that_never_started(tmp_path):
    from sim.report import write_report
    from sim.sweep import jobs, run_job, variants

    (v,) = variants("scenarios/seed-example.yaml", ["prechecks=ignore", "cluster.nodePools[0].version=1.15.0"], [])
    rows = [run_job(v.scenario, job) for job in jobs([(v, v.scenario.strategies)], 1, 42)]
    written = write_report(str(tmp_path), v.scenario, [v], rows, 42, "{}")
    assert sorted(pathlib.Path(p).relative_to(tmp_path).as_posix() for p in written) == [
        "figures/distributions.svg", "figures/scatter.svg", "report.html", "results.json", "summary.csv", "summary.md"]


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_sweep_prints_the_halt_reasons_that_run_prints(capsys, tmp_path, command):
    extra = ("--out", str(tmp_path / "r")) if command == "sweep" else ()
    code, out, _ = cli(capsys, command, "scenarios/seed-example.yaml", *FAST, "--strategy", "inplace",
                       "--set", "horizon=60s", *extra)
    assert code == 0
    assert out.splitlines()[-1] == (
        "inplace: 1 run(s) halted: did not finish within the horizon (60s simulated); still to do: kube-apiserver-0 at "
        "1.14.10, wants 1.16.15; kube-apiserver-1 at 1.14.10, wants 1.16.15; kube-controller-manager-0 at 1.14.10, "
        "wants 1.16.15")


@pytest.mark.parametrize("command, extra", [("run", ()), ("sweep", ("--out", "{tmp}/r")), ("trace", ())],
                         ids=["run", "sweep", "trace"])
def test_fail_on_halted_makes_a_halted_run_exit_1(capsys, tmp_path, command, extra):
    common = ("scenarios/seed-example.yaml", "--strategy", "inplace", "--set", "horizon=60s",
              *(FAST if command != "trace" else ()), *(e.format(tmp=tmp_path) for e in extra))
    assert cli(capsys, command, *common)[0] == 0
    assert cli(capsys, command, *common, "--fail-on", "halted")[0] == 1


def test_a_bad_grid_value_names_the_grid_argument(capsys):
    code, _, err = cli(capsys, "run", "scenarios/seed-example.yaml", "--grid", "strategies[0].maxSurge=x,1")
    assert (code, err) == (2, "--grid strategies[0].maxSurge=x,1: strategies[0].maxSurge: 'x' is not a count or a "
                              "percentage (expected e.g. 1 or '25%')\n")


def test_a_grid_over_one_strategy_runs_the_others_once_under_their_own_label(capsys, tmp_path):
    results = tmp_path / "results.json"
    code, out, _ = cli(capsys, "run", "scenarios/seed-example.yaml", *FAST, "--grid",
                       "strategies[0].maxUnavailable=1,2", "--json", str(results))
    assert code == 0
    assert [c.strip() for c in out.splitlines()[1].split("  ") if c.strip()] == [
        "metric", "inplace [strategies[0].maxUnavailable=1]", "inplace [strategies[0].maxUnavailable=2]", "replace"]
    runs = json.loads(results.read_text())["runs"]
    assert [(r["strategy"], r["variant"]) for r in runs] == [
        ("inplace", "strategies[0].maxUnavailable=1"), ("inplace", "strategies[0].maxUnavailable=2"), ("replace", "")]


def test_a_grid_over_the_cluster_still_varies_every_strategy(capsys, tmp_path):
    results = tmp_path / "results.json"
    assert cli(capsys, "run", "scenarios/seed-example.yaml", *FAST, "--grid", "cluster.controlPlane.apiservers=1,2",
               "--grid", "strategies[1].maxSurge=1,2", "--json", str(results))[0] == 0
    runs = json.loads(results.read_text())["runs"]
    assert [(r["strategy"], r["variant"]) for r in runs] == [
        ("inplace", "cluster.controlPlane.apiservers=1"), ("inplace", "cluster.controlPlane.apiservers=2"),
        ("replace", "cluster.controlPlane.apiservers=1, strategies[1].maxSurge=1"),
        ("replace", "cluster.controlPlane.apiservers=1, strategies[1].maxSurge=2"),
        ("replace", "cluster.controlPlane.apiservers=2, strategies[1].maxSurge=1"),
        ("replace", "cluster.controlPlane.apiservers=2, strategies[1].maxSurge=2")]


@pytest.mark.parametrize("argv, message", [
    (["run", "scenarios/seed-example.yaml", "--seed", "-1"],
     "midair run: --seed -1: -1 is negative; expected a whole number of 0 or more\n"),
    (["sweep", "scenarios/seed-example.yaml", "--seed", "-3", "--out", "{tmp}/r"],
     "midair sweep: --seed -3: -3 is negative; expected a whole number of 0 or more\n"),
    (["trace", "scenarios/seed-example.yaml", "--strategy", "inplace", "--seed", "-1"],
     "midair trace: --seed -1: -1 is negative; expected a whole number of 0 or more\n"),
    (["run", "scenarios/seed-example.yaml", "--set", "seed=-1"],
     "--set seed=-1: seed: -1 is negative; expected a whole number of 0 or more\n"),
    (["run", "scenarios/seed-example.yaml", "--runs", "0"],
     "midair run: --runs 0: 0 is too small; expected a whole number from 1 to 100000\n"),
], ids=["run-seed", "sweep-seed", "trace-seed", "set-seed", "run-runs-0"])
def test_an_option_refuses_what_the_scenario_field_refuses(capsys, tmp_path, argv, message):
    code, _, err = cli(capsys, *(a.format(tmp=tmp_path) for a in argv))
    assert (code, err) == (2, message)


@pytest.mark.parametrize("argv, moves", [
    (["--apiserver", "1.29", "--kubelet", "1.27", "--allowed", "kubelet"], "kubelet-0 (1.27) may move to: 1.27, 1.28, 1.29"),
    (["--apiserver", "1.29", "--kubelet", "1.29", "--allowed", "kubelet"], "kubelet-0 (1.29) may move to: 1.29"),
    (["--apiserver", "1.28", "--kubelet", "1.28", "--allowed", "kube-apiserver"],
     "kube-apiserver-0 (1.28) may move to: 1.28, 1.29"),
], ids=["kubelet-behind", "kubelet-level", "apiserver"])
def test_skew_allowed_lists_no_downgrades(capsys, argv, moves):
    code, out, _ = cli(capsys, "skew", *argv)
    assert (code, out.splitlines()[1]) == (0, moves)


def test_every_metric_is_a_row_of_every_comparison(capsys, tmp_path):
    # max_pending_pods and evictions_refused were missing from the HTML and Markdown comparison
    out_dir = tmp_path / "r"
    code, out, _ = cli(capsys, "sweep", "scenarios/seed-example.yaml", *FAST, "--strategy", "inplace", "--out", str(out_dir))
    assert code == 0
    printed = [line.split()[0] for line in out.splitlines()[4:4 + len(NUMERIC)]]
    md = (out_dir / "summary.md").read_text().split("## Comparison\n")[1].split("\n## ")[0]
    md = md[md.index("| metric"):]
    html = (out_dir / "report.html").read_text().split('<table id="comparison">')[1].split("</table>")[0]
    assert printed == NUMERIC
    assert [line.split(" | ")[0].strip("| ") for line in md.strip().splitlines()[3:]] == NUMERIC  # after completed
    assert [cell.split("</td>")[0] for cell in html.split("<tr><td>")[2:]] == NUMERIC


@pytest.mark.parametrize("name, run_code, precheck_code, message", [
    ("surge", 0, 0, ""),  # not in the scenario: a built-in strategy with its defaults, for both
    ("gke-surge", 0, 0, ""),  # a preset
    ("replace", 0, 0, ""),  # the scenario's own entry
    ("surgee", 2, 2, "--strategy surgee: the scenario has none by that name (it has: inplace, replace), and unknown "
                     "strategy 'surgee'; known: bluegreen, inplace, karpenter-drift, replace, surge (or a class as "
                     "module:attr); did you mean 'surge'?\n"),
])
def test_run_and_precheck_agree_on_what_a_strategy_name_may_be(capsys, name, run_code, precheck_code, message):
    code, _, err = cli(capsys, "run", "scenarios/seed-example.yaml", *FAST, "--strategy", name)
    assert (code, err) == (run_code, f"midair run: {message}" if message else "")
    code, _, err = cli(capsys, "precheck", "scenarios/seed-example.yaml", "--strategy", name)
    assert (code, err) == (precheck_code, f"midair precheck: {message}" if message else "")


DUMP = ("kubectl get nodes,pods,pdb,deploy,rs,sts,ds,apiservices,pvc,pv,storageclasses,volumeattachments,priorityclasses,"
        "svc,endpointslices,validatingwebhookconfigurations,mutatingwebhookconfigurations -A -o json")


@pytest.mark.parametrize("make, message", [
    (lambda p: p.mkdir(), "{p}: this is a directory; expected the output of: " + DUMP),
    (lambda p: p.write_bytes(b"\x7fELF\x02\x01\x01\x00\xd0\xff"), "{p}: not text (byte 8 is not UTF-8); expected the "
                                                                  "output of: " + DUMP),
], ids=["directory", "binary-file"])
def test_import_of_a_directory_or_a_binary_file_is_one_clear_error(capsys, tmp_path, make, message):
    dump = tmp_path / "dump"
    make(dump)
    code, _, err = cli(capsys, "import", str(dump))
    assert (code, err) == (2, "midair import: " + message.format(p=dump) + "\n")


def test_import_of_nodes_without_a_version_says_so_instead_of_control_plane_0_0(capsys, tmp_path):
    data = json.loads(pathlib.Path("tests/data/kubectl-dump.json").read_text())
    for item in data["items"]:
        if item["kind"] == "Node" and item["metadata"]["name"].startswith("ip-10-0-2"):
            del item["status"]["nodeInfo"]
    dump = tmp_path / "dump.json"
    dump.write_text(json.dumps(data))
    code, out, err = cli(capsys, "import", str(dump))
    assert (code, out) == (2, "")
    assert err == (f"midair import: {dump}: 1 node(s) report no kubelet version (status.nodeInfo.kubeletVersion): "
                   "ip-10-0-2-33.eu-west-1.compute.internal; midair cannot rehearse an upgrade of nodes whose version "
                   "it does not know: give their objects with status (kubectl get nodes -o json shows it)\n")
    assert "0.0" not in err


def test_resume_with_another_seed_says_why_it_starts_over(capsys, tmp_path):
    out = tmp_path / "r"
    argv = ["sweep", "scenarios/seed-example.yaml", *FAST, "--strategy", "inplace", "--out", str(out)]
    assert cli(capsys, *argv, "--seed", "7")[0] == 0
    first = json.loads((out / "results.json").read_text())["runs"]
    # an interrupted sweep leaves its checkpoint behind, as it was: put back from the results
    from sim.sweep import jobs, variants

    work = jobs([(v, v.scenario.strategies[:1]) for v in variants("scenarios/seed-example.yaml", [], [])], 1, 7)
    (out / ".runs.jsonl").write_text("".join(json.dumps({"key": j.key, "root_seed": 7, "data": r}) + "\n"
                                             for j, r in zip(work, first)))
    assert cli(capsys, *argv, "--resume", "--seed", "7")[2].startswith("report:")  # the same seed: kept, silently
    (out / ".runs.jsonl").write_text("".join(json.dumps({"key": j.key, "root_seed": 7, "data": r}) + "\n"
                                             for j, r in zip(work, first)))
    code, _, err = cli(capsys, *argv, "--resume", "--seed", "8")
    assert code == 0
    assert err.splitlines()[0] == (f"midair: 1 finished run(s) in {out / '.runs.jsonl'} were made with root seed 7, "
                                   "not 8, and are not reused; to keep them, resume with --seed 7")
