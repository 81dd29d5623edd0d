"""kubectl drain's pod filters as pure predicates: one set for the simulated world and the live drain.

kubectl (k8s.io/kubectl/pkg/drain, filters.go) runs each pod on the node through five
filters in order; the first that does not pass it decides:

1. already being deleted for longer than ``--skip-wait-for-delete-timeout`` (when set): skipped;
2. a DaemonSet's pod: an error unless ``--ignore-daemonsets`` (then skipped, with a warning),
   since its controller would put it straight back; a finished one may go;
3. a mirror (static) pod: skipped, the API cannot delete it;
4. a pod with an emptyDir volume: an error unless ``--delete-emptydir-data`` (then deleted, with
   a warning: the data is lost); a finished one may go;
5. a pod no controller owns: an error unless ``--force`` (then deleted, with a warning: nothing
   recreates it); a finished one may go.

Any error fails the drain before a single pod is evicted (the node stays cordoned), with
kubectl's message naming the flag that overrides it. The pods that pass are evicted through
the Eviction API, which deletes finished pods without asking their budget
(``canIgnorePDB``); ``--disable-eviction`` deletes instead, bypassing every budget.

The defaults here are what the platforms' drains use, not kubectl's own (all off): Cluster
API's machine controller, kOps and the managed platforms drain with
``IgnoreAllDaemonSets``, ``DeleteEmptyDirData`` and ``Force`` set (cluster-api
internal/controllers/machine drain; kops pkg/instancegroups/instancegroups.go), and Cluster
API skips pods that have been deleting for 5 minutes on an unreachable node
(``SkipWaitForDeleteTimeoutSeconds = 300`` when the node's Ready condition is Unknown).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

SUCCEEDED = "Succeeded"
FAILED = "Failed"
FINISHED = (SUCCEEDED, FAILED)

DAEMONSET_FATAL = "DaemonSet-managed Pods (use --ignore-daemonsets to ignore)"
DAEMONSET_WARNING = "ignoring DaemonSet-managed Pods"
LOCAL_STORAGE_FATAL = "Pods with local storage (use --delete-emptydir-data to override)"
LOCAL_STORAGE_WARNING = "deleting Pods with local storage"
UNMANAGED_FATAL = "Pods that declare no controller (use --force to override)"
UNMANAGED_WARNING = "deleting Pods that declare no controller"

# the Cluster API machine controller's wait for pods deleting on an unreachable node
UNREACHABLE_SKIP_WAIT_S = 300.0


@dataclass(frozen=True)
class DrainOptions:
    """kubectl drain's flags (``drain:`` on a strategy); the defaults are the platforms'."""

    ignore_daemonsets: bool = True
    delete_emptydir_data: bool = True
    force: bool = True
    disable_eviction: bool = False
    skip_wait_for_delete_timeout_s: float = 0.0  # 0: wait for every deleting pod
    unreachable_skip_wait_s: float = UNREACHABLE_SKIP_WAIT_S  # 0: no special case for an unreachable node

    def to_json(self) -> dict:
        return {"ignoreDaemonSets": self.ignore_daemonsets, "deleteEmptyDirData": self.delete_emptydir_data,
                "force": self.force, "disableEviction": self.disable_eviction,
                "skipWaitForDeleteTimeout": self.skip_wait_for_delete_timeout_s,
                "skipWaitWhenUnreachable": self.unreachable_skip_wait_s}

    @classmethod
    def from_json(cls, data: dict) -> DrainOptions:
        return cls(bool(data["ignoreDaemonSets"]), bool(data["deleteEmptyDirData"]), bool(data["force"]),
                   bool(data["disableEviction"]), float(data["skipWaitForDeleteTimeout"]),
                   float(data.get("skipWaitWhenUnreachable", UNREACHABLE_SKIP_WAIT_S)))


KUBECTL_DEFAULTS = DrainOptions(False, False, False, False, 0.0, 0.0)
# what a strategy's forced drain (undrainable: force) does: delete whatever the API can delete, past every budget
FORCED = DrainOptions(True, True, True, True, 0.0, UNREACHABLE_SKIP_WAIT_S)


@dataclass(frozen=True)
class DrainPod:
    """What the filters need to know about a pod on the node being drained."""

    namespace: str
    name: str
    phase: str = "Running"
    daemonset: bool = False
    mirror: bool = False
    controlled: bool = True
    emptydir: bool = False
    deleting_for_s: float | None = None  # seconds since its deletion started; None: not being deleted

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED


DELETE = "delete"
SKIP = "skip"
ERROR = "error"


@dataclass(frozen=True)
class Verdict:
    """What a drain does with one pod: ``delete`` it, ``skip`` it, or fail (``error``); with kubectl's message."""

    status: str
    message: str = ""


