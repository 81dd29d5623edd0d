"""midair apply against a 5-node fake cluster, as a user runs it: a dry run, a server-side dry run,
pre-checks, the errors a user meets, Ctrl-C (kill -9 and resume: tests/test_live_flights.py)."""

import os
import signal
import subprocess
import sys
import time

import kmock
import pytest
import yaml

from tests.kube_fake import MUTATING
from tests.live_cli import SCENARIO, allow_evictions, flight, scenario

@pytest.fixture
def cluster(tmp_path):
    with flight(tmp_path) as f:
        yield f.api, f.scenario, f.kubeconfig


def apply(server, scenario, kubeconfig, *args, wait=True):
    cmd = [sys.executable, "-m", "sim.cli", "apply", scenario, "--kubeconfig", kubeconfig, *args]
    if "--resume" not in args and "--no-force" not in args:
        cmd.append("--force")  # web's budget blocks on purpose: it holds a drain for the kill
    cmd = [c for c in cmd if c != "--no-force"]
    proc = subprocess.Popen(cmd, env={**os.environ, "MIDAIR_TEST_SERVER": server.url}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if wait:
        out, err = proc.communicate(timeout=180)
        return proc.returncode, out, err
    return proc


def test_dry_run_sends_no_mutating_request(cluster):
    server, scenario, kubeconfig = cluster
    code, out, _ = apply(server, scenario, kubeconfig)
    assert code == 0, out
    assert server.requests(MUTATING) == []
    lines = out.splitlines()
    assert lines[:2] == ["Node configuration:", "  INFO  node.not-observed  cluster"]  # the API does not show hosts
    assert "  INFO  cloud.not-observed  cluster" in lines
    assert "Disruption risks:" in lines
    assert "# e2e: 1.29.3 -> 1.30.2 with inplace (dry run); path: control-plane 1.30.2, workers 1.30.2" in lines
    assert "would   UpgradeControlPlaneInstance kube-apiserver-0 to 1.30.2" in out
    # then the whole upgrade on a simulated copy: here it shows what web's budget will do
    rehearsal = lines[lines.index("# the whole upgrade, rehearsed on a simulated copy of this cluster (no faults):") + 1:]
    assert rehearsal[0].split() == ["0.0s", "action", "UpgradeControlPlaneInstance", "kube-apiserver-0", "to", "1.30.2"]
    assert rehearsal[-2] == (
        '# in simulation the upgrade halts: drain of general-4 did not finish within 600s: error when evicting '
        'pods/"web-2" -n "default": global timeout reached: 10m0s; last refusal: Cannot evict pod as it would '
        "violate the pod's disruption budget. (The disruption budget web needs 2 healthy pods and has 2 currently); "
        "evictions refused with HTTP 429 (default/web: 3001) (undrainable: fail) after 1042.31s (outage 0s, 4 pod(s) "
        "evicted)")
    assert lines[-1] == "# dry run: nothing applied; 1 decision(s) shown; --execute to act"


def test_server_dry_run_sends_mutating_requests_all_marked_dry_run_and_changes_nothing(tmp_path):
    # the control plane and kube-proxy are at the target, general-1 is cordoned already: the first decision
    # drains it, so the dry run sends a cordon patch and evictions, and none of them may change anything
    data = scenario(nodes=3, cluster={**SCENARIO["cluster"], "version": "1.30.2", "addons": {
        "corednsReplicas": 0, "kubeProxy": "1.30.2"}, "nodePools": [{**SCENARIO["cluster"]["nodePools"][0], "count": 3,
                                                                     "version": "1.29.3"}]})
    with flight(tmp_path, data, api_version="v1.30.2") as f:
        f.api.patch("v1/nodes", None, "general-1", {"spec": {"unschedulable": True}})
        before = {name: f.api.get("v1/pods", "default", name) for name in ("web-1", "api-1", "web-2", "api-2", "api-3")}
        code, out, err = f.apply("--server-dry-run")
        assert code == 0, out + err
        mutating = f.api.requests(MUTATING)
        assert sorted({(str(r.method.value).upper(), r.url.path.rsplit("/", 1)[-1] if "eviction" in r.url.path
                        else r.url.path) for r in mutating}) == [("PATCH", "/api/v1/nodes/general-1"),
                                                                 ("POST", "eviction")]
        assert [r.params.get("dryRun") for r in mutating] == ["All"] * len(mutating)
        assert {name for name, code in f.api.evictions()} == {p for p, o in before.items()
                                                             if o and o["spec"].get("nodeName") == "general-1"}
        assert {name: f.api.get("v1/pods", "default", name) for name in before} == before  # nothing evicted
        assert f.api.get("policy/v1/poddisruptionbudgets", "default", "web-pdb")["status"]["disruptionsAllowed"] == 0
        assert "# e2e: 1.30.2 -> 1.30.2 with inplace (server-side dry run); path: workers 1.30.2" in out
        assert "would   Drain node/general-1" in out


def test_a_blocking_finding_stops_apply_unless_forced(cluster):
    server, scenario, kubeconfig = cluster
    code, out, _ = apply(server, scenario, kubeconfig, "--execute", "--no-force")
    assert code == 1
    assert "  BLOCK disruption.pdb-never-allows  workload/default/web" in out
    assert out.splitlines()[-1] == "# blocked: 1 pre-check finding(s) block the upgrade; fix them, or --force"
    assert server.requests(MUTATING) == []


def test_unreachable_cluster_is_one_clear_error(tmp_path):
    path = tmp_path / "e2e.yaml"
    path.write_text(yaml.safe_dump(SCENARIO, sort_keys=False))
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("""apiVersion: v1
kind: Config
current-context: gone
clusters: [{name: gone, cluster: {server: "http://127.0.0.1:9"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: gone, context: {cluster: gone, user: u}}]
""")
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "apply", str(path), "--kubeconfig", str(kubeconfig)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert proc.stderr.startswith("midair apply: cannot reach the Kubernetes API at http://127.0.0.1:9 to list nodes: ")
    assert "Traceback" not in proc.stderr


def test_forbidden_names_the_verb_and_resource(cluster):
    server, scenario, kubeconfig = cluster
    server.call(lambda: server.km[kmock.action.LIST, kmock.resource("v1/pods")] << (
        lambda request: kmock.Response(status=403, headers={"Content-Type": "application/json"},
                                       payload=b'{"kind":"Status","reason":"Forbidden","message":"pods is forbidden"}')))
    code, _, err = apply(server, scenario, kubeconfig)
    assert code == 3
    assert err == ("midair apply: the API refused to list pods (HTTP 403: Forbidden: pods is forbidden); "
                   "grant midair the ClusterRole in deploy/rbac.yaml (docs/live.md)\n")


def test_a_target_older_than_the_live_cluster_is_one_clear_error(cluster):
    server, scenario, kubeconfig = cluster
    # the scenario describes a 1.28 cluster going to 1.29.0; the live one already runs 1.29.3
    code, out, err = apply(server, scenario, kubeconfig, "--set", "cluster.version=1.28.4", "--set", "target=1.29.0")
    assert code == 2
    assert err == (f"midair apply: {scenario}: target 1.29.0 is older than the control plane 1.29.3; midair plans "
                   "upgrades, not downgrades\n")
    assert "Traceback" not in err
    assert server.requests(MUTATING) == []


def test_the_horizon_counts_from_when_apply_starts(tmp_path):
    # a live run's clock is the wall clock: a 3 h horizon is 3 h from now, not 3 h after 1970
    with flight(tmp_path, scenario(nodes=1)) as f:
        allow_evictions(f.api)  # let the drains through
        code, out, err = f.apply("--execute", "--set", "horizon=3h", "--journal", str(tmp_path / "run.journal"))
    assert code == 0, out + err
    assert out.splitlines()[-1] == "# completed: every component is at the target"


def test_a_hook_the_plan_needs_is_checked_before_anything_is_done(tmp_path):
    with flight(tmp_path, scenario(hooks={"provisionNode": None})) as f:
        code, out, err = f.apply("--execute", "--set", "strategies=[{name: replace, maxSurge: 1, maxUnavailable: 0}]")
        assert code == 2
        assert err == (f"midair apply: {f.scenario}: replace adds new nodes, but live.hooks.provisionNode is not set "
                       "(docs/live.md, Hooks)\n")
        assert f.api.requests(MUTATING) == []


def test_ctrl_c_prints_the_command_that_continues_the_run(cluster, tmp_path):
    server, scenario, kubeconfig = cluster
    journal = str(tmp_path / "e2e.journal")
    proc = apply(server, scenario, kubeconfig, "--execute", "--journal", journal, "--set", "timing.evictionRetry=200ms",
                 wait=False)
    deadline = time.monotonic() + 120
    while not any(code == 429 for _, code in server.evictions()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no eviction was refused"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.splitlines()[-1] == (f"interrupted; continue with: midair apply {scenario} --kubeconfig {kubeconfig} "
                                    f"--set timing.evictionRetry=200ms --execute --resume {journal}")


def test_a_journal_of_another_cluster_is_refused(cluster, tmp_path):
    server, scenario, kubeconfig = cluster
    journal = tmp_path / "other.journal"
    journal.write_text('{"header": {"scenario": "e2e", "strategy": "inplace", "target": "1.30.2", '
                       '"pool_sizes": {"general": 5}, "server": "https://elsewhere.example:6443"}}\n')
    code, _, err = apply(server, scenario, kubeconfig, "--execute", "--resume", str(journal))
    assert code == 2
    assert err == (f"midair apply: {journal} journals an upgrade of the cluster at https://elsewhere.example:6443; "
                   f"this kubeconfig points at {server.url}: pick that cluster with --kubeconfig or --context\n")
    assert server.requests(MUTATING) == []
