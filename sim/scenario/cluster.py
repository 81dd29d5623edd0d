"""Build the first ``ClusterState`` of a scenario from its checked ``cluster:`` and ``workloads:``.

Parts with a bad field (a pool, an override, the cloud) are left out of the records, and
then the scenario does not load; but every rule their good fields allow is checked first,
so that one run of ``midair validate`` reports every error of the file.
"""

from __future__ import annotations

from dataclasses import replace

from models import compat
from models.state import (
    APISERVER,
    CONTROLLER_MANAGER,
    DAEMONSET,
    ETCD,
    PLENTY_OF_IPS,
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
    coredns_workload,
    node_ip,
)
from models.version import KubeVersion
from sim.scenario.budgets import select_budgets, top_level_budgets
from sim.scenario.fields import LIMITS, MAX_NODES, MAX_PODS
from sim.scenario.schema import INVALID, Checker, broken, suggest
from sim.scenario.source import Path
from sim.scenario.workloads import build_workloads


def check_version_exists(v: KubeVersion, path: Path, ck: Checker) -> bool:
    problem = compat.version_problem(v)
    if problem:
        ck.fail(path, problem)
    return problem is None


def _items(value) -> list:
    """The items of a checked list, none when the list itself was refused."""
    return value if isinstance(value, list) else []


def _control_plane(cp: dict, version: KubeVersion, ck: Checker) -> ControlPlane | None:
    """The control-plane instances, or None when a count is bad (the overrides are still checked)."""
    counts_ok = not any(cp[k] is INVALID for k in ("apiservers", "controllerManagers", "schedulers", "etcd",
                                                     "etcdVersion"))
    by_name: dict[str, Instance] = {}
    if counts_ok:
        n = cp["apiservers"]
        counts = {APISERVER: n, CONTROLLER_MANAGER: cp["controllerManagers"] or n, SCHEDULER: cp["schedulers"] or n}
        instances = [Instance(f"{c}-{i}", c, version) for c, k in counts.items() for i in range(k)]
        defaults = compat.addon_defaults(version)
        etcd_version = cp["etcdVersion"] or (defaults.etcd if defaults else None)
        if etcd_version is not None:
            instances += [Instance(f"{ETCD}-{i}", ETCD, etcd_version) for i in range(cp["etcd"] or n)]
        by_name = {i.name: i for i in instances}
    for j, override in enumerate(_items(cp["instances"])):
        if override is INVALID or override["name"] is INVALID:
            continue
        path = ("cluster", "controlPlane", "instances", j)
        inst = by_name.get(override["name"])
        if inst is None:
            if counts_ok:
                ck.fail(path + ("name",), f"no control-plane instance named {override['name']!r}; "
                                          f"{suggest(override['name'], by_name)}valid: {', '.join(by_name)}")
            continue
        if override["version"] not in (None, INVALID):
            if inst.component != ETCD:
                check_version_exists(override["version"], path + ("version",), ck)
            inst = Instance(inst.name, inst.component, override["version"], inst.healthy)
        if override["healthy"] not in (None, INVALID):
            inst = Instance(inst.name, inst.component, inst.version, override["healthy"])
        by_name[inst.name] = inst
    lc = cp["nodeLifecycle"]
    if not counts_ok or broken(cp):
        return None
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


def _check_pool(p: dict, i: int, version: KubeVersion, names: set[str], ck: Checker) -> list[str] | None:
    """The rules of one pool that its good fields allow; returns its node names (None when its
    name or count is bad, or its name is taken)."""
    path = ("cluster", "nodePools", i)
    if p["name"] is not INVALID:
        if p["name"] in names:
            ck.fail(path + ("name",), f"a node pool named {p['name']!r} already exists; pool names must be unique")
            return None
        names.add(p["name"])
    if p["version"] is not INVALID:
        check_version_exists(p["version"] or version, path + ("version",), ck)
    node_names = None
    if p["name"] is not INVALID and p["count"] is not INVALID:
        node_names = [f"{p['name']}-{k + 1}" for k in range(p["count"])]
    for j, o in enumerate(_items(p["nodes"])):
        if o is INVALID:
            continue
        if o["version"] not in (None, INVALID):
            check_version_exists(o["version"], path + ("nodes", j, "version"), ck)
        if node_names is not None and o["name"] is not INVALID and o["name"] not in node_names:
            valid = f"{node_names[0]} to {node_names[-1]}" if node_names else "none (the pool is empty)"
            ck.fail(path + ("nodes", j, "name"), f"pool {p['name']!r} has no node {o['name']!r}; valid: {valid}")
    return node_names