def skip_wait_s(o: DrainOptions, unreachable: bool) -> float:
    """How long a pod may be deleting before the drain stops waiting for it (0: it always waits).
    While it is 0 no filter looks at how long a pod has been deleting."""
    return o.skip_wait_for_delete_timeout_s or (o.unreachable_skip_wait_s if unreachable else 0.0)


def skip_deleted(pod: DrainPod, o: DrainOptions, unreachable: bool) -> Verdict | None:
    # kubectl's shouldSkipPod: int(time.Now().Sub(deletionTimestamp).Seconds()) > skipDeletedTimeoutSeconds,
    # whole seconds (truncated): a pod deleting for 300.9 s is still waited for past a 300 s timeout
    wait = skip_wait_s(o, unreachable)
    if wait > 0 and pod.deleting_for_s is not None and int(pod.deleting_for_s) > wait:
        return Verdict(SKIP, f"deleting for more than {wait:g}s")
    return None


def daemonset_filter(pod: DrainPod, o: DrainOptions, unreachable: bool) -> Verdict | None:
    if not pod.daemonset or pod.finished:
        return None
    return Verdict(SKIP, DAEMONSET_WARNING) if o.ignore_daemonsets else Verdict(ERROR, DAEMONSET_FATAL)


def mirror_filter(pod: DrainPod, o: DrainOptions, unreachable: bool) -> Verdict | None:
    return Verdict(SKIP, "a mirror (static) pod") if pod.mirror else None


def local_storage_filter(pod: DrainPod, o: DrainOptions, unreachable: bool) -> Verdict | None:
    if not pod.emptydir or pod.finished:
        return None
    return None if o.delete_emptydir_data else Verdict(ERROR, LOCAL_STORAGE_FATAL)


def unreplicated_filter(pod: DrainPod, o: DrainOptions, unreachable: bool) -> Verdict | None:
    if pod.controlled or pod.finished:
        return None
    return None if o.force else Verdict(ERROR, UNMANAGED_FATAL)


FILTERS = (skip_deleted, daemonset_filter, mirror_filter, local_storage_filter, unreplicated_filter)


def judge(pod: DrainPod, options: DrainOptions, unreachable: bool = False) -> Verdict:
    """The first filter that stops ``pod`` decides; a pod every filter passes is deleted."""
    for f in FILTERS:
        verdict = f(pod, options, unreachable)
        if verdict is not None:
            return verdict
    return Verdict(DELETE)


def warnings(pod: DrainPod, options: DrainOptions) -> tuple[str, ...]:
    """kubectl's warnings for a pod it deletes (data lost, nothing recreates it)."""
    out = []
    if pod.emptydir and not pod.finished:
        out.append(LOCAL_STORAGE_WARNING)
    if not pod.controlled and not pod.finished:
        out.append(UNMANAGED_WARNING)
    return tuple(out)


@dataclass(frozen=True)
class DrainPlan:
    delete: tuple[DrainPod, ...] = ()
    skipped: tuple[DrainPod, ...] = ()
    errors: tuple[tuple[str, tuple[str, ...]], ...] = field(default=())  # (message, pod keys), in filter order

    @property
    def ok(self) -> bool:
        return not self.errors

    def error_text(self) -> str:
        """kubectl's: ``cannot delete MESSAGE: ns/a, ns/b`` per failing filter (podDeleteList.errors), as
        kubectl drain returns them: one aggregate error (``aggregate``)."""
        return aggregate(f"cannot delete {message}: {', '.join(pods)}" for message, pods in self.errors)


def aggregate(messages: Iterable[str]) -> str:
    """apimachinery's ``utilerrors.NewAggregate(errs).Error()``: one message as it is; two or more distinct
    ones joined with ", " inside brackets; a message repeated is given once. (Upstream the order is the
    order the errors came in, for the drain filters a map's: midair's order is fixed, see docs/fidelity.md.)"""
    seen: list[str] = []
    for m in messages:
        if m not in seen:
            seen.append(m)
    if len(seen) <= 1:
        return "".join(seen)
    return "[" + ", ".join(seen) + "]"


def plan_drain(pods: Iterable[DrainPod], options: DrainOptions, unreachable: bool = False,
               judge: Callable[[DrainPod, DrainOptions, bool], Verdict] = judge) -> DrainPlan:
    """Sort a node's pods into those to delete and those to skip, or say why the drain must fail.
    ``judge``: the filters (a memoised ``judge`` serves the simulated world's drains)."""
    delete, skipped = [], []
    errors: dict[str, list[str]] = {}
    for pod in pods:
        verdict = judge(pod, options, unreachable)
        if verdict.status == DELETE:
            delete.append(pod)
        elif verdict.status == SKIP:
            skipped.append(pod)
        else:
            errors.setdefault(verdict.message, []).append(pod.key)
    order = (DAEMONSET_FATAL, LOCAL_STORAGE_FATAL, UNMANAGED_FATAL)
    return DrainPlan(tuple(delete), tuple(skipped),
                     tuple((m, tuple(errors[m])) for m in order if m in errors))


