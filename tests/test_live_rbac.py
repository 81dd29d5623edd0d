"""deploy/rbac.yaml grants exactly what midair asks of the API: the verbs and resources are derived
from every request that whole `midair apply --execute` runs of each built-in strategy (inplace with a
forced drain, replace, surge pausing the autoscaler, bluegreen), `precheck --live` and `snapshot`
send to the harness, and compared with the file both ways: nothing is refused, nothing granted goes
unused."""

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import yaml

from tests.live_cli import SCENARIO, allow_evictions, flight, scenario

RUNS = {
    # web's budget never allows: after a 1 s drain the forced drain deletes its pods (midair-force)
    "inplace": {"name": "inplace", "maxUnavailable": 1, "drainFirst": True, "drainTimeout": "1s",
                "undrainable": "force"},
    "replace": {"name": "replace", "maxSurge": 1, "maxUnavailable": 0, "drainTimeout": "10m"},
    # pauseAutoscaler annotates every node scale-down-disabled and takes the annotation off at the end
    "surge": {"name": "surge", "maxSurge": 1, "maxUnavailable": 0, "drainTimeout": "10m", "pauseAutoscaler": True},
    "bluegreen": {"name": "bluegreen", "finalSoakSeconds": "0s", "drainTimeout": "10m"},
}
# 1.30 -> 1.31: kubeadm's CoreDNS moves from 1.11.1 to 1.11.3, so both add-ons are patched
CLUSTER = {**SCENARIO["cluster"], "version": "1.30.4"}


def flown(tmp_path, name: str) -> list:
    """midair's requests during a whole upgrade of a one-node cluster with one strategy (after the inplace one,
    also precheck --live and snapshot)."""
    folder = tmp_path / name
    folder.mkdir()
    with flight(folder, scenario(nodes=1, strategy=RUNS[name], cluster=CLUSTER, target="1.31.2"),
                api_version="v1.30.4") as f:
        if name != "inplace":
            allow_evictions(f.api)
        code, out, err = f.apply("--execute", "--journal", str(folder / "j"))
        assert code == 0, out + err
        for command in (["precheck", "--live", "--to", "1.31.2"], ["snapshot", "--out", str(folder / "snap.yaml")]):
            if name == "inplace":
                proc = subprocess.run([sys.executable, "-m", "sim.cli", *command, "--kubeconfig", f.kubeconfig],
                                      capture_output=True, text=True, timeout=60)
                assert proc.returncode in (0, 1), proc.stderr
        return f.api.midair_requests()


def attributes(request) -> tuple:
    """What the API authorizer sees of a request (kubernetes.io/docs/reference/access-authn-authz/authorization/
    #determine-the-request-verb): (group, resource[/subresource], verb, namespace, name), or ("url", path, verb)."""
    parts = request.url.path.strip("/").split("/")
    method = str(request.method.value).upper()
    if parts[0] not in ("api", "apis"):
        return ("url", request.url.path, {"GET": "get"}[method])
    group, rest = ("", parts[2:]) if parts[0] == "api" else (parts[1], parts[3:])
    namespace = None
    if rest[0] == "namespaces" and len(rest) > 2:
        namespace, rest = rest[1], rest[2:]
    resource = rest[0] + (f"/{rest[2]}" if len(rest) > 2 else "")
    name = rest[1] if len(rest) > 1 else None
    verb = {"POST": "create", "PATCH": "patch", "PUT": "update", "DELETE": "delete" if name else "deletecollection",
            "GET": ("watch" if request.params.get("watch") in ("true", "1") else "get" if name else "list")}[method]
    return (group, resource, verb, namespace, name)


def grants(docs) -> list[tuple]:
    """Every (role, group, resource, verb, namespace, name) the file grants; None: any."""
    out = []
    for doc in docs:
        if doc["kind"] not in ("ClusterRole", "Role"):
            continue
        scope = doc["metadata"].get("namespace") if doc["kind"] == "Role" else None
        for rule in doc["rules"]:
            for verb in rule["verbs"]:
                for url in rule.get("nonResourceURLs", []):
                    out.append((doc["metadata"]["name"], "url", url, verb, None, None))
                for group in rule.get("apiGroups", []):
                    for resource in rule.get("resources", []):
                        for name in rule.get("resourceNames") or [None]:
                            out.append((doc["metadata"]["name"], group, resource, verb, scope, name))
    return out


def covers(grant, needed) -> bool:
    _, *granted = grant
    if granted[0] == "url":
        return needed[0] == "url" and needed[1] == granted[1] and needed[2] == granted[2]
    group, resource, verb, scope, name = granted
    return (needed[:3] == (group, resource, verb) and (scope is None or needed[3] == scope)
            and (name is None or needed[4] == name))


def test_the_shipped_rbac_grants_exactly_what_every_strategy_requests(tmp_path):
    with ThreadPoolExecutor(len(RUNS)) as pool:
        requests = [r for found in pool.map(lambda name: flown(tmp_path, name), RUNS) for r in found]
    needed = {attributes(r) for r in requests}
    granted = grants(yaml.safe_load_all(open("deploy/rbac.yaml")))
    refused = sorted(map(str, (n for n in needed if not any(covers(g, n) for g in granted))))
    unused = sorted(g for g in granted if not any(covers(g, n) for n in needed))
    assert (refused, unused) == ([], [])
    # and the roles are what docs/live.md says they are for
    used_by = {g[0] for g in granted}
    assert used_by == {"midair", "midair-addons", "midair-replace", "midair-force", "midair-helm"}
    assert {("", "pods/eviction", "create"), ("", "nodes", "delete"), ("", "pods", "delete"),
            ("", "secrets", "list"), ("apps", "daemonsets", "patch"), ("apps", "deployments", "patch")} <= {
        n[:3] for n in needed}


def test_the_authorizer_reading_of_requests():
    class R:
        def __init__(self, method, path, **params):
            self.method = type("M", (), {"value": method})
            self.url = type("U", (), {"path": path})
            self.params = params

    assert [attributes(r) for r in (
        R("GET", "/api/v1/nodes"), R("GET", "/api/v1/nodes/n-1"), R("PATCH", "/api/v1/nodes/n-1"),
        R("POST", "/api/v1/namespaces/shop/pods/web-1/eviction"), R("GET", "/api/v1/pods", watch="true"),
        R("PATCH", "/apis/apps/v1/namespaces/kube-system/daemonsets/kube-proxy"), R("GET", "/version"),
        R("DELETE", "/api/v1/namespaces/shop/pods"))] == [
        ("", "nodes", "list", None, None), ("", "nodes", "get", None, "n-1"), ("", "nodes", "patch", None, "n-1"),
        ("", "pods/eviction", "create", "shop", "web-1"), ("", "pods", "watch", None, None),
        ("apps", "daemonsets", "patch", "kube-system", "kube-proxy"), ("url", "/version", "get"),
        ("", "pods", "deletecollection", "shop", None)]
