"""Reading what real upgrades recorded, for ``midair calibrate``: durations by timing field.

Three kinds of evidence, told apart by their content:

- a ``midair apply`` journal: each operation's submission and observed completion, journalled
  by the live port (``completed`` entries with ``duration_s``): an in-place upgrade from its
  hook's start to the kubelet reporting the version, a provisioning to the new node Ready, a
  deletion to the Node gone, a control-plane instance to it running the version;
- ``kubectl get events -A -o json``: the kubelet's ``Pulled`` events say how long each image
  pull took ("Successfully pulled image ... in 2.53s", Kubernetes 1.28 onwards with "(… including
  waiting)"); "already present on machine" is no pull;
- ``kubectl get nodes,pods -A -o json`` (what ``midair import`` reads): a pod's readiness after
  its containers started (the Ready condition's transition minus the latest ``startedAt``) for
  pods whose containers never restarted. A Node's creation is its registration, not its
  machine's launch, so node conditions say nothing of ``nodeProvision``.

The fitting is ``models.fitting``'s; this module only finds the samples.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

from models.fitting import Fit, fit, scenario_distribution
from sim.errors import UsageError
from sim.output import read_json_lines

# (action kind, component) in a journal's completed entries -> (timing field, what one sample measures)
JOURNAL_FIELDS = {
    ("UpgradeNodeInPlace", "node"): ("inplace", "in-place upgrade(s), from the upgradeNode hook's start to the "
                                                "kubelet reporting the version"),
    ("ProvisionNode", "pool"): ("nodeProvision", "provisioning(s), from the provisionNode hook's start to the new "
                                                 "node Ready"),
    ("DeleteNode", "node"): ("nodeDelete", "deletion(s), from the deleteNode hook's start to the Node deleted"),
    ("UpgradeControlPlaneInstance", "kube-apiserver"): ("controlPlaneInstance", "apiserver upgrade(s), from the hook's "
                                                                                "start to it running the version"),
    ("UpgradeControlPlaneInstance", "kube-controller-manager"): ("controllerInstance", "controller-manager or "
                                                                 "scheduler upgrade(s), from the hook's start to it "
                                                                 "running the version"),
    ("UpgradeControlPlaneInstance", "kube-scheduler"): ("controllerInstance", "controller-manager or scheduler "
                                                        "upgrade(s), from the hook's start to it running the version"),
}
PULLED = re.compile(r'Successfully pulled image "[^"]*" in ([0-9.hmsuµn]+)')
GO_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(h|ms|us|µs|ns|m|s)")
UNITS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
INPLACE_WHOLE = "replaceBinaries"  # the step that carries a whole in-place upgrade measured from outside


@dataclass(frozen=True)
class Sample:
    field: str
    seconds: float
    what: str
    file: str


def go_duration(text: str) -> float | None:
    """A Go duration (``1m2.5s``, ``850ms``) in seconds, or None."""
    parts = GO_DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * UNITS[u] for n, u in parts)


def _time(text) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def journal_samples(path: str) -> list[Sample]:
    out = []
    for number, record in read_json_lines(path, "this is not a midair journal"):
        for entry in (record.get("log") or []) if isinstance(record, dict) else []:
            if entry.get("kind") != "completed" or entry.get("duration_s") is None:
                continue
            key = (str(entry.get("action", "")).split(" ", 1)[0], entry.get("component", ""))
            if key in JOURNAL_FIELDS:
                field, what = JOURNAL_FIELDS[key]
                out.append(Sample(field, float(entry["duration_s"]), what, path))
    return out


def event_samples(items: list, path: str) -> list[Sample]:
    out = []
    for event in items:
        if event.get("kind") == "Event" and event.get("reason") == "Pulled":
            found = PULLED.search(event.get("message") or "")
            seconds = go_duration(found.group(1)) if found else None
            if seconds is not None:
                out.append(Sample("imagePull", seconds, "image pull(s), as the kubelet's Pulled events report them",
                                  path))
    return out


def pod_samples(items: list, path: str) -> list[Sample]:
    out = []
    for pod in items:
        if pod.get("kind") != "Pod":
            continue
        status = pod.get("status") or {}
        containers = status.get("containerStatuses") or []
        ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
        started = [_time(((c.get("state") or {}).get("running") or {}).get("startedAt")) for c in containers]
        if (not containers or ready is None or ready.get("status") != "True" or None in started
                or any(c.get("restartCount", 0) for c in containers)):
            continue
        became_ready = _time(ready.get("lastTransitionTime"))
        if became_ready is not None and became_ready >= max(started):
            out.append(Sample("podStartup", (became_ready - max(started)).total_seconds(),
                              "pod(s) Ready after their containers started", path))
    return out


def read_samples(path: str) -> list[Sample]:
    """The samples in one SOURCE file; ``UsageError`` when it is none of the three kinds."""
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
            rest = fh.read()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read it ({exc})") from None
    try:
        head = json.loads(first)
    except json.JSONDecodeError:
        head = None
    if isinstance(head, dict) and "header" in head:
        return journal_samples(path)
    try:
        data = json.loads(first + rest)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not JSON ({exc.msg}); give a midair apply journal, or the output "
                         "of kubectl get events -A -o json or kubectl get nodes,pods -A -o json") from None
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise UsageError(f"{path}: not a midair journal or a kubectl list (no items); give a journal, or the "
                         "output of kubectl get events -A -o json or kubectl get nodes,pods -A -o json")
    return event_samples(items, path) + pod_samples(items, path)


@dataclass(frozen=True)
class Fitted:
    field: str
    fit: Fit
    source: str


def fit_samples(samples: list[Sample], kind: str = "lognormal") -> list[Fitted]:
    """One fit per timing field with evidence, in the order the fields were first seen."""
    fields: dict[str, list[Sample]] = {}
    for s in samples:
        fields.setdefault(s.field, []).append(s)
    out = []
    for field, found in fields.items():
        files = sorted({s.file for s in found})
        source = f"{', '.join(files)}: {len(found)} {found[0].what}"
        out.append(Fitted(field, fit([s.seconds for s in found], kind), source))
    return out


def timing_block(fitted: list[Fitted]) -> dict:
    """The ``timing:`` mapping of the fits: each distribution with its sample count and source; a whole
    in-place upgrade goes to inplace.replaceBinaries with the other steps 0, so the sum is what was seen."""
    timing: dict = {}
    for f in fitted:
        dist = {**scenario_distribution(f.fit), "samples": f.fit.samples, "source": f.source}
        if f.field == "inplace":
            timing["inplace"] = {"stopKubelet": "0s", INPLACE_WHOLE: {
                **dist, "source": f.source + " (the whole upgrade, measured from outside: the other steps are 0)"},
                "startKubelet": "0s", "rejoin": "0s"}
        else:
            timing[f.field] = dist
    return timing
