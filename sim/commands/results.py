"""What ``midair run`` and ``midair sweep`` print: the comparison of the strategies, in every format.

The document (``-o json`` / ``-o yaml``; docs/output.md)::

    {"scenario", "from", "to", "root_seed", "runs_per_strategy",
     "blocked": [{"strategy", "reason", "findings": [{"id", "family", "severity", "subject", "reason", "fix"}]}],
     "strategies": [{"strategy", "runs", "completed", "halted": [{"reason", "runs"}],
                     "metrics": {METRIC: {"n", "mean", "p50", "p95", "max", "ci95": [low, high]}}}],
     "expectations": [{"strategy", "expectation", "metric", "workload", "bound", "limit", "value", "runs", "passed"}]}

``blocked`` lists the strategies whose runs could not start, and why: blocking pre-check
findings (``prechecks: enforce``), or no upgrade plan. Then nothing ran, ``strategies`` is
empty, and the exit code is 1. The metrics are every numeric one of
``sim.metrics.METRIC_NAMES``. ``expectations``: the scenario's ``expect:`` entries measured
over each strategy's runs (``sim.expectations``; empty without any).
"""

from __future__ import annotations

from sim.sweep import stop_phrase

from sim import expectations
from sim.comparison import STATISTICS_COLUMNS, headline_rows, statistics_rows, text_table
from sim.render import Table
from sim.style import severity

FINDING_COLUMNS = ("strategy", "severity", "id", "subject", "reason", "fix")


def document(base, stats: dict[str, dict], root_seed: int, runs: int,
             blocked: dict[str, tuple[str, list]] | None = None, verdicts=()) -> dict:
    """``stats`` from ``sim.sweep.summary``; ``blocked``: label to (why, blocking findings); ``verdicts``:
    the expectations measured (``sim.expectations.verdicts``)."""
    return {
        "scenario": base.name, "from": str(base.cluster.version), "to": str(base.target), "root_seed": root_seed,
        "runs_per_strategy": runs,
        "blocked": [{"strategy": label, "reason": why, "findings": [f.to_json() for f in found]}
                    for label, (why, found) in (blocked or {}).items()],
        "strategies": [{"strategy": label, "runs": s["runs"], "completed": s["completed"],
                        "halted": [{"reason": reason, "runs": n} for reason, n in s["halted"].items()],
                        "metrics": s["metrics"]} for label, s in stats.items()],
        "expectations": expectations.to_json(verdicts),
    }


def stats_of(doc: dict) -> dict[str, dict]:
    """The document's strategies as ``sim.sweep.summary`` gives them (label first)."""
    return {s["strategy"]: {"runs": s["runs"], "completed": s["completed"],
                            "halted": {h["reason"]: h["runs"] for h in s["halted"]}, "metrics": s["metrics"]}
            for s in doc["strategies"]}


def _blocking_lines(doc: dict, colour: bool) -> list[str]:
    """Each blocking finding once, with the strategies it blocks when not all of them."""
    by_finding: dict[tuple, list[str]] = {}
    for entry in doc["blocked"]:
        for f in entry["findings"]:
            by_finding.setdefault((f["id"], f["subject"], f["reason"]), []).append(entry["strategy"])
    everyone = {e["strategy"] for e in doc["blocked"] if e["findings"]}
    return [f"  {severity('BLOCK', 'BLOCK', colour)} {fid}  {subject}: {reason}"
            + ("" if set(who) == everyone else f" (for {', '.join(who)})")
            for (fid, subject, reason), who in by_finding.items()]


def text(doc: dict, colour: bool = False) -> str:
    """As a person reads it; BLOCK in colour when ``colour``."""
    head = (f"scenario {doc['scenario']}: {doc['from']} -> {doc['to']}, {doc['runs_per_strategy']} run(s) per "
            f"strategy, seed {doc['root_seed']}")
    if doc["blocked"]:
        lines = [f"{head}: nothing was run"]
        lines += [f"{e['strategy']}: {e['reason']}" for e in doc["blocked"] if not e["findings"]]
        labels = ", ".join(e["strategy"] for e in doc["blocked"] if e["findings"])
        if labels:
            lines += [f"pre-check findings block the upgrade with {labels} (prechecks: enforce):", *_blocking_lines(doc, colour),
                      "fix them (midair precheck shows how), or set prechecks: ignore in the scenario to measure what "
                      "ignoring them costs"]
        return "\n".join(lines) + "\n"
    lines = [head, text_table(stats_of(doc))]
    lines += ["{0}: {1} run(s) {2}: {3}".format(s["strategy"], h["runs"], *stop_phrase(h["reason"]))
              for s in doc["strategies"] for h in s["halted"]]
    if doc["expectations"]:
        lines.append(expectations.format_text(doc["expectations"]).rstrip("\n"))
    return "\n".join(lines) + "\n"


def tables(doc: dict) -> list[Table]:
    stats = stats_of(doc)
    out = []
    if stats:
        out.append(Table.of("Comparison (mean / p95)", ["metric", *stats], headline_rows(stats), only="markdown"))
        out.append(Table.of("Statistics", STATISTICS_COLUMNS, statistics_rows(stats), only="csv"))
    if doc["expectations"]:
        out.append(expectations.table(doc["expectations"]))
    halts = [(s["strategy"], h["runs"], h["reason"]) for s in doc["strategies"] for h in s["halted"]]
    if halts:
        out.append(Table.of("Halted runs", ("strategy", "runs", "reason"), halts))
    if doc["blocked"]:
        out.append(Table.of("Runs that could not start", ("strategy", "reason"),
                            [(e["strategy"], e["reason"]) for e in doc["blocked"]]))
        findings = [[e["strategy"], *(f[k] for k in FINDING_COLUMNS[1:])] for e in doc["blocked"] for f in e["findings"]]
        if findings:
            out.append(Table.of("Blocking pre-check findings", FINDING_COLUMNS, findings))
    return out
