"""Build the first ``ClusterState`` of a scenario from its checked ``cluster:`` and ``workloads:``."""

from __future__ import annotations

from dataclasses import replace

from models import compat
from models.state import (
    PLENTY_OF_IPS,
    coredns_workload,
    node_ip,
    APISERVER,
    BARE_POD,
    CONTROLLER_MANAGER,
    DAEMONSET,
    ETCD,
    SCHEDULER,
    Addon,
    APIService,
    CloudResources,
    ClusterState,
    ControlPlane,
    Instance,
    Listener,
    LoadBalancer,
    Node,
    NodeConfig,
    NodeLifecycle,
    NodePool,
    Resources,
    Subnet,
    Workload,
)
from models.version import KubeVersion
from sim.scenario.budgets import select_budgets, top_level_budgets, workload_pdb
from sim.scenario.fields import LIMITS, MAX_NODES, MAX_PODS, WORKLOAD
from sim.scenario.schema import INVALID, Checker, suggest
from sim.scenario.source import Path



def check_version_exists(v: KubeVersion, path: Path, ck: Checker) -> bool:
    problem = compat.version_problem(v)
    if problem:
        ck.fail(path, problem)
    return problem is None


def _control_plane(cp: dict, version: KubeVersion, ck: Checker) -> ControlPlane:
    n = cp["apiservers"]
    counts = {
        APISERVER: n,
        CONTROLLER_MANAGER: cp["controllerManagers"] or n,
        SCHEDULER: cp["schedulers"] or n,
    }
    instances = [Instance(f"{c}-{i}", c, version) for c, k in counts.items() for i in range(k)]
    etcd_version = cp["etcdVersion"] or (compat.addon_defaults(version).etcd if compat.addon_defaults(version) else None)
    if etcd_version is not None:
        instances += [Instance(f"{ETCD}-{i}", ETCD, etcd_version) for i in range(cp["etcd"] or n)]
    by_name = {i.name: i for i in instances}
    for j, override in enumerate(cp["instances"]):
        if override is INVALID:
            continue
        path = ("cluster", "controlPlane", "instances", j)
        inst = by_name.get(override["name"])
        if inst is None:
            ck.fail(path + ("name",), f"no control-plane instance named {override['name']!r}; "
                                      f"{suggest(override['name'], by_name)}valid: {', '.join(by_name)}")
            continue
        if override["version"] is not None:
            if inst.component != ETCD:
                check_version_exists(override["version"], path + ("version",), ck)
            inst = Instance(inst.name, inst.component, override["version"], inst.healthy)
        if override["healthy"] is not None:
            inst = Instance(inst.name, inst.component, inst.version, override["healthy"])
        by_name[inst.name] = inst
    lc = cp["nodeLifecycle"]
    return ControlPlane(tuple(by_name.values()), NodeLifecycle(lc["nodeEvictionRate"], lc["secondaryNodeEvictionRate"],
                                                               lc["unhealthyZoneThreshold"],
                                                               lc["largeClusterSizeThreshold"]))


def node_config(base: NodeConfig, os: dict | None, kubelet: dict | None, runtime_running: bool | None) -> NodeConfig:
    """A pool's (or a node's) host configuration; what is not given stays as in ``base``."""
    changes: dict = {}
    if os:
        changes.update(systemd_healthy=os["systemd"], ntp_synced=os["ntpSynced"],
                       package_manager_healthy=os["packageManager"], cgroup_version=1 if os["cgroup"] == "v1" else 2)
        if os["kernel"]:
            params = dict(base.kernel_params)
            params.update({k: str(v) for k, v in os["kernel"].items()})
            changes["kernel_params"] = tuple(sorted(params.items()))
    if kubelet:
        changes.update(kubelet_running=kubelet["running"], kubelet_config_valid=kubelet["configValid"],
                       kubelet_cert_expiry_days=kubelet["certExpiryDays"])
    if runtime_running is not None:
        changes["runtime_running"] = runtime_running
    return replace(base, **changes)