def _pools_and_nodes(raw_pools: list, version: KubeVersion, kube_proxy: KubeVersion,
                     ck: Checker) -> tuple[list[NodePool], list[Node]]:
    """The pools and their nodes; a pool with a bad field is checked, then left out."""
    pools: list[NodePool] = []
    nodes: list[Node] = []
    names: set[str] = set()
    zone_index: dict[str, int] = {}
    handed_out: dict[str, int] = {}
    for i, p in enumerate(raw_pools):
        if p is INVALID:
            continue
        node_names = _check_pool(p, i, version, names, ck)
        if node_names is None or broken(p):
            continue
        config = node_config(NodeConfig(), p["os"], p["kubelet"], p["runtimeRunning"])
        pool = NodePool(p["name"], p["count"], p["version"] or version, Resources(p["cpu"], p["memory"], p["maxPods"]),
                        tuple(p["zones"]), p["runtime"], p["targetRuntime"], config)
        pools.append(pool)
        overrides = {o["name"]: o for o in p["nodes"]}
        for k, name in enumerate(node_names):
            o = overrides.get(name, {})
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


def _addons(raw: dict, version: KubeVersion, ck: Checker) -> tuple[list[Addon], KubeVersion]:
    addons = []
    coredns = raw["coredns"] or compat.coredns_for(version)
    if INVALID in (raw["coredns"], raw["corednsReplicas"]):
        pass
    elif coredns is None and raw["corednsReplicas"]:
        ck.fail(("cluster", "addons", "coredns"), f"midair has no default CoreDNS version for Kubernetes {version.minor_release}; "
                                                  "give cluster.addons.coredns (e.g. \"1.10.1\") or set corednsReplicas: 0")
    elif coredns is not None:
        addons.append(Addon("coredns", coredns, healthy=raw["corednsHealthy"]))
    kube_proxy = raw["kubeProxy"] if raw["kubeProxy"] not in (None, INVALID) else version
    if raw["kubeProxy"] not in (None, INVALID):
        check_version_exists(kube_proxy, ("cluster", "addons", "kubeProxy"), ck)
    addons.append(Addon("kube-proxy", kube_proxy, healthy=raw["kubeProxyHealthy"]))
    if raw["cni"] is not None and not broken(raw["cni"]):
        addons.append(Addon("cni", raw["cni"]["version"], raw["cni"]["name"], healthy=raw["cni"]["healthy"]))
    return addons, kube_proxy


def _part(raw: dict, key: str, default: dict) -> dict:
    """An optional mapping of ``raw``; ``default`` when it is not given or was refused."""
    return raw[key] if isinstance(raw[key], dict) else default


def _cloud(raw: dict, zones: list[str] | None, ck: Checker) -> CloudResources:
    """The cloud resources; ``zones`` is None when a pool was refused (so not every zone is known)."""
    subnets_raw = [s for s in _items(raw["subnets"]) if s is not INVALID]
    for j, sub in enumerate(_items(raw["subnets"])):
        if zones is not None and sub is not INVALID and sub["zone"] is not INVALID and sub["zone"] not in zones:
            ck.fail(("cluster", "cloud", "subnets", j, "zone"),
                    f"no node pool uses zone {sub['zone']!r}; {suggest(sub['zone'], zones)}valid: {', '.join(zones)}")
    given = {s["zone"]: s for s in subnets_raw}
    free = raw["subnetFreeIPs"]
    subnets = tuple(Subnet(given[z]["name"] or f"subnet-{z}", z, given[z]["freeIPs"], given[z]["healthy"]) if z in given
                    else Subnet(f"subnet-{z}", z, PLENTY_OF_IPS if free is None else free) for z in zones or ())
    lb_raw = _part(raw, "loadBalancer", {"healthy": True, "listeners": None, "aclAllowsNodes": True})
    listeners = tuple(Listener(x["port"], x["backendPort"], x["protocol"], x["healthy"])
                      for x in _items(lb_raw["listeners"]) if x is not INVALID)
    lb = LoadBalancer(lb_raw["healthy"], listeners or (Listener(),), lb_raw["aclAllowsNodes"])
    return CloudResources(lb, subnets, vpc_healthy=_part(raw, "vpc", {"healthy": True})["healthy"],
                          instance_quota=raw["instanceQuota"],
                          instances_healthy=_part(raw, "instances", {"healthy": True})["healthy"])


