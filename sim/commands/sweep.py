"""``midair sweep``: many seeded runs of every strategy (and grid point), and the report."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timezone

from sim import expectations, verdict as ranking
from sim.commands.run import add_sweep_options, emit, execute, expectations_verdict, results_json, verdict
from sim.errors import EXIT_FINDINGS, UsageError

CHECKPOINT = ".runs.jsonl"


def add_parser(sub) -> None:
    p = sub.add_parser("sweep", help="run every strategy many times and write the comparison report",
                       description="Writes results.json, summary.csv, summary.md, figures/ and report.html into "
                                   "--out DIR (default reports/<scenario>-<timestamp>/). Interrupted? Run the same "
                                   "command with --out DIR --resume to continue where it stopped.")
    add_sweep_options(p)
    p.add_argument("--out", metavar="DIR", help="the report directory")
    p.add_argument("--resume", action="store_true", help="keep the runs already finished in --out DIR")
    p.set_defaults(run=run)


def report_dir(args, what: str) -> tuple[str, str]:
    """The report directory (``--out``, or reports/<scenario>[-recommend]-<timestamp>/), made, and its
    checkpoint, cleared unless ``--resume``."""
    if args.resume and not args.out:
        raise UsageError(f"--resume needs --out DIR, the report directory of the interrupted {what}")
    name = os.path.splitext(os.path.basename(args.scenario))[0] + ("" if what == "sweep" else f"-{what}")
    out = args.out or os.path.join("reports", f"{name}-{datetime.now(timezone.utc).strftime('%Y%m%d-%H%M%S')}")
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {out}: cannot make the report directory there ({exc.strerror})") from None
    checkpoint = os.path.join(out, CHECKPOINT)
    if not args.resume and os.path.exists(checkpoint):
        os.unlink(checkpoint)
    return out, checkpoint


def run(args) -> int:
    from sim.report import write_report  # matplotlib: loaded only when a report is written

    out, checkpoint = report_dir(args, "sweep")
    sweep = execute(args, checkpoint)
    emit(args, sweep)
    if sweep.blocked:
        return EXIT_FINDINGS
    found = sweep.verdicts()
    judged = ranking.judge(sweep.variants, sweep.rows)
    written = write_report(out, sweep.base, sweep.variants, sweep.rows, sweep.seed,
                           results_json(sweep.base, sweep.rows, sweep.seed, found, judged),
                           command=[args.prog, *getattr(args, "argv", [])],
                           extra_sections=[*ranking.sections(judged), *expectations.report_sections(found)])
    os.unlink(checkpoint)
    print(f"report: {os.path.join(out, 'report.html')} ({len(written)} files)", file=sys.stderr)
    return max(verdict(sweep.rows, args.fail_on), expectations_verdict(found, args.no_fail))
