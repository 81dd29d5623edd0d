"""The comparison report of a sweep, written into one directory.

Files: results.json (every run), summary.csv (every statistic as numbers), summary.md and
report.html (the sections of ``content``: the comparison over all and over completed runs,
per workload, per service and per pool, halts and what they left, settings and provenance, each
strategy's statistics), figures/*.svg (inline in report.html, which opens from disk).
Every file is written to a temporary name before any is renamed into place, so an
interrupted run leaves the old report or the new one, never half of one or a mix.

May import ``sim`` and matplotlib; nothing in ``models`` may import this.
"""

from __future__ import annotations

import hashlib
import os
import shlex
from datetime import datetime, timezone

from models.prechecks.base import SEVERITY_ORDER
from sim.output import atomic_write_many
from sim.prechecks import findings_for
from sim.report import content, figures, html, tables
from sim.simulate import simulate
from sim.sweep import Row, summary
from sim.version import midair_version


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
        if result.world is None:  # the run never started (no upgrade plan): nothing to draw
            continue
        rec = result.world.rec
        runs[label] = {"api": list(rec.api_series), "end": result.world.env.now,
                       "workloads": {k: list(t.series) for k, t in rec.workloads.items()},
                       "phases": phases_of(result.log, scenario), "faults": [t for t, text in rec.events
                                                                            if text.startswith("fault ")],
                       "halted": result.halted is not None}
    return runs


def phases_of(log, scenario) -> list[tuple[str, float, float]]:
    """(name, first, last action) of the control plane, the add-ons and each pool, from a run's decision log."""
    pool_of = {n.name: n.pool for n in scenario.cluster.nodes}
    spans: dict[str, list[float]] = {}
    for e in log:
        if e.kind not in ("action", "unsafe"):
            continue
        head = e.action.split()
        if head[0] == "UpgradeControlPlaneInstance":
            name = "control plane"
        elif head[0] == "UpgradeAddon":
            name = "add-ons"
        elif len(head) > 1 and head[1].startswith("node/"):
            node = head[1][5:]
            name = f"pool {pool_of.get(node) or node.rsplit('-', 1)[0]}"
        elif head[0] == "ProvisionNode":
            name = f"pool {head[2][5:]}"
        else:
            continue
        span = spans.setdefault(name, [e.t, e.t])
        span[1] = e.t
    return [(name, a, b) for name, (a, b) in spans.items()]


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


def default_timing():
    """The timing a scenario has when it says nothing (to show what a scenario changed)."""
    from sim.scenario import load_scenario_text

    return load_scenario_text(MINIMAL, "defaults").timing


MINIMAL = ("apiVersion: midair/v1alpha1\nkind: Scenario\nmetadata: {name: defaults}\ncluster:\n  version: '1.30.0'\n"
           "  nodePools: [{name: a, count: 1}]\ntarget: '1.30.0'\n")


def provenance(scenario, command: list[str] | None) -> dict:
    try:
        with open(scenario.file, "rb") as fh:
            digest = hashlib.sha256(fh.read()).hexdigest()[:16]
    except OSError:
        digest = "(the scenario file could not be read)"
    return {"midair": midair_version(), "command": " ".join(shlex.quote(a) for a in (command or [])) or "(not given)",
            "scenario": scenario.file, "scenario sha256": digest}


def write_report(out_dir: str, scenario, variants_, rows: list[Row], root_seed: int, results_json: str,
                 command: list[str] | None = None, extra_sections: list | None = None,
                 extra_figures: dict | None = None, extra_files: dict[str, str] | None = None) -> list[str]:
    """Write the report; returns the paths written. ``extra_sections`` (``content.Section``) go first;
    ``extra_figures``: id -> (caption, svg, the id of the section it follows); ``extra_files``: name -> text,
    written with the rest."""
    findings = report_findings(variants_, rows)
    stats = summary(rows)
    rows_by_label: dict[str, list[Row]] = {}
    for r in rows:
        rows_by_label.setdefault(r.label, []).append(r)
    metrics_by_label = {label: [r.data["metrics"] for r in rs] for label, rs in rows_by_label.items()}
    halted_by_label = {label: [not r.data["completed"] for r in rs] for label, rs in rows_by_label.items()}
    runs = len(next(iter(rows_by_label.values())))
    title = f"midair: {scenario.name}, {scenario.cluster.version} → {scenario.target}"
    intro = [f"{len(scenario.cluster.nodes)} nodes in {len(scenario.cluster.pools)} pool(s), "
             f"{len(scenario.cluster.control_plane.apiservers)} apiserver(s); {runs} seeded run(s) per strategy, "
             f"root seed {root_seed}; faults: {len(scenario.faults)}.",
             f"Generated {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by midair {midair_version()} "
             f"from {scenario.file}."]
    if any(v.name for v in variants_):
        intro.append("Grid: " + "; ".join(v.name for v in variants_ if v.name) + ".")
    timelines = timeline_data({v.name: v.scenario for v in variants_}, rows_by_label)
    figs = {
        "timeline": ("API availability and ready replicas per workload over a representative run of each strategy "
                     "(the run closest to the median duration), each on its own time axis; shaded: the control "
                     "plane, the add-ons and each pool's roll; dotted: a fault fired.",
                     figures.timeline(timelines)) if timelines else None,
        "distributions": ("Outage, degraded time and pods disrupted (evicted or restarted) per strategy, one dot per "
                          "run; red crosses: runs that halted or rolled back.",
                          figures.distributions(metrics_by_label, halted_by_label)),
        "scatter": ("Upgrade duration against pods disrupted, one point per run; crosses: runs that halted or "
                    "rolled back (their duration is where they stopped).",
                    figures.duration_vs_disruption(metrics_by_label, halted_by_label)),
    }
    figs = {**(extra_figures or {}), **{fig_id: fig for fig_id, fig in figs.items() if fig is not None}}
    sections = [*(extra_sections or []), *content.comparison(stats, content.completed_stats(rows)),
                content.per_workload(rows_by_label), content.per_pool(rows_by_label)]
    services = content.per_service(rows_by_label)
    sections[-1:-1] = [services] if services else []  # beside the workloads: what users felt
    halts = content.halted(rows_by_label)
    sections += [halts] if halts else []
    specs = list({r.job.strategy.label: r.job.strategy for r in rows}.values())
    sections += [content.settings(scenario, specs, default_timing(), provenance(scenario, command)),
                 *content.per_strategy(stats)]
    files = {"results.json": results_json,
             "summary.csv": tables.summary_csv(stats),
             "summary.md": tables.summary_md(title, intro, sections, [f"{s}: {t}" for s, t in findings]),
             **{os.path.join("figures", f"{fig_id}.svg"): fig[1] for fig_id, fig in figs.items()},
             **(extra_files or {}),
             "report.html": html.render(title, intro, sections, figs, list(findings))}
    paths = {os.path.join(out_dir, name): text.encode("utf-8") for name, text in files.items()}
    atomic_write_many(paths)
    return list(paths)
