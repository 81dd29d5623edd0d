"""Traffic risks: services whose requests fail while a drain catches up with their pods."""

from __future__ import annotations

from models.prechecks.base import INFO, WARN, check

CHECKS: list = []


@check(CHECKS, "disruption.lb-no-prestop", "disruption", WARN,
       "a service behind a cloud load balancer has pods without a preStop delay")
def lb_without_prestop(ctx, c):
    """A cloud load balancer keeps sending to a pod for a while after it starts terminating (it must first
    deregister it: AWS Load Balancer Controller and GKE NEG docs advise a preStop sleep for this); without a
    preStop delay the pod stops answering at once and those requests fail."""
    workloads = {w.key: w for w in ctx.state.workloads}
    for s in ctx.state.services:
        w = workloads.get(s.workload)
        if not s.load_balancer or w is None or w.pre_stop_s > 0:
            continue
        moves = ctx.traits.drains or ctx.traits.creates_nodes
        yield c.finding(WARN if moves else INFO, f"service/{s.key}",
                        f"behind a cloud load balancer ({s.external_traffic_policy}), its pods ({w.key}) stop "
                        "answering at SIGTERM while the load balancer still sends them requests"
                        + ("" if moves else f"; {ctx.traits.strategy} moves no pod, so it matters only if one is "
                                             "drained"),
                        "give the pods a preStop sleep longer than the load balancer's deregistration (and, for "
                        "externalTrafficPolicy: Local, its health check), with terminationGracePeriodSeconds to match")
