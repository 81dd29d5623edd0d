"""A scenario's expectations measured over a sweep's runs, and the table that shows them.

``verdicts`` groups the finished runs by strategy (and ``--grid`` variant) and has
``models.expectations`` measure each expectation over each group; the rest renders the
verdicts for the terminal, the results JSON and the report (Markdown and HTML take
``table_rows``). ``midair run`` and ``midair sweep`` exit 1 when a verdict fails, unless
``--no-fail``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from models.expectations import Verdict, evaluate


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


def table_rows(found: Sequence[Verdict]) -> tuple[list[str], list[list[str]]]:
    """A header (``expectation``, then one column per strategy) and one row per expectation;
    each cell is the measured value and PASS or FAIL."""
    labels = list(dict.fromkeys(v.strategy for v in found))
    cells: dict[str, dict[str, str]] = {}
    for v in found:
        cells.setdefault(v.expectation.describe(), {})[v.strategy] = f"{v.shown_value} {'PASS' if v.passed else 'FAIL'}"
    return ["expectation", *labels], [[e, *(by.get(label, "") for label in labels)] for e, by in cells.items()]


def format_text(found: Sequence[Verdict]) -> str:
    """The expectation table for the terminal (empty when the scenario has no expectations)."""
    if not found:
        return ""
    header, rows = table_rows(found)
    table = [header, *rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    bad = len(failed(found))
    runs = sorted({v.runs for v in found})
    tail = f"{bad} of {len(found)} failed" if bad else f"all {len(found)} hold"
    return "\n".join(lines) + f"\n(expectations over {'/'.join(map(str, runs))} run(s) per strategy: {tail})\n"


def to_json(found: Sequence[Verdict]) -> list[dict]:
    return [v.to_json() for v in found]
