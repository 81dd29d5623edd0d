"""Draining a real node: cordon, then evict through the policy/v1 Eviction subresource.

kubectl drain's rules, from the same pure filters the simulated world uses (``models.drain``):
a pod the drain's options forbid (a DaemonSet's without ignoreDaemonSets, one with emptyDir
data without deleteEmptyDirData, one no controller owns without force) fails the drain
before anything is evicted, with kubectl's message; DaemonSet and mirror pods are left
alone; every other pod is evicted, several at once (bounded parallelism), finished ones
included (the Eviction API deletes them without asking their budget). An eviction refused
with HTTP 429 (a PodDisruptionBudget) is retried every few seconds; a 404 means the pod is
already gone. ``disableEviction`` deletes instead. Only a forced drain (the strategy's
``undrainable: force``) deletes a pod whose budget refused its eviction, and logs it as a
PodDisruptionBudget violation. The drain ends when no pod it waits for is left on the node
(pods deleting past ``skipWaitForDeleteTimeout`` are not waited for), or fails when the
timeout passes.
"""

from __future__ import annotations

import asyncio
import time

from models.drain import FORCED, DrainOptions, plan_drain
from models.state import DRAIN_FAILED, DRAINING, IDLE
from sim.adapters.kube_translate import translate_pod


async def _ready(kube, node: str) -> bool | None:
    """True/False as the node's Ready condition says; None when it is Unknown (the node is unreachable)."""
    conditions = ((await kube.node(node)).get("status") or {}).get("conditions") or []
    for c in conditions:
        if c.get("type") == "Ready":
            return True if c.get("status") == "True" else False if c.get("status") == "False" else None
    return None


async def _plan(kube, node: str, options: DrainOptions, clock):
    infos = [translate_pod(p, {}) for p in await kube.pods_on(node)]
    unreachable = await _ready(kube, node) is None
    now = clock()
    by_key = {f"{i.namespace}/{i.name}": i for i in infos}
    return plan_drain([i.for_drain(now) for i in infos], options, unreachable), by_key


async def drain_node(kube, node: str, timeout_s: float, force: bool, parallelism: int, retry_s: float,
                     set_status, log, options: DrainOptions = DrainOptions(), clock=time.time) -> None:
    """Drain ``node``; ``set_status(phase, message)`` reports progress, ``log(text)`` what it did."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s if timeout_s > 0 else None
    options = FORCED if force else options
    set_status(DRAINING, "")
    await kube.set_unschedulable(node, True)
    refused: dict[str, int] = {}
    last_reason = ""
    gate = asyncio.Semaphore(parallelism)

    def expired() -> bool:
        return deadline is not None and loop.time() >= deadline

    violations: list[str] = []

    async def evict(pod) -> bool:
        nonlocal last_reason
        while not expired():
            async with gate:
                if options.disable_eviction and not force:  # --disable-eviction: delete, past every budget
                    await kube.delete_pod(pod.namespace, pod.name)
                    log(f"deleted pod {pod.namespace}/{pod.name} (disableEviction)")
                    return True
                code, message = await kube.evict(pod.namespace, pod.name)
                if code == 429 and force:  # its budget said no: delete it anyway, and say so
                    await kube.delete_pod(pod.namespace, pod.name)
                    violations.append(f"{pod.namespace}/{pod.name}")
                    log(f"deleted pod {pod.namespace}/{pod.name} although its budget refused the eviction "
                        f"({message or 'HTTP 429'}): a PodDisruptionBudget violation (undrainable: force)")
                    return True
            if code in (201, 404):
                log(f"evicted pod {pod.namespace}/{pod.name}" if code == 201 else
                    f"pod {pod.namespace}/{pod.name} was already gone")
                return True
            key = f"{pod.namespace}/{pod.owner_name or pod.name}"
            refused[key] = refused.get(key, 0) + 1
            last_reason = message or f"HTTP {code}"
            await asyncio.sleep(retry_s)
        return False

    def failure(what: str) -> str:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(refused.items()))
        return f"{what}; evictions refused with HTTP 429 ({counts})" if refused else what

    plan, by_key = await _plan(kube, node, options, clock)
    if not plan.ok:  # kubectl drain stops before it evicts anything; the node stays cordoned
        set_status(DRAIN_FAILED, plan.error_text())
        return
    pods = [by_key[d.key] for d in plan.delete if not by_key[d.key].terminating]
    results = await asyncio.gather(*(evict(p) for p in pods))
    if not all(results):
        set_status(DRAIN_FAILED, failure(last_reason or "the drain timed out"))
        return
    while not kube.dry_run:  # a server-side dry run deletes nothing: there is nothing to wait for
        plan, by_key = await _plan(kube, node, options, clock)
        remaining = [by_key[d.key] for d in plan.delete if by_key[d.key].evictable]
        if not remaining:
            break
        if expired():
            names = ", ".join(f"{p.namespace}/{p.name}" for p in remaining[:3])
            set_status(DRAIN_FAILED, failure(f"pods still terminating: {names}"))
            return
        await asyncio.sleep(retry_s)
    if violations:
        log(f"{len(violations)} PodDisruptionBudget violation(s): {', '.join(violations)}")
    set_status(IDLE, "drained")
