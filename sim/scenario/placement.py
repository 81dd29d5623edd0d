"""Where pods may run, from a scenario: a workload's selectors, affinities, tolerations, spread
constraints, priority class and storage claim; a pool's labels and taints; the cluster's
PriorityClasses. Each rule Kubernetes' API validation enforces (k8s.io/kubernetes
pkg/apis/core/validation, scheduling/validation) is checked here with the field's line.
"""

from __future__ import annotations

from models.constraints import (
    DO_NOT_SCHEDULE,
    NO_EXECUTE,
    SYSTEM_PRIORITY_CLASSES,
    NodeAffinity,
    NodeRequirement,
    NodeSelectorTerm,
    PodAffinity,
    PodAffinityTerm,
    PreferredTerm,
    PriorityClass,
    Scheduling,
    SpreadConstraint,
    Taint,
    Toleration,
    WeightedTerm,
)
from models.selectors import LabelSelector, Requirement
from models.storage import LOCAL, ZONAL, StorageClaim
from sim.scenario.schema import INVALID, Checker, broken, suggest
from sim.scenario.source import Path

VALUES_HINT = "In and NotIn take values; Exists and DoesNotExist take none"


def label_selector(raw: dict | None, path: Path, ck: Checker) -> tuple[bool, LabelSelector | None]:
    """(ok, the selector or None when not given)."""
    if raw is None:
        return True, None
    requirements = []
    ok = True
    for j, e in enumerate(raw["matchExpressions"] or ()):
        try:
            requirements.append(Requirement(e["key"], e["operator"], tuple(e["values"] or ())))
        except ValueError as exc:
            ck.fail(path + ("matchExpressions", j, "values"), f"{exc} ({VALUES_HINT})")
            ok = False
    return ok, LabelSelector(tuple(sorted((raw["matchLabels"] or {}).items())), tuple(requirements))


def _node_term(raw: dict, path: Path, ck: Checker) -> NodeSelectorTerm | None:
    parts = {}
    for key in ("matchExpressions", "matchFields"):
        reqs = []
        for j, e in enumerate(raw[key] or ()):
            if key == "matchFields" and e["key"] != "metadata.name":
                ck.fail(path + (key, j, "key"), f"{e['key']!r} is not a field a node can be selected by; valid: "
                                                "metadata.name")
                return None
            try:
                reqs.append(NodeRequirement(e["key"], e["operator"], tuple(e["values"] or ())))
            except ValueError as exc:
                ck.fail(path + (key, j, "values"), f"{exc} ({VALUES_HINT}; Gt and Lt one whole number)")
                return None
        parts[key] = tuple(reqs)
    return NodeSelectorTerm(parts["matchExpressions"], parts["matchFields"])


