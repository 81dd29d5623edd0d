"""A pod spec's scheduling fields and a webhook configuration's entries as Kubernetes writes them
(JSON, Kubernetes' own field names), to and from midair's records.

The scenario format uses the same names, so what ``scheduling_json`` writes is also a valid
workload entry; the live translator reads real objects with ``scheduling_from_json`` and
``webhook_from_json``. Reading tolerates what a newer API adds and skips what midair cannot
hold (an unknown operator); it never raises.
"""

from __future__ import annotations

from collections.abc import Mapping

from models.admission import DEFAULT_TIMEOUT_S, FAIL, Webhook, WebhookRule
from models.constraints import (
    NODE_OPERATORS,
    TAINT_EFFECTS,
    NodeAffinity,
    NodeRequirement,
    NodeSelectorTerm,
    PodAffinity,
    PodAffinityTerm,
    PreferredTerm,
    Scheduling,
    SpreadConstraint,
    Taint,
    Toleration,
    WeightedTerm,
)
from models.selectors import LabelSelector, selector_from_json

REQ = "requiredDuringSchedulingIgnoredDuringExecution"
PREF = "preferredDuringSchedulingIgnoredDuringExecution"


# -- to JSON -------------------------------------------------------------------------------------
def selector_json(s: LabelSelector) -> dict:
    out: dict = {}
    if s.match_labels:
        out["matchLabels"] = dict(s.match_labels)
    if s.match_expressions:
        out["matchExpressions"] = [{"key": r.key, "operator": r.operator, **({"values": list(r.values)}
                                                                              if r.values else {})}
                                   for r in s.match_expressions]
    return out


def _term_json(t: NodeSelectorTerm) -> dict:
    out: dict = {}
    for key, reqs in (("matchExpressions", t.match_expressions), ("matchFields", t.match_fields)):
        if reqs:
            out[key] = [{"key": r.key, "operator": r.operator, **({"values": list(r.values)} if r.values else {})}
                        for r in reqs]
    return out


def _pod_term_json(t: PodAffinityTerm) -> dict:
    out: dict = {"topologyKey": t.topology_key}
    if t.selector is not None:
        out["labelSelector"] = selector_json(t.selector)
    if t.namespaces:
        out["namespaces"] = list(t.namespaces)
    if t.namespace_selector is not None:
        out["namespaceSelector"] = selector_json(t.namespace_selector)
    return out


def _pod_affinity_json(a: PodAffinity) -> dict:
    out: dict = {}
    if a.required:
        out[REQ] = [_pod_term_json(t) for t in a.required]
    if a.preferred:
        out[PREF] = [{"weight": p.weight, "podAffinityTerm": _pod_term_json(p.term)} for p in a.preferred]
    return out


def toleration_json(t: Toleration) -> dict:
    out: dict = {}
    if t.key:
        out["key"] = t.key
    if t.operator != "Equal":
        out["operator"] = t.operator
    if t.value:
        out["value"] = t.value
    if t.effect:
        out["effect"] = t.effect
    if t.toleration_seconds is not None:
        out["tolerationSeconds"] = int(t.toleration_seconds) if t.toleration_seconds == int(t.toleration_seconds) \
            else t.toleration_seconds
    return out


def taint_json(t: Taint) -> dict:
    return {"key": t.key, **({"value": t.value} if t.value else {}), "effect": t.effect}


def scheduling_json(s: Scheduling) -> dict:
    """The pod spec fields of ``s`` that are set (the priority as its class's name only)."""
    out: dict = {}
    if s.node_selector:
        out["nodeSelector"] = dict(s.node_selector)
    affinity: dict = {}
    if s.node_affinity is not None:
        node: dict = {}
        if s.node_affinity.required is not None:
            node[REQ] = {"nodeSelectorTerms": [_term_json(t) for t in s.node_affinity.required]}
        if s.node_affinity.preferred:
            node[PREF] = [{"weight": p.weight, "preference": _term_json(p.term)} for p in s.node_affinity.preferred]
        affinity["nodeAffinity"] = node
    if s.pod_affinity is not None:
        affinity["podAffinity"] = _pod_affinity_json(s.pod_affinity)
    if s.pod_anti_affinity is not None:
        affinity["podAntiAffinity"] = _pod_affinity_json(s.pod_anti_affinity)
    if affinity:
        out["affinity"] = affinity
    if s.tolerations:
        out["tolerations"] = [toleration_json(t) for t in s.tolerations]
    if s.spread:
        out["topologySpreadConstraints"] = [
            {"maxSkew": c.max_skew, "topologyKey": c.topology_key, "whenUnsatisfiable": c.when_unsatisfiable,
             **({"labelSelector": selector_json(c.selector)} if c.selector is not None else {}),
             **({"minDomains": c.min_domains} if c.min_domains is not None else {}),
             **({"nodeAffinityPolicy": c.node_affinity_policy} if c.node_affinity_policy != "Honor" else {}),
             **({"nodeTaintsPolicy": c.node_taints_policy} if c.node_taints_policy != "Ignore" else {})}
            for c in s.spread]
    if s.priority_class:
        out["priorityClassName"] = s.priority_class
    return out


