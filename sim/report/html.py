"""report.html: one self-contained file (inline CSS, figures as inline SVG) that opens from disk."""

from __future__ import annotations

from html import escape

from sim.expectations import table_rows
from sim.report.tables import detail_rows, headline_rows

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, Segoe UI, sans-serif; margin: 2rem auto; max-width: 70rem;
       color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .7rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f4f4f4; }
.meta { color: #555; } figure { margin: 1rem 0; } figcaption { color: #555; font-size: .9rem; }
svg { max-width: 100%; height: auto; } .halt { color: #a33; } .finding-BLOCK { color: #a33; font-weight: 600; }
"""


def _table(header: list[str], rows: list[list[str]], table_id: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def render(title: str, intro: list[str], stats: dict[str, dict], figures: dict[str, tuple[str, str]],
           findings: list[tuple[str, str]], verdicts=()) -> str:
    """``figures``: id -> (caption, svg text); ``findings``: (severity, text); ``verdicts``: expectations measured."""
    parts = [f"<h1>{escape(title)}</h1>"]
    parts += [f'<p class="meta">{escape(line)}</p>' for line in intro]
    parts.append("<h2>Comparison</h2><p>Mean / 95th percentile over the runs; times in simulated seconds. "
                 "Definitions: docs/metrics.md.</p>")
    parts.append(_table(["metric", *stats], headline_rows(stats), "comparison"))
    if verdicts:
        parts.append("<h2>Expectations</h2>")
        parts.append(_table(*table_rows(verdicts), "expectations"))
    for fig_id, (caption, svg) in figures.items():
        parts.append(f'<figure id="{fig_id}">{svg}<figcaption>{escape(caption)}</figcaption></figure>')
    for k, (label, s) in enumerate(stats.items()):
        parts.append(f"<h2>{escape(label)}</h2><p>{s['runs']} run(s); {s['completed'] * 100:.0f}% completed.</p>")
        parts += [f'<p class="halt">Halted in {n} run(s): {escape(reason)}</p>' for reason, n in s["halted"].items()]
        parts.append(_table(["metric", "mean", "p50", "p95", "max", "95% interval of the mean"], detail_rows(s),
                            f"detail-{k}"))
    if findings:
        parts.append('<h2>Pre-check findings</h2><ul id="findings">')
        parts += [f'<li class="finding-{escape(sev)}">{escape(sev)}: {escape(text)}</li>' for sev, text in findings]
        parts.append("</ul>")
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body>\n{body}\n</body></html>\n")
