"""The report's tables: summary.csv and summary.md (their rows: ``sim.comparison``)."""

from __future__ import annotations

from sim.comparison import STATISTICS_COLUMNS, detail_rows, headline_rows, statistics_rows
from sim.render import Table, to_csv


def summary_csv(stats: dict[str, dict]) -> str:
    return to_csv([Table.of("statistics", STATISTICS_COLUMNS, statistics_rows(stats))])


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def summary_md(title: str, intro: list[str], stats: dict[str, dict], findings: list[str]) -> str:
    out = [f"# {title}", "", *intro, "", "## Comparison (mean / p95)", "",
           _md_table(["metric", *stats], headline_rows(stats)), ""]
    for label, s in stats.items():
        out += [f"## {label}", "", f"{s['runs']} run(s); {s['completed'] * 100:.0f}% completed.", ""]
        out += [f"- halted in {n} run(s): {reason}" for reason, n in s["halted"].items()]
        out += ["", _md_table(["metric", "mean", "p50", "p95", "max", "95% interval of the mean"], detail_rows(s)), ""]
    if findings:
        out += ["## Pre-check findings", "", *[f"- {f}" for f in findings], ""]
    out += ["Metric definitions: docs/metrics.md. Times in simulated seconds.", ""]
    return "\n".join(out)