def _pools_and_nodes(raw_pools: list[dict], version: KubeVersion, kube_proxy: KubeVersion,
                     ck: Checker) -> tuple[list[NodePool], list[Node]]:
    pools: list[NodePool] = []
    nodes: list[Node] = []
    zone_index: dict[str, int] = {}
    handed_out: dict[str, int] = {}
    for i, p in enumerate(raw_pools):
        if p is INVALID:
            continue
        path = ("cluster", "nodePools", i)
        if any(q.name == p["name"] for q in pools):
            ck.fail(path + ("name",), f"a node pool named {p['name']!r} already exists; pool names must be unique")
            continue
        pool_version = p["version"] or version
        check_version_exists(pool_version, path + ("version",), ck)
        config = node_config(NodeConfig(), p["os"], p["kubelet"], p["runtimeRunning"])
        pool = NodePool(p["name"], p["count"], pool_version, Resources(p["cpu"], p["memory"], p["maxPods"]),
                        tuple(p["zones"]), p["runtime"], p["targetRuntime"], config)
        pools.append(pool)
        overrides = {o["name"]: (j, o) for j, o in enumerate(p["nodes"]) if o is not INVALID}
        names = [f"{pool.name}-{k + 1}" for k in range(pool.count)]
        for name, (j, o) in overrides.items():
            if o.get("version") is not None:
                check_version_exists(o["version"], path + ("nodes", j, "version"), ck)
            if name not in names:
                valid = f"{names[0]} to {names[-1]}" if names else "none (the pool is empty)"
                ck.fail(path + ("nodes", j, "name"), f"pool {pool.name!r} has no node {name!r}; valid: {valid}")
        for k, name in enumerate(names):
            o = overrides.get(name, (None, {}))[1]
            zone = o.get("zone") or pool.zones[k % len(pool.zones)]
            zi = zone_index.setdefault(zone, len(zone_index))
            handed_out[zone] = handed_out.get(zone, 0) + 1
            kubelet = o.get("version") or pool.version
            nodes.append(Node(name, pool.name, zone, kubelet, kube_proxy,
                              pool.allocatable, o.get("runtime") or pool.runtime,
                              ip=node_ip(zi, handed_out[zone] - 1),
                              ready=o.get("ready") if o.get("ready") is not None else True,
                              config=node_config(pool.config, o.get("os"), o.get("kubelet"), o.get("runtimeRunning"))))
    return pools, nodes


def _raw_pool_names(ck: Checker) -> list[str]:
    """Pool names as written, including pools that failed their own checks."""
    try:
        return [str(p["name"]) for p in ck.src.data["cluster"]["nodePools"] if isinstance(p, dict) and "name" in p]
    except (KeyError, TypeError):
        return []


UNKNOWN = "(unknown fields)"


def _unknown_fields(ck: Checker, path: Path, known) -> set[str]:
    """``{UNKNOWN}`` when the mapping at ``path`` has a field the format does not know (already reported)."""
    node = ck.src.data
    try:
        for part in path:
            node = node[part]
    except (KeyError, IndexError, TypeError):
        return set()
    return {UNKNOWN} if isinstance(node, dict) and set(node) - set(known) else set()


def _workloads(raw: list, ck: Checker) -> list[Workload]:
    """The workloads; a workload with a bad field is left out, but its other fields are still
    checked against each other, so that every error of the file is reported at once."""
    out: list[Workload] = []
    seen: set[tuple] = set()
    pool_names = _raw_pool_names(ck)
    for i, w in enumerate(raw):
        if w is INVALID:
            continue
        path = ("workloads", i)
        bad = {k for k, v in w.items() if v is INVALID} | _unknown_fields(ck, path, WORKLOAD.fields)
        if not bad & {"name", "namespace"}:
            if (w["namespace"], w["name"]) in seen:
                ck.fail(path + ("name",), f"workload {w['namespace']}/{w['name']} is declared twice; names must be "
                                          "unique per namespace")
                continue
            seen.add((w["namespace"], w["name"]))
        replicas = w["replicas"]
        if "kind" not in bad and w["kind"] == DAEMONSET:
            if replicas is not None:
                ck.fail(path + ("replicas",), "a DaemonSet runs one pod per eligible node; remove replicas")
            replicas = 0
        elif replicas is None:
            replicas = 1
        if not bad & {"kind", "phase"} and w["phase"] != "Running" and w["kind"] != BARE_POD:
            ck.fail(path + ("phase",), f"only a bare pod (kind: Pod) can be {w['phase']}; a controller's pods are "
                                       "replaced when they finish; valid: Running")
        if "pool" not in bad and w["pool"] is not None and pool_names and w["pool"] not in pool_names:
            ck.fail(path + ("pool",), f"no node pool named {w['pool']!r}; {suggest(w['pool'], pool_names)}valid: {', '.join(pool_names)}")
        # a misspelt field (replica: 6) leaves its default in place: nothing to compare against
        pdb = workload_pdb(w, replicas, path, ck) if not bad & {"pdb", "kind", "replicas", UNKNOWN} else None
        if bad:
            continue
        labels = tuple(sorted(w["labels"].items())) if w["labels"] else (("app", w["name"]),)
        out.append(Workload(w["name"], w["kind"], w["namespace"], replicas,
                            Resources(w["cpu"], w["memory"], 1), pdb, w["startupSeconds"], w["imagePullSeconds"],
                            w["localStorage"], w["pool"], w["gracePeriodSeconds"], labels=labels,
                            pre_stop_s=w["preStopSeconds"], phase=w["phase"]))
    return out


