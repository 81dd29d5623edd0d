"""Admission webhooks and PriorityClasses from Kubernetes API JSON.

A ValidatingWebhookConfiguration's or MutatingWebhookConfiguration's entries become
``models.admission.Webhook`` records; one served through a Service (``clientConfig.service``)
is served by the workload whose pods that Service selects, one served by URL is outside the
cluster. PriorityClasses (scheduling.k8s.io/v1) give workloads their priority; the system
ones are left out of the cluster's own.
"""

from __future__ import annotations

from models.admission import MUTATING, VALIDATING, Webhook
from models.constraints import PREEMPT_LOWER, PriorityClass
from models.podspec import webhook_from_json
from sim.adapters.kube_pods import _get
from sim.adapters.kube_translate import Priorities


def priority_classes(objs: list[dict]) -> tuple[Priorities, tuple[PriorityClass, ...]]:
    """What workloads read of the classes, and the cluster's own classes (not system-*)."""
    table, own, default = {}, [], ""
    for obj in objs:
        name = _get(obj, "metadata", "name", default="")
        try:
            value = int(obj.get("value", 0) or 0)
        except (TypeError, ValueError):
            continue
        policy = str(obj.get("preemptionPolicy") or PREEMPT_LOWER)
        table[name] = (value, policy)
        if obj.get("globalDefault"):
            default = name
        if not name.startswith("system-"):
            own.append(PriorityClass(name, value, policy, bool(obj.get("globalDefault"))))
    return Priorities(table, default), tuple(sorted(own, key=lambda c: c.name))


def _backend(service: dict | None, services: dict, workloads) -> str | None:
    """The key of the workload whose pods the webhook's Service selects (the Service's own key if none)."""
    if not isinstance(service, dict):
        return None
    ns, name = service.get("namespace", "default"), service.get("name", "")
    svc = services.get((ns, name))
    selector = (_get(svc, "spec", "selector", default={}) or {}) if svc else {}
    if selector:
        for w in sorted(workloads, key=lambda w: w.key):
            labels = w.pod_labels
            if w.namespace == ns and all(labels.get(k) == v for k, v in selector.items()):
                return w.key
    return f"{ns}/{name}"


def webhooks(validating: list[dict], mutating: list[dict], services: list[dict], workloads) -> tuple[Webhook, ...]:
    by_key = {(_get(s, "metadata", "namespace", default="default"), _get(s, "metadata", "name", default="")): s
              for s in services}
    out = []
    for kind, configs in ((MUTATING, mutating), (VALIDATING, validating)):
        for config in sorted(configs, key=lambda c: _get(c, "metadata", "name", default="")):
            for entry in config.get("webhooks", []) or []:
                if isinstance(entry, dict):
                    service = _backend(_get(entry, "clientConfig", "service"), by_key, workloads)
                    out.append(webhook_from_json(entry, kind, service))
    return tuple(out)