def _check_room(raw_workloads, pools: list[NodePool], coredns: int, ck: Checker) -> None:
    """Pods need nodes: a workload pinned to a pool of count 0, or a cluster without nodes while
    pods are wanted, would leave pods Pending and the upgrade waiting for them until its horizon."""
    sizes = {p.name: p.count for p in pools}
    with_nodes = [name for name, count in sizes.items() if count]
    wanting = []
    for i, w in enumerate(_items(raw_workloads)):
        if w is INVALID or any(w[k] is INVALID for k in ("kind", "replicas", "pool")) or w["kind"] == DAEMONSET:
            continue
        replicas = 1 if w["replicas"] is None else w["replicas"]
        if not replicas:
            continue
        wanting.append(w)
        if with_nodes and sizes.get(w["pool"]) == 0:
            ck.fail(("workloads", i, "pool"), f"node pool {w['pool']!r} has no nodes (count: 0), so these {replicas} "
                                              "pod(s) could never run; valid: a pool with nodes "
                                              f"({', '.join(with_nodes)}), or give {w['pool']!r} a count of 1 or more")
    if not with_nodes and (wanting or coredns):
        who = ([f"CoreDNS ({coredns})"] if coredns else []) + ([f"{len(wanting)} workload(s)"] if wanting else [])
        ck.fail(("cluster", "nodePools"), f"every node pool has count 0, so no pod could run ({' and '.join(who)} "
                                          "want some) and the upgrade would wait for them until its horizon; give a "
                                          "pool a count of 1 or more")


def build_cluster(data: dict, ck: Checker) -> ClusterState | None:
    """The cluster records, or None when a problem (already recorded in ``ck``) prevents them.
    Pools and workloads with a bad field are left out of the records (and the scenario does
    not load); every check their good fields allow has run."""
    workloads = build_workloads(data["workloads"], ck) if data["workloads"] is not INVALID else None
    c = data["cluster"]
    if c is INVALID or c["version"] is INVALID:
        return None
    version = c["version"]
    if not check_version_exists(version, ("cluster", "version"), ck):
        return None
    part = {k: c[k] if isinstance(c[k], dict) else None for k in ("controlPlane", "addons", "cloud")}
    control_plane = _control_plane(part["controlPlane"], version, ck) if part["controlPlane"] else None
    addons, kube_proxy = _addons(part["addons"], version, ck) if part["addons"] else ([], version)
    raw_pools = _items(c["nodePools"])
    pools, nodes = _pools_and_nodes(raw_pools, version, kube_proxy, ck)
    if len(nodes) > MAX_NODES:
        ck.fail(("cluster", "nodePools"), f"the pools add up to {len(nodes)} nodes; {LIMITS}")
    if workloads is not None:
        pods = sum(w.replicas for w in workloads) + sum(1 for w in workloads if w.kind == DAEMONSET) * len(nodes)
        if pods > MAX_PODS:
            ck.fail(("workloads",), f"the workloads add up to {pods} pods (DaemonSets once per node); {LIMITS}")
    zones = sorted({n.zone for n in nodes} | {z for p in pools for z in p.zones})
    every_pool = bool(raw_pools) and not broken(raw_pools)
    if every_pool and data["workloads"] is not INVALID and part["addons"] and \
            part["addons"]["corednsReplicas"] is not INVALID:
        _check_room(data["workloads"], pools, part["addons"]["corednsReplicas"], ck)
    cloud = _cloud(part["cloud"], zones if every_pool else None, ck) if part["cloud"] else None
    if None in (workloads, control_plane, cloud, part["addons"]) or broken(part["addons"]) or not raw_pools \
            or broken(c["apiServices"]) or broken(c["unobserved"]):
        return None
    replicas = part["addons"]["corednsReplicas"]
    if replicas and any(a.name == "coredns" for a in addons):
        workloads.insert(0, coredns_workload(replicas))
    services = tuple(APIService(a["name"], a["available"], a["service"]) for a in c["apiServices"])
    pdbs = top_level_budgets(data["podDisruptionBudgets"], ck) if data["podDisruptionBudgets"] is not INVALID else ()
    return ClusterState(control_plane, tuple(pools), tuple(nodes), select_budgets(tuple(workloads), pdbs),
                        tuple(addons), cloud, services, unobserved=tuple(sorted(set(c["unobserved"]))), pdbs=pdbs)
