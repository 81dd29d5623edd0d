"""Hook scripts for the live adapter's tests: they do to the fake API what a node agent would.

    python tests/live_hooks.py upgrade-node NODE VERSION [SECONDS]      (works SECONDS first)
    python tests/live_hooks.py upgrade-node-later NODE VERSION SECONDS   (reports the version SECONDS later)
    python tests/live_hooks.py upgrade-node-timed NODE VERSION MEDIAN P95   (works a lognormal time: see below)
    python tests/live_hooks.py upgrade-control-plane INSTANCE VERSION [DOWN]   (an apiserver restarts the API,
                                                  which is down DOWN seconds; the hook ends when it is back)
    python tests/live_hooks.py provision-node POOL ZONE VERSION NAME [SECONDS]   (a Ready node joins as NAME;
                        "auto": POOL-new-1, POOL-new-2, ... in turn; the hook ends SECONDS after it is made)
    python tests/live_hooks.py provision-node-gated POOL ZONE VERSION GATES   (as provision-node auto, each step
                        when the test says: see below)
    python tests/live_hooks.py delete-node NODE                      (the machine goes; midair deletes the Node)
    python tests/live_hooks.py fail MESSAGE

The fake API's address comes from $MIDAIR_TEST_SERVER. With $MIDAIR_TEST_HOOK_LOG set, each run
appends "start COMMAND ARGS" and, when it has done its work, "done COMMAND ARGS" to that file,
so a test can count how often each hook ran and stop midair at a chosen moment. Versions the
hooks report carry $MIDAIR_TEST_VERSION_SUFFIX (e.g. -eks-036c24b), as managed platforms' do.

provision-node-gated takes its name (POOL-new-N) as it starts and writes GATES/NAME.started; it
makes the Node once GATES/NAME.register exists, and ends once GATES/NAME.exit exists, which
holds "CODE LINE": its exit status and the last line it prints (none if LINE is empty).

upgrade-node-timed draws its duration from a lognormal with that median and 95th percentile,
seeded by the node's name: the same node always takes the same time, and the durations of a
run's nodes are a sample the calibration tests know the distribution of.
"""

import hashlib
import json
import math
import os
import random
import sys
import time
import urllib.error
import urllib.request

Z95 = 1.6448536269514722


def request(method: str, path: str, body: dict | None = None, patience_s: float = 10.0) -> None:
    """One request to the fake API; a refused connection (the API restarting) is tried again for a while,
    as a node agent would."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(os.environ["MIDAIR_TEST_SERVER"] + path, data=data, method=method,
                                 headers={"Content-Type": "application/merge-patch+json" if method == "PATCH"
                                          else "application/json"})
    deadline = time.monotonic() + patience_s
    while True:
        try:
            with urllib.request.urlopen(req, timeout=10) as response:
                response.read()
            return
        except urllib.error.URLError as exc:
            if isinstance(exc, urllib.error.HTTPError) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def note(what: str, argv: list[str]) -> None:
    log = os.environ.get("MIDAIR_TEST_HOOK_LOG")
    if log:
        with open(log, "a") as fh:
            fh.write(f"{what} {' '.join(argv)}\n")


def next_number(pool: str) -> int:
    """1, 2, 3, ... for each provisioning in a pool: a counter beside the hook log, under a lock."""
    import fcntl

    path = os.environ.get("MIDAIR_TEST_HOOK_LOG", "/tmp/midair-test-hooks") + f".{pool}.count"
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        number = int(fh.read() or 0) + 1
        fh.seek(0)
        fh.truncate()
        fh.write(str(number))
    return number


def make_node(pool: str, zone: str, version: str, name: str) -> None:
    request("POST", "/api/v1/nodes", {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": {"node.kubernetes.io/pool": pool, "topology.kubernetes.io/zone": zone}},
        "status": {"nodeInfo": {"kubeletVersion": kubelet(version), "kubeProxyVersion": kubelet(version),
                                "containerRuntimeVersion": "containerd://1.7.2"},
                   "conditions": [{"type": "Ready", "status": "True"}],
                   "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                   "addresses": [{"type": "InternalIP", "address": "10.0.9.9"}]}})


def gated(pool: str, zone: str, version: str, gates: str) -> int:
    name = f"{pool}-new-{next_number(pool)}"
    with open(f"{gates}/{name}.started", "w"):
        pass
    while True:
        over = os.path.exists(f"{gates}/{name}.exit")  # first: a register the test wrote before it is seen next
        if os.path.exists(f"{gates}/{name}.register"):
            os.rename(f"{gates}/{name}.register", f"{gates}/{name}.registered")
            make_node(pool, zone, version, name)
        if over:
            break
        time.sleep(0.02)
    with open(f"{gates}/{name}.exit") as fh:
        code, _, line = fh.read().partition(" ")
    if line:
        print(line)
    return int(code)


def kubelet(version: str) -> str:
    return f"v{version}{os.environ.get('MIDAIR_TEST_VERSION_SUFFIX', '')}"


def timed(node: str, median: float, p95: float) -> float:
    seed = int.from_bytes(hashlib.sha256(node.encode()).digest()[:8], "big")
    mu = math.log(median)
    return random.Random(seed).lognormvariate(mu, (math.log(p95) - mu) / Z95)


def main(argv: list[str]) -> int:
    command = argv[0]
    note("start", argv)
    if command in ("upgrade-node", "upgrade-node-timed"):
        node, version = argv[1], argv[2]
        print(f"replacing the kubelet on {node} with {version}", flush=True)
        pause = timed(node, float(argv[3]), float(argv[4])) if command == "upgrade-node-timed" else \
            float(argv[3]) if len(argv) > 3 else 0.0
        time.sleep(pause)
        request("PATCH", f"/api/v1/nodes/{node}", {"status": {"nodeInfo": {"kubeletVersion": kubelet(version)}}})
        print("kubelet restarted")
    elif command == "upgrade-control-plane":
        instance, version = argv[1], argv[2]
        component = instance.rsplit("-", 1)[0]
        request("PATCH", f"/api/v1/namespaces/kube-system/pods/{instance}",
                {"spec": {"containers": [{"name": component, "image": f"registry.k8s.io/{component}:v{version}"}]}})
        if component == "kube-apiserver" and len(argv) > 3:  # the only apiserver restarts: the API goes away
            request("POST", f"/midair-harness/restart?down={argv[3]}")
            time.sleep(0.2)  # and, as kubeadm does, the hook ends once it answers again
            request("GET", "/version", patience_s=60.0)
    elif command == "upgrade-node-later":  # exits at once; the kubelet reports its version a moment later
        import subprocess
        subprocess.Popen([sys.executable, __file__, "upgrade-node-after", argv[3], argv[1], argv[2]],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        print("kubelet restarting")
    elif command == "upgrade-node-after":
        time.sleep(float(argv[1]))
        request("PATCH", f"/api/v1/nodes/{argv[2]}", {"status": {"nodeInfo": {"kubeletVersion": kubelet(argv[3])}}})
    elif command == "provision-node":
        pool, zone, version, name = argv[1:5]
        if name == "auto":
            name = f"{pool}-new-{next_number(pool)}"
        make_node(pool, zone, version, name)
        time.sleep(float(argv[5]) if len(argv) > 5 else 0.0)  # the Node is listed; the hook still works
        print(name)  # the last line names the node that joins
    elif command == "provision-node-gated":
        return gated(*argv[1:5])
    elif command == "delete-node":
        print(f"terminating the machine of {argv[1]}")
    elif command == "fail":
        print(argv[1])
        return 3
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    note("done", argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
