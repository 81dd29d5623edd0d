"""Draining a real node: cordon, then evict through the policy/v1 Eviction subresource.

kubectl drain's rules, from the same pure filters the simulated world uses (``models.drain``):
a pod the drain's options forbid (a DaemonSet's without ignoreDaemonSets, one with emptyDir
data without deleteEmptyDirData, one no controller owns without force) fails the drain
before anything is evicted, with kubectl's message; DaemonSet and mirror pods are left
alone; every other pod is evicted, several at once (bounded parallelism), finished ones
included (the Eviction API deletes them without asking their budget). As kubectl drain does
(``models.drain.eviction_outcome``), an eviction refused with HTTP 429 (a PodDisruptionBudget)
is asked again every few seconds; a 404 means the pod is already gone; any other refusal (the
500 of a pod under two budgets) ends that pod's eviction with kubectl's error, and the drain
fails with the errors once the other pods are gone. ``disableEviction`` deletes instead. Only a forced drain (the strategy's
``undrainable: force``) deletes a pod whose budget refused its eviction, and logs it as a
PodDisruptionBudget violation. The drain ends when no pod it waits for is left on the node
(pods deleting past ``skipWaitForDeleteTimeout`` are not waited for), or fails when the
timeout passes, with kubectl's ``global timeout reached`` error for each pod still pending.
"""

from __future__ import annotations

import asyncio
import time

from models.drain import (
    FAIL,
    FORCED,
    GONE,
    RETRY,
    WAIT,
    DrainOptions,
    drain_failure,
    eviction_error,
    eviction_outcome,
    plan_drain,
    timeout_error,
)
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
    refused: dict[str, int] = {}  # workload -> evictions refused with HTTP 429 (and asked again)
    last_refusal = ""
    gate = asyncio.Semaphore(parallelism)

    def expired() -> bool:
        return deadline is not None and loop.time() >= deadline

    violations: list[str] = []

    async def evict(pod) -> str | None:
        """None once the pod is evicted (or gone); else kubectl's error for it."""
        nonlocal last_refusal
        while not expired():
            async with gate:
                if options.disable_eviction and not force:  # --disable-eviction: delete, past every budget
                    await kube.delete_pod(pod.namespace, pod.name)
                    log(f"deleted pod {pod.namespace}/{pod.name} (disableEviction)")
                    return None
                code, message, causes = await kube.evict(pod.namespace, pod.name)
                outcome = eviction_outcome(code, causes, pod.terminating)
                if outcome == RETRY and code == 429 and force:  # its budget said no: delete it anyway, and say so
                    await kube.delete_pod(pod.namespace, pod.name)
                    violations.append(f"{pod.namespace}/{pod.name}")
                    log(f"deleted pod {pod.namespace}/{pod.name} although its budget refused the eviction "
                        f"({message or 'HTTP 429'}): a PodDisruptionBudget violation (undrainable: force)")
                    return None
            if outcome == GONE:
                log(f"pod {pod.namespace}/{pod.name} was already gone")
                return None
            if outcome == WAIT:
                log(f"evicted pod {pod.namespace}/{pod.name}" if code in (200, 201) else
                    f"pod {pod.namespace}/{pod.name} is already being deleted ({message or f'HTTP {code}'})")
                return None
            if outcome == FAIL:  # kubectl asks again only after a 429: this pod's eviction has failed
                return eviction_error(pod.namespace, pod.name, message or f"HTTP {code}")
            key = f"{pod.namespace}/{pod.owner_name or pod.name}"
            refused[key] = refused.get(key, 0) + 1
            last_refusal = message or f"HTTP {code}"
            await asyncio.sleep(retry_s)
        return timeout_error(pod.namespace, pod.name, timeout_s, evicting=True)

    plan, by_key = await _plan(kube, node, options, clock)
    if not plan.ok:  # kubectl drain stops before it evicts anything; the node stays cordoned
        set_status(DRAIN_FAILED, plan.error_text())
        return
    pods = [by_key[d.key] for d in plan.delete if not by_key[d.key].terminating]
    results = await asyncio.gather(*(evict(p) for p in pods))
    errors = [e for e in results if e]
    given_up = {f"{p.namespace}/{p.name}" for p, e in zip(pods, results) if e}
    # kubectl waits for the other pods to go before it returns the errors
    while not kube.dry_run:  # a server-side dry run deletes nothing: there is nothing to wait for
        plan, by_key = await _plan(kube, node, options, clock)
        remaining = [by_key[d.key] for d in plan.delete if by_key[d.key].evictable and d.key not in given_up]
        if not remaining:
            break
        if expired():
            errors += [timeout_error(p.namespace, p.name, timeout_s, evicting=False) for p in remaining]
            break
        await asyncio.sleep(retry_s)
    if violations:
        log(f"{len(violations)} PodDisruptionBudget violation(s): {', '.join(violations)}")
    if errors:
        set_status(DRAIN_FAILED, drain_failure(errors, last_refusal, refused))
        return
    set_status(IDLE, "drained")
