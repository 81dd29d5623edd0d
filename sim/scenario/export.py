"""Write scenarios as files: a cluster as a scenario, so a user can rehearse an upgrade of their
own cluster, and a loaded scenario file back out as plain data, so a changed copy can be written.

``scenario_from_state`` is used by ``midair snapshot`` (a live cluster) and ``midair import``
(a ``kubectl get -o json`` dump). Nodes are renamed ``POOL-1``, ``POOL-2``, ... as the format
names them, and pools get DNS-label names; ``anonymize`` also replaces pool, namespace and
workload names, and label values (the same value gets the same hash, so selectors still
select), with stable hashes. ``source_document`` gives back what a scenario file said
(``--set`` applied) for ``midair fuzz`` to vary and write as its counterexample; ``to_yaml``
writes either.
"""

from __future__ import annotations

import copy
import hashlib

import yaml

from models.admission import NAMESPACE_NAME_LABEL
from models.constraints import ZONE
from models.names import as_label
from models.podspec import scheduling_json, taint_json, webhook_json
from models.quantity import IntOrPercent, format_cpu, format_memory
from models.state import DAEMONSET, STATEFULSET, ClusterState
from models.version import KubeVersion
from sim.adapters.kube_translate import CNI_DAEMONSETS
from sim.scenario.fields import SCENARIO
from sim.scenario.schema import Enum, ListOf, MapOf, Obj, OneOf, Str, Version
from sim.scenario.source import Path, Source

MODELLED_ELSEWHERE = {("kube-system", "coredns"), ("kube-system", "kube-proxy")} | {("kube-system", n) for n in CNI_DAEMONSETS}


def hashed(prefix: str, text: str) -> str:
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:6]}"


def _intstr(v: IntOrPercent):
    return v.to_json()


def _pool_names(state: ClusterState, anonymize: bool) -> dict[str, str]:
    """The scenario's name of each pool: a DNS label, as the format wants (a pool label such as an
    EKS node group's may hold capitals and '_'), unique; ``pool-N`` when anonymized."""
    out: dict[str, str] = {}
    for i, p in enumerate(state.pools, 1):
        name = f"pool-{i}" if anonymize else (as_label(p.name)[:50].rstrip("-") or f"pool-{i}")
        while name in out.values():
            name = f"{name}-{i}"
        out[p.name] = name
    return out


