"""report.html: one self-contained file (inline CSS, figures as inline SVG) that opens from disk."""

from __future__ import annotations

from html import escape

from sim.render import cell

CSS = """
body { font: 14px/1.45 system-ui, -apple-system, Segoe UI, sans-serif; margin: 2rem auto; max-width: 76rem;
       color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { font-size: 1.2rem; margin-top: 2rem; } h3 { font-size: 1rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #ddd; padding: .25rem .7rem; text-align: right; }
th:first-child, td:first-child, td:nth-child(2) { text-align: left; }
thead th { background: #f4f4f4; }
.meta { color: #555; } figure { margin: 1rem 0; } figcaption { color: #555; font-size: .9rem; }
svg { max-width: 100%; height: auto; } .halt p { color: #a33; } .halt p.left { color: #555; margin: 0 0 0 1.5rem; }
.finding-BLOCK { color: #a33; font-weight: 600; }
.pass { color: #286b2e; font-weight: 600; } .fail { color: #a33; font-weight: 600; }
"""


def _table(t, table_id: str) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in t.columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell(c))}</td>" for c in r) + "</tr>" for r in t.rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _section(s) -> str:
    parts = [f'<section id="{escape(s.id)}" class="{escape(s.css)}"><h2>{escape(s.title)}</h2>']
    for p in s.paragraphs:
        parts.append(f'<p class="left">{escape(p.strip())}</p>' if p.startswith("    ") else f"<p>{escape(p)}</p>")
    for k, t in enumerate(s.tables):
        if len(s.tables) > 1:
            parts.append(f"<h3>{escape(t.title)}</h3>")
        parts.append(_table(t, s.id if len(s.tables) == 1 else f"{s.id}-{k}"))
    parts.append("</section>")
    return "".join(parts)


def render(title: str, intro: list[str], sections: list, figures: dict[str, tuple[str, str]],
           findings: list[tuple[str, str]], figures_after: str = "comparison") -> str:
    """``figures``: id -> (caption, svg text), placed after the section ``figures_after``, or
    (caption, svg text, section id) placed after that section; ``findings``: (severity, text)."""
    parts = [f"<h1>{escape(title)}</h1>"]
    parts += [f'<p class="meta">{escape(line)}</p>' for line in intro]
    ids = {s.id for s in sections}
    after = {fig_id: (fig[2] if len(fig) > 2 and fig[2] in ids else figures_after) for fig_id, fig in figures.items()}
    for s in sections:
        parts.append(_section(s))
        for fig_id, fig in figures.items():
            if after[fig_id] == s.id:
                parts.append(f'<figure id="{fig_id}">{fig[1]}<figcaption>{escape(fig[0])}</figcaption></figure>')
    if findings:
        parts.append('<h2>Pre-check findings</h2><ul id="findings">')
        parts += [f'<li class="finding-{escape(sev)}">{escape(sev)}: {escape(text)}</li>' for sev, text in findings]
        parts.append("</ul>")
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body>\n{body}\n</body></html>\n")
