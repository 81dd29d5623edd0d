"""``midair calibrate``: fit a scenario's timing distributions to what real upgrades recorded
(``sim.calibrate`` finds the samples, ``models.fitting`` fits them) and write a ``timing:`` block
that a scenario includes with ``timing: {include: FILE}`` or ``midair run --timing FILE`` takes.
The same sources give the same file, byte for byte (no clock in it)."""

from __future__ import annotations

import json
import sys

import yaml

from sim.calibrate import fit_samples, read_samples, timing_block
from sim.errors import EXIT_OK, UsageError
from sim.output import atomic_write_text
from sim.scenario import load_scenario_text


def add_parser(sub) -> None:
    p = sub.add_parser("calibrate", help="fit timing distributions to journals, events and pod dumps",
                       description="SOURCE: a midair apply journal, kubectl get events -A -o json, or kubectl get "
                                   "nodes,pods -A -o json. Writes the timing fields the evidence fits, each with its "
                                   "sample count and source.")
    p.add_argument("sources", nargs="+", metavar="SOURCE")
    p.add_argument("-o", "--output", metavar="FORMAT", default="yaml", help="yaml (the default) or json")
    p.add_argument("--out", metavar="FILE", help="write the timing block to FILE (default: standard output)")
    p.add_argument("--fit", choices=("lognormal", "empirical"), default="lognormal",
                   help="lognormal by median and p95 (default), or the samples themselves")
    p.set_defaults(run=run)


CHECK = """apiVersion: midair/v1alpha1
kind: Scenario
metadata: {name: calibration-check}
cluster: {version: "1.29.3", nodePools: [{name: p, count: 1}]}
target: "1.29.3"
"""


FORMATS = ("yaml", "json")


def _destination(args) -> tuple[str, str | None]:
    """The format and the file, as snapshot reads them: ``-o FILE`` still writes FILE, with a note."""
    if args.output in FORMATS:
        return args.output, args.out
    if args.out or args.output.lower() in ("text", "markdown", "csv"):
        raise UsageError(f"-o {args.output}: a timing block is written as {' or '.join(FORMATS)}")
    print(f"{getattr(args, 'prog', 'midair')} calibrate: -o FILE is deprecated: -o names the format; write to a file "
          f"with --out {args.output}", file=sys.stderr)
    return "yaml", args.output


def run(args) -> int:
    fmt, out = _destination(args)
    samples = [s for path in args.sources for s in read_samples(path)]
    if not samples:
        raise UsageError(f"{', '.join(args.sources)}: nothing to fit (no completed operations in a journal, no Pulled "
                         "events, no pods Ready after their start)")
    fitted = fit_samples(samples, args.fit)
    lines = [f"midair timing, calibrated from {', '.join(args.sources)}.",
             "Include it in a scenario with timing: {include: THIS_FILE}, or: midair run SCENARIO --timing THIS_FILE",
             "Fits (95% confidence intervals in brackets):"]
    lines += [f"  {f.field}: {f.fit.describe()}" for f in fitted]
    block = {"timing": timing_block(fitted)}
    text = "".join(f"# {line}\n" for line in lines) + yaml.safe_dump(block, sort_keys=False, width=110)
    if fmt == "json":
        text = json.dumps(block, indent=2) + "\n"
    load_scenario_text(CHECK + yaml.safe_dump(block, sort_keys=False), out or "<calibrated>")  # it must load
    for f in fitted:
        print(f"{f.field:<22} {f.fit.describe()}", file=sys.stderr)
    if out:
        atomic_write_text(out, text)
        print(f"wrote {out}: {len(fitted)} timing field(s)", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK
