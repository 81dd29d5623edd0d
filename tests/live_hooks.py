"""Hook scripts for the live adapter's tests: they do to the fake API what a node agent would.

    python tests/live_hooks.py upgrade-node NODE VERSION
    python tests/live_hooks.py upgrade-node-later NODE VERSION SECONDS   (reports the version SECONDS later)
    python tests/live_hooks.py upgrade-control-plane INSTANCE VERSION
    python tests/live_hooks.py provision-node POOL ZONE VERSION NAME   (a Ready node joins as NAME)
    python tests/live_hooks.py delete-node NODE                      (the machine goes; midair deletes the Node)
    python tests/live_hooks.py fail MESSAGE

The fake API's address comes from $MIDAIR_TEST_SERVER.
"""

import json
import os
import sys
import urllib.request


def patch(path: str, body: dict) -> None:
    request = urllib.request.Request(os.environ["MIDAIR_TEST_SERVER"] + path, data=json.dumps(body).encode(),
                                     method="PATCH", headers={"Content-Type": "application/merge-patch+json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def post(path: str, body: dict) -> None:
    request = urllib.request.Request(os.environ["MIDAIR_TEST_SERVER"] + path, data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def main(argv: list[str]) -> int:
    command = argv[0]
    if command == "upgrade-node":
        node, version = argv[1], argv[2]
        print(f"replacing the kubelet on {node} with {version}")
        patch(f"/api/v1/nodes/{node}", {"status": {"nodeInfo": {"kubeletVersion": f"v{version}"}}})
        print("kubelet restarted")
        return 0
    if command == "upgrade-control-plane":
        instance, version = argv[1], argv[2]
        component = instance.rsplit("-", 1)[0]
        patch(f"/api/v1/namespaces/kube-system/pods/{instance}",
              {"spec": {"containers": [{"name": component, "image": f"registry.k8s.io/{component}:v{version}"}]}})
        return 0
    if command == "upgrade-node-later":  # exits at once; the kubelet reports its version a moment later
        node, version = argv[1], argv[2]
        import subprocess
        subprocess.Popen([sys.executable, __file__, "upgrade-node-after", argv[3], node, version],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        print("kubelet restarting")
        return 0
    if command == "upgrade-node-after":
        import time
        time.sleep(float(argv[1]))
        patch(f"/api/v1/nodes/{argv[2]}", {"status": {"nodeInfo": {"kubeletVersion": f"v{argv[3]}"}}})
        return 0
    if command == "provision-node":
        pool, zone, version, name = argv[1:5]
        post("/api/v1/nodes", {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"node.kubernetes.io/pool": pool, "topology.kubernetes.io/zone": zone}},
            "status": {"nodeInfo": {"kubeletVersion": f"v{version}", "kubeProxyVersion": f"v{version}",
                                    "containerRuntimeVersion": "containerd://1.7.2"},
                       "conditions": [{"type": "Ready", "status": "True"}],
                       "allocatable": {"cpu": "4", "memory": "16Gi", "pods": "110"},
                       "addresses": [{"type": "InternalIP", "address": "10.0.9.9"}]}})
        print(name)  # the last line names the node that joins
        return 0
    if command == "delete-node":
        print(f"terminating the machine of {argv[1]}")
        return 0
    if command == "fail":
        print(argv[1])
        return 3
    print(f"unknown command {command}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
