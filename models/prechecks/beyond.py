"""Beyond the seed's three families: version skew now and along the path, removed APIs in the
user's manifests, disruption risks, and spare capacity for the strategy."""

from __future__ import annotations

from models import compat
from models.disruption import NO_SCALE, controller_of, expected_pods
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


RELAX = "relax the budget (or add replicas) for the upgrade"
INTEGER = ("give it an integer minAvailable: the only form that works for pods without a controller that has a "
           "scale (kubernetes.io, Specifying a Disruption Budget)")


def _selected_pods(ctx, w) -> int:
    """How many of ``w``'s pods a budget selects at rest: its replicas; a DaemonSet's, one per node it runs on."""
    if w.kind == DAEMONSET:
        return sum(1 for n in ctx.state.nodes if w.pool in (None, n.pool))
    return w.replicas


def _never_allows(ctx, w) -> tuple[str, str] | None:
    """Why the budget over ``w``'s pods can never allow an eviction, and the fix (None: it can), counted as the
    disruption controller counts (``models.disruption``) over every workload the budget selects."""
    pdb = w.pdb
    members = [w] if pdb.selector is None else [m for m in ctx.state.workloads if pdb.selects(m)] or [w]
    pods = {m.key: _selected_pods(ctx, m) for m in members}
    healthy = sum(pods.values())
    if healthy == 0:
        return None  # no pod, nothing to evict
    expected, error = expected_pods(pdb, [(m.kind, m.replicas, pods[m.key]) for m in members])
    form = f"minAvailable {pdb.min_available}" if pdb.min_available is not None else f"maxUnavailable {pdb.max_unavailable}"
    if error is not None:
        daemonset = next(m for m in members if controller_of(m.kind) == NO_SCALE and pods[m.key])
        return (f"its budget ({form}) selects the pods of DaemonSet {daemonset.key} and {error}: the disruption "
                "controller cannot count the pods it expects and keeps disruptionsAllowed at 0", INTEGER)
    if expected <= 0:
        return (f"its budget ({form}) expects the pods of its pods' controllers, and bare pods have none: it expects "
                "0 pods and keeps disruptionsAllowed at 0", INTEGER)
    desired = pdb.desired_healthy(expected)
    if desired > healthy:
        return f"its budget wants {desired} pods healthy at all times, more than the {healthy} it selects", RELAX
    if desired >= healthy or (pdb.max_unavailable is not None and pdb.max_unavailable.scaled(expected, True) == 0):
        return f"its budget wants {desired} of {healthy} pods healthy at all times", RELAX
    return None


@check(CHECKS, "disruption.pdb-never-allows", "disruption", BLOCK, "a PodDisruptionBudget can never allow an eviction")
def pdb_never_allows(ctx, c):
    for w in _user(ctx):
        if w.pdb is None:
            continue
        found = _never_allows(ctx, w)
        if found is None:
            continue
        wants, fix = found
        if ctx.traits.drains:
            yield c.finding(BLOCK, f"workload/{w.key}", f"{wants}: no eviction can ever succeed, so a drain waits "
                            "for its timeout", fix)
        else:
            yield c.finding(INFO, f"workload/{w.key}", f"{wants}: no eviction can ever succeed; "
                            f"{ctx.traits.strategy} does not drain, so it matters only if a node has to be "
                            "drained or replaced", fix.replace("for the upgrade", "before you need a drain"))


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
