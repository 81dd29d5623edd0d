"""midair apply against a 5-node fake cluster, as a user runs it: a dry run, a server-side dry
run, and an upgrade with an unchanged built-in strategy that is killed mid-drain and resumed."""

import os
import signal
import subprocess
import sys
import time

import kmock
import pytest
import yaml

from sim.scenario import load_scenario
from sim.world import World
from tests.kube_fake import MUTATING
from tests.kube_harness import KubeHarness
from tests.kube_objects import POOL_LABEL, objects_from_world

HOOK = f"{sys.executable} tests/live_hooks.py"
SCENARIO = {
    "apiVersion": "midair/v1alpha1", "kind": "Scenario", "metadata": {"name": "e2e"},
    "cluster": {"version": "1.29.3", "controlPlane": {"apiservers": 1},
                "nodePools": [{"name": "general", "count": 5, "cpu": "4", "memory": "16Gi", "zones": ["a", "b"]}],
                "addons": {"corednsReplicas": 0}},
    "workloads": [{"name": "web", "replicas": 2, "cpu": "500m", "pdb": {"minAvailable": 2}},
                  {"name": "api", "replicas": 3, "cpu": "250m"},
                  {"name": "agent", "kind": "DaemonSet", "cpu": "50m"}],
    "target": "1.30.2",
    "strategies": [{"name": "inplace", "maxUnavailable": 1, "drainFirst": True, "drainTimeout": "10m"}],
    "timing": {"reconcileInterval": "50ms", "evictionRetry": "200ms"},
    "live": {"poolLabel": POOL_LABEL, "pollInterval": "200ms", "hookTimeout": "30s",
             "hooks": {"upgradeNode": f"{HOOK} upgrade-node {{node}} {{version}}",
                       "upgradeControlPlane": f"{HOOK} upgrade-control-plane {{instance}} {{version}}"}},
}


@pytest.fixture
def cluster(tmp_path):
    path = tmp_path / "e2e.yaml"
    path.write_text(yaml.safe_dump(SCENARIO, sort_keys=False))
    world = World(load_scenario(str(path)), seed=1)
    with KubeHarness(objects_from_world(world), version="v1.29.3") as server:
        yield server, str(path), server.kubeconfig(tmp_path / "kubeconfig")


def apply(server, scenario, kubeconfig, *args, wait=True):
    env = {**os.environ, "MIDAIR_TEST_SERVER": server.url}
    cmd = [sys.executable, "-m", "sim.cli", "apply", scenario, "--kubeconfig", kubeconfig, *args]
    if "--resume" not in args and "--no-force" not in args:
        cmd.append("--force")  # web's budget blocks on purpose: it holds a drain for the kill
    cmd = [c for c in cmd if c != "--no-force"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
        "# in simulation the upgrade halts: drain of general-4 did not finish within 600s: PodDisruptionBudget "
        "default/web allows 0 disruptions (2 healthy, 2 desired); evictions refused with HTTP 429 (default/web: 3001) "
        "(undrainable: fail) after 1133.84s (outage 0s, 4 pod(s) evicted)")
    assert lines[-1] == "# dry run: nothing applied; 1 decision(s) shown; --execute to act"


def test_server_dry_run_marks_every_mutation_and_runs_no_hook(cluster):
    server, scenario, kubeconfig = cluster
    code, out, err = apply(server, scenario, kubeconfig, "--server-dry-run")
    assert code == 0, out + err
    assert err.count("would run hook upgradeControlPlane: ") == 1  # each action is sent once
    assert all(r.params.get("dryRun") == "All" for r in server.requests(MUTATING))
    assert server.get("v1/pods", "kube-system", "kube-apiserver-0")["spec"]["containers"][0]["image"].endswith(":v1.29.3")


def test_upgrade_killed_mid_drain_resumes_without_evicting_twice(cluster, tmp_path):
    server, scenario, kubeconfig = cluster
    journal = str(tmp_path / "e2e.journal")
    proc = apply(server, scenario, kubeconfig, "--execute", "--journal", journal, wait=False)
    deadline = time.monotonic() + 120
    while not any(code == 429 for _, code in server.call(lambda: list(server.km.evictions))):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "no eviction was refused"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # dies mid-drain: the web pod's budget holds it on the node
    proc.communicate(timeout=30)
    budget = server.call(lambda: server.km.objects["policy/v1/poddisruptionbudgets", "default", "web-pdb"])
    server.call(budget.patch, {"status": {"disruptionsAllowed": 10}})
    code, out, err = apply(server, scenario, kubeconfig, "--execute", "--resume", journal)
    assert code == 0, out + err
    assert out.splitlines()[-1] == "# completed: every component is at the target"
    nodes = [server.get("v1/nodes", None, f"general-{i}") for i in range(1, 6)]
    assert {n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes} == {"v1.30.2"}
    assert not any(n["spec"].get("unschedulable") for n in nodes)
    evictions = server.call(lambda: list(server.km.evictions))
    evicted = [name for name, code in evictions if code == 201]
    assert len(evicted) == len(set(evicted)) > 0  # no pod evicted twice
    assert [name for name, code in evictions if code == 404] == []  # none asked for after it was gone
    assert server.requests(kmock.method.DELETE, kmock.resource("v1/pods")) == []  # only the Eviction subresource


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


