"""A Kubernetes API on loopback for the live adapter's tests: kmock's emulator, made a little
more like a real apiserver, with faults scripted into it (``tests.kube_harness`` serves it).

FakeK8s adds to kmock.KubernetesEmulator: error bodies lightkube recognises, dryRun=All
honoured, field and label selectors on lists, strategic merge patches (containers merge by
name, as the apiserver merges them), the Eviction subresource (201; 429 while the pod's
budget allows no disruption, with its cause; 500 for a pod under two budgets; each eviction
spends one) with a record of every eviction's
outcome, and ``faults``: scripted answers (429 with Retry-After, 403, 5xx, slow answers)
that take precedence over everything else.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
from dataclasses import dataclass
from typing import Callable

import kmock

from models.drain import BUDGET_REFUSAL, MULTIPLE_BUDGETS, budget_cause

MUTATING = {kmock.method.POST, kmock.method.PATCH, kmock.method.PUT, kmock.method.DELETE}
STRATEGIC = "application/strategic-merge-patch+json"
# lists the apiserver merges by a key in a strategic merge patch (k8s.io/api/core/v1 types' patchMergeKey)
MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "volumes": "name"}
REASONS = {403: "Forbidden", 404: "NotFound", 429: "TooManyRequests", 500: "InternalError", 502: "BadGateway",
           503: "ServiceUnavailable", 504: "Timeout"}


def k8s_status(code: int, reason: str, message: str, headers: dict | None = None,
               causes: list | None = None) -> kmock.Response:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure" if code >= 400 else "Success",
            "code": code, "reason": reason, "message": message}
    if causes:
        body["details"] = {"causes": causes}
    return kmock.Response(status=code, headers={"Content-Type": "application/json", **(headers or {})},
                          payload=json.dumps(body).encode())


def strategic_merge(base, patch):
    """``patch`` applied to ``base`` as a strategic merge patch: maps merge, None deletes, lists in
    MERGE_KEYS merge item by item on their key, other lists are replaced."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        elif key in MERGE_KEYS and isinstance(value, list) and isinstance(out.get(key), list):
            merged = [copy.deepcopy(item) for item in out[key]]
            for item in value:
                at = [i for i, old in enumerate(merged) if old.get(MERGE_KEYS[key]) == item.get(MERGE_KEYS[key])]
                if at:
                    merged[at[0]] = strategic_merge(merged[at[0]], item)
                else:
                    merged.append(copy.deepcopy(item))
            out[key] = merged
        else:
            out[key] = strategic_merge(out.get(key), value)
    return out


@dataclass
class Fault:
    """A scripted answer for the requests ``match`` selects: HTTP ``status`` (with ``Retry-After`` when
    ``retry_after`` is set), or, with ``delay_s``, the normal answer that late (a client with a shorter
    timeout gives up first; what the request changes, it changes). It answers ``times`` requests, or
    every request until ``until`` (time.monotonic()), or forever."""

    match: Callable
    status: int | None = 503
    retry_after: str | None = None
    delay_s: float = 0.0
    times: int | None = None
    until: float | None = None
    hits: int = 0

    def active(self) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        return self.until is None or time.monotonic() < self.until


def requests_to(method: str | None = None, path: str | None = None, contains: str | None = None,
                midair_only: bool = True) -> Callable:
    """A fault's ``match``: requests of this method whose path starts with ``path`` or contains ``contains``;
    only midair's own (by User-Agent), not the test hooks' requests."""
    def match(request) -> bool:
        if midair_only and not request.headers.get("User-Agent", "").startswith("midair/"):
            return False
        text = request.url.path
        return ((method is None or str(request.method.value).upper() == method)
                and (path is None or text.startswith(path)) and (contains is None or contains in text))
    return match


def _selected(obj: dict, selector: str | None, labels: bool) -> bool:
    if not selector:
        return True
    for term in selector.split(","):
        key, _, value = term.replace("==", "=").partition("=")
        if labels:
            actual = (obj.get("metadata", {}).get("labels") or {}).get(key.strip())
        else:
            actual = obj
            for part in key.strip().split("."):
                actual = actual.get(part) if isinstance(actual, dict) else None
        if str(actual) != value.strip():
            return False
    return True


