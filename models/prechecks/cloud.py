"""Cloud resources: the API load balancer, the VPC and subnets (free IPs for every node the
strategy will create), instance health and quota."""

from __future__ import annotations

from models.prechecks.base import BLOCK, INFO, WARN, Check, check, not_observed

CHECKS: list = []
APISERVER_PORT = 6443
MIN_FREE_IPS_PER_SUBNET = 2  # Alibaba ACK's guidance for each vSwitch (the team's reference)


@check(CHECKS, "cloud.lb-unhealthy", "cloud", BLOCK, "the API load balancer is unhealthy", needs="cloud")
def lb_unhealthy(ctx, c):
    if not ctx.state.cloud.load_balancer.healthy:
        yield c.finding(BLOCK, "loadbalancer/apiserver", "the API load balancer is unhealthy",
                        "repair it: every apiserver restart depends on it")


@check(CHECKS, "cloud.lb-listener", "cloud", BLOCK, "an API load balancer listener is unhealthy or misconfigured", needs="cloud")
def lb_listener(ctx, c):
    for listener in ctx.state.cloud.load_balancer.listeners:
        subject = f"loadbalancer/listener:{listener.port}"
        if not listener.healthy:
            yield c.finding(BLOCK, subject, "the listener is unhealthy", "repair the listener and its health check")
        elif listener.backend_port != APISERVER_PORT:
            yield c.finding(BLOCK, subject, f"the listener forwards to port {listener.backend_port}, not the apiserver's "
                            f"{APISERVER_PORT}: upgraded apiservers re-register there and become unreachable",
                            f"point the listener's backend at port {APISERVER_PORT}")


@check(CHECKS, "cloud.lb-acl", "cloud", BLOCK, "the load balancer's ACL keeps nodes out", needs="cloud")
def lb_acl(ctx, c):
    if not ctx.state.cloud.load_balancer.acl_allows_nodes:
        yield c.finding(BLOCK, "loadbalancer/acl", "the listener ACL does not let the nodes reach the apiservers",
                        "allow the nodes' subnets in the ACL")


@check(CHECKS, "cloud.vpc-unhealthy", "cloud", BLOCK, "the VPC is unhealthy", needs="cloud")
def vpc_unhealthy(ctx, c):
    if not ctx.state.cloud.vpc_healthy:
        yield c.finding(BLOCK, "vpc", "the VPC is unhealthy", "repair routing before the upgrade")


@check(CHECKS, "cloud.subnet-unhealthy", "cloud", BLOCK, "a subnet is unhealthy", needs="cloud")
def subnet_unhealthy(ctx, c):
    for s in ctx.state.cloud.subnets:
        if not s.healthy:
            severity = BLOCK if ctx.traits.creates_nodes else WARN
            yield c.finding(severity, f"subnet/{s.name}", "the subnet is unhealthy", "repair it (route tables, NAT)")


def _new_nodes(ctx, pool) -> int:
    """Nodes the strategy may create at once in a pool: the surge, plus replacements of unavailable ones."""
    if not ctx.traits.creates_nodes:
        return 0
    b = ctx.traits.batch(pool.name)
    return max(1, b.surge + (b.unavailable if ctx.traits.drains else 0))


@check(CHECKS, "cloud.subnet-free-ips", "cloud", BLOCK, "too few free IPs for the nodes the strategy creates", needs="cloud")
def subnet_free_ips(ctx, c):
    if not ctx.traits.creates_nodes:
        if any(s.free_ips == 0 for s in ctx.state.cloud.subnets):
            yield c.finding(INFO, "subnets", f"{ctx.traits.strategy} creates no node, so full subnets do not matter "
                            "(unless a node has to be replaced)", "nothing to do now")
        return
    warned: set[str] = set()  # a subnet shared by pools is reported once
    for pool in ctx.state.pools:
        subnets = [s for s in ctx.state.cloud.subnets if s.zone in pool.zones]
        need = _new_nodes(ctx, pool)
        free = sum(s.free_ips for s in subnets)
        if free < need:
            yield c.finding(BLOCK, f"pool/{pool.name}", f"{ctx.traits.strategy} creates up to {need} node(s) at once "
                            f"in this pool; its subnets have {free} free IP(s)",
                            "free addresses, add a subnet, or lower maxSurge")
            continue
        for s in subnets:
            if s.free_ips < MIN_FREE_IPS_PER_SUBNET and s.name not in warned:
                warned.add(s.name)
                yield c.finding(WARN, f"subnet/{s.name}", f"{s.free_ips} free IP(s); each subnet that gets new nodes "
                                f"should keep at least {MIN_FREE_IPS_PER_SUBNET}", "free addresses in it")


@check(CHECKS, "cloud.instance-quota", "cloud", BLOCK, "the instance quota leaves no room for surge nodes", needs="cloud")
def instance_quota(ctx, c):
    quota = ctx.state.cloud.instance_quota
    if quota is None or not ctx.traits.creates_nodes:
        return
    in_use = len(ctx.state.nodes)
    need = max((ctx.traits.batch(p.name).surge for p in ctx.state.pools), default=0)
    if ctx.traits.strategy == "any" or not ctx.traits.drains:
        need = max(need, 1)  # without a strategy's knobs (or with nothing drained first), assume one at once
    if quota - in_use < need:
        yield c.finding(BLOCK, "quota/instances", f"{in_use} of {quota} instances are in use; {ctx.traits.strategy} "
                        f"needs {need} more at once", "raise the quota or lower maxSurge")


@check(CHECKS, "cloud.instances-unhealthy", "cloud", BLOCK, "the cloud reports unhealthy instances", needs="cloud")
def instances_unhealthy(ctx, c):
    if not ctx.state.cloud.instances_healthy:
        yield c.finding(BLOCK, "instances", "the cloud reports unhealthy instances (failed status checks)",
                        "replace or repair them first")


CHECKS.append(Check("cloud.not-observed", "cloud", INFO, "the cloud resources could not be observed",
                    not_observed(CHECKS, "cloud", "the cloud resources (API load balancer, VPC and subnets, instance "
                                 "health and quota)",
                                 "check them in your cloud console, or describe them in a scenario's cluster.cloud "
                                 "and run midair precheck on it")))