def bypasses_budgets(pod: DrainPod, options: DrainOptions) -> bool:
    """Is this pod deleted without asking its budget? (finished pods; every pod with --disable-eviction)"""
    return options.disable_eviction or pod.finished


# -- the Eviction API's answers and what kubectl drain does with them ---------------------------------

# pkg/registry/core/pod/storage/eviction.go: a budget at 0 (checkAndDecrement) or not yet synced
# (createTooManyRequestsError) answers HTTP 429 with this message and a DisruptionBudget cause; two
# budgets over the pod answer HTTP 500
BUDGET_REFUSAL = "Cannot evict pod as it would violate the pod's disruption budget."
MULTIPLE_BUDGETS = ("This pod has more than one PodDisruptionBudget, which the eviction subresource does not "
                    "support.")
NAMESPACE_TERMINATING = "NamespaceTerminating"  # corev1.NamespaceTerminatingCause, on a 403


def budget_cause(name: str, desired: int, current: int) -> str:
    """The 429's cause when the budget allows no disruption (checkAndDecrement; the budget's bare name)."""
    return f"The disruption budget {name} needs {desired} healthy pods and has {current} currently"


def processing_cause(name: str) -> str:
    """The 429's cause when the disruption controller has not synced the budget (createTooManyRequestsError)."""
    return f"The disruption budget {name} is still being processed by the server."


def with_cause(message: str, cause: str) -> str:
    """A refusal as midair reports it: the Status message, then its cause (kubectl prints only the message)."""
    return f"{message} ({cause})"


# what kubectl drain does with an eviction's answer (k8s.io/kubectl/pkg/drain/drain.go, evictPods)
WAIT = "wait"  # accepted: wait for the pod to go
GONE = "gone"  # 404: already gone
RETRY = "retry"  # 429 (or 403 in a terminating namespace): ask again in 5 s
FAIL = "fail"  # anything else: this pod's eviction fails, and with it the drain once the others are done


def eviction_outcome(code: int, causes: tuple[str, ...] = (), deleting: bool = False) -> str:
    """kubectl drain's reading of an eviction's HTTP status: only 429 TooManyRequests is retried (and a
    403 whose cause is a terminating namespace, unless the pod is already deleting: then it is waited for);
    404 means the pod is gone; every other error ends this pod's eviction (the 500 of a pod under two
    budgets among them)."""
    if code in (200, 201):
        return WAIT
    if code == 404:
        return GONE
    if code == 429:
        return RETRY
    if code == 403 and NAMESPACE_TERMINATING in causes:
        return WAIT if deleting else RETRY
    return FAIL


def _q(text: str) -> str:
    """Go's %q of a pod or namespace name (names never hold characters it would escape but these)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def eviction_error(namespace: str, name: str, message: str) -> str:
    """kubectl's error for a pod whose eviction failed: ``error when evicting pods/"web-1" -n "default": ...``."""
    return f"error when evicting pods/{_q(name)} -n {_q(namespace)}: {message}"


def timeout_error(namespace: str, name: str, timeout_s: float, evicting: bool) -> str:
    """kubectl's error for a pod still pending when ``--timeout`` passes: still being evicted (refused so
    far), or evicted and not yet gone."""
    reached = f"global timeout reached: {go_duration(timeout_s)}"
    if evicting:
        return eviction_error(namespace, name, reached)
    return f"error when waiting for pod {_q(name)} in namespace {_q(namespace)} to terminate: {reached}"


def go_duration(seconds: float) -> str:
    """Go's time.Duration String(): 900 s is ``15m0s``, 30 s ``30s``, 0.2 s ``200ms``."""
    ns = round(seconds * 1_000_000_000)
    if ns == 0:
        return "0s"
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                return f"{_decimal(ns, size)}{unit}"
    h, rest = divmod(ns, 3_600_000_000_000)
    m, rest = divmod(rest, 60_000_000_000)
    s = f"{_decimal(rest, 1_000_000_000)}s"
    return f"{h}h{m}m{s}" if h else f"{m}m{s}" if m else s


def _decimal(n: int, size: int) -> str:
    whole, frac = divmod(n, size)
    digits = str(frac).rjust(len(str(size)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)


def drain_failure(errors: Iterable[str], last_refusal: str = "", refusals: dict[str, int] | None = None) -> str:
    """A failed drain's message: kubectl's aggregate of the pods' errors, then (midair's) the last refusal
    the API gave and how many evictions each workload had refused with HTTP 429."""
    parts = [aggregate(errors)]
    if last_refusal:
        parts.append(f"last refusal: {last_refusal}")
    if refusals:
        parts.append("evictions refused with HTTP 429 (" +
                     ", ".join(f"{k}: {v}" for k, v in sorted(refusals.items())) + ")")
    return "; ".join(p for p in parts if p)
