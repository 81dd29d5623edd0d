"""What a command prints, in the format ``-o/--output`` asks for: one place for every command.

A command builds its result as plain data (dicts, lists, text, numbers, booleans, None):
that is the ``-o json`` and ``-o yaml`` document, the stable contract documented in
docs/output.md. From the same data it says how a person reads it (``text``) and which
tables it holds (``markdown``, ``csv``), so every format shows the same result. A table
may be meant for one format only (a wide comparison reads well in Markdown, while CSV
wants one number per cell).

May import the standard library and PyYAML; nothing else of midair's.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass

import yaml

FORMATS = ("text", "json", "yaml", "markdown", "csv")


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]
    only: str | None = None  # "markdown" or "csv" when the table is for that format alone

    @classmethod
    def of(cls, title: str, columns, rows, only: str | None = None) -> Table:
        return cls(title, tuple(columns), tuple(tuple(r) for r in rows), only)


def cell(value) -> str:
    """A value as a table shows it: numbers in their shortest form, nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(v) for v in value)
    return str(value)


def to_json(data) -> str:
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def to_yaml(data) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=120)


def to_markdown(tables: list[Table]) -> str:
    out = []
    for t in tables:
        if t.only not in (None, "markdown"):
            continue
        out += [f"## {t.title}", ""]
        out.append("| " + " | ".join(t.columns) + " |")
        out.append("|" + "|".join("---" for _ in t.columns) + "|")
        out += ["| " + " | ".join(cell(c).replace("|", "\\|").replace("\n", " ") for c in row) + " |" for row in t.rows]
        out.append("")
    return "\n".join(out)


def to_csv(tables: list[Table]) -> str:
    """The tables one after another, each with its header row, an empty line between two."""
    parts = []
    for t in tables:
        if t.only not in (None, "csv"):
            continue
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(t.columns)
        writer.writerows([cell(c) for c in row] for row in t.rows)
        parts.append(buf.getvalue())
    return "\n".join(parts)


def render(data, fmt: str, text: Callable[[object], str], tables: Callable[[object], list[Table]]) -> str:
    """``data`` in ``fmt``; ``text(data)`` and ``tables(data)`` say how a person and a
    spreadsheet read it."""
    if fmt == "json":
        return to_json(data)
    if fmt == "yaml":
        return to_yaml(data)
    if fmt == "markdown":
        return to_markdown(tables(data))
    if fmt == "csv":
        return to_csv(tables(data))
    return text(data)


def add_output_option(parser, what: str = "the result") -> None:
    parser.add_argument("-o", "--output", choices=FORMATS, default="text", metavar="FORMAT",
                        help=f"print {what} as {', '.join(FORMATS)} (default: text; json and yaml are "
                             "documented in docs/output.md)")
