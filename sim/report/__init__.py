"""The comparison report of a sweep, written into one directory.

Files: results.json (every run), summary.csv and summary.md (mean, p50, p95, max and a
95% interval per metric per strategy, completion and halt reasons, the scenario's
expectations with PASS or FAIL), figures/*.svg and
report.html (self-contained, figures inline). Every file is written to a temporary name
before any is renamed into place, so an interrupted run leaves the old report or the new
one, never half of one or a mix.

May import ``sim`` and matplotlib; nothing in ``models`` may import this.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from models.prechecks.base import SEVERITY_ORDER
from sim.output import atomic_write_many
from sim.prechecks import findings_for
from sim.report import figures, html, tables
from sim.simulate import simulate
from sim.sweep import Row, summary


def representative(rows: list[Row]) -> Row:
    """The run whose duration is closest to the median duration of its strategy (the first on a tie)."""
    durations = sorted(r.data["metrics"]["duration_s"] for r in rows)
    median = durations[len(durations) // 2]
    return min(rows, key=lambda r: (abs(r.data["metrics"]["duration_s"] - median), r.job.index))


def timeline_data(variants_by_name: dict, rows_by_label: dict[str, list[Row]]) -> dict[str, dict]:
    runs = {}
    for label, rows in rows_by_label.items():
        row = representative(rows)
        scenario = variants_by_name[row.job.variant]
        result = simulate(scenario, row.job.strategy, row.job.seed, keep_world=True)
        rec = result.world.rec
        runs[label] = {"api": list(rec.api_series), "end": result.world.env.now,
                       "workloads": {k: list(t.series) for k, t in rec.workloads.items()}}
    return runs


def report_findings(variants_, rows: list[Row]) -> list[tuple[str, str]]:
    """The pre-check findings of every (variant, strategy) in the sweep, each once, most severe first."""
    seen: dict[tuple, list[str]] = {}
    order = []
    specs = {}
    for r in rows:
        specs.setdefault((r.job.variant, r.job.strategy.label), r.job.strategy)
    by_name = {v.name: v.scenario for v in variants_}
    for (variant, label), spec in specs.items():
        for f in findings_for(by_name[variant], spec):
            key = (f.severity, f.id, f.subject, f.reason)
            if key not in seen:
                seen[key] = []
                order.append((f, key))
            seen[key].append(f"{label} [{variant}]" if variant else label)
    everyone = {f"{lb} [{v}]" if v else lb for v, lb in specs}
    out = []
    for f, key in sorted(order, key=lambda x: (SEVERITY_ORDER[x[0].severity], x[0].id, x[0].subject)):
        who = "" if set(seen[key]) == everyone else f" (for {', '.join(seen[key])})"
        out.append((f.severity, f"{f.id} {f.subject}: {f.reason}; fix: {f.fix}{who}"))
    return out


def write_report(out_dir: str, scenario, variants_, rows: list[Row], root_seed: int, results_json: str,
                 verdicts=()) -> list[str]:
    """Write the report; returns the paths written. ``verdicts``: the expectations measured (``sim.expectations``)."""
    findings = report_findings(variants_, rows)
    stats = summary(rows)
    rows_by_label: dict[str, list[Row]] = {}
    for r in rows:
        rows_by_label.setdefault(r.label, []).append(r)
    metrics_by_label = {label: [r.data["metrics"] for r in rs] for label, rs in rows_by_label.items()}
    runs = len(next(iter(rows_by_label.values())))
    title = f"midair: {scenario.name}, {scenario.cluster.version} → {scenario.target}"
    intro = [f"{len(scenario.cluster.nodes)} nodes in {len(scenario.cluster.pools)} pool(s), "
             f"{len(scenario.cluster.control_plane.apiservers)} apiserver(s); {runs} seeded run(s) per strategy, "
             f"root seed {root_seed}; faults: {len(scenario.faults)}.",
             f"Generated {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} from {scenario.file}."]
    if len(variants_) > 1:
        intro.append("Grid: " + "; ".join(v.name for v in variants_) + ".")
    figs = {
        "timeline": ("API availability and ready replicas per workload over a representative run of each strategy "
                     "(the run closest to the median duration).",
                     figures.timeline(timeline_data({v.name: v.scenario for v in variants_}, rows_by_label))),
        "distributions": ("Outage, degraded time and pods disrupted (evicted or restarted) per strategy, one dot per run.",
                          figures.distributions(metrics_by_label)),
        "scatter": ("Upgrade duration against pods disrupted, one point per run.",
                    figures.duration_vs_disruption(metrics_by_label)),
    }
    files = {"results.json": results_json,
             "summary.csv": tables.summary_csv(stats),
             "summary.md": tables.summary_md(title, intro, stats, [f"{s}: {t}" for s, t in findings], verdicts),
             **{os.path.join("figures", f"{fig_id}.svg"): svg for fig_id, (_, svg) in figs.items()},
             "report.html": html.render(title, intro, stats, figs, list(findings), verdicts)}
    paths = {os.path.join(out_dir, name): text.encode("utf-8") for name, text in files.items()}
    atomic_write_many(paths)
    return list(paths)
