"""The report's tables: summary.csv (every statistic as numbers) and summary.md (the report's
sections, ``sim.report.content``, as Markdown)."""

from __future__ import annotations

from sim.comparison import STATISTICS_COLUMNS, statistics_rows
from sim.render import Table, cell, to_csv


def summary_csv(stats: dict[str, dict]) -> str:
    return to_csv([Table.of("statistics", STATISTICS_COLUMNS, statistics_rows(stats))])


def _md_table(t: Table) -> str:
    lines = ["| " + " | ".join(t.columns) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(t.columns))) + "|"]
    lines += ["| " + " | ".join(cell(c).replace("|", "\\|") for c in r) + " |" for r in t.rows]
    return "\n".join(lines)


def summary_md(title: str, intro: list[str], sections: list, findings: list[str]) -> str:
    out = [f"# {title}", "", *intro, ""]
    for s in sections:
        out += [f"## {s.title}", ""]
        for k, p in enumerate(s.paragraphs):  # an indented paragraph belongs to the one before it
            if p.startswith("    "):
                out.append(f"  - {p.strip()}")
            elif s.css == "halt":
                out.append(f"- {p}")
            else:
                out += [p] if k == 0 else ["", p]
        if s.paragraphs:
            out.append("")
        for t in s.tables:
            if len(s.tables) > 1:
                out += [f"### {t.title}", ""]
            out += [_md_table(t), ""]
    if findings:
        out += ["## Pre-check findings", "", *[f"- {f}" for f in findings], ""]
    out += ["Metric definitions: docs/metrics.md. Durations in simulated time.", ""]
    return "\n".join(out)
