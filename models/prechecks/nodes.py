"""Node configuration: OS services, NTP, kernel parameters, cgroups, the kubelet, the runtime."""

from __future__ import annotations

from models import compat
from models.prechecks.base import BLOCK, INFO, WARN, Check, check, not_observed

CHECKS: list = []
REQUIRED_KERNEL = {"net.ipv4.ip_forward": "1", "net.bridge.bridge-nf-call-iptables": "1"}
CERT_WARN_DAYS = 30


def _nodes(ctx):
    return ctx.state.nodes


@check(CHECKS, "node.systemd", "node", BLOCK, "systemd is not healthy", needs="host")
def systemd(ctx, c):
    for n in _nodes(ctx):
        if not n.config.systemd_healthy:
            yield c.finding(BLOCK, f"node/{n.name}", "systemd is degraded: the kubelet's restart may not come back",
                            "repair the failed units (systemctl --failed)")


@check(CHECKS, "node.ntp", "node", WARN, "the clock is not synchronised", needs="host")
def ntp(ctx, c):
    for n in _nodes(ctx):
        if not n.config.ntp_synced:
            yield c.finding(WARN, f"node/{n.name}", "the clock is not synchronised: certificates and leases misbehave "
                            "and the node flaps between Ready and NotReady", "enable and sync NTP (chronyd, timesyncd)")


@check(CHECKS, "node.package-manager", "node", BLOCK, "the package manager is broken", needs="host")
def package_manager(ctx, c):
    if not ctx.traits.in_place:
        return
    for n in _nodes(ctx):
        if not n.config.package_manager_healthy:
            yield c.finding(BLOCK, f"node/{n.name}", "the package manager is broken: an in-place upgrade cannot "
                            "install the new kubelet", "repair the package database and repositories")


@check(CHECKS, "node.kernel-params", "node", BLOCK, "a kernel parameter Kubernetes needs is not set", needs="host")
def kernel_params(ctx, c):
    for n in _nodes(ctx):
        params = dict(n.config.kernel_params)
        for key, want in REQUIRED_KERNEL.items():
            if params.get(key) != want:
                yield c.finding(BLOCK, f"node/{n.name}", f"{key} is {params.get(key, 'unset')}, not {want}: "
                                "pod networking breaks after a restart", f"sysctl -w {key}={want} and persist it")


@check(CHECKS, "node.cgroup-v1", "node", BLOCK, "the node uses cgroup v1", needs="host")
def cgroup_v1(ctx, c):
    refused = compat.runtime_change("cgroup-v1-refused").version
    maintained = compat.runtime_change("cgroup-v1-maintenance").version
    for n in _nodes(ctx):
        if n.config.cgroup_version != 1:
            continue
        if ctx.target.minor_release >= refused.minor_release:  # a release candidate of that minor too
            yield c.finding(BLOCK, f"node/{n.name}", f"the kubelet refuses cgroup v1 by default from {refused}",
                            "move the node to cgroup v2 (a newer OS image) before the upgrade")
        elif ctx.target.minor_release >= maintained.minor_release:
            yield c.finding(WARN, f"node/{n.name}", f"cgroup v1 is in maintenance mode from {maintained}",
                            "plan the move to cgroup v2")


@check(CHECKS, "node.kubelet-not-running", "node", BLOCK, "the kubelet is not running", needs="host")
def kubelet_not_running(ctx, c):
    for n in _nodes(ctx):
        if not n.config.kubelet_running:
            yield c.finding(BLOCK, f"node/{n.name}", "the kubelet is not running", "start it and find out why it stopped")


@check(CHECKS, "node.kubelet-config", "node", BLOCK, "the kubelet's configuration is invalid", needs="host")
def kubelet_config(ctx, c):
    for n in _nodes(ctx):
        if not n.config.kubelet_config_valid:
            yield c.finding(BLOCK, f"node/{n.name}", "the kubelet's configuration does not validate: the restarted "
                            "kubelet will not start", "fix /var/lib/kubelet/config.yaml")


@check(CHECKS, "node.kubelet-cert", "node", BLOCK, "the kubelet's certificate expires soon or has expired", needs="host")
def kubelet_cert(ctx, c):
    for n in _nodes(ctx):
        days = n.config.kubelet_cert_expiry_days
        if days <= 0:
            yield c.finding(BLOCK, f"node/{n.name}", "the kubelet's client certificate has expired",
                            "renew it (kubeadm certs renew, or rotate the kubelet certificate)")
        elif days < CERT_WARN_DAYS:
            yield c.finding(WARN, f"node/{n.name}", f"the kubelet's client certificate expires in {days:g} "
                            f"day{'' if days == 1 else 's'}",
                            "renew it before the upgrade")


@check(CHECKS, "node.runtime-not-running", "node", BLOCK, "the container runtime is not running", needs="host")
def runtime_not_running(ctx, c):
    for n in _nodes(ctx):
        if not n.config.runtime_running:
            yield c.finding(BLOCK, f"node/{n.name}", "the container runtime is not running", "restart it")


def _moving_to(ctx, node) -> str | None:
    """The runtime an upgrade moves ``node``'s pool to (``targetRuntime``), if any."""
    for p in ctx.state.pools:
        if p.name == node.pool:
            return p.target_runtime
    return None


@check(CHECKS, "node.dockershim", "node", BLOCK, "a docker:// node cannot run a 1.24+ kubelet")
def dockershim(ctx, c):
    removed = compat.runtime_change("dockershim-removed").version
    if ctx.target.minor_release < removed.minor_release:
        return
    for n in _nodes(ctx):
        moving = _moving_to(ctx, n)
        if n.runtime.startswith("docker://") and not (moving and not moving.startswith("docker://")):
            yield c.finding(BLOCK, f"node/{n.name}", f"runtime {n.runtime}: dockershim was removed in {removed}, so "
                            "its kubelet will not start after an in-place upgrade",
                            "move the pool to containerd (targetRuntime) or install cri-dockerd")


@check(CHECKS, "node.containerd-1x", "node", BLOCK, "containerd 1.x on a target past its last supported release")
def containerd_1x(ctx, c):
    last = compat.runtime_change("containerd-1x-last").version
    for n in _nodes(ctx):
        moving = _moving_to(ctx, n)
        if not n.runtime.startswith("containerd://1.") or (moving and not moving.startswith("containerd://1.")):
            continue  # the upgrade moves it off containerd 1.x before the new kubelet starts
        if ctx.target.minor_release > last:
            yield c.finding(BLOCK, f"node/{n.name}", f"{n.runtime}: {last} is the last release that supports containerd 1.x",
                            "move to containerd 2.0 or later first")
        elif ctx.target.minor_release == last:
            yield c.finding(WARN, f"node/{n.name}", f"{n.runtime}: {last} is the last release that supports containerd 1.x",
                            "plan the move to containerd 2.0 before the next upgrade")


CHECKS.append(Check("node.not-observed", "node", INFO, "the hosts' configuration could not be observed",
                    not_observed(CHECKS, "host", "the hosts' configuration (OS services, NTP, kernel parameters, cgroups, "
                                 "kubelet and runtime health)",
                                 "check the hosts with your node tooling, or describe them in a scenario's "
                                 "cluster.nodePools[] (os, kubelet, runtimeRunning) and run midair precheck on it")))
