"""What the report says, as plain sections of paragraphs and tables, for summary.md and report.html alike.

Sections: the comparison over all runs and over completed runs only; where the outage came
from (per workload) and what each pool's roll took (per pool); why runs halted and the
cluster one run of each kind left behind; every knob as resolved, the faults, the timing
that differs from the defaults, and the provenance (midair's version, the command line, a
hash of the scenario). Durations read in minutes or hours.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, fields

from models.drain import DrainOptions
from models.quantity import IntOrPercent
from models.strategies.params import DURATION
from sim import registry
from sim.comparison import detail_rows, duration, headline_rows
from sim.render import Table
from sim.sweep import Row, halt_kind, stop_phrase, summary

WORKLOAD_COLUMNS = (("outage_s", "outage"), ("degraded_s", "degraded"), ("pods_evicted", "evicted"),
                    ("pods_restarted", "restarted"), ("pods_lost_local_data", "lost data"),
                    ("manual_interventions", "manual interventions"))
# shown when some run has them: pods that could not be placed, volumes that could not follow, webhooks that refused
PLACEMENT_COLUMNS = (("unschedulable_pod_s", "unschedulable"), ("pods_preempted", "preempted"),
                     ("volume_wait_s", "volume wait"), ("multi_attach_errors", "Multi-Attach"),
                     ("blocked_creations", "blocked creations"))
PLACEMENT_MEANING = {"unschedulable_pod_s": "unschedulable: pod-time Pending with no node that fits (or its local volume's node gone)",
                     "pods_preempted": "preempted: pods deleted for a pod of higher priority",
                     "volume_wait_s": "volume wait: pod-time waiting for a zonal volume to detach and attach",
                     "multi_attach_errors": "Multi-Attach: pods told their volume is attached to another node",
                     "blocked_creations": "blocked creations: pod creations an admission webhook refused"}


@dataclass
class Section:
    id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    css: str = ""


def _mean(values) -> float:
    values = list(values)
    return statistics.fmean(values) if values else 0.0


def _n(x: float) -> str:
    return f"{x:.3g}" if x else "0"


def comparison(stats: dict[str, dict], completed_only: dict[str, dict]) -> list[Section]:
    out = [Section("comparison", "Comparison", ["Mean / 95th percentile over every run of each strategy."],
                   [Table.of("all runs", ["metric", *stats], headline_rows(stats, human=True))])]
    if completed_only and any(s["runs"] for s in completed_only.values()):
        note = ("The same over the runs that completed only: halted and rolled-back runs stop early, so their "
                "durations and disruption are not what a finished upgrade costs.")
        missing = [label for label in stats if label not in completed_only]
        if missing:
            note += f" No run of {', '.join(missing)} completed."
        out.append(Section("comparison-completed", "Comparison: completed runs only", [note],
                           [Table.of("completed runs", ["metric", *completed_only],
                                     headline_rows(completed_only, human=True))]))
    return out


def per_workload(rows_by_label: dict[str, list[Row]]) -> Section:
    """Where the outage came from: each workload's share of the per-workload metrics, mean per run."""
    keys = sorted({k for rows in rows_by_label.values() for r in rows for k in r.data.get("workloads", {})})
    columns = WORKLOAD_COLUMNS + tuple(c for c in PLACEMENT_COLUMNS if any(
        w.get(c[0]) for rows in rows_by_label.values() for r in rows for w in r.data.get("workloads", {}).values()))
    table_rows = []
    for key in keys:
        for label, rows in rows_by_label.items():
            per = [r.data.get("workloads", {}).get(key, {}) for r in rows]
            cells = []
            for metric, _ in columns:
                m = _mean(p.get(metric, 0) for p in per)
                cells.append(duration(m) if metric.endswith("_s") else _n(m))
            table_rows.append([key, label, *cells])
    worst = max(((r[0], r[1], _mean(x.data.get("workloads", {}).get(r[0], {}).get("outage_s", 0)
                                    for x in rows_by_label[r[1]])) for r in table_rows), key=lambda t: t[2],
                default=None)
    lead = ["Mean per run. Outage: no Ready pod; degraded: fewer Ready than its budget wants."]
    shown = [PLACEMENT_MEANING[m] for m, _ in columns[len(WORKLOAD_COLUMNS):]]
    if shown:
        text = "; ".join(shown)
        lead.append(f"{text[0].upper()}{text[1:]} (docs/metrics.md).")
    if worst and worst[2] > 0:
        lead.append(f"The longest outage is {worst[0]}'s under {worst[1]}: {duration(worst[2])} a run on average.")
    return Section("per-workload", "Per workload", lead,
                   [Table.of("workloads", ["workload", "strategy", *(t for _, t in columns)], table_rows)])


