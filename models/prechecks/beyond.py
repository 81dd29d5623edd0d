"""Beyond the seed's three families: version skew now and along the path, removed APIs in the
user's manifests, disruption risks, and spare capacity for the strategy."""

from __future__ import annotations

from models import compat
from models.prechecks.base import BLOCK, INFO, WARN, check
from models.quantity import format_memory
from models.skew import check_state
from models.state import BARE_POD, DAEMONSET, STATEFULSET

CHECKS: list = []


@check(CHECKS, "skew.now", "skew", BLOCK, "the cluster breaks the version-skew policy already")
def skew_now(ctx, c):
    for v in check_state(ctx.state):
        yield c.finding(BLOCK if v.mandatory else WARN, f"{v.component}/{v.subject}", f"{v.reason} ({v.rule})",
                        "bring the component within the policy first (kubernetes.io/releases/version-skew-policy)")


@check(CHECKS, "skew.path", "skew", BLOCK, "there is no skew-safe path to the target")
def skew_path(ctx, c):
    if ctx.path_error:
        yield c.finding(BLOCK, f"target/{ctx.target}", ctx.path_error, "choose a reachable target or fix the versions")


@check(CHECKS, "apis.removed", "apis", BLOCK, "a manifest uses an API removed at or before the target")
def removed_apis(ctx, c):
    for ref in ctx.manifests:
        removed = compat.removed_api(ref.api_version, ref.kind)
        if removed is not None and removed.removed_in.minor_release <= ctx.target.minor_release:
            name = f" {ref.name}" if ref.name else ""
            release = f"Helm release {ref.release}: " if ref.release else ""
            fix = f"migrate it to {removed.replacement}" + (" in the release's chart, then upgrade the release (helm "
                                                            "mapkubeapis rewrites a stored release)" if ref.release else "")
            yield c.finding(BLOCK, f"{ref.file}:{ref.line}", f"{release}{ref.kind}{name} uses {ref.api_version}, removed "
                            f"in {removed.removed_in}", fix)


@check(CHECKS, "apis.deprecated", "apis", WARN, "a manifest uses an API the target deprecates and a later release removes")
def deprecated_apis(ctx, c):
    # as pluto reports "deprecated": served by the target still, gone in a release after it
    for ref in ctx.manifests:
        row = compat.removed_api(ref.api_version, ref.kind)
        if (row is not None and row.deprecated_in is not None
                and row.deprecated_in.minor_release <= ctx.target.minor_release < row.removed_in.minor_release):
            name = f" {ref.name}" if ref.name else ""
            yield c.finding(WARN, f"{ref.file}:{ref.line}", f"{ref.kind}{name} uses {ref.api_version}, deprecated "
                            f"since {row.deprecated_in} and removed in {row.removed_in}",
                            f"migrate it to {row.replacement} before upgrading to {row.removed_in}")


@check(CHECKS, "apis.unreadable", "apis", WARN, "a manifest could not be read")
def unreadable(ctx, c):
    for file, line, problem in ctx.manifest_problems:
        yield c.finding(WARN, f"{file}:{line}", problem, "fix the file, or leave it out of manifests")


def _user(ctx):
    return [w for w in ctx.state.workloads if w.kind != DAEMONSET]


@check(CHECKS, "disruption.pdb-never-allows", "disruption", BLOCK, "a PodDisruptionBudget can never allow an eviction")
def pdb_never_allows(ctx, c):
    for w in _user(ctx):
        pdb = w.pdb
        if pdb is None or w.replicas == 0:
            continue  # no pod, nothing to evict
        if pdb.desired_healthy(w.replicas) >= w.replicas or (pdb.max_unavailable is not None
                                                             and pdb.max_unavailable.scaled(w.replicas, True) == 0):
            wants = f"its budget wants {pdb.desired_healthy(w.replicas)} of {w.replicas} pods healthy at all times"
            if ctx.traits.drains:
                yield c.finding(BLOCK, f"workload/{w.key}", f"{wants}: no eviction can ever succeed, so a drain waits "
                                "for its timeout", "relax the budget (or add replicas) for the upgrade")
            else:
                yield c.finding(INFO, f"workload/{w.key}", f"{wants}: no eviction can ever succeed; "
                                f"{ctx.traits.strategy} does not drain, so it matters only if a node has to be "
                                "drained or replaced", "relax the budget (or add replicas) before you need a drain")


@check(CHECKS, "disruption.single-replica", "disruption", WARN, "a workload has a single replica")
def single_replica(ctx, c):
    for w in _user(ctx):
        if w.replicas == 1 and w.kind != BARE_POD:
            yield c.finding(WARN if ctx.traits.drains else INFO, f"workload/{w.key}",
                            "one replica: it is out whenever its node is drained or replaced",
                            "run two or more replicas, with a budget")


@check(CHECKS, "disruption.local-storage", "disruption", WARN, "pods keep data on their node under a replacing strategy")
def local_storage(ctx, c):
    if not ctx.traits.creates_nodes and not ctx.traits.drains:
        return
    for w in _user(ctx):
        if w.local_storage:
            what = "its local volumes are lost when the node is replaced" if w.kind == STATEFULSET else \
                "its emptyDir data is lost when the pod is evicted"
            yield c.finding(WARN, f"workload/{w.key}", what, "move the data to network storage, or upgrade in place")


@check(CHECKS, "disruption.bare-pod", "disruption", WARN, "bare pods are never recreated")
def bare_pods(ctx, c):
    if not ctx.traits.drains and not ctx.traits.creates_nodes:
        return
    for w in ctx.state.workloads:
        if w.kind == BARE_POD:
            yield c.finding(WARN, f"workload/{w.key}", "a pod without a controller: evicted, it is gone for good",
                            "run it under a Deployment or StatefulSet")


@check(CHECKS, "capacity.spare", "capacity", WARN, "too little spare capacity for the strategy")
def spare(ctx, c):
    if not ctx.traits.drains:
        return
    for pool in ctx.state.pools:
        b = ctx.traits.batch(pool.name)
        out = max(0, b.unavailable - b.surge)  # nodes out of service beyond what surge replaces
        if out == 0:
            continue
        left = pool.count - out
        pinned = [w for w in ctx.state.workloads if w.kind != DAEMONSET and w.pool == pool.name]
        if not pinned:
            continue
        daemons = sum(1 for w in ctx.state.workloads if w.kind == DAEMONSET and w.pool in (None, pool.name))
        short = []
        for what, want, have, show in (
                ("CPU", sum(w.requests.cpu_m * w.replicas for w in pinned), pool.allocatable.cpu_m * left,
                 lambda m: f"{m}m"),
                ("memory", sum(w.requests.memory * w.replicas for w in pinned), pool.allocatable.memory * left,
                 format_memory),
                ("pod slots", sum(w.replicas for w in pinned), (pool.allocatable.pods - daemons) * left, str)):
            if pool.allocatable.pods == 0 and what == "pod slots":
                continue  # no limit given
            if want > have:
                short.append(f"{show(have)} {what} for {show(want)} of requests" if what != "pod slots"
                             else f"{have} pod slots (after DaemonSet pods) for {want} pods")
        if short:
            yield c.finding(WARN, f"pool/{pool.name}", f"with {out} node(s) drained the other {left} offer "
                            f"{'; '.join(short)}: pods will wait (Pending)",
                            "add a surge node (maxSurge) or lower maxUnavailable")
