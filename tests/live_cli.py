"""`midair apply` run as a user runs it, against the fault-injecting harness: a scenario, its cluster
as API objects on a KubeHarness, the kubeconfig, and the log of every hook run.

Test runs are kept fast by the scenario's own knobs: decisions every 50 ms, the cluster looked
at every 100 ms (and at once when an operation ends), retries after 50 ms to 200 ms.
"""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from sim.scenario import load_scenario
from sim.simulate import world_for
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
    "live": {"poolLabel": POOL_LABEL, "pollInterval": "100ms", "hookTimeout": "30s", "retryDelay": "50ms",
             "retryMaxDelay": "200ms", "apiOutageTimeout": "30s",
             "hooks": {"upgradeNode": f"{HOOK} upgrade-node {{node}} {{version}}",
                       "upgradeControlPlane": f"{HOOK} upgrade-control-plane {{instance}} {{version}}",
                       "provisionNode": f"{HOOK} provision-node {{pool}} {{zone}} {{version}} auto",
                       "deleteNode": f"{HOOK} delete-node {{node}}"}},
}


def scenario(*, nodes: int = 5, strategy: dict | None = None, hooks: dict | None = None, live: dict | None = None,
             **top) -> dict:
    data = copy.deepcopy(SCENARIO)
    data["cluster"]["nodePools"][0]["count"] = nodes
    if strategy is not None:
        data["strategies"] = [strategy]
    data["live"]["hooks"].update(hooks or {})
    data["live"].update(live or {})
    data.update(top)
    return data


@dataclass
class Flight:
    api: KubeHarness
    scenario: str
    kubeconfig: str
    hook_log: Path
    tmp: Path

    def env(self) -> dict:
        return {**os.environ, "MIDAIR_TEST_SERVER": self.api.url, "MIDAIR_TEST_HOOK_LOG": str(self.hook_log),
                "MIDAIR_TEST_VERSION_SUFFIX": self.suffix}

    suffix: str = ""

    def apply(self, *args, wait: bool = True, force: bool = True):
        """``midair apply SCENARIO --kubeconfig ... ARGS`` (with --force unless resuming: web's budget blocks
        on purpose); (exit code, stdout, stderr), or the running process with ``wait=False``."""
        cmd = [sys.executable, "-m", "sim.cli", "apply", self.scenario, "--kubeconfig", self.kubeconfig, *args]
        if force and "--resume" not in args:
            cmd.append("--force")
        proc = subprocess.Popen(cmd, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if wait:
            out, err = proc.communicate(timeout=240)
            return proc.returncode, out, err
        return proc

    def hooks(self, what: str = "done") -> list[str]:
        """The hook runs so far: "COMMAND ARGS" of each that started (``start``) or did its work (``done``)."""
        if not self.hook_log.exists():
            return []
        return [line.split(" ", 1)[1] for line in self.hook_log.read_text().splitlines() if line.startswith(what + " ")]

    def kill_when(self, proc, ready, timeout: float = 120.0) -> None:
        """``kill -9`` the apply process as soon as ``ready()`` holds."""
        deadline = time.monotonic() + timeout
        while not ready():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the moment to kill never came"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)

    def nodes(self) -> list[dict]:
        return [o for o in (self.api.get("v1/nodes", None, n) for n in self.node_names) if o is not None]

    node_names: tuple = ()


@contextmanager
def flight(tmp_path: Path, data: dict | None = None, *, suffix: str = "", api_version: str = "v1.29.3"):
    """A harness holding ``data``'s cluster (nodes reporting versions with ``suffix``), its scenario file
    and kubeconfig."""
    data = data or scenario()
    path = tmp_path / "e2e.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    world = world_for(load_scenario(str(path)), seed=1)
    objects = objects_from_world(world)
    for key, obj in objects.items():
        if key[0] == "v1/nodes":
            info = obj["status"]["nodeInfo"]
            info["kubeletVersion"] += suffix
            info["kubeProxyVersion"] += suffix
    with KubeHarness(objects, version=api_version) as api:
        f = Flight(api, str(path), api.kubeconfig(tmp_path / "kubeconfig"), tmp_path / "hooks.log", tmp_path, suffix)
        f.node_names = tuple(sorted(k[2] for k in objects if k[0] == "v1/nodes"))
        yield f


def allow_evictions(api: KubeHarness, workload: str = "web") -> None:
    api.patch("policy/v1/poddisruptionbudgets", "default", f"{workload}-pdb", {"status": {"disruptionsAllowed": 10}})