def per_service(rows_by_label: dict[str, list[Row]]) -> Section | None:
    """What users felt: each service's failed requests and time with more than 1% failing, mean per run."""
    keys = sorted({k for rows in rows_by_label.values() for r in rows for k in r.data.get("services", {})})
    if not keys:
        return None
    table_rows, worst = [], None
    for key in keys:
        for label, rows in rows_by_label.items():
            per = [r.data.get("services", {}).get(key, {}) for r in rows]
            failed = _mean(p.get("requests_failed", 0) for p in per)
            error = _mean(p.get("traffic_error_s", 0) for p in per)
            table_rows.append([key, label, _n(failed), duration(error)])
            if failed and (worst is None or failed > worst[2]):
                worst = (key, label, failed)
    lead = ["Mean per run. Failed: requests sent to a pod that no longer answered (or with no pod left); error "
            "time: more than 1% of requests failing."]
    if worst:
        lead.append(f"The most requests failed for {worst[0]} under {worst[1]}: {_n(worst[2])} a run on average.")
    return Section("per-service", "Per service", lead,
                   [Table.of("services", ["service", "strategy", "requests_failed", "traffic_error_s"], table_rows)])


def per_pool(rows_by_label: dict[str, list[Row]]) -> Section:
    names = sorted({p for rows in rows_by_label.values() for r in rows for p in r.data.get("pools", {})})
    table_rows = []
    for pool in names:
        for label, rows in rows_by_label.items():
            per = [r.data.get("pools", {}).get(pool, {}) for r in rows]
            table_rows.append([pool, label, duration(_mean(p.get("duration_s", 0) for p in per)),
                               _n(_mean(p.get("nodes_added", 0) for p in per)),
                               _n(_mean(p.get("nodes_removed", 0) for p in per))])
    return Section("per-pool", "Per pool",
                   ["Mean per run: the roll's duration, from the first to the last action on the pool's nodes, and its "
                    "node churn."],
                   [Table.of("pools", ["pool", "strategy", "roll", "nodes added", "nodes removed"], table_rows)])


def _left_lines(left: dict) -> list[str]:
    pools = "; ".join(f"{p}: " + ", ".join(f"{n} at {v}" for v, n in vs.items()) for p, vs in left["pools"].items())
    lines = [f"control plane at {', '.join(left['control_plane'])}; nodes: {pools}"]
    if left["cordoned"]:
        lines.append(f"cordoned: {', '.join(left['cordoned'])}")
    if left["not_ready"]:
        lines.append(f"NotReady: {', '.join(left['not_ready'])}")
    if left["still_to_do"]:
        lines.append(f"still to do: {'; '.join(left['still_to_do'])}")
    return lines


