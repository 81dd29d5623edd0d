"""Live flights that survive real clusters, each a regression test of what broke `midair apply` on
the fault-injecting harness: nodes reporting vendor builds, an API that restarts under midair's own
control-plane upgrade, 429 storms and 500s, `kill -9` at any moment, halted journals, outages."""

import json
import re
import threading
import time

import kmock
import pytest

from tests.kube_fake import requests_to
from tests.live_cli import HOOK, allow_evictions, flight, scenario

EKS = "-eks-036c24b"
CONTROL_PLANE = ["kube-apiserver-0", "kube-controller-manager-0", "kube-scheduler-0"]
RESTARTING = {"upgradeControlPlane": f"{HOOK} upgrade-control-plane {{instance}} {{version}} 0.5"}


def journal_entries(path) -> list[dict]:
    return [e for line in open(path) if line.strip() and "header" not in json.loads(line)
            for e in json.loads(line)["log"]]


def storm_when(f, hook_line: str, **storm) -> threading.Thread:
    """Once the hook log shows ``hook_line`` done: a 429 storm on every request midair makes, and three 500s on
    its pod lists."""
    def go():
        while hook_line not in f.hooks():
            time.sleep(0.02)
        f.api.storm(**storm)
        f.api.fail(requests_to("GET", "/api/v1/pods"), status=500, retry_after=None, times=3)
    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread


STRATEGIES = {
    "inplace": {"name": "inplace", "maxUnavailable": 1, "drainFirst": True, "drainTimeout": "10m"},
    "surge": {"name": "surge", "maxSurge": 1, "maxUnavailable": 0, "drainTimeout": "10m"},
}


@pytest.mark.parametrize("strategy", ["inplace", "surge"])
def test_eks_nodes_upgrade_once_each_through_an_api_restart_and_a_429_storm(tmp_path, strategy):
    data = scenario(strategy=STRATEGIES[strategy], hooks=RESTARTING)
    with flight(tmp_path, data, suffix=EKS) as f:
        allow_evictions(f.api)
        first = "upgrade-node general-1 1.30.2" if strategy == "inplace" else "provision-node general a 1.30.2 auto"
        storm = storm_when(f, first, seconds=1.0, status=429, retry_after="1")
        code, out, err = f.apply("--execute", "--journal", str(tmp_path / "j"))
        storm.join(5)
        assert code == 0, out + err
        assert out.splitlines()[-1] == "# completed: every component is at the target"
        assert f.api.restarts == 1  # the only apiserver restarted while midair upgraded it
        assert [h for h in f.hooks() if h.startswith("upgrade-control-plane")] == [
            f"upgrade-control-plane {i} 1.30.2 0.5" for i in CONTROL_PLANE]  # each once; the apiserver's restarts
        if strategy == "inplace":  # each node's hook exactly once: a -eks- build counts as the release
            assert sorted(h for h in f.hooks() if h.startswith("upgrade-node")) == [
                f"upgrade-node general-{i} 1.30.2" for i in range(1, 6)]
            names = [f"general-{i}" for i in range(1, 6)]
        else:  # five new nodes, each old one deleted once
            workers = f.hooks()[3:]
            assert sorted(h for h in workers if h.startswith("delete-node")) == [
                f"delete-node general-{i}" for i in range(1, 6)]
            assert len([h for h in workers if h.startswith("provision-node general ")]) == 5
            names = [f"general-new-{i}" for i in range(1, 6)]
        nodes = [f.api.get("v1/nodes", None, n) for n in names]
        assert [n["status"]["nodeInfo"]["kubeletVersion"] for n in nodes] == [f"v1.30.2{EKS}"] * 5
        assert not any((n.get("spec") or {}).get("unschedulable") for n in nodes)
        evicted = [name for name, code in f.api.evictions() if code == 201]
        assert len(evicted) == len(set(evicted)) > 0
        entries = journal_entries(tmp_path / "j")
        assert [e["kind"] for e in entries].count("waited") >= 1  # the restart and the storm, waited out
        completed = [(e["action"], e["component"]) for e in entries if e["kind"] == "completed"]
        assert completed[:3] == [(f"UpgradeControlPlaneInstance {i} to 1.30.2", i.rsplit("-", 1)[0])
                                 for i in CONTROL_PLANE]  # each operation's duration, journalled
        assert all(e["duration_s"] > 0 for e in entries if e["kind"] in ("completed", "waited"))
        if strategy == "inplace":
            assert completed[3:] == [pair for i in range(1, 6) for pair in (
                (f"Drain node/general-{i}", "node"), (f"UpgradeNodeInPlace node/general-{i} to 1.30.2", "node"))]
        assert sum(1 for r in f.api.requests() if r.headers.get("User-Agent", "").startswith("midair/")
                   and r.url.path == "/api/v1/nodes") > 0