def scenario_from_state(state: ClusterState, name: str, target: KubeVersion | None = None, anonymize: bool = False,
                        description: str = "") -> dict:
    cp_version = state.oldest_apiserver
    pool_names = _pool_names(state, anonymize)
    pools = []
    renamed: dict[str, str] = {}  # node name -> its name in the scenario
    for p in state.pools:
        members = sorted(state.nodes_in(p.name), key=lambda n: n.name)
        renamed.update({n.name: f"{pool_names[p.name]}-{i}" for i, n in enumerate(members[: p.count], 1)})
        entry = {"name": pool_names[p.name], "count": p.count, "version": str(p.version),
                 "cpu": format_cpu(p.allocatable.cpu_m), "memory": format_memory(p.allocatable.memory),
                 "maxPods": p.allocatable.pods or 110, "zones": list(p.zones)}
        if p.runtime:
            entry["runtime"] = p.runtime
        if p.labels:
            entry["labels"] = {k: _label(v, anonymize) for k, v in p.labels}
        if p.taints:
            entry["taints"] = [taint_json(t) for t in p.taints]
        overrides = []
        for i, n in enumerate(members[: p.count], 1):
            o = {}
            if n.kubelet != p.version:
                o["version"] = str(n.kubelet)
            if not n.ready:
                o["ready"] = False
            if o:
                overrides.append({"name": f"{pool_names[p.name]}-{i}", **o})
        if overrides:
            entry["nodes"] = overrides
        pools.append(entry)
    cp = state.control_plane
    addons: dict = {}
    dns = state.addon("coredns")
    dns_workload = next((w for w in state.workloads if (w.namespace, w.name) == ("kube-system", "coredns")), None)
    addons["corednsReplicas"] = dns_workload.replicas if dns_workload else 0
    if dns is not None:
        addons["coredns"] = str(dns.version)
    proxy = state.addon("kube-proxy")
    if proxy is not None:
        addons["kubeProxy"] = str(proxy.version)
    cni = state.addon("cni")
    if cni is not None:
        addons["cni"] = {"name": cni.flavor, "version": str(cni.version)}
    workloads = []
    for w in state.workloads:
        if (w.namespace, w.name) in MODELLED_ELSEWHERE:
            continue
        ns = _namespace(w.namespace, anonymize)
        entry = {"name": hashed("w", f"{w.namespace}/{w.name}") if anonymize else w.name, "kind": w.kind}
        if ns != "default":
            entry["namespace"] = ns
        if w.kind != DAEMONSET:
            entry["replicas"] = w.replicas
        if w.requests.cpu_m:
            entry["cpu"] = format_cpu(w.requests.cpu_m)
        if w.requests.memory:
            entry["memory"] = format_memory(w.requests.memory)
        if w.pdb is not None and w.pdb.selector is None:  # its own budget (one that selects is written below)
            entry["pdb"] = _budget(w.pdb)
        if w.labels and (anonymize or w.labels != (("app", w.name),)):
            entry["labels"] = {k: _label(v, anonymize) for k, v in w.labels}
        if w.pre_stop_s:
            entry["preStopSeconds"] = w.pre_stop_s
        if w.kind == STATEFULSET and w.pod_management != "OrderedReady":
            entry["podManagementPolicy"] = w.pod_management
        if w.local_storage:
            entry["localStorage"] = True
        elif w.storage is not None:
            entry["storage"] = {"class": w.storage.kind, **({"size": format_memory(w.storage.size)}
                                                            if w.storage.size else {})}
        entry.update(_hashed(scheduling_json(w.scheduling), anonymize))
        if w.pool and w.pool in pool_names:
            entry["pool"] = pool_names[w.pool]
        if w.grace_period_s != 30.0:
            entry["gracePeriodSeconds"] = w.grace_period_s
        workloads.append(entry)
    target = target or cp_version.add_minors(1)
    extra = _context(state, renamed, anonymize)
    return {
        "apiVersion": "midair/v1alpha1",
        "kind": "Scenario",
        "metadata": {"name": name, "description": description},
        "cluster": {
            "version": str(cp_version),
            "controlPlane": {"apiservers": max(1, len(cp.apiservers)),
                             "controllerManagers": max(1, len(cp.of("kube-controller-manager"))),
                             "schedulers": max(1, len(cp.of("kube-scheduler")))},
            "nodePools": pools,
            "addons": addons,
            **({"unobserved": list(state.unobserved)} if state.unobserved else {}),
        },
        "workloads": workloads,
        **({"podDisruptionBudgets": [_selecting_budget(p, anonymize) for p in state.pdbs]} if state.pdbs else {}),
        **({"priorityClasses": [{"name": c.name, "value": c.value, "preemptionPolicy": c.preemption_policy,
                                 "globalDefault": c.global_default} for c in state.priority_classes]}
           if state.priority_classes else {}),
        **({"webhooks": _webhooks(state, anonymize)} if state.webhooks else {}),
        "target": str(target),
        "strategies": [{"name": "inplace", "maxUnavailable": 1}, {"name": "replace", "maxSurge": 1, "maxUnavailable": 0}],
        "faults": [],
        "runs": 20,
        "seed": 0,
        **extra,
    }