class FakeK8s(kmock.KubernetesEmulator):
    evictions: list
    faults: list
    log: list  # every request, in order (kmock's own list is kept to the current one: see _handle)
    control: Callable | None = None  # the harness's handler of /midair-harness/... requests

    async def _render_error(self, exc):
        resp = await super()._render_error(exc)
        resp.charset = None
        return resp

    async def _handle(self, request):
        # kmock matches each request against its reactions by walking every request it has kept, which
        # makes a long test quadratic (an e2e upgrade spent seconds per decision on it): keep the log here
        self.log.append(request)
        del self._requests[:-1]
        if request.url.path.startswith("/midair-harness/") and self.control is not None:
            return await self.control(request)(request)
        for fault in list(getattr(self, "faults", [])):
            if fault.active() and fault.match(request):
                fault.hits += 1
                if fault.delay_s:
                    await asyncio.sleep(fault.delay_s)
                    break
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                return await k8s_status(fault.status, REASONS.get(fault.status, "Failure"),
                                        "scripted by the test harness", headers)(request)
        if request.action == kmock.action.UPDATE and STRATEGIC in request.headers.get("Content-Type", ""):
            return await self._strategic_patch(request)(request)
        if request.params.get("dryRun") == "All" and request.action in (kmock.action.UPDATE, kmock.action.DELETE):
            return await super(kmock.KubernetesEmulator, self)._handle(request)
        return await super()._handle(request)

    def _strategic_patch(self, request):
        key = (request.resource, request.namespace, request.name)
        if key not in self.objects or self.objects[key].deleted:
            return k8s_status(404, "NotFound", f"{request.name} not found")
        merged = strategic_merge(self.objects[key].raw, request.data)
        if request.params.get("dryRun") != "All":
            self.objects[key].patch(merged)  # lists in it are replaced whole: by the merged lists
        return kmock.Response(status=200, headers={"Content-Type": "application/json"},
                              payload=json.dumps(merged).encode())

    async def _serve_list(self, request):
        result = await super()._serve_list(request)
        result["items"] = [o for o in result["items"]
                           if _selected(o, request.params.get("fieldSelector"), False)
                           and _selected(o, request.params.get("labelSelector"), True)]
        return result


def install_eviction(km: FakeK8s) -> None:
    km.evictions = []
    pods = kmock.resource("v1/pods")
    pdbs = kmock.resource("policy/v1/poddisruptionbudgets")

    def evict(request):
        key = (pods, request.namespace, request.name)
        if key not in km.objects or km.objects[key].deleted:
            km.evictions.append((request.name, 404))
            return k8s_status(404, "NotFound", f'pods "{request.name}" not found')
        labels = km.objects[key].raw["metadata"].get("labels") or {}
        matching = [(name, pdb) for (res, ns, name), pdb in list(km.objects.items())
                    if res == pdbs and ns == request.namespace and not pdb.deleted
                    and (selector := pdb.raw["spec"].get("selector", {}).get("matchLabels", {}))
                    and selector.items() <= labels.items()]
        if len(matching) > 1:  # pkg/registry/core/pod/storage/eviction.go: a Status with code 500
            km.evictions.append((request.name, 500))
            return k8s_status(500, "", MULTIPLE_BUDGETS)
        for name, pdb in matching:
            status = pdb.raw.get("status", {})
            allowed = status.get("disruptionsAllowed", 0)
            if allowed <= 0:  # checkAndDecrement: 429 with the budget's arithmetic as its cause
                km.evictions.append((request.name, 429))
                cause = budget_cause(name, status.get("desiredHealthy", 0), status.get("currentHealthy", 0))
                return k8s_status(429, "TooManyRequests", BUDGET_REFUSAL,
                                  causes=[{"reason": "DisruptionBudget", "message": cause}])
            if request.params.get("dryRun") != "All":
                pdb.patch({"status": {"disruptionsAllowed": allowed - 1}})
        if request.params.get("dryRun") != "All":
            km.objects[key].delete()
        km.evictions.append((request.name, 201))
        return kmock.Response(status=201, headers={"Content-Type": "application/json"},
                              payload=json.dumps({"kind": "Status", "apiVersion": "v1", "code": 201}).encode())

    km[kmock.method.POST, pods, kmock.subresource("eviction")] << evict
