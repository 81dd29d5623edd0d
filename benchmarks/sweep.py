"""Sweep speed: the CLI's start-up, runs per second at 1 and 2 workers, and a whole sweep with its report.

Usage: python benchmarks/sweep.py [--runs N] [--repeat K] [--only startup|throughput|sweep]

- start-up: ``midair --help`` and ``midair validate scenarios/quickstart.yaml``, each a fresh process;
- throughput: N runs of scenarios/quickstart.yaml (default 1,000, split over its two strategies) on a
  local process pool of 1 and of 2 workers, in this process, checking that both give the same results;
- sweep: ``midair sweep scenarios/quickstart.yaml --runs N/2 --workers 2``, report included, a fresh
  process (the issue's target: 1,000 runs in at most 10 s on a 2-core machine).

Each figure is the median of K repeats (default 3); CPU is user + system of the process and its
children. The machine is shared and noisy: compare figures taken in the same call.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SCENARIO = "scenarios/quickstart.yaml"
MIDAIR = os.path.join(os.path.dirname(sys.executable), "midair")


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, children included) of one process running ``argv``."""
    before = os.times()
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = os.times()
    return wall, (after.children_user - before.children_user) + (after.children_system - before.children_system)


def median_of(repeat: int, measure) -> tuple[float, float]:
    samples = [measure() for _ in range(repeat)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def startup(repeat: int) -> None:
    print("| command | wall time | CPU time |\n|---|---:|---:|")
    for argv in (["--help"], ["validate", SCENARIO]):
        wall, cpu = median_of(repeat, lambda: timed([MIDAIR, *argv]))
        print(f"| `midair {' '.join(argv)}` | {wall:.2f} s | {cpu:.2f} s |", flush=True)


def throughput(runs: int, repeat: int) -> None:
    from sim.sweep import ProcessExecutor, jobs, run_sweep, variants

    vs = variants(SCENARIO, [], [])
    work = jobs([(vs[0], vs[0].scenario.strategies)], runs // len(vs[0].scenario.strategies), 42)
    print("| workers | runs | wall time | runs per second |\n|---:|---:|---:|---:|")
    reference = None
    for workers in (1, 2):
        walls = []
        for _ in range(repeat):
            started = time.perf_counter()
            rows = run_sweep(vs, work, ProcessExecutor(workers))
            walls.append(time.perf_counter() - started)
            data = [r.data for r in rows]
            reference = reference or data
            assert data == reference, "results differ between worker counts"
        wall = statistics.median(walls)
        print(f"| {workers} | {len(work):,} | {wall:.1f} s | {len(work) / wall:.0f} |", flush=True)


def sweep(runs: int, repeat: int) -> None:
    out = tempfile.mkdtemp(prefix="midair-bench-")
    try:
        argv = [MIDAIR, "sweep", SCENARIO, "--runs", str(runs // 2), "--workers", "2", "--out", out]
        wall, cpu = median_of(repeat, lambda: timed(argv))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print("| runs | workers | wall time | CPU time |\n|---:|---:|---:|---:|")
    print(f"| {runs // 2 * 2:,} | 2 | {wall:.1f} s | {cpu:.1f} s |", flush=True)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=("startup", "throughput", "sweep"))
    args = parser.parse_args(argv)
    if args.only in (None, "startup"):
        startup(args.repeat)
    if args.only in (None, "throughput"):
        throughput(args.runs, args.repeat)
    if args.only in (None, "sweep"):
        sweep(args.runs, args.repeat)


if __name__ == "__main__":
    main(sys.argv[1:])