def _hashed(obj, anonymize: bool, key: str = ""):
    """``obj`` (Kubernetes JSON) with label values and namespace names hashed when ``anonymize``, each as the rest
    of the export hashes it, so that what selects still selects: a zone stays (zones are not hidden), a namespace's
    name label is hashed as its namespace, Gt and Lt keep their numbers."""
    if not anonymize:
        return obj
    if isinstance(obj, dict):
        if isinstance(obj.get("key"), str) and isinstance(obj.get("values"), list):  # a requirement
            keep = obj.get("operator") in ("Gt", "Lt")
            return {**obj, "values": obj["values"] if keep else [_value(obj["key"], v) for v in obj["values"]]}
        return {k: ({lk: _value(lk, lv) for lk, lv in v.items()} if k in ("matchLabels", "nodeSelector")
                    and isinstance(v, dict) else _hashed(v, True, k)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_namespace(v, True) for v in obj] if key == "namespaces" else [_hashed(v, True) for v in obj]
    return obj


def _value(key: str, value: str) -> str:
    """A label value hashed as the export hashes what it names."""
    if key == ZONE:
        return value
    if key == NAMESPACE_NAME_LABEL:
        return _namespace(value, True)
    return _label(value, True)


def _namespace(ns: str, anonymize: bool) -> str:
    return hashed("ns", ns) if anonymize and ns not in ("default", "kube-system") else ns


def _webhooks(state: ClusterState, anonymize: bool) -> list[dict]:
    """The webhooks; one served by a workload the scenario does not hold is written as served from outside."""
    keys = {w.key for w in state.workloads}
    out = []
    for h in state.webhooks:
        entry = _hashed(webhook_json(h), anonymize)
        if h.service not in keys:
            entry.pop("service", None)
        elif anonymize:
            entry["service"] = {"namespace": _namespace(h.service.partition("/")[0], True),
                                "workload": hashed("w", h.service)}
        out.append(entry)
    return out


def _context(state: ClusterState, renamed: dict[str, str], anonymize: bool) -> dict:
    """The services and the annotations the autoscalers honour, as the scenario's blocks."""
    def workload_name(key: str) -> str:
        return hashed("w", key) if anonymize else key.split("/", 1)[1]

    def namespace(ns: str) -> str:
        return _namespace(ns, anonymize)

    out: dict = {}
    services = []
    for svc in state.services:
        entry = {"name": hashed("svc", svc.key) if anonymize else svc.name, "workload": workload_name(svc.workload),
                 "requestsPerSecond": svc.requests_per_second}
        if svc.namespace != "default":
            entry["namespace"] = namespace(svc.namespace)
        if svc.load_balancer:
            entry["loadBalancer"] = True
            entry["externalTrafficPolicy"] = svc.external_traffic_policy
        services.append(entry)
    if services:
        out["services"] = services
    pods = {f"{namespace(w.namespace)}/{workload_name(w.key)}": dict(w.annotations) for w in state.workloads
            if w.annotations and (w.namespace, w.name) not in MODELLED_ELSEWHERE}
    nodes = {renamed[n.name]: dict(n.annotations) for n in state.nodes if n.annotations and n.name in renamed}
    if pods or nodes:
        out["annotations"] = {**({"workloads": pods} if pods else {}), **({"nodes": nodes} if nodes else {})}
    return out


def _budget(pdb) -> dict:
    out = {}
    if pdb.min_available is not None:
        out["minAvailable"] = _intstr(pdb.min_available)
    if pdb.max_unavailable is not None:
        out["maxUnavailable"] = _intstr(pdb.max_unavailable)
    if pdb.unhealthy_pod_eviction_policy != "IfHealthyBudget":
        out["unhealthyPodEvictionPolicy"] = pdb.unhealthy_pod_eviction_policy
    return out


def _label(value: str, anonymize: bool) -> str:
    return hashed("l", value) if anonymize else value


def _selecting_budget(pdb, anonymize: bool = False) -> dict:
    selector: dict = {}
    if pdb.selector.match_labels:
        selector["matchLabels"] = {k: _label(v, anonymize) for k, v in pdb.selector.match_labels}
    if pdb.selector.match_expressions:
        selector["matchExpressions"] = [
            {"key": r.key, "operator": r.operator, **({"values": [_label(v, anonymize) for v in r.values]}
                                                      if r.values else {})}
            for r in pdb.selector.match_expressions]
    ns = _namespace(pdb.namespace, anonymize)
    return {"name": hashed("pdb", f"{pdb.namespace}/{pdb.name}") if anonymize else pdb.name,
            **({"namespace": ns} if ns != "default" else {}), "selector": selector, **_budget(pdb)}


def to_yaml(scenario: dict, header: str) -> str:
    body = yaml.safe_dump(scenario, sort_keys=False, default_flow_style=None, width=110)
    return "".join(f"# {line}\n" for line in header.splitlines()) + body


def _plain(spec, value, path: Path, src: Source):
    """``value`` as it should be written again: text YAML read as something else goes back to the
    text typed (version ``1.30``, not the number 1.3; ``safety: off``, not false)."""
    typed = src.raw.get(path)
    if isinstance(spec, (Version, Str)) and isinstance(value, (int, float)) and not isinstance(value, bool):
        return typed if typed is not None else str(value)
    if isinstance(spec, Enum) and isinstance(value, bool) and typed in spec.choices:
        return typed
    if isinstance(spec, OneOf):
        for accepts, option in spec.options:
            if accepts(value):
                return _plain(option, value, path, src)
    if isinstance(spec, Obj) and isinstance(value, dict):
        return {k: _plain(spec.fields[k].spec, v, path + (k,), src) if k in spec.fields else copy.deepcopy(v)
                for k, v in value.items()}
    if isinstance(spec, ListOf) and isinstance(value, list):
        return [_plain(spec.item, v, path + (i,), src) for i, v in enumerate(value)]
    if isinstance(spec, MapOf) and isinstance(value, dict):
        return {k: _plain(spec.value, v, path + (k,), src) for k, v in value.items()}
    return copy.deepcopy(value)


def source_document(src: Source) -> dict:
    """The scenario ``src`` holds (with its ``--set`` overrides) as plain data that ``to_yaml``
    writes into a file that loads to the same scenario."""
    return _plain(SCENARIO, src.data, (), src)
