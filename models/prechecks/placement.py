"""Pre-checks for pods that cannot be placed during a roll, and for admission webhooks that can
stop the cluster from creating pods or keeping its nodes Ready.

Scheduling: with a batch of nodes drained and not yet replaced by surge (maxUnavailable beyond
maxSurge), a workload's required anti-affinity among its own pods, or its DoNotSchedule spread
over zones or nodes, may leave the pods of the drained nodes nowhere to go: a drained node still
counts as a spread domain (cordoned nodes do, unless nodeTaintsPolicy is Honor), and with each
zone (node) holding its share, one more pod elsewhere passes maxSkew.

Admission: a webhook that fails closed stops every request it matches while no pod of the
workload serving it is Ready: one replica is out whenever its node is drained, no budget lets a
drain take all of them at once, and one that matches its own pods' creation deadlocks; a
webhook that matches kube-system stands between the cluster and its own system pods (kubernetes.io
Dynamic Admission Control: avoiding deadlocks in self-hosted webhooks, avoiding operating on the
kube-system namespace).
"""

from __future__ import annotations

from models.admission import KUBE_SYSTEM, LEASE_RENEWAL, NODE_STATUS, Webhook, pod_creation
from models.constraints import DO_NOT_SCHEDULE, HOSTNAME, ZONE
from models.prechecks.base import BLOCK, INFO, WARN, check
from models.state import DAEMONSET, ClusterState, Workload

CHECKS: list = []


def _own(selector, w: Workload) -> bool:
    return selector is not None and not selector.empty and selector.matches(w.pod_labels)


def _out(ctx, pool) -> int:
    b = ctx.traits.batch(pool.name)
    return max(0, b.unavailable - b.surge)


@check(CHECKS, "scheduling.roll-breaks-anti-affinity", "scheduling", WARN,
       "a roll's batch leaves a workload's required anti-affinity or spread with nowhere to put its pods")
def roll_breaks_constraints(ctx, c):
    if not ctx.traits.drains:
        return
    for w in ctx.state.workloads:
        if w.kind == DAEMONSET or w.replicas < 2:
            continue
        pools = [p for p in ctx.state.pools if w.pool in (None, p.name) and p.count]
        for pool in pools:
            out = _out(ctx, pool)
            if not out:
                continue
            sizes = {z: sum(1 for n in ctx.state.nodes_in(pool.name) if n.zone == z) for z in pool.zones}
            zones = [z for z, n in sizes.items() if n]
            if not zones:
                continue
            thin = min(sizes[z] for z in zones) <= out  # the batch can take a zone's every node
            for why in _reasons(w, pool.count, out, zones, thin):
                yield c.finding(WARN, f"workload/{w.key}", f"in pool {pool.name}, with {out} node(s) drained at once "
                                f"and none surged in, {why}: its pods from the drained nodes stay Pending until they "
                                "are back or replaced", "add a surge node (maxSurge) or lower maxUnavailable, or relax "
                                "the constraint to preferred / ScheduleAnyway")


def _reasons(w: Workload, count: int, out: int, zones: list[str], thin: bool):
    anti = w.scheduling.pod_anti_affinity
    for term in anti.required if anti is not None else ():
        if not _own(term.selector, w):
            continue
        if term.topology_key == HOSTNAME and w.replicas > count - out:
            yield (f"its {w.replicas} replicas need {w.replicas} nodes apart (required anti-affinity by hostname) "
                   f"and the batch leaves {count - out}")
        if term.topology_key == ZONE and thin and w.replicas > len(zones) - 1:
            yield (f"its {w.replicas} replicas need {w.replicas} zones apart (required anti-affinity by zone) and "
                   f"the batch can take every node of a zone, leaving {len(zones) - 1}")
    for s in w.scheduling.spread:
        if s.when_unsatisfiable != DO_NOT_SCHEDULE or not _own(s.selector, w) or s.node_taints_policy == "Honor":
            continue
        domains = len(zones) if s.topology_key == ZONE else count if s.topology_key == HOSTNAME else 0
        if domains < 2 or (s.topology_key == ZONE and not thin):
            continue
        if w.replicas // domains >= s.max_skew:
            yield (f"its spread over {s.topology_key} (maxSkew {s.max_skew}, DoNotSchedule) counts the drained "
                   f"{'zone' if s.topology_key == ZONE else 'node'} as a domain with 0 pods while every other holds "
                   f"{w.replicas // domains} or more")


def _backend(state: ClusterState, h: Webhook) -> Workload | None:
    return next((w for w in state.workloads if w.key == h.service), None) if h.service else None


