"""``midair validate FILE...``: check scenario files and say what each describes.

The document (``-o json`` / ``-o yaml``)::

    {"files": [{"file", "valid", "scenario", "from", "to", "apiservers", "nodes", "pools", "workloads",
                "strategies": [...], "problems": [{"file", "line", "field", "message"}]}]}

A file with problems has ``valid: false``, its problems, and null for what it would describe.
"""

from __future__ import annotations

import sys

from sim.commands.common import add_set_option
from sim.errors import EXIT_BAD_INPUT, EXIT_OK
from sim.render import Table, add_output_option, render
from sim.scenario import InputError, load_scenario

DESCRIBED = ("scenario", "from", "to", "apiservers", "nodes", "pools", "workloads", "strategies")


def add_parser(sub) -> None:
    p = sub.add_parser("validate", help="check scenario files; print every problem with its line")
    p.add_argument("files", nargs="+", metavar="FILE")
    add_set_option(p)
    add_output_option(p, "what each file describes, and its problems,")
    p.set_defaults(run=run)


def check_file(path: str, sets) -> dict:
    try:
        s = load_scenario(path, sets)
    except InputError as exc:
        return {"file": path, "valid": False, **dict.fromkeys(DESCRIBED),
                "problems": [{"file": p.file, "line": p.line, "field": p.path, "message": p.message}
                             for p in exc.problems]}
    c = s.cluster
    return {"file": path, "valid": True, "scenario": s.name, "from": str(c.version), "to": str(s.target),
            "apiservers": len(c.control_plane.apiservers), "nodes": len(c.nodes), "pools": len(c.pools),
            "workloads": len(c.workloads), "strategies": [x.label for x in s.strategies], "problems": []}


def problem_line(p: dict) -> str:
    where = f"{p['file']}:{p['line']}" if p["line"] else p["file"]
    return f"{where}: {p['field']}: {p['message']}"


def text(doc: dict) -> str:
    return "".join(f"{f['file']}: ok: scenario {f['scenario']!r}, {f['apiservers']} apiserver(s), {f['nodes']} node(s) "
                   f"in {f['pools']} pool(s), {f['workloads']} workload(s), {f['from']} -> {f['to']}; strategies: "
                   f"{', '.join(f['strategies'])}\n" for f in doc["files"] if f["valid"])


def tables(doc: dict) -> list[Table]:
    files = Table.of("Files", ("file", "valid", *DESCRIBED, "problems"),
                     [[f["file"], f["valid"], *(f[k] for k in DESCRIBED), len(f["problems"])] for f in doc["files"]])
    problems = [[p["file"], p["line"], p["field"], p["message"]] for f in doc["files"] for p in f["problems"]]
    return [files] + ([Table.of("Problems", ("file", "line", "field", "message"), problems)] if problems else [])


def run(args) -> int:
    doc = {"files": [check_file(path, args.sets) for path in args.files]}
    sys.stdout.write(render(doc, args.output, text, tables))
    if args.output == "text":  # the problems are the document's in every other format
        for f in doc["files"]:
            for p in f["problems"]:
                print(problem_line(p), file=sys.stderr)
    return EXIT_OK if all(f["valid"] for f in doc["files"]) else EXIT_BAD_INPUT
