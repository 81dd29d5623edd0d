"""Draining a real node: cordon, then evict through the policy/v1 Eviction subresource.

kubectl drain's rules: DaemonSet pods, mirror (static) pods and finished pods are left
alone; every other pod is evicted, several at once (bounded parallelism); an eviction
refused with HTTP 429 (a PodDisruptionBudget) is retried every few seconds; a 404 means
the pod is already gone. Only when the strategy forces it is a pod whose budget refused
its eviction deleted anyway, and logged as a PodDisruptionBudget violation. The drain ends when no such pod is left on the node, or fails when
the timeout passes.
"""

from __future__ import annotations

import asyncio

from models.state import DRAIN_FAILED, DRAINING, IDLE
from sim.adapters.kube_translate import translate_pod


def _left(pods: list[dict], node_ready: bool = True) -> list:
    """Pods the drain still waits for. On a NotReady node, pods already terminating cannot finish:
    they are not waited for (as the simulation and Cluster API's drain do)."""
    infos = [translate_pod(p, {}) for p in pods]
    return [p for p in infos if p.evictable and (node_ready or not p.terminating)]


async def _ready(kube, node: str) -> bool:
    conditions = ((await kube.node(node)).get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


async def drain_node(kube, node: str, timeout_s: float, force: bool, parallelism: int, retry_s: float,
                     set_status, log) -> None:
    """Drain ``node``; ``set_status(phase, message)`` reports progress, ``log(text)`` what it did."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s if timeout_s > 0 else None
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

    pods = [p for p in _left(await kube.pods_on(node)) if not p.terminating]
    results = await asyncio.gather(*(evict(p) for p in pods))
    if not all(results):
        set_status(DRAIN_FAILED, failure(last_reason or "the drain timed out"))
        return
    while not kube.dry_run:  # a server-side dry run deletes nothing: there is nothing to wait for
        remaining = _left(await kube.pods_on(node), await _ready(kube, node))
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