def _closed(state: ClusterState):
    """Webhooks that fail closed on requests the cluster keeps making, with the workload serving each."""
    for h in state.webhooks:
        if not h.fails_closed:
            continue
        w = _backend(state, h)
        if w is None:
            continue
        pods = any(h.matches(pod_creation(x.namespace, x.pod_labels)) for x in state.workloads) or \
            h.matches(pod_creation("default", {}))
        nodes = h.matches(LEASE_RENEWAL) or h.matches(NODE_STATUS)
        if pods or nodes:
            yield h, w, "creating pods" if pods else "kubelets' heartbeats and node status"


@check(CHECKS, "admission.webhook-single-replica", "admission", BLOCK,
       "a webhook that fails closed is served by one replica")
def single_replica(ctx, c):
    for h, w, what in _closed(ctx.state):
        if w.replicas > 1:
            continue
        own = h.matches(pod_creation(w.namespace, w.pod_labels))
        if own and ctx.traits.drains:
            yield c.finding(BLOCK, f"webhook/{h.name}", f"failurePolicy Fail, served by the single pod of {w.key}, and "
                            "it matches that pod's own creation: once a drain evicts it, nothing can create it again "
                            f"and {what} fails for good (a deadlock)",
                            f"exclude {w.namespace} with a namespaceSelector (or the pods with an objectSelector), or "
                            "run two or more replicas with a budget")
        else:
            yield c.finding(WARN, f"webhook/{h.name}", f"failurePolicy Fail, served by the single pod of {w.key}: "
                            f"while that pod moves or restarts, {what} fails",
                            "run two or more replicas with a budget, or failurePolicy Ignore if the webhook may be skipped")


@check(CHECKS, "admission.webhook-no-budget", "admission", WARN,
       "a webhook that fails closed is served by a workload without a budget")
def no_budget(ctx, c):
    for h, w, what in _closed(ctx.state):
        if w.pdb is None and (w.budgets or 0) == 0 and ctx.traits.drains:
            yield c.finding(WARN, f"webhook/{h.name}", f"failurePolicy Fail, served by {w.key}, which has no "
                            "PodDisruptionBudget: a drain may evict every one of its pods at once, and then "
                            f"{what} fails", f"give {w.key} a budget that keeps one pod (minAvailable: 1)")


@check(CHECKS, "admission.webhook-on-drained-nodes", "admission", WARN,
       "a webhook that fails closed runs on nodes the roll drains")
def on_drained_nodes(ctx, c):
    for h, w, what in _closed(ctx.state):
        pools = [p.name for p in ctx.state.pools if w.pool in (None, p.name)]
        if ctx.traits.drains:
            yield c.finding(WARN, f"webhook/{h.name}", f"failurePolicy Fail, served by {w.key} on pool(s) "
                            f"{', '.join(pools)}, which the roll drains: each drain of one of its nodes takes a pod "
                            f"away, and {what} waits for the replacement to be Ready",
                            "keep enough replicas and a budget, or run the webhook on nodes the roll leaves for last")
        else:
            yield c.finding(INFO, f"webhook/{h.name}", f"failurePolicy Fail, served by {w.key}: "
                            f"{ctx.traits.strategy} drains nothing, but a node it restarts takes the webhook's pod "
                            "away for a while", "keep two or more replicas")


@check(CHECKS, "admission.webhook-kube-system", "admission", WARN,
       "a webhook matches kube-system's pods or the kubelets' leases")
def kube_system(ctx, c):
    for h in ctx.state.webhooks:
        hits = [what for what, request in (("pods in kube-system", pod_creation(KUBE_SYSTEM, {})),
                                           ("the kubelets' Lease renewals in kube-node-lease", LEASE_RENEWAL))
                if h.matches(request)]
        if not hits:
            continue
        if h.fails_closed:
            yield c.finding(WARN, f"webhook/{h.name}", f"it matches {' and '.join(hits)} and fails closed: while it "
                            "cannot answer, the cluster cannot recreate its own system pods (or keep its nodes Ready)",
                            "exclude kube-system and kube-node-lease with a namespaceSelector on "
                            "kubernetes.io/metadata.name")
        else:
            yield c.finding(INFO, f"webhook/{h.name}", f"it matches {' and '.join(hits)}; it fails open, so while it "
                            f"cannot answer those requests wait up to its {h.timeout_s:g}s timeout",
                            "exclude kube-system and kube-node-lease with a namespaceSelector")
