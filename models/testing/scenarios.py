"""``scenarios()``: whole scenario files (``apiVersion: midair/v1alpha1``) as plain dicts, and
``to_scenario()``, which writes a generated cluster and target in that format.

A dict from here is what ``yaml.safe_dump`` turns into a file ``midair validate`` accepts. The
writer covers what ``clusters()`` generates; it refuses (``ValueError``) what the format
cannot say, such as a node in the middle of an operation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from hypothesis import strategies as st

from models import compat
from models.constraints import node_labels
from models.podspec import scheduling_json, taint_json, webhook_json
from models.quantity import IntOrPercent, format_cpu, format_duration, format_memory
from models.state import (
    PLENTY_OF_IPS,
    APISERVER,
    CONTROLLER_MANAGER,
    DAEMONSET,
    ETCD,
    IDLE,
    SCHEDULER,
    ClusterState,
    Listener,
    LoadBalancer,
    NodeConfig,
    Workload,
)
from models.strategies import BUILTIN
from models.strategies.params import (
    BOOL,
    BUDGETS,
    CHOICE,
    DRAIN_OPTIONS,
    DURATION,
    INT,
    INT_OR_PERCENT,
    POOL_LIST,
    WINDOWS,
    Param,
)
from models.testing.bounds import check_int, check_names
from models.testing.clusters import upgrades as upgrade_pairs
from models.testing.context import START_TIMES, autoscaler_blocks, budgets, pool_orders, service_entries, windows
from models.testing.faults import fault_schedules
from models.version import KubeVersion

API_VERSION = "midair/v1alpha1"
STRATEGY_NAMES = tuple(BUILTIN)


def _config(cfg: NodeConfig, base: NodeConfig) -> dict:
    """The host configuration as a pool's or node's ``os``, ``kubelet``, ``runtimeRunning`` (what differs from ``base``)."""
    if cfg == base:
        return {}
    kernel = dict(cfg.kernel_params)
    return {
        "os": {"systemd": cfg.systemd_healthy, "ntpSynced": cfg.ntp_synced,
               "packageManager": cfg.package_manager_healthy, "cgroup": f"v{cfg.cgroup_version}",
               **({"kernel": kernel} if kernel != dict(base.kernel_params) else {})},
        "kubelet": {"running": cfg.kubelet_running, "configValid": cfg.kubelet_config_valid,
                    "certExpiryDays": cfg.kubelet_cert_expiry_days},
        "runtimeRunning": cfg.runtime_running,
    }


def _control_plane(state: ClusterState) -> dict:
    cp = state.control_plane
    version = state.version
    out: dict = {}
    overrides = []
    for key, component in (("apiservers", APISERVER), ("controllerManagers", CONTROLLER_MANAGER),
                           ("schedulers", SCHEDULER), ("etcd", ETCD)):
        instances = cp.of(component)
        if [i.name for i in instances] != [f"{component}-{k}" for k in range(len(instances))]:
            raise ValueError(f"{component} instances must be named {component}-0, {component}-1, ... to be written")
        if instances:
            out[key] = len(instances)
        elif component != ETCD:
            raise ValueError(f"a scenario has at least one {component}")
        for i in instances:
            if i.phase != IDLE:
                raise ValueError(f"{i.name} is {i.phase}; a scenario describes a cluster at rest")
            o: dict = {}
            if component != ETCD and i.version != version:
                o["version"] = str(i.version)
            if not i.healthy:
                o["healthy"] = False
            if o:
                overrides.append({"name": i.name, **o})
    if any(i.component not in (APISERVER, CONTROLLER_MANAGER, SCHEDULER, ETCD) for i in cp.instances):
        raise ValueError("a scenario describes only apiservers, controller-managers, schedulers and etcd")
    etcd = cp.of(ETCD)
    default = compat.addon_defaults(version)
    default_etcd = default.etcd if default else None
    if etcd:
        if len({i.version for i in etcd}) > 1:
            raise ValueError("a scenario gives every etcd member the same version")
        if etcd[0].version != default_etcd:
            out["etcdVersion"] = str(etcd[0].version)
    elif default_etcd is not None:
        raise ValueError(f"a cluster at {version} has etcd members in a scenario (kubeadm's {default_etcd})")
    if overrides:
        out["instances"] = overrides
    return out


def _pools(state: ClusterState, proxy: KubeVersion) -> list[dict]:
    pools = []
    for p in state.pools:
        entry: dict = {"name": p.name, "count": p.count, "version": str(p.version),
                       "cpu": format_cpu(p.allocatable.cpu_m), "memory": format_memory(p.allocatable.memory),
                       "maxPods": p.allocatable.pods, "zones": list(p.zones), "runtime": p.runtime,
                       **({"targetRuntime": p.target_runtime} if p.target_runtime else {}),
                       **({"labels": dict(p.labels)} if p.labels else {}),
                       **({"taints": [taint_json(t) for t in p.taints]} if p.taints else {}),
                       **_config(p.config, NodeConfig())}
        members = state.nodes_in(p.name)
        if [n.name for n in members] != [f"{p.name}-{k}" for k in range(1, p.count + 1)]:
            raise ValueError(f"pool {p.name} must have exactly the nodes {p.name}-1 to {p.name}-{p.count} to be written")
        overrides = []
        for k, n in enumerate(members):
            if n.phase != IDLE or not n.schedulable:
                raise ValueError(f"{n.name} is {n.phase}{'' if n.schedulable else ', cordoned'}; "
                                 "a scenario describes a cluster at rest")
            if n.kube_proxy != proxy or n.allocatable != p.allocatable:
                raise ValueError(f"{n.name} must run the kube-proxy add-on's version and its pool's allocatable")
            if n.taints != p.taints or n.labels != node_labels(p.labels, n.zone, n.name):
                raise ValueError(f"{n.name} must have its pool's labels and taints (a scenario has no node labels)")
            o: dict = {}
            if n.kubelet != p.version:
                o["version"] = str(n.kubelet)
            if not n.ready:
                o["ready"] = False
            if n.zone != p.zones[k % len(p.zones)]:
                o["zone"] = n.zone
            if n.runtime != p.runtime:
                o["runtime"] = n.runtime
            o.update(_config(n.config, p.config))
            if o:
                overrides.append({"name": n.name, **o})
        if overrides:
            entry["nodes"] = overrides
        pools.append(entry)
    return pools


def _addons(state: ClusterState) -> tuple[dict, KubeVersion]:
    out: dict = {}
    dns = state.addon("coredns")
    dns_workload = next((w for w in state.workloads if w.system and w.key == "kube-system/coredns"), None)
    if dns is None and compat.coredns_for(state.version) is not None:
        raise ValueError(f"a cluster at {state.version} runs CoreDNS in a scenario")
    if dns is not None:
        out["coredns"] = str(dns.version)
        if not dns.healthy:
            out["corednsHealthy"] = False
    out["corednsReplicas"] = dns_workload.replicas if dns_workload else 0
    proxy = state.addon("kube-proxy")
    if proxy is None:
        raise ValueError("a scenario's cluster runs kube-proxy")
    out["kubeProxy"] = str(proxy.version)
    if not proxy.healthy:
        out["kubeProxyHealthy"] = False
    cni = state.addon("cni")
    if cni is not None:
        out["cni"] = {"name": cni.flavor, "version": str(cni.version), **({} if cni.healthy else {"healthy": False})}
    if any(a.phase != IDLE for a in state.addons):
        raise ValueError("an add-on is being upgraded; a scenario describes a cluster at rest")
    return out, proxy.version


def _cloud(state: ClusterState) -> dict:
    c = state.cloud
    out: dict = {"subnets": [{"zone": s.zone, "freeIPs": s.free_ips, "name": s.name,
                              **({} if s.healthy else {"healthy": False})} for s in c.subnets]}
    if all(s.free_ips == PLENTY_OF_IPS and s.healthy and s.name == f"subnet-{s.zone}" for s in c.subnets):
        out = {}
    if c.load_balancer != LoadBalancer():
        lb = c.load_balancer
        out["loadBalancer"] = {"healthy": lb.healthy, "aclAllowsNodes": lb.acl_allows_nodes,
                               "listeners": [{"port": x.port, "backendPort": x.backend_port, "protocol": x.protocol,
                                              "healthy": x.healthy} for x in lb.listeners or (Listener(),)]}
    if not c.vpc_healthy:
        out["vpc"] = {"healthy": False}
    if not c.instances_healthy:
        out["instances"] = {"healthy": False}
    if c.instance_quota is not None:
        out["instanceQuota"] = c.instance_quota
    return out


def _workload(w: Workload) -> dict:
    if w.requests.pods != 1:
        raise ValueError(f"workload {w.key}: a scenario's pods take one pod slot each")
    entry: dict = {"name": w.name, "kind": w.kind, "namespace": w.namespace,
                   "cpu": format_cpu(w.requests.cpu_m), "memory": format_memory(w.requests.memory)}
    if w.kind != DAEMONSET:
        entry["replicas"] = w.replicas
    if w.pdb is not None:
        entry["pdb"] = {"unhealthyPodEvictionPolicy": w.pdb.unhealthy_pod_eviction_policy}
        for key, value in (("minAvailable", w.pdb.min_available), ("maxUnavailable", w.pdb.max_unavailable)):
            if value is not None:
                entry["pdb"][key] = value.to_json()
    for key, value in (("startupSeconds", w.startup_seconds), ("imagePullSeconds", w.image_pull_s),
                       ("pool", w.pool)):
        if value is not None:
            entry[key] = value
    if w.storage is not None:
        entry["storage"] = {"class": w.storage.kind, **({"size": format_memory(w.storage.size)}
                                                        if w.storage.size is not None else {})}
    elif w.local_storage:
        entry["localStorage"] = True
    if w.local_storage and w.storage is not None:
        raise ValueError(f"workload {w.key}: local storage and a {w.storage.kind} claim at once")
    if w.grace_period_s != 30.0:
        entry["gracePeriodSeconds"] = w.grace_period_s
    entry.update(scheduling_json(w.scheduling))
    return entry


def to_scenario(cluster: ClusterState, target: KubeVersion, *, name: str = "generated",
                strategies: Sequence[dict] = ({"name": "inplace"},), faults: Sequence[dict] = (),
                runs: int = 1, seed: int = 0) -> dict:
    """``cluster`` and ``target`` as a scenario dict (node addresses are left to the loader)."""
    addons, proxy = _addons(cluster)
    body: dict = {
        "version": str(cluster.version),
        "controlPlane": _control_plane(cluster),
        "nodePools": _pools(cluster, proxy),
        "addons": addons,
    }
    cloud = _cloud(cluster)
    if cloud:
        body["cloud"] = cloud
    if cluster.api_services:
        body["apiServices"] = [{"name": s.name, "available": s.available, **({"service": s.service} if s.service else {})}
                               for s in cluster.api_services]
    if cluster.unobserved:
        body["unobserved"] = list(cluster.unobserved)
    return {
        "apiVersion": API_VERSION,
        "kind": "Scenario",
        "metadata": {"name": name},
        "cluster": body,
        "workloads": [_workload(w) for w in cluster.workloads if not w.system],
        **({"priorityClasses": [{"name": c.name, "value": c.value, "preemptionPolicy": c.preemption_policy,
                                 "globalDefault": c.global_default} for c in cluster.priority_classes]}
           if cluster.priority_classes else {}),
        **({"webhooks": [webhook_json(h) for h in cluster.webhooks]} if cluster.webhooks else {}),
        **({"services": service_entries(cluster.services)} if cluster.services else {}),
        "target": str(target),
        "strategies": [dict(s) for s in strategies],
        "faults": [dict(f) for f in faults],
        "runs": runs,
        "seed": seed,
    }


def _param_value(p: Param, pools: tuple[str, ...] = ()) -> st.SearchStrategy:
    if p.kind == POOL_LIST:
        return pool_orders(pools)
    if p.kind == WINDOWS:
        return windows()
    if p.kind == BUDGETS:
        return budgets()
    if p.kind == INT_OR_PERCENT:
        return st.integers(0, 3) | st.integers(0, 100).map(lambda v: f"{v}%")
    if p.kind == DURATION:
        return st.sampled_from((0, 60, 300, 900, 3600)).map(format_duration)
    if p.kind == INT:
        return st.integers(p.minimum or 0, (p.minimum or 0) + 3)
    if p.kind == BOOL:
        return st.booleans()
    if p.kind == CHOICE:
        return st.sampled_from(p.choices)
    if p.kind == DRAIN_OPTIONS:
        flags = ("ignoreDaemonSets", "deleteEmptyDirData", "force", "disableEviction")
        waits = ("skipWaitForDeleteTimeout", "skipWaitWhenUnreachable")
        return st.fixed_dictionaries({}, optional={**{f: st.booleans() for f in flags},
                                                   **{w: st.sampled_from((0, 60, 300)).map(format_duration)
                                                      for w in waits}})
    raise ValueError(f"unknown parameter kind {p.kind!r}")  # pragma: no cover - params.py defines eight


@st.composite
def strategy_entries(draw, name: str, pools: tuple[str, ...] = ()) -> dict:
    """One ``strategies:`` entry for a built-in strategy, with some of its knobs set (never
    maxSurge and maxUnavailable both 0; ``poolOrder`` among ``pools``); a strategy that is not
    built in gets no knobs."""
    params = BUILTIN[name][1] if name in BUILTIN else ()
    entry: dict = {"name": name}
    for p in params:
        if draw(st.booleans()):
            entry[p.name] = draw(_param_value(p, pools))
    surge, unavailable = _param(params, "maxSurge"), _param(params, "maxUnavailable")
    if surge is not None and unavailable is not None:
        values = [IntOrPercent.parse(entry.get(p.name, p.default)) for p in (surge, unavailable)]
        if all(v.value == 0 for v in values):
            entry["maxUnavailable"] = 1
    return entry


def _param(params: Iterable[Param], name: str) -> Param | None:
    return next((p for p in params if p.name == name), None)


@st.composite
def _scenarios(draw, pairs, names, max_strategies, max_faults, fault_types, autoscalers) -> dict:
    cluster, target = draw(pairs)
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=max_strategies, unique=True))
    entries = [draw(strategy_entries(n, tuple(p.name for p in cluster.pools))) for n in chosen]
    faults = draw(fault_schedules(cluster, max_faults=max_faults, types=fault_types))
    doc = to_scenario(cluster, target, strategies=entries, faults=faults, seed=draw(st.integers(0, 2**31 - 1)))
    if autoscalers and draw(st.booleans()):
        doc["autoscaler"] = draw(autoscaler_blocks([(p.name, p.count) for p in cluster.pools]))
    start = draw(st.none() | st.sampled_from(START_TIMES))
    if start is not None:
        doc["startTime"] = start
    return doc


def scenarios(*, upgrades: st.SearchStrategy | None = None, strategies: Iterable[str] = tuple(BUILTIN),
              max_strategies: int = 2, max_faults: int = 3, fault_types: Iterable[str] | None = None,
              autoscalers: bool = True) -> st.SearchStrategy[dict]:
    """Scenario dicts: a ``(cluster, target)`` pair from ``upgrades`` (default ``upgrades()``; its
    services come along), 1 to ``max_strategies`` distinct entries of ``strategies`` with some
    knobs set (maintenance windows, Karpenter budgets and pool orders among them), a fault
    schedule for that cluster (up to ``max_faults`` of ``fault_types``), sometimes a start time
    and, unless ``autoscalers`` is false, sometimes a cluster-autoscaler that keeps each pool it
    scales at or above its size."""
    names = check_names("strategies", strategies, STRATEGY_NAMES, "strategies", also=lambda n: ":" in n,
                        also_says=", or a class as module:attr")
    check_int("max_strategies", max_strategies, 1)
    check_int("max_faults", max_faults, 0)
    types = None if fault_types is None else tuple(fault_types)
    fault_schedules(max_faults=max_faults, types=types)  # check the bounds now, not at the first draw
    return _scenarios(upgrades if upgrades is not None else upgrade_pairs(), names, max_strategies, max_faults, types,
                      bool(autoscalers))
