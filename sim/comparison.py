"""The comparison of strategies, metric by metric: one definition for the table ``midair run``
prints, summary.md and report.html.

Its rows are every numeric metric of ``sim.metrics.METRIC_NAMES``, in that order, after the
share of runs that completed: a metric added there appears in every comparison.
"""

from __future__ import annotations

from sim.sweep import NUMERIC, rolled_back


def _g(x) -> str:
    return "" if x is None else f"{x:g}"


def duration(seconds: float | None) -> str:
    """Seconds as a person reads them: seconds up to 2 min, minutes up to 2 h, then hours."""
    if seconds is None:
        return ""
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def value(metric: str, x, human: bool = False) -> str:
    """A metric's statistic: durations in minutes or hours when ``human`` (reports), else as the number."""
    return duration(x) if human and metric.endswith("_s") else _g(x)


def _rolled_back(s: dict) -> str:
    n = sum(count for reason, count in s.get("halted", {}).items() if rolled_back(reason))
    return f" ({n} rolled back)" if n else ""


def headline_rows(stats: dict[str, dict], human: bool = False) -> list[list[str]]:
    """``[metric, "mean / p95" per strategy]`` rows, after ``[completed, "N% of R" per strategy]``."""
    rows = [["completed"] + [f"{s['completed'] * 100:.0f}% of {s['runs']}" + _rolled_back(s) for s in stats.values()]]
    for m in NUMERIC:
        rows.append([m] + [f"{value(m, s['metrics'][m]['mean'], human)} / {value(m, s['metrics'][m]['p95'], human)}"
                           for s in stats.values()])
    return rows


def detail_rows(s: dict, human: bool = False) -> list[list[str]]:
    """One strategy's ``[metric, mean, p50, p95, max, interval]`` rows."""
    rows = []
    for m in NUMERIC:
        st = s["metrics"][m]
        v = lambda x: value(m, x, human)  # noqa: E731
        rows.append([m, v(st["mean"]), v(st["p50"]), v(st["p95"]), v(st["max"]),
                     f"{v(st['ci95'][0])} – {v(st['ci95'][1])}"])
    return rows


def text_table(stats: dict[str, dict]) -> str:
    """The comparison as aligned columns for a terminal."""
    rows = [["metric", *stats], *headline_rows(stats)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n(mean / p95 per metric; seconds for *_s)\n"


STATISTICS_COLUMNS = ("strategy", "metric", "n", "mean", "p50", "p95", "max", "ci95_low", "ci95_high")


def statistics_rows(stats: dict[str, dict]) -> list[list]:
    """Every statistic as numbers, one row per strategy and metric (summary.csv, ``-o csv``)."""
    rows: list[list] = []
    for label, s in stats.items():
        rows.append([label, "completed_share", s["runs"], s["completed"], None, None, None, None, None])
        for m in NUMERIC:
            st = s["metrics"][m]
            rows.append([label, m, st["n"], st["mean"], st["p50"], st["p95"], st["max"], *st["ci95"]])
    return rows
