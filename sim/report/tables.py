"""The report's tables: summary.csv and summary.md."""

from __future__ import annotations

import csv
import io

from sim.expectations import table_rows
from sim.sweep import NUMERIC

HEADLINE = ("duration_s", "api_downtime_s", "outage_s", "degraded_s", "pods_evicted", "pods_restarted",
            "pods_rescheduled", "pods_lost_local_data", "pdb_violations", "skew_violations", "node_ip_changes",
            "peak_extra_nodes", "node_hours")


def _g(x) -> str:
    return "" if x is None else f"{x:g}"


def summary_csv(stats: dict[str, dict]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["strategy", "metric", "n", "mean", "p50", "p95", "max", "ci95_low", "ci95_high"])
    for label, s in stats.items():
        w.writerow([label, "completed_share", s["runs"], _g(s["completed"]), "", "", "", "", ""])
        for m in NUMERIC:
            st = s["metrics"][m]
            w.writerow([label, m, st["n"], _g(st["mean"]), _g(st["p50"]), _g(st["p95"]), _g(st["max"]),
                        _g(st["ci95"][0]), _g(st["ci95"][1])])
    return buf.getvalue()


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def headline_rows(stats: dict[str, dict]) -> list[list[str]]:
    rows = [["completed"] + [f"{s['completed'] * 100:.0f}% of {s['runs']}" for s in stats.values()]]
    for m in HEADLINE:
        rows.append([m] + [f"{_g(s['metrics'][m]['mean'])} / {_g(s['metrics'][m]['p95'])}" for s in stats.values()])
    return rows


def detail_rows(s: dict) -> list[list[str]]:
    rows = []
    for m in NUMERIC:
        st = s["metrics"][m]
        rows.append([m, _g(st["mean"]), _g(st["p50"]), _g(st["p95"]), _g(st["max"]),
                     f"{_g(st['ci95'][0])} – {_g(st['ci95'][1])}"])
    return rows


def summary_md(title: str, intro: list[str], stats: dict[str, dict], findings: list[str], verdicts=()) -> str:
    out = [f"# {title}", "", *intro, "", "## Comparison (mean / p95)", "",
           _md_table(["metric", *stats], headline_rows(stats)), ""]
    if verdicts:
        out += ["## Expectations", "", _md_table(*table_rows(verdicts)), ""]
    for label, s in stats.items():
        out += [f"## {label}", "", f"{s['runs']} run(s); {s['completed'] * 100:.0f}% completed.", ""]
        out += [f"- halted in {n} run(s): {reason}" for reason, n in s["halted"].items()]
        out += ["", _md_table(["metric", "mean", "p50", "p95", "max", "95% interval of the mean"], detail_rows(s)), ""]
    if findings:
        out += ["## Pre-check findings", "", *[f"- {f}" for f in findings], ""]
    out += ["Metric definitions: docs/metrics.md. Times in simulated seconds.", ""]
    return "\n".join(out)
