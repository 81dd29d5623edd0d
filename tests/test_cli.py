"""The midair command as a user runs it: output, JSON contracts and exit codes."""

import json
import pathlib
import subprocess
import sys

import pytest

from sim.cli import main
from tests.scenario_text import BASE, edit


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_ok_and_bad(capsys, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text(BASE)
    bad = tmp_path / "bad.yaml"
    bad.write_text(edit("    memory: 512Mi", "    memory: 512Mx"))
    code, out, err = run(capsys, "validate", str(good), str(bad))
    assert code == 2
    assert out == (f"{good}: ok: scenario 'example', 3 apiserver(s), 6 node(s) in 1 pool(s), 4 workload(s), "
                   "1.27.4 -> 1.29.0; strategies: inplace, replace\n")
    assert err == (f"{bad}:23: workloads[0].memory: memory '512Mx' has an unknown suffix 'Mx' "
                   "(valid suffixes: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei)\n")


def test_path_json_contract(capsys):
    code, out, _ = run(capsys, "path", "--from", "1.24", "--to", "1.29", "--kubelets", "1.24", "--json")
    assert code == 0
    assert json.loads(out) == {
        "from": "1.24", "to": "1.29", "kubelets": ["1.24"],
        "steps": [{"component": "control-plane", "version": "1.25"}, {"component": "control-plane", "version": "1.26"},
                  {"component": "workers", "version": "1.26"}, {"component": "control-plane", "version": "1.27"},
                  {"component": "control-plane", "version": "1.28"}, {"component": "control-plane", "version": "1.29"},
                  {"component": "workers", "version": "1.29"}]}


def test_path_text(capsys):
    code, out, _ = run(capsys, "path", "--from", "1.14", "--to", "1.16")
    assert (code, out) == (0, "1.14 -> 1.16 (kubelets 1.14): 3 step(s), 1 worker roll(s)\n"
                              "  1. control-plane -> 1.15\n  2. control-plane -> 1.16\n  3. workers       -> 1.16\n")


def test_path_from_scenario_with_set(capsys, tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(BASE)
    code, out, _ = run(capsys, "path", "--scenario", str(f), "--set", "target=1.28.2", "--json")
    assert code == 0
    assert [s["version"] for s in json.loads(out)["steps"]] == ["1.28.2", "1.28.2"]


@pytest.mark.parametrize("argv, message", [
    (["path", "--from", "1.29", "--to", "1.2x"], "midair path: --to: not a Kubernetes version: '1.2x'"),
    (["path", "--from", "1.29", "--to", "1.27"], "midair path: target 1.27 is older than the control plane 1.29"),
    (["path", "--to", "1.29"], "midair path: give --from V and --to V (or --scenario FILE)"),
    (["skew"], "midair skew: no versions to check"),
    (["skew", "--kubelet", "1.2.3.4"], "midair skew: --kubelet: not a Kubernetes version: '1.2.3.4'"),
    (["validate", "/no/such.yaml"], "/no/such.yaml: (file): no such file"),
    (["run", "scenarios/quickstart.yaml", "--preset", "aks", "--preset", "aks"],
     "midair run: --preset aks is given twice; name each preset once"),
    (["run", "scenarios/quickstart.yaml", "--preset", "gke-surge", "--set", "strategies[1].maxSurge=7"],
     "--set strategies[1].maxSurge=7: strategies[1]: index 1 is out of range; this list has 1 item(s)"),
    (["run", "scenarios/quickstart.yaml", "--executor", "serial", "--workers", "2"],
     "midair run: --workers is for --executor process; with --executor serial it would be ignored"),
    (["skew", "--apiserver", "2.0", "--kubelet", "1.29"],
     'midair skew: --apiserver: 2.0 is not a Kubernetes version; Kubernetes versions are 1.x (e.g. "1.29.3")'),
    (["path", "--from", "1.29", "--to", "1.99"], "midair path: --to: Kubernetes 1.99 does not exist as far as midair "
                                                 "knows; valid: 1.0 to 1.37 (newest with data: 1.35)"),
    (["path", "--from", "1.29", "--to", "1.30", "--kubelets", "1.29,,1.28"],
     "midair path: --kubelets '1.29,,1.28': an empty version in the list; give versions separated by commas"),
    (["validate", "scenarios/seed-example.yaml", "--set", "cluster.addons.kubeProxy=2.5"],
     "--set cluster.addons.kubeProxy=2.5: cluster.addons.kubeProxy: 2.5 is not a Kubernetes version"),
    (["run", "scenarios/seed-example.yaml", "--json", "README.md/x.json"],
     "midair run: --json README.md/x.json: the directory "),
    (["precheck", "scenarios/quickstart.yaml", "--to", "1.20.0"],
     "midair precheck: --to 1.20.0 is older than the cluster's control plane 1.29.8; midair checks upgrades (valid: "
     "1.29.8 or newer)"),
    (["precheck", "scenarios/quickstart.yaml", "--manifests", "/no/such/dir"],
     "midair precheck: --manifests /no/such/dir: no such file or directory"),
    (["precheck", "scenarios/quickstart.yaml", "--strategy", "surgee"],
     "midair precheck: --strategy surgee: the scenario has none by that name (it has: inplace, replace), and "
     "unknown strategy 'surgee'; known: bluegreen, inplace, karpenter-drift, replace, surge (or a "
     "class as module:attr); did you mean 'surge'?\n"),
    (["run", "scenarios/seed-example.yaml", "--runs", "1000000"],
     "midair run: --runs 1000000: 1000000 is too large; expected a whole number from 1 to 100000 (midair's limit per "
     "strategy and variant"),
    (["run", "scenarios/seed-example.yaml", "--set", "runs=" + "1" * 40],
     "--set runs=" + "1" * 40 + ": runs: 111111111111... (40 digits) is too large; expected a whole number from 1 to "
     "100000"),
], ids=["bad-version", "downgrade", "missing-from", "skew-nothing", "skew-bad-version", "missing-file", "preset-twice",
        "preset-set-out-of-range", "workers-without-pool", "skew-major-2", "path-unknown-minor", "kubelets-empty-item",
        "kube-proxy-major-2", "json-in-a-file", "precheck-downgrade", "precheck-missing-manifests",
        "precheck-unknown-strategy", "runs-past-the-limit", "huge-runs-by-set"])
def test_bad_input_exits_2_without_traceback(capsys, argv, message):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith(message)
    assert "Traceback" not in err


def test_skew_json_contract_and_exit_1(capsys):
    code, out, _ = run(capsys, "skew", "--apiserver", "1.29", "--kubelet", "1.30", "--json")
    assert code == 1
    assert json.loads(out) == {"violations": [{
        "rule": "kubelet-newer-than-apiserver", "component": "kubelet", "subject": "kubelet-0", "version": "1.30",
        "bound": "1.29", "reason": "kubelet 1.30 (kubelet-0) is newer than the oldest kube-apiserver (1.29); it must not be newer",
        "mandatory": True, "count": 1}]}


def test_skew_clean_scenario_exits_0(capsys):
    code, out, _ = run(capsys, "skew", "--scenario", "scenarios/quickstart.yaml")
    assert (code, out) == (0, "no skew violations among 27 components\n")


def test_skew_allowed_moves(capsys):
    code, out, _ = run(capsys, "skew", "--apiserver", "1.26", "--kubelet", "1.24", "--allowed", "kube-apiserver", "--json")
    data = json.loads(out)
    assert code == 0 and data["violations"] == []
    assert data["allowed"] == [{"component": "kube-apiserver", "subject": "kube-apiserver-0", "version": "1.26",
                                "allowed": ["1.26"],
                                "refused": [{"version": "1.27", "rules": ["kubelet-too-old"]},
                                            {"version": "1.28", "rules": ["control-plane-minor-skip", "kubelet-too-old"]},
                                            {"version": "1.29", "rules": ["control-plane-minor-skip", "kubelet-too-old"]}]}]


def test_usage_error_is_exit_2():
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "frobnicate"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "invalid choice: 'frobnicate'" in proc.stderr


def test_console_scripts_are_declared():
    import tomllib

    with open("pyproject.toml", "rb") as fh:
        scripts = tomllib.load(fh)["project"]["scripts"]
    assert scripts == {"midair": "sim.cli:main", "kubectl-midair": "sim.cli:main"}


def test_run_prints_the_comparison_and_writes_json(capsys, tmp_path):
    out_json = tmp_path / "results.json"
    code, out, _ = run(capsys, "run", "scenarios/seed-example.yaml", "--runs", "3", "--json", str(out_json))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "scenario seed-example: 1.14.10 -> 1.16.15, 3 run(s) per strategy, seed 42"
    assert lines[1].split() == ["metric", "inplace", "replace"]
    rows = {line.split()[0]: line for line in lines[3:] if line and not line.startswith(("(", "-"))}
    assert rows["pods_rescheduled"].split() == ["pods_rescheduled", "0", "/", "0", "5", "/", "5"]
    assert rows["node_ip_changes"].split() == ["node_ip_changes", "0", "/", "0", "2", "/", "2"]
    assert rows["pods_lost_local_data"].split() == ["pods_lost_local_data", "0", "/", "0", "1", "/", "1"]
    assert rows["completed"].split() == ["completed", "100%", "of", "3", "100%", "of", "3"]
    data = json.loads(out_json.read_text())
    assert [(r["strategy"], r["completed"], r["halted"]) for r in data["runs"]] == [
        ("inplace", True, None)] * 3 + [("replace", True, None)] * 3
    assert (data["scenario"], data["root_seed"]) == ("seed-example", 42)
    assert list(data["runs"][0]) == ["scenario", "strategy", "seed", "completed", "halted", "metrics", "workloads",
                                     "services", "pools", "left", "variant", "run"]
    assert data["runs"][0]["seed"] == data["runs"][3]["seed"]  # run i of each strategy shares its seed
    assert [r["metrics"]["outage_s"] for r in data["runs"][:3]] == [0.0, 0.0, 0.0]
    replaced = data["runs"][3]
    assert sorted(replaced["workloads"]) == ["default/db", "default/node-exporter", "default/web", "kube-system/coredns"]
    # the sum over workloads is the run's outage; only the single-replica db is ever out
    assert replaced["metrics"]["outage_s"] == replaced["workloads"]["default/db"]["outage_s"] == pytest.approx(
        sum(w["outage_s"] for w in replaced["workloads"].values()), abs=0.01)


def test_run_unknown_strategy_is_exit_2(capsys):
    code, _, err = run(capsys, "run", "scenarios/seed-example.yaml", "--strategy", "surgee")
    assert code == 2
    assert err == ("midair run: --strategy surgee: the scenario has none by that name (it has: inplace, replace), and "
                   "unknown strategy 'surgee'; known: bluegreen, inplace, karpenter-drift, replace, surge (or a class as "
                   "module:attr); "
                   "did you mean 'surge'?\n")


def test_trace_prints_the_decision_log(capsys):
    code, out, _ = run(capsys, "trace", "scenarios/seed-example.yaml", "--strategy", "replace", "--seed", "1")
    assert code == 0
    assert out.splitlines()[0] == "# seed-example, strategy replace, seed 1"
    assert out == "# seed-example, strategy replace, seed 1\n" + pathlib.Path("tests/golden/seed-example-replace.log").read_text().rsplit("# completed", 1)[0] + "# completed after 1314.91s\n"


def test_set_tunes_a_preset(capsys):
    code, out, _ = run(capsys, "run", "scenarios/quickstart.yaml", "--runs", "1", "--preset", "gke-surge",
                       "--set", "strategies[0].maxSurge=2", "--set", "faults=[]", "--workers", "1")
    assert code == 0
    assert [line.split() for line in out.splitlines() if line.startswith("peak_extra_nodes")] == [
        ["peak_extra_nodes", "2", "/", "2"]]  # gke-surge's own maxSurge is 1


def test_runs_that_cannot_start_exit_1_and_name_what_blocks(capsys):
    code, out, _ = run(capsys, "run", "scenarios/seed-example.yaml", "--runs", "1", "--strategy", "inplace",
                       "--set", "workloads[name=web].pdb.minAvailable=2", "--set", "strategies[0].drainFirst=true")
    assert code == 1
    assert out.splitlines()[1:3] == [
        "pre-check findings block the upgrade with inplace (prechecks: enforce):",
        "  BLOCK disruption.pdb-never-allows  workload/default/web: its budget wants 2 of 2 pods healthy at all "
        "times: no eviction can ever succeed, so a drain waits for its timeout"]


def test_a_cluster_with_no_upgrade_plan_halts_before_it_starts(capsys):
    # a kubelet newer than the apiserver: pre-checks would block it; ignored, there is still no plan
    code, out, _ = run(capsys, "trace", "scenarios/seed-example.yaml", "--strategy", "inplace", "--events",
                       "--set", "cluster.nodePools[0].version=1.15.0", "--set", "prechecks=ignore")
    assert code == 1
    assert out.splitlines()[-1] == ("# halted: no upgrade plan: kubelet 1.15.0 is newer than the control plane 1.14.10; "
                                    "a kubelet must never be newer than the apiserver after 0s")


def test_findings_are_not_reused_across_sweeps_in_one_process(capsys):
    blocked = ("--set", "workloads[name=web].pdb.minAvailable=2", "--set", "strategies[0].drainFirst=true")
    args = ("run", "scenarios/seed-example.yaml", "--runs", "1", "--strategy", "inplace", "--workers", "1")
    assert run(capsys, *args, *blocked)[0] == 1
    code, out, _ = run(capsys, *args)  # the same scenario file and strategy, without the budget
    assert code == 0
    assert ["completed", "100%", "of", "1"] in [line.split() for line in out.splitlines()]


@pytest.mark.parametrize("strategy, subjects", [
    ("surge", ["pool/general", "pool/stateful"]),  # not in the scenario: its defaults, maxSurge 1
    ("gke-surge", ["pool/general", "pool/stateful"]),  # a preset
    ("inplace", []),  # the scenario's own entry; in place needs no new IP
])
def test_precheck_takes_any_strategy_or_preset(capsys, strategy, subjects):
    code, out, _ = run(capsys, "precheck", "scenarios/quickstart.yaml", "--strategy", strategy, "--json",
                       "--set", "cluster.cloud.subnetFreeIPs=0")
    found = [f["subject"] for f in json.loads(out)["findings"] if f["id"] == "cloud.subnet-free-ips"
             and f["severity"] == "BLOCK"]
    assert (code, found) == (1 if subjects else 0, subjects)


def test_output_into_a_closed_pipe_ends_quietly():
    # `true` reads nothing and exits at once: every write of midair's goes to a closed pipe
    proc = subprocess.run(f"{sys.executable} -m sim.cli precheck scenarios/precheck-gallery.yaml --json | true; "
                          "echo ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True, text=True)
    assert (proc.stdout, proc.stderr) == ("141\n", "")