def halted(rows_by_label: dict[str, list[Row]]) -> Section | None:
    """Why runs stopped, and what the first run of each kind of stop left behind."""
    paragraphs = []
    for label, rows in rows_by_label.items():
        kinds: dict[str, list[Row]] = {}
        for r in rows:
            if r.data["halted"]:
                kinds.setdefault(halt_kind(r.data["halted"]), []).append(r)
        for kind, those in kinds.items():
            first = those[0]
            how, why = stop_phrase(kind)
            paragraphs.append(f"{label}: {len(those)} of {len(rows)} run(s) {how}: {why}")
            if first.data.get("left"):
                paragraphs.append(f"    the first of them (run {first.data.get('run', first.job.index)}, seed "
                                  f"{first.job.seed}) left: " + "; ".join(_left_lines(first.data["left"])))
    if not paragraphs:
        return None
    return Section("halted", "Runs that halted or rolled back",
                   ["A halted or rolled-back run is never ranked above one that completed. `midair trace SCENARIO "
                    "--strategy NAME --seed SEED` replays the run."] + paragraphs, css="halt")


def _knob(value, kind: str = "") -> str:
    if isinstance(value, IntOrPercent):
        return str(value)
    if isinstance(value, DrainOptions):
        d = value.to_json()
        on = [k for k, v in d.items() if v is True]
        waits = [f"{k} {duration(v)}" for k, v in d.items() if not isinstance(v, bool) and v]
        return ", ".join(on + waits) or "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == DURATION:
        return duration(value) if value else "0"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def knob_rows(specs) -> list[list[str]]:
    """Every knob (in the order the strategies declare them) as each strategy resolved it; blank where a
    strategy has no such knob."""
    kinds: dict[str, str] = {}
    for spec in specs:
        try:
            kinds.update({p.name: p.kind for p in registry.params_for(spec.name)})
        except registry.UnknownStrategy:
            pass
    names: list[str] = []
    for spec in specs:
        names += [name for name, _ in spec.params if name not in names]
    rows = [["is", *(spec.name for spec in specs)]]
    for name in names:
        rows.append([name, *(_knob(dict(spec.params)[name], kinds.get(name, "")) if name in dict(spec.params) else ""
                             for spec in specs)])
    return rows


def settings(scenario, specs, default_timing, provenance: dict) -> Section:
    """Every knob as resolved (a preset's expanded), the faults, the timing overrides, and provenance."""
    fault_rows = [[f"faults[{f.index}]", f.type, ", ".join(f"{k} {_knob(getattr(f, k))}" for k in
                                                          ("at", "rate", "probability", "target", "duration", "step",
                                                           "factor", "delay", "limit")
                                                          if getattr(f, k) is not None)] for f in scenario.faults]
    timing_rows = []
    for f in fields(scenario.timing):
        mine, default = getattr(scenario.timing, f.name), getattr(default_timing, f.name)
        if mine != default:
            show = lambda v: ("never" if v is None else v.describe() if hasattr(v, "describe") else  # noqa: E731
                              ", ".join(f"{k} {d.describe()}" for k, d in v) if isinstance(v, tuple) else _knob(v))
            timing_rows.append([f.name, show(mine), show(default)])
    tables = [Table.of("strategies, every knob as resolved (presets expanded)",
                       ["knob", *(spec.label for spec in specs)], knob_rows(specs))]
    tables.append(Table.of("faults", ["fault", "type", "settings"], fault_rows or [["none", "", ""]]))
    tables.append(Table.of("timing that differs from the defaults", ["timing", "this scenario", "default"],
                           timing_rows or [["none", "", ""]]))
    tables.append(Table.of("provenance", ["what", "value"], [[k, v] for k, v in provenance.items()]))
    return Section("settings", "Settings and provenance", [], tables)


def per_strategy(stats: dict[str, dict]) -> list[Section]:
    out = []
    for k, (label, s) in enumerate(stats.items()):
        paragraphs = [f"{s['runs']} run(s); {s['completed'] * 100:.0f}% completed."]
        paragraphs += ["{0} in {2} run(s): {1}".format(*stop_phrase(reason), n) for reason, n in s["halted"].items()]
        out.append(Section(f"detail-{k}", label, paragraphs,
                           [Table.of(label, ["metric", "mean", "p50", "p95", "max", "95% interval of the mean"],
                                     detail_rows(s, human=True))]))
    return out


def completed_stats(rows: list[Row]) -> dict[str, dict]:
    return summary([r for r in rows if r.data["completed"]])