def _allowed(rules, method, path):
    """Does any RBAC rule allow this request? (enough of the authorizer for midair's requests)"""
    verb = {"GET": "list", "POST": "create", "PATCH": "patch", "DELETE": "delete"}[method]
    parts = path.strip("/").split("/")
    if parts == ["version"]:
        return any("/version" in r.get("nonResourceURLs", []) for r in rules)
    group = "" if parts[0] == "api" else parts[1]
    rest = parts[2:] if parts[0] == "api" else parts[3:]
    if rest and rest[0] == "namespaces":
        rest = rest[2:]
    resource = rest[0] + (f"/{rest[2]}" if len(rest) > 2 else "")
    name = rest[1] if len(rest) > 1 else None
    if verb == "list" and name:
        verb = "get"
    return any(group in r.get("apiGroups", []) and resource in r.get("resources", []) and verb in r["verbs"]
               and (not r.get("resourceNames") or name in r["resourceNames"]) for r in rules)


def test_every_request_of_an_upgrade_is_allowed_by_the_shipped_rbac(cluster, tmp_path):
    server, scenario, kubeconfig = cluster
    budget = server.call(lambda: server.km.objects["policy/v1/poddisruptionbudgets", "default", "web-pdb"])
    server.call(budget.patch, {"status": {"disruptionsAllowed": 10}})
    code, out, err = apply(server, scenario, kubeconfig, "--execute", "--journal", str(tmp_path / "j"))
    assert code == 0, out + err
    docs = list(yaml.safe_load_all(open("deploy/rbac.yaml")))
    rules = [r for d in docs if d["kind"] in ("ClusterRole", "Role") and d["metadata"]["name"] in ("midair", "midair-addons")
             for r in d["rules"]]
    requests = {(str(r.method.value if hasattr(r.method, "value") else r.method), r.url.path) for r in server.requests()
                if not r.headers.get("User-Agent", "").startswith("Python-urllib")}  # not the hook scripts' own
    refused = sorted(f"{m} {p}" for m, p in requests if not _allowed(rules, m, p))
    assert refused == []
    assert any(p.endswith("/eviction") for _, p in requests)


def test_a_target_older_than_the_live_cluster_is_one_clear_error(cluster):
    server, scenario, kubeconfig = cluster
    # the scenario describes a 1.28 cluster going to 1.29.0; the live one already runs 1.29.3
    code, out, err = apply(server, scenario, kubeconfig, "--set", "cluster.version=1.28.4", "--set", "target=1.29.0")
    assert code == 2
    assert err == (f"midair apply: {scenario}: target 1.29.0 is older than the control plane 1.29.3; midair plans "
                   "upgrades, not downgrades\n")
    assert "Traceback" not in err
    assert server.requests(MUTATING) == []


def test_the_horizon_counts_from_when_apply_starts(cluster, tmp_path):
    # a live run's clock is the wall clock: a 3 h horizon is 3 h from now, not 3 h after 1970
    server, scenario, kubeconfig = cluster
    budget = server.call(lambda: server.km.objects["policy/v1/poddisruptionbudgets", "default", "web-pdb"])
    server.call(budget.patch, {"status": {"disruptionsAllowed": 10}})  # let the drains through
    code, out, err = apply(server, scenario, kubeconfig, "--execute", "--set", "horizon=3h",
                           "--journal", str(tmp_path / "run.journal"))
    assert code == 0, out + err
    assert out.splitlines()[-1] == "# completed: every component is at the target"


def test_a_hook_the_plan_needs_is_checked_before_anything_is_done(cluster):
    server, scenario, kubeconfig = cluster
    code, out, err = apply(server, scenario, kubeconfig, "--execute", "--set",
                           "strategies=[{name: replace, maxSurge: 1, maxUnavailable: 0}]")
    assert code == 2
    assert err == (f"midair apply: {scenario}: replace adds new nodes, but live.hooks.provisionNode is not set "
                   "(docs/live.md, Hooks)\n")
    assert server.requests(MUTATING) == []


def test_ctrl_c_prints_the_command_that_continues_the_run(cluster, tmp_path):
    server, scenario, kubeconfig = cluster
    journal = str(tmp_path / "e2e.journal")
    proc = apply(server, scenario, kubeconfig, "--execute", "--journal", journal, "--set", "timing.evictionRetry=200ms",
                 wait=False)
    deadline = time.monotonic() + 120
    while not any(code == 429 for _, code in server.call(lambda: list(server.km.evictions))):
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
