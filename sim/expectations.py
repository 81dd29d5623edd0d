"""A scenario's expectations measured over a sweep's runs, and the table that shows them.

``verdicts`` groups the finished runs by strategy (and ``--grid`` variant) and has
``models.expectations`` measure each expectation over each group. The rest renders them
from their JSON entries (``to_json``: what the ``run``/``sweep`` document and
``results.json`` hold under ``expectations``): the table for the terminal
(``format_text``), for ``-o markdown|csv`` (``table``) and for the report
(``report_sections``). ``midair run`` and ``midair sweep`` exit 1 when one fails, unless
``--no-fail``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from models.expectations import Verdict, evaluate, metric_kind, shown
from sim.render import Table


def verdicts(variants_, rows) -> list[Verdict]:
    """Every expectation of each variant's scenario, measured over the runs of each of its strategies."""
    scenarios = {v.name: v.scenario for v in variants_}
    groups: dict[tuple[str, str], list] = {}
    for r in rows:
        groups.setdefault((r.job.variant, r.label), []).append(r.data)
    out: list[Verdict] = []
    for (variant, label), runs in groups.items():
        out += evaluate(scenarios[variant].expectations, label, runs)
    return out


def failed(found: Iterable[Verdict]) -> list[Verdict]:
    return [v for v in found if not v.passed]


def to_json(found: Sequence[Verdict]) -> list[dict]:
    return [v.to_json() for v in found]


def table_rows(entries: Sequence[dict]) -> tuple[list[str], list[list[str]]]:
    """A header (``expectation``, then one column per strategy) and one row per expectation, from the
    JSON entries; each cell is the measured value and PASS or FAIL."""
    labels = list(dict.fromkeys(e["strategy"] for e in entries))
    cells: dict[str, dict[str, str]] = {}
    for e in entries:
        value = shown(metric_kind(e["metric"]), e["value"])
        cells.setdefault(e["expectation"], {})[e["strategy"]] = f"{value} {'PASS' if e['passed'] else 'FAIL'}"
    return ["expectation", *labels], [[name, *(by.get(label, "") for label in labels)] for name, by in cells.items()]


def format_text(entries: Sequence[dict]) -> str:
    """The expectation table for the terminal (empty when the scenario has no expectations)."""
    if not entries:
        return ""
    header, rows = table_rows(entries)
    grid = [header, *rows]
    widths = [max(len(r[i]) for r in grid) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in grid]
    lines.insert(1, "  ".join("-" * w for w in widths))
    bad = sum(1 for e in entries if not e["passed"])
    runs = sorted({e["runs"] for e in entries})
    tail = f"{bad} of {len(entries)} failed" if bad else f"all {len(entries)} hold"
    return "\n".join(lines) + f"\n(expectations over {'/'.join(map(str, runs))} run(s) per strategy: {tail})\n"


def table(entries: Sequence[dict]) -> Table:
    header, rows = table_rows(entries)
    return Table.of("Expectations", header, rows)


def report_sections(found: Sequence[Verdict]) -> list:
    """The report's "Expectations" section (none without expectations), first in summary.md and report.html."""
    if not found:
        return []
    from sim.report.content import Section  # the report's module: loaded with it

    bad = failed(found)
    note = (f"{len(bad)} of {len(found)} failed: midair run and sweep exit 1 (unless --no-fail)." if bad
            else f"All {len(found)} hold.")
    return [Section("expectations", "Expectations", [f"The scenario's expect: entries, measured over each strategy's "
                                                     f"runs. {note}"], [table(to_json(found))])]