def _node_affinity(raw: dict, path: Path, ck: Checker) -> NodeAffinity | None:
    required = None
    req = raw["requiredDuringSchedulingIgnoredDuringExecution"]
    if req is not None:
        key = ("requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
        terms = [_node_term(t, path + key + (i,), ck) for i, t in enumerate(req["nodeSelectorTerms"])]
        if None in terms:
            return None
        required = tuple(terms)
    preferred = []
    for i, p in enumerate(raw["preferredDuringSchedulingIgnoredDuringExecution"] or ()):
        term = _node_term(p["preference"], path + ("preferredDuringSchedulingIgnoredDuringExecution", i, "preference"), ck)
        if term is None:
            return None
        preferred.append(PreferredTerm(p["weight"], term))
    return NodeAffinity(required, tuple(preferred))


def _pod_term(raw: dict, path: Path, ck: Checker) -> PodAffinityTerm | None:
    ok1, selector = label_selector(raw["labelSelector"], path + ("labelSelector",), ck)
    ok2, namespaces = label_selector(raw["namespaceSelector"], path + ("namespaceSelector",), ck)
    if not (ok1 and ok2):
        return None
    return PodAffinityTerm(raw["topologyKey"], selector, tuple(raw["namespaces"] or ()), namespaces)


def _pod_affinity(raw: dict, path: Path, ck: Checker) -> PodAffinity | None:
    req_key, pref_key = "requiredDuringSchedulingIgnoredDuringExecution", "preferredDuringSchedulingIgnoredDuringExecution"
    required = [_pod_term(t, path + (req_key, i), ck) for i, t in enumerate(raw[req_key] or ())]
    preferred = [(p["weight"], _pod_term(p["podAffinityTerm"], path + (pref_key, i, "podAffinityTerm"), ck))
                 for i, p in enumerate(raw[pref_key] or ())]
    if None in required or any(t is None for _, t in preferred):
        return None
    return PodAffinity(tuple(required), tuple(WeightedTerm(w, t) for w, t in preferred))


def _refuse(ck: Checker, path: Path, message: str) -> None:
    ck.fail(path, message)
    return None


def toleration(raw: dict, path: Path, ck: Checker) -> Toleration | None:
    key, op, value, effect, seconds = (raw[k] for k in ("key", "operator", "value", "effect", "tolerationSeconds"))
    if op == "Exists" and value is not None:
        return _refuse(ck, path + ("value",), "a toleration with operator Exists takes no value (it tolerates every "
                                          "value of the key); remove value, or use operator Equal")
    if not key and op != "Exists":
        return _refuse(ck, path + ("operator",), "a toleration without a key must be operator: Exists (it then "
                                             "tolerates every taint)")
    if seconds is not None and effect != NO_EXECUTE:
        return _refuse(ck, path + ("tolerationSeconds",), "tolerationSeconds applies to NoExecute taints only; "
                                                      "valid: effect: NoExecute")
    return Toleration(key or "", op, value or "", effect or "", seconds)


def _spread(raw: list, path: Path, ck: Checker) -> tuple[SpreadConstraint, ...] | None:
    out, seen = [], set()
    for i, c in enumerate(raw):
        here = path + (i,)
        pair = (c["topologyKey"], c["whenUnsatisfiable"])
        if pair in seen:
            ck.fail(here, f"two constraints with topologyKey {pair[0]!r} and whenUnsatisfiable {pair[1]}; "
                          "Kubernetes allows one of each pair")
            return None
        seen.add(pair)
        if c["minDomains"] is not None and c["whenUnsatisfiable"] != DO_NOT_SCHEDULE:
            ck.fail(here + ("minDomains",), "minDomains applies only to whenUnsatisfiable: DoNotSchedule")
            return None
        ok, selector = label_selector(c["labelSelector"], here + ("labelSelector",), ck)
        if not ok:
            return None
        out.append(SpreadConstraint(c["maxSkew"], c["topologyKey"], c["whenUnsatisfiable"], selector, c["minDomains"],
                                    c["nodeAffinityPolicy"], c["nodeTaintsPolicy"]))
    return tuple(out)


def scheduling(w: dict, path: Path, ck: Checker, classes: dict[str, PriorityClass] | None) -> Scheduling | None:
    """A workload's scheduling record; None when one of its rules is broken (recorded in ``ck``).
    ``classes`` None: the PriorityClasses were refused, so the class name is not checked."""
    affinity = w["affinity"] or {}
    node_affinity = pod_affinity = anti = None
    ok = True
    if affinity.get("nodeAffinity") is not None:
        node_affinity = _node_affinity(affinity["nodeAffinity"], path + ("affinity", "nodeAffinity"), ck)
        ok &= node_affinity is not None
    if affinity.get("podAffinity") is not None:
        pod_affinity = _pod_affinity(affinity["podAffinity"], path + ("affinity", "podAffinity"), ck)
        ok &= pod_affinity is not None
    if affinity.get("podAntiAffinity") is not None:
        anti = _pod_affinity(affinity["podAntiAffinity"], path + ("affinity", "podAntiAffinity"), ck)
        ok &= anti is not None
    tolerations = [toleration(t, path + ("tolerations", i), ck) for i, t in enumerate(w["tolerations"] or ())]
    spread = _spread(w["topologySpreadConstraints"] or [], path + ("topologySpreadConstraints",), ck)
    cls = priority_class_of(w["priorityClassName"], path + ("priorityClassName",), ck, classes)
    if not ok or None in tolerations or spread is None or cls is INVALID:
        return None
    return Scheduling(tuple(sorted((w["nodeSelector"] or {}).items())), node_affinity, pod_affinity, anti,
                      tuple(tolerations), spread, cls.name if cls else "", cls.value if cls else 0,
                      cls.preemption_policy if cls else "PreemptLowerPriority")


def priority_class_of(name: str | None, path: Path, ck: Checker, classes: dict[str, PriorityClass] | None):
    """The class a pod gets (its own, else the global default, else none), or INVALID for an unknown name."""
    if classes is None:
        return None
    if name is None:
        return next((c for c in classes.values() if c.global_default), None)
    if name not in classes:
        return ck.fail(path, f"no PriorityClass named {name!r}; {suggest(name, classes)}valid: "
                             f"{', '.join(classes)} (declare it under priorityClasses)")
    return classes[name]


def priority_classes(raw: list, ck: Checker) -> dict[str, PriorityClass] | None:
    """The cluster's PriorityClasses with the two system ones; None when one is refused."""
    out = {c.name: c for c in SYSTEM_PRIORITY_CLASSES}
    ok = True
    defaults = []
    for i, c in enumerate(raw):
        if c is INVALID or broken(c):
            ok = False
            continue
        path = ("priorityClasses", i)
        if c["name"].startswith("system-"):
            ck.fail(path + ("name",), f"{c['name']!r}: names starting with system- are reserved for the system's "
                                      "classes (system-node-critical, system-cluster-critical)")
            ok = False
        elif c["name"] in out:
            ck.fail(path + ("name",), f"PriorityClass {c['name']!r} is declared twice")
            ok = False
        else:
            out[c["name"]] = PriorityClass(c["name"], c["value"], c["preemptionPolicy"], c["globalDefault"])
            if c["globalDefault"]:
                defaults.append((i, c["name"]))
    if len(defaults) > 1:
        ck.fail(("priorityClasses", defaults[1][0], "globalDefault"),
                f"only one PriorityClass may be the global default ({defaults[0][1]} already is)")
        ok = False
    return out if ok else None


def storage(w: dict, path: Path, ck: Checker) -> StorageClaim | None | object:
    """The workload's claim (None: none), or INVALID when it contradicts its other fields."""
    raw = w["storage"]
    if raw is None:
        return None
    if w["localStorage"]:
        return ck.fail(path + ("localStorage",), "give either localStorage: true or storage, not both "
                                                 "(localStorage: true is storage: {class: local})")
    if raw["class"] == ZONAL and w["kind"] == "DaemonSet":
        return ck.fail(path + ("storage", "class"), "a DaemonSet's pods, one on every node, cannot share one "
                                                    "ReadWriteOnce volume; valid: shared, local")
    if raw["class"] == LOCAL:
        return None  # the node's own disk: local_storage (its size matters to nothing midair models)
    return StorageClaim(raw["class"], raw["size"])


def is_local(raw: dict | None, local_storage: bool) -> bool:
    return local_storage or (raw is not None and raw["class"] == LOCAL)


def pool_taints(raw: list | None, path: Path, ck: Checker) -> tuple[Taint, ...] | None:
    out, seen = [], set()
    for i, t in enumerate(raw or ()):
        if (t["key"], t["effect"]) in seen:
            ck.fail(path + (i,), f"taint {t['key']}:{t['effect']} is given twice; a node has one taint per key and "
                                 "effect")
            return None
        seen.add((t["key"], t["effect"]))
        out.append(Taint(t["key"], t["effect"], t["value"] or ""))
    return tuple(out)