def _done(f, line):
    return lambda: line in f.hooks()


KILL_POINTS = {
    # a drain is under way: web's budget holds it, and the kill lands while it retries
    "mid-drain": (None, lambda f: lambda: any(code == 429 for _, code in f.api.evictions())),
    # an upgradeNode hook is working (it takes a second): it goes on without midair, and is adopted
    "mid-hook": ({"upgradeNode": f"{HOOK} upgrade-node {{node}} {{version}} 1.0"},
                 lambda f: lambda: "upgrade-node general-1 1.30.2 1.0" in f.hooks("start")),
    # the controller-manager is upgraded, the scheduler not yet: the resumed plan must finish it
    "after-controller-manager": (None, lambda f: _done(f, "upgrade-control-plane kube-controller-manager-0 1.30.2")),
    # general-1 was just cordoned
    "after-cordon": (None, lambda f: lambda: (f.api.get("v1/nodes", None, "general-1") or {}).get(
        "spec", {}).get("unschedulable") is True),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_killed_at_any_point_and_resumed_it_ends_the_same_with_no_hook_or_eviction_twice(tmp_path, point):
    hooks, when = KILL_POINTS[point]
    with flight(tmp_path, scenario(nodes=2, hooks=hooks)) as f:
        journal = str(tmp_path / "e2e.journal")
        if point != "mid-drain":
            allow_evictions(f.api)
        f.kill_when(f.apply("--execute", "--journal", journal, wait=False), when(f))
        allow_evictions(f.api)
        code, out, err = f.apply("--execute", "--resume", journal)
        assert code == 0, out + err
        assert out.splitlines()[-1] == "# completed: every component is at the target"
        if point == "after-controller-manager":
            assert ("# e2e: 1.30.2 -> 1.30.2 with inplace (execute); path: control-plane 1.30.2 (finishing "
                    "kube-scheduler-0), workers 1.30.2") in out
        nodes = f.nodes()
        assert [(n["metadata"]["name"], n["status"]["nodeInfo"]["kubeletVersion"], n["spec"].get("unschedulable"))
                for n in nodes] == [(f"general-{i}", "v1.30.2", None) for i in range(1, 3)]
        pods = [f.api.get("v1/pods", "kube-system", i) for i in CONTROL_PLANE]
        assert [p["spec"]["containers"][0]["image"].rsplit(":", 1)[1] for p in pods] == ["v1.30.2"] * 3
        started = f.hooks("start")
        assert sorted(started) == sorted(set(started))  # no hook ran twice
        assert len([h for h in started if h.startswith("upgrade-node")]) == 2
        evicted = [name for name, code in f.api.evictions() if code == 201]
        assert len(evicted) == len(set(evicted))  # no pod evicted twice
        assert [name for name, code in f.api.evictions() if code == 404] == []  # none asked for after it was gone
        assert f.api.requests(kmock.method.DELETE, kmock.resource("v1/pods")) == []  # only the Eviction subresource


FAILING = {"upgradeNode": f"{HOOK} fail 'no space left on /var/lib/kubelet'"}
STOP_ON_FAILURE = {"name": "inplace", "maxUnavailable": 1, "inplaceRetries": 0, "onInplaceFailure": "halt"}


def test_a_halted_journal_is_not_resumed_without_retry_halted_and_then_it_goes_on(tmp_path):
    with flight(tmp_path, scenario(nodes=1, strategy=STOP_ON_FAILURE, hooks=FAILING)) as f:
        journal = str(tmp_path / "e2e.journal")
        code, out, _ = f.apply("--execute", "--journal", journal)
        reason = ("in-place upgrade of general-1 failed once: hook upgradeNode exited 3: no space left on "
                  "/var/lib/kubelet")
        assert (code, out.splitlines()[-1]) == (1, f"# halted: {reason}")
        before = len(f.api.requests())
        code, out, err = f.apply("--execute", "--resume", journal)
        assert (code, err) == (1, "")
        assert out.splitlines() == [
            f"# halted: {reason}",
            f"# {journal} ends in a halt; once you have looked into it, continue with: midair apply {f.scenario} "
            f"--kubeconfig {f.kubeconfig} --execute --resume {journal} --retry-halted"]
        assert len(f.api.requests()) == before  # at once: not a single request, let alone 13 a second
        fixed = f"live.hooks.upgradeNode={HOOK} upgrade-node {{node}} {{version}}"
        code, out, err = f.apply("--execute", "--resume", journal, "--retry-halted", "--set", fixed)
        assert code == 0, out + err
        assert f"retry   Retry\n                  why: --retry-halted: the halt is cleared ({reason})" in out
        assert [n["status"]["nodeInfo"]["kubeletVersion"] for n in f.nodes()] == ["v1.30.2"]
        code, out, _ = f.apply("--execute", "--resume", journal)  # done is done: nothing halts it again
        assert (code, out.splitlines()[-1]) == (0, "# completed: every component is at the target")


def test_an_outage_past_the_timeout_halts_with_a_journal_that_resumes(tmp_path):
    # the only apiserver's upgrade takes the API away for 2 s; midair waits 0.5 s
    hooks = {"upgradeControlPlane": f"{HOOK} upgrade-control-plane {{instance}} {{version}} 2.0"}
    with flight(tmp_path, scenario(nodes=1, hooks=hooks, live={"apiOutageTimeout": "500ms"})) as f:
        allow_evictions(f.api)
        journal = str(tmp_path / "e2e.journal")
        code, out, err = f.apply("--execute", "--journal", journal)
        lines = out.splitlines()
        assert code == 1, out + err
        assert re.match(rf"# halted: the Kubernetes API at {f.api.url} did not answer for 0\.[5-9]s "
                        r"\(live\.apiOutageTimeout 0\.5s\) to (list|get) ", lines[-2]), lines[-2]
        assert lines[-1] == (f"# continue once the API answers again with: midair apply {f.scenario} --kubeconfig "
                             f"{f.kubeconfig} --execute --resume {journal} --retry-halted")
        assert journal_entries(journal)[-1]["kind"] == "halt"
        deadline = time.monotonic() + 30
        while f.api.restarts == 0:  # the API is back
            assert time.monotonic() < deadline
            time.sleep(0.05)
        code, out, err = f.apply("--execute", "--resume", journal, "--retry-halted")
        assert code == 0, out + err
        assert f.hooks("start").count("upgrade-control-plane kube-apiserver-0 1.30.2 2.0") == 1  # adopted, not rerun


def test_resuming_a_journal_that_does_not_exist_says_so(tmp_path):
    with flight(tmp_path, scenario(nodes=1)) as f:
        for args in (["--resume", "/nonexistent"], ["--execute", "--resume", "/nonexistent"]):
            code, out, err = f.apply(*args)
            assert (code, out, err) == (2, "", "midair apply: /nonexistent: no such journal\n")
