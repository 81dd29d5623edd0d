"""A scenario's ``webhooks:``: admission webhooks and the workloads whose pods serve them."""

from __future__ import annotations

from models.admission import Webhook, WebhookRule
from models.state import Workload
from sim.scenario.placement import label_selector
from sim.scenario.schema import INVALID, Checker, broken, suggest


def build_webhooks(raw: list, workloads: list[Workload] | None, ck: Checker) -> tuple[Webhook, ...] | None:
    """The webhooks; None when one is refused. ``workloads`` None: some were refused, so a
    webhook's service is not looked up."""
    out: list[Webhook] = []
    seen: set[str] = set()
    ok = True
    keys = {w.key for w in workloads} if workloads is not None else None
    for i, h in enumerate(raw):
        if h is INVALID or broken(h):
            ok = False
            continue
        path = ("webhooks", i)
        if h["name"] in seen:
            ck.fail(path + ("name",), f"webhook {h['name']!r} is declared twice; names must be unique")
            ok = False
            continue
        seen.add(h["name"])
        service = None
        if h["service"] is not None:
            service = f"{h['service']['namespace']}/{h['service']['workload']}"
            if keys is not None and service not in keys:
                ck.fail(path + ("service", "workload"), f"no workload {service} serves this webhook; "
                                                        f"{suggest(service, keys)}valid: {', '.join(sorted(keys))}")
                ok = False
                continue
        ok_ns, namespaces = label_selector(h["namespaceSelector"], path + ("namespaceSelector",), ck)
        ok_obj, objects = label_selector(h["objectSelector"], path + ("objectSelector",), ck)
        if not (ok_ns and ok_obj):
            ok = False
            continue
        rules = tuple(WebhookRule(tuple(r["operations"]), tuple(str(g) for g in r["apiGroups"]), tuple(r["resources"]),
                                  r["scope"]) for r in h["rules"])
        out.append(Webhook(h["name"], h["type"], rules, h["failurePolicy"], float(h["timeoutSeconds"]), namespaces,
                           objects, service))
    return tuple(out) if ok else None
