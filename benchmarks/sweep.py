"""Runs per second of the seed scenario over a sweep of 1,000 runs, with 1 and 2 worker processes.

Usage: python benchmarks/sweep.py [RUNS]   (default 1000; runs are split over the scenario's two strategies)
"""

from __future__ import annotations

import sys
import time

from sim.sweep import ProcessExecutor, jobs, run_sweep, variants


def main(argv: list[str]) -> None:
    total = int(argv[0]) if argv else 1000
    vs = variants("scenarios/seed-example.yaml", [], [])
    work = jobs([(vs[0], vs[0].scenario.strategies)], total // len(vs[0].scenario.strategies), 42)
    print("| workers | runs | wall time | runs per second |")
    print("|---:|---:|---:|---:|")
    reference = None
    for workers in (1, 2):
        started = time.perf_counter()
        rows = run_sweep(vs, work, ProcessExecutor(workers))
        wall = time.perf_counter() - started
        data = [r.data for r in rows]
        reference = reference or data
        assert data == reference, "results differ between worker counts"
        print(f"| {workers} | {len(rows):,} | {wall:.1f} s | {len(rows) / wall:.0f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