def _addons(raw: dict, version: KubeVersion, ck: Checker) -> tuple[list[Addon], KubeVersion]:
    addons = []
    coredns = raw["coredns"] or compat.coredns_for(version)
    if coredns is None and raw["corednsReplicas"]:
        ck.fail(("cluster", "addons", "coredns"), f"midair has no default CoreDNS version for Kubernetes {version.minor_release}; "
                                                  "give cluster.addons.coredns (e.g. \"1.10.1\") or set corednsReplicas: 0")
    elif coredns is not None:
        addons.append(Addon("coredns", coredns))
    if addons:
        addons[0] = replace(addons[0], healthy=raw["corednsHealthy"])
    kube_proxy = raw["kubeProxy"] or version
    if raw["kubeProxy"] is not None:
        check_version_exists(kube_proxy, ("cluster", "addons", "kubeProxy"), ck)
    addons.append(Addon("kube-proxy", kube_proxy, healthy=raw["kubeProxyHealthy"]))
    if raw["cni"] is not None:
        addons.append(Addon("cni", raw["cni"]["version"], raw["cni"]["name"], healthy=raw["cni"]["healthy"]))
    return addons, kube_proxy


def _cloud(raw: dict, zones: list[str], ck: Checker) -> CloudResources:
    free = raw["subnetFreeIPs"]
    given = {s["zone"]: s for s in raw["subnets"] or ()}
    for j, sub in enumerate(raw["subnets"] or ()):
        if sub["zone"] not in zones:
            ck.fail(("cluster", "cloud", "subnets", j, "zone"),
                    f"no node pool uses zone {sub['zone']!r}; {suggest(sub['zone'], zones)}valid: {', '.join(zones)}")
    subnets = tuple(Subnet(given[z]["name"] or f"subnet-{z}", z, given[z]["freeIPs"], given[z]["healthy"]) if z in given
                    else Subnet(f"subnet-{z}", z, PLENTY_OF_IPS if free is None else free) for z in zones)
    lb_raw = raw["loadBalancer"] or {"healthy": True, "listeners": None, "aclAllowsNodes": True}
    listeners = tuple(Listener(l["port"], l["backendPort"], l["protocol"], l["healthy"]) for l in lb_raw["listeners"] or ())
    lb = LoadBalancer(lb_raw["healthy"], listeners or (Listener(),), lb_raw["aclAllowsNodes"])
    return CloudResources(lb, subnets, vpc_healthy=(raw["vpc"] or {"healthy": True})["healthy"],
                          instance_quota=raw["instanceQuota"],
                          instances_healthy=(raw["instances"] or {"healthy": True})["healthy"])


def build_cluster(data: dict, ck: Checker) -> ClusterState | None:
    """The cluster records, or None when a problem (already recorded in ``ck``) prevents them."""
    workloads = _workloads(data["workloads"], ck) if data["workloads"] is not INVALID else None
    c = data["cluster"]
    if c is INVALID or c["version"] is INVALID:
        return None
    version = c["version"]
    if not check_version_exists(version, ("cluster", "version"), ck):
        return None
    pieces_ok = all(c[k] is not INVALID for k in ("controlPlane", "nodePools", "addons", "cloud", "unobserved"))
    if not pieces_ok or workloads is None:
        return None
    control_plane = _control_plane(c["controlPlane"], version, ck)
    addons, kube_proxy = _addons(c["addons"], version, ck)
    pools, nodes = _pools_and_nodes(c["nodePools"], version, kube_proxy, ck)
    if len(nodes) > MAX_NODES:
        ck.fail(("cluster", "nodePools"), f"the pools add up to {len(nodes)} nodes; {LIMITS}")
    pods = sum(w.replicas for w in workloads) + sum(1 for w in workloads if w.kind == DAEMONSET) * len(nodes)
    if pods > MAX_PODS:
        ck.fail(("workloads",), f"the workloads add up to {pods} pods (DaemonSets once per node); {LIMITS}")
    replicas = c["addons"]["corednsReplicas"]
    if replicas and any(a.name == "coredns" for a in addons):
        workloads.insert(0, coredns_workload(replicas))
    zones = sorted({n.zone for n in nodes} | {z for p in pools for z in p.zones})
    services = tuple(APIService(a["name"], a["available"], a["service"]) for a in c["apiServices"])
    pdbs = top_level_budgets(data["podDisruptionBudgets"], workloads, ck) if data["podDisruptionBudgets"] is not INVALID else ()
    return ClusterState(control_plane, tuple(pools), tuple(nodes), select_budgets(tuple(workloads), pdbs),
                        tuple(addons), _cloud(c["cloud"], zones, ck), services,
                        unobserved=tuple(sorted(set(c["unobserved"]))), pdbs=pdbs)
