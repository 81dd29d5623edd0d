"""Admission webhooks in the world: the API server calls them; the cluster's own pods answer.

A webhook answers while its Service has a Ready endpoint (one Ready pod of the workload that
serves it) on a machine that is up. With no Ready endpoint the call fails at once ("no
endpoints available"); with Ready endpoints only on machines that died (not yet NotReady) it
times out after ``timeoutSeconds``. ``failurePolicy: Fail`` then refuses the request; ``Ignore``
lets it through (after the timeout, if there was one). Mutating webhooks are called before
validating ones (k8s.io/apiserver pkg/admission/plugin/webhook).

The requests midair's cluster makes:

- controllers creating pods (ReplicaSet, StatefulSet, DaemonSet): a refused creation is
  retried with the controllers' workqueue backoff, 5 ms doubling to at most 1000 s, reset by a
  success (client-go workqueue DefaultControllerRateLimiter), and sooner by any change to the
  workload's pods; ``blocked_creations`` counts the refusals. A webhook that refuses the pods of
  the very workload that serves it has deadlocked: nothing can bring it back;
- kubelets renewing their Lease in kube-node-lease (the heartbeat: refused, the node turns
  NotReady after the grace period), posting their node's status (refused, a node cannot report
  itself Ready), and registering new nodes (refused, the machine retries every 7 s, the kubelet's
  longest registration backoff: pkg/kubelet/kubelet_node_status.go).

Simplifications (docs/fidelity.md): the node lifecycle controller's own status writes, evictions
(pods/eviction) and every other request are not sent through the webhooks; a webhook served from
outside the cluster (by URL) always answers; with some Ready endpoints on dead machines and
some on live ones, every call goes to a live one.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.admission import LEASE_RENEWAL, MUTATING, NODE_REGISTRATION, NODE_STATUS, Webhook, pod_creation, refusal
from sim.world.entities import SimNode, SimWorkload

BACKOFF_BASE_S = 0.005
BACKOFF_MAX_S = 1000.0
REGISTER_RETRY_S = 7.0


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    delay_s: float = 0.0
    message: str = ""
    webhook: Webhook | None = None


ALLOWED = Verdict(True)


class Admission:
    def __init__(self, world, webhooks: tuple[Webhook, ...]):
        self.world = world
        self.webhooks_declared = webhooks
        # mutating first, then validating, each in the order declared
        self.webhooks = tuple(sorted(webhooks, key=lambda h: h.kind != MUTATING))
        self.failures: dict[str, int] = {}
        self.deadlocked: set[tuple[str, str]] = set()
        self.node_hooks = tuple(h for h in self.webhooks
                                if any(h.matches(r) for r in (LEASE_RENEWAL, NODE_STATUS, NODE_REGISTRATION)))
        for h in self.webhooks:
            w = world.workloads.get(h.service) if h.service else None
            if w is not None:
                w.served.append(h)

    # -- answers -------------------------------------------------------------------------------
    def answers(self, hook: Webhook) -> tuple[bool, float, str]:
        """(answers, seconds the call took, why not) for a call to ``hook`` now."""
        if hook.service is None:
            return True, 0.0, ""
        w = self.world.workloads.get(hook.service)
        ready = [p for p in w.pods if p.ready] if w is not None else []
        name = hook.service.split("/", 1)[1]
        if not ready:
            return False, 0.0, f'failed to call webhook: no endpoints available for service "{name}"'
        if not any(p.node is not None and p.node.alive for p in ready):
            return False, hook.timeout_s, "failed to call webhook: context deadline exceeded"
        return True, 0.0, ""

    def review(self, request, hooks=None) -> Verdict:
        delay = 0.0
        for h in self.webhooks if hooks is None else hooks:
            if not h.matches(request):
                continue
            ok, took, why = self.answers(h)
            delay += took
            if not ok and h.fails_closed:
                return Verdict(False, delay, refusal(h, why), h)
        return Verdict(True, delay) if delay else ALLOWED

    # -- pods -------------------------------------------------------------------------------------
    def pod_creation(self, w: SimWorkload) -> Verdict:
        """May ``w``'s controller create a pod now? A refusal is counted and retried after the backoff."""
        if not self.webhooks:
            return ALLOWED
        verdict = self.review(pod_creation(w.spec.namespace, w.spec.pod_labels))
        world = self.world
        if verdict.allowed:
            if self.failures.pop(w.key, None) is not None:
                world.rec.event(world.env.now, f"{w.key}: pod creation admitted again")
            self.deadlocked = {d for d in self.deadlocked if d[1] != w.key}
            return verdict
        n = self.failures[w.key] = self.failures.get(w.key, 0) + 1
        world.rec.count("blocked_creations", workload=w.key)
        if n == 1:
            world.rec.event(world.env.now, f"{w.key}: pod creation refused: {verdict.message}")
        hook = verdict.webhook
        if hook.service == w.key and (hook.name, w.key) not in self.deadlocked:
            self.deadlocked.add((hook.name, w.key))
            world.rec.event(world.env.now, f"deadlock: webhook {hook.name} refuses the pods of {w.key}, the workload "
                                           "that serves it; nothing can recreate them while it fails closed")
        world.env.process(self._retry(w, verdict.delay_s + min(BACKOFF_BASE_S * 2 ** (n - 1), BACKOFF_MAX_S)))
        return verdict

    def _retry(self, w: SimWorkload, delay: float):
        yield self.world.env.timeout(delay)
        self.world.pods.changed(w)

    # -- nodes ------------------------------------------------------------------------------------
    def heartbeat_refused(self) -> bool:
        return bool(self.node_hooks) and not self.review(LEASE_RENEWAL, self.node_hooks).allowed

    def status_refused(self) -> bool:
        return bool(self.node_hooks) and not self.review(NODE_STATUS, self.node_hooks).allowed

    def registration_refused(self) -> Verdict | None:
        if not self.node_hooks:
            return None
        verdict = self.review(NODE_REGISTRATION, self.node_hooks)
        return None if verdict.allowed else verdict

    def backend_changed(self, w: SimWorkload) -> None:
        """``w``'s Ready pods changed: if it serves a webhook kubelets call, every node looks again."""
        if any(h in self.node_hooks for h in w.served):
            for node in sorted(self.world.nodes.values(), key=lambda n: n.seq):
                self.world.node_ops.refresh(node)

    def machine_changed(self, node: SimNode) -> None:
        """``node``'s machine died or came back: its webhook pods stop or start answering."""
        for w in {p.workload.key: p.workload for p in node.pods if p.workload.served}.values():
            self.backend_changed(w)
