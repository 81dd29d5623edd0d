"""Core components: the CNI supports every version on the way, APIServices are available,
every node is Ready, control-plane components and add-ons are healthy, etcd can move on."""

from __future__ import annotations

from models import compat
from models.prechecks.base import BLOCK, INFO, WARN, check
from models.state import ETCD

CHECKS: list = []


@check(CHECKS, "core.cni-unsupported", "core", BLOCK, "the CNI release was not tested with a version the upgrade passes")
def cni_unsupported(ctx, c):
    cni = ctx.state.addon("cni")
    if cni is None:
        return
    row = compat.cni_support(cni.flavor or "", cni.version)
    if row is None:
        yield c.finding(INFO, f"addon/cni {cni.flavor} {cni.version}", "midair has no support range for this CNI release",
                        "check its compatibility matrix against every version of the path by hand")
        return
    for v in ctx.hops:
        if not row.k8s_min <= v.minor_release <= row.k8s_max:
            yield c.finding(BLOCK, f"addon/cni {cni.flavor} {cni.version}",
                            f"{cni.flavor} {row.minor} is tested with Kubernetes {row.k8s_min} to {row.k8s_max}, "
                            f"not {v.minor_release}: nodes upgraded to it would go NotReady",
                            f"upgrade {cni.flavor} to a release that supports {v.minor_release} before the upgrade")
            return


@check(CHECKS, "core.apiservice-unavailable", "core", BLOCK, "an aggregated APIService is not Available")
def apiservice_unavailable(ctx, c):
    for svc in ctx.state.api_services:
        if not svc.available:
            yield c.finding(BLOCK, f"apiservice/{svc.name}",
                            "the APIService is not Available: discovery fails, and an upgraded controller-manager "
                            "degrades (garbage collection and namespace deletion stall)",
                            f"repair or remove its backing service{f' ({svc.service})' if svc.service else ''}")


@check(CHECKS, "core.node-not-ready", "core", BLOCK, "a node is not Ready")
def node_not_ready(ctx, c):
    for n in ctx.state.nodes:
        if not n.ready:
            yield c.finding(BLOCK, f"node/{n.name}", "the node is NotReady before the upgrade starts",
                            "repair or remove the node first; the upgrade would stall on it")


@check(CHECKS, "core.control-plane-unhealthy", "core", BLOCK, "a control-plane instance is unhealthy")
def control_plane_unhealthy(ctx, c):
    for i in ctx.state.control_plane.instances:
        if not i.healthy:
            yield c.finding(BLOCK, f"instance/{i.name}", f"the {i.component} instance is unhealthy",
                            "repair it first: upgrading the others would leave the control plane without quorum or "
                            "without a serving apiserver")


@check(CHECKS, "core.addon-unhealthy", "core", WARN, "an add-on (CoreDNS, kube-proxy, CNI) is unhealthy")
def addon_unhealthy(ctx, c):
    for a in ctx.state.addons:
        if not a.healthy:
            yield c.finding(WARN, f"addon/{a.name}", f"{a.name} is unhealthy before the upgrade",
                            "find out why first: an upgrade rolls its pods and may make it worse")


@check(CHECKS, "core.etcd-not-ready-for-3.6", "core", BLOCK, "etcd is older than 3.5.20 and the target's etcd is 3.6")
def etcd_too_old(ctx, c):
    # the first hop whose etcd is 3.6 is where etcd must already be 3.5.20 or later
    first = next((d.etcd for d in map(compat.addon_defaults, ctx.hops)
                  if d is not None and d.etcd is not None and d.etcd >= compat.ETCD_3_6), None)
    if first is None:
        return
    for i in ctx.state.control_plane.of(ETCD):
        if i.version < compat.ETCD_MIN_BEFORE_3_6:
            yield c.finding(BLOCK, f"instance/{i.name}", f"etcd {i.version} cannot move to {first} directly",
                            f"upgrade etcd to {compat.ETCD_MIN_BEFORE_3_6} or later first")