def webhook_json(h: Webhook) -> dict:
    """A webhook as a scenario's ``webhooks:`` entry."""
    out: dict = {"name": h.name, "type": h.kind,
                 "rules": [{"operations": list(r.operations), "apiGroups": list(r.api_groups),
                            "resources": list(r.resources), **({"scope": r.scope} if r.scope != "*" else {})}
                           for r in h.rules],
                 "failurePolicy": h.failure_policy, "timeoutSeconds": int(h.timeout_s)}
    if h.namespace_selector is not None:
        out["namespaceSelector"] = selector_json(h.namespace_selector)
    if h.object_selector is not None:
        out["objectSelector"] = selector_json(h.object_selector)
    if h.service is not None:
        namespace, _, name = h.service.partition("/")
        out["service"] = {"namespace": namespace, "workload": name}
    return out


# -- from JSON ------------------------------------------------------------------------------------
def _list(obj, key) -> list:
    value = obj.get(key) if isinstance(obj, Mapping) else None
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _selector(obj) -> LabelSelector | None:
    try:
        return selector_from_json(obj) if isinstance(obj, Mapping) else None
    except ValueError:
        return None  # an operator midair does not know: take it as selecting nothing


def _node_term(obj) -> NodeSelectorTerm:
    parts = []
    for key in ("matchExpressions", "matchFields"):
        reqs = []
        for e in _list(obj, key):
            try:
                if e.get("operator") in NODE_OPERATORS:
                    reqs.append(NodeRequirement(str(e.get("key", "")), e["operator"],
                                                tuple(str(v) for v in e.get("values") or ())))
            except ValueError:
                continue
        parts.append(tuple(reqs))
    return NodeSelectorTerm(*parts)


def _pod_term(obj) -> PodAffinityTerm:
    return PodAffinityTerm(str(obj.get("topologyKey", "")), _selector(obj.get("labelSelector")),
                           tuple(str(n) for n in obj.get("namespaces") or ()), _selector(obj.get("namespaceSelector")))


def _pod_affinity(obj) -> PodAffinity | None:
    if not isinstance(obj, Mapping):
        return None
    return PodAffinity(tuple(_pod_term(t) for t in _list(obj, REQ)),
                       tuple(WeightedTerm(int(p.get("weight", 1) or 1), _pod_term(p.get("podAffinityTerm") or {}))
                             for p in _list(obj, PREF)))


def _seconds(value) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def scheduling_from_json(spec: Mapping, priority: int = 0, preemption: str = "PreemptLowerPriority",
                         drop_selector: tuple[str, ...] = ()) -> Scheduling:
    """A pod spec's scheduling fields; ``drop_selector``: nodeSelector keys read elsewhere (a pool label)."""
    affinity = spec.get("affinity") if isinstance(spec.get("affinity"), Mapping) else {}
    node_affinity = None
    node = affinity.get("nodeAffinity")
    if isinstance(node, Mapping):
        required = node.get(REQ)
        node_affinity = NodeAffinity(
            tuple(_node_term(t) for t in _list(required, "nodeSelectorTerms")) if isinstance(required, Mapping) else None,
            tuple(PreferredTerm(int(p.get("weight", 1) or 1), _node_term(p.get("preference") or {}))
                  for p in _list(node, PREF)))
    tolerations = tuple(Toleration(str(t.get("key", "") or ""), str(t.get("operator", "Equal") or "Equal"),
                                   str(t.get("value", "") or ""), str(t.get("effect", "") or ""),
                                   _seconds(t.get("tolerationSeconds")))
                        for t in _list(spec, "tolerations"))
    spread = tuple(SpreadConstraint(int(c.get("maxSkew", 1) or 1), str(c.get("topologyKey", "")),
                                    str(c.get("whenUnsatisfiable", "DoNotSchedule")), _selector(c.get("labelSelector")),
                                    c.get("minDomains"), str(c.get("nodeAffinityPolicy") or "Honor"),
                                    str(c.get("nodeTaintsPolicy") or "Ignore"))
                   for c in _list(spec, "topologySpreadConstraints"))
    selector = spec.get("nodeSelector") if isinstance(spec.get("nodeSelector"), Mapping) else {}
    return Scheduling(tuple(sorted((str(k), str(v)) for k, v in selector.items() if k not in drop_selector)),
                      node_affinity, _pod_affinity(affinity.get("podAffinity")),
                      _pod_affinity(affinity.get("podAntiAffinity")), tolerations, spread,
                      str(spec.get("priorityClassName") or ""), priority, preemption)


def taints_from_json(items) -> tuple[Taint, ...]:
    return tuple(Taint(str(t.get("key", "")), str(t.get("effect", "")), str(t.get("value", "") or ""))
                 for t in items or () if isinstance(t, Mapping) and t.get("key") and t.get("effect") in TAINT_EFFECTS)


def webhook_from_json(obj: Mapping, kind: str, service: str | None) -> Webhook:
    """One entry of a webhook configuration's ``webhooks``; ``service``: the workload serving it (its key)."""
    rules = tuple(WebhookRule(tuple(r.get("operations") or ("*",)), tuple(r.get("apiGroups") or ("*",)),
                              tuple(r.get("resources") or ("*",)), str(r.get("scope") or "*"))
                  for r in _list(obj, "rules"))
    def every_if_empty(selector):  # the API defaults both selectors to {}: every namespace, every object
        return None if selector is not None and selector.empty else selector

    return Webhook(str(obj.get("name", "")), kind, rules, str(obj.get("failurePolicy") or FAIL),
                   float(obj.get("timeoutSeconds") or DEFAULT_TIMEOUT_S),
                   every_if_empty(_selector(obj.get("namespaceSelector"))),
                   every_if_empty(_selector(obj.get("objectSelector"))), service)
